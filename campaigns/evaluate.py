"""Simulate past campaigns on a demo bank, learn from them, and compare rankings on a later campaign.

1. Split the customers at random in two halves: the *past* half and the *later* half (models never see the later
   customers, so nothing is remembered about them).
2. Run ``past_campaigns`` campaigns on the past half, each holding out ``past_control_share`` at random (learning
   campaigns need a sizeable control arm), and fit on their pooled treated and control responses:
   the ``uplift`` model (:class:`~campaigns.uplift.TwoModelUplift`) and the ``response`` model (a LightGBM
   classifier of response among the treated: the propensity a response-targeted campaign ranks by).
3. Run the later campaign on the later half with a stratified holdout of ``control_share`` and measure each
   ranking (``random``, ``response``, ``uplift``) and the ``oracle`` (the true uplift): the Qini coefficient on the
   responses (``qini``), the expected Qini from the true uplift (``qini_true``), and uplift at the top 10/20/30%.
"""

from __future__ import annotations

import math
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from bankdata import Bank, product_names, simulate_campaign, true_uplift
from campaigns.features import customer_features
from campaigns.holdout import DEFAULT_CONTROL_SHARE, assign_holdout, check_control_share
from campaigns.measure import cost_per_incremental, measure, measure_segments
from campaigns.qini import TOP_SHARES, qini, qini_coefficient, true_qini_curve, uplift_at_top
from campaigns.uplift import TwoModelUplift

DEFAULT_PRODUCT = "Credit card"
AGE_BANDS = (0, 30, 45, 60, 200)
MIN_CUSTOMERS = 1_000
DEFAULT_REPLICATES = 20


def age_segments(customers: pd.DataFrame) -> pd.Series:
    """The default segment of each customer for stratifying and reporting: an age band (under 30, 30-44, ...)."""
    labels = ["under 30", "30-44", "45-59", "60+"]
    return pd.cut(customers["age"], bins=list(AGE_BANDS), right=False, labels=labels).astype("str")


def evaluate_campaigns(
    bank: Bank,
    *,
    product: str = DEFAULT_PRODUCT,
    control_share: float = DEFAULT_CONTROL_SHARE,
    past_campaigns: int = 3,
    past_control_share: float = 0.5,
    seed: int = 0,
    cost_per_contact: float | None = None,
    margin: float | None = None,
    segments: pd.Series | None = None,
    replicates: int = DEFAULT_REPLICATES,
) -> dict[str, Any]:
    """Compare the random, response and uplift rankings with the oracle on a simulated later campaign.

    Parameters
    ----------
    bank : Bank
        A demo bank with its ground truth.
    product : str
        The product the campaigns offer.
    control_share : float
        The later campaign's holdout share, stratified by segment.
    past_campaigns : int
        Learning campaigns run on the past half of the customers.
    past_control_share : float
        Their holdout share.
    seed : int
        Seed of the split, the customers' receptivity, the holdouts and the responses.
    cost_per_contact, margin : float, optional
        With a cost, the report adds the cost per incremental customer (and, with a margin, the net).
    segments : Series, optional
        Each customer's segment (in ``bank.customers`` order); default :func:`age_segments`.
    replicates : int
        The later campaign is drawn this many times (new holdout, new responses, the same customers and scores):
        the measured Qini and uplift at the top are their means, ``qini_sd`` the Qini's spread between draws. One
        campaign's Qini rests on its few controls and moves by more than the gap between two good rankings.

    Returns
    -------
    dict
        ``models`` (per ranking: qini, qini_true, uplift_top_10/20/30, qini_share_of_oracle), ``oracle``,
        ``campaign`` (the later campaign's measurement), ``segments`` (per segment, small groups flagged),
        ``data`` and ``note``.
    """
    if product not in product_names():
        raise ValueError(f"unknown product {product!r}; expected one of: {', '.join(product_names())}")
    share = check_control_share(control_share)
    check_control_share(past_control_share)
    if bank.truth is None:
        raise ValueError("campaigns evaluate needs a demo bank with its ground truth")
    if bank.n_customers < MIN_CUSTOMERS:
        raise ValueError(
            f"campaigns evaluate needs at least {MIN_CUSTOMERS:,} customers, got {bank.n_customers:,}"
        )
    if isinstance(replicates, bool) or not isinstance(replicates, int) or not 1 <= replicates <= 200:
        raise ValueError(f"replicates must be a whole number from 1 to 200, got {replicates!r}")
    if past_campaigns < 1:
        raise ValueError(f"past_campaigns must be at least 1, got {past_campaigns}")
    seg = age_segments(bank.customers) if segments is None else pd.Series(segments).astype("str")
    if len(seg) != bank.n_customers:
        raise ValueError(f"segments has {len(seg):,} labels for {bank.n_customers:,} customers")
    seg = seg.reset_index(drop=True)
    truth = true_uplift(bank, product, seed=seed)
    X = customer_features(bank, product_names().index(product) + 1)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 41]))
    later = np.zeros(bank.n_customers, dtype=bool)
    later[rng.permutation(bank.n_customers)[: bank.n_customers // 2]] = True
    past = ~later

    rows_x, rows_t, rows_r = [], [], []
    for k in range(past_campaigns):
        t = assign_holdout(seg[past].to_numpy(), past_control_share, seed=seed * 1000 + 100 + k)
        resp = simulate_campaign(truth[past].reset_index(drop=True), t, seed=seed * 1000 + 200 + k)
        rows_x.append(X[past])
        rows_t.append(t)
        rows_r.append(resp["responded"].to_numpy())
    X_past, t_past, r_past = pd.concat(rows_x), np.concatenate(rows_t), np.concatenate(rows_r)
    uplift_model = TwoModelUplift(random_state=seed).fit(X_past, t_past, r_past)
    response_model = lgb.LGBMClassifier(  # the uplift model's own hyperparameters: a like-for-like comparison
        **uplift_model.get_params(), subsample=0.8, subsample_freq=1, verbose=-1, n_jobs=1
    ).fit(X_past[t_past].to_numpy(dtype=float), r_past[t_past])  # fmt: skip

    X_later, truth_later = X[later], truth[later].reset_index(drop=True)
    draws = []  # the later campaign run `replicates` times: new holdouts, new responses, the same customers
    for k in range(replicates):
        t_k = assign_holdout(seg[later].to_numpy(), share, seed=seed * 1000 + 300 + 1000 * k)
        r_k = simulate_campaign(truth_later, t_k, seed=seed * 1000 + 400 + 1000 * k)["responded"].to_numpy()
        draws.append((t_k, r_k))
    t_later, r_later = draws[0]
    scores = {
        "random": rng.random(len(X_later)),
        # np.asarray: the stub's predict_proba may also return a sparse matrix or a list (not for this model)
        "response": np.asarray(response_model.predict_proba(X_later.to_numpy(dtype=float)))[:, 1],
        "uplift": uplift_model.predict(X_later),
    }
    true_u = truth_later["uplift"].to_numpy()
    oracle = _ranking_report(true_u, draws, true_u)
    models = {name: _ranking_report(s, draws, true_u) for name, s in scores.items()}
    for model_report in models.values():
        model_report["qini_true_share_of_oracle"] = model_report["qini_true"] / oracle["qini_true"]
    overall = measure(t_later, r_later)
    report: dict[str, Any] = {
        "product": product,
        "control_share": share,
        "models": models,
        "oracle": oracle,
        "campaign": overall.to_dict() | {"true_uplift": float(true_u[t_later].mean())},
        "segments": _records(measure_segments(t_later, r_later, seg[later].to_numpy())),
        "data": {
            "customers": bank.n_customers,
            "past_customers": int(past.sum()),
            "later_customers": int(later.sum()),
            "replicates": replicates,
            "past_campaigns": past_campaigns,
            "past_control_share": past_control_share,
            "sure_things": int(
                ((truth_later["baseline"] > 0.2) & (truth_later["uplift"].abs() < 0.005)).sum()
            ),
            "do_not_disturb": int((true_u < 0).sum()),
        },
        "uplift_vs_response": _paired(scores["uplift"], scores["response"], draws),
        "note": "",
    }
    report["note"] = _note(models, oracle, report["uplift_vs_response"])
    if cost_per_contact is not None:
        report["economics"] = cost_per_incremental(overall, cost_per_contact, margin)
    return report


def _ranking_report(
    score: np.ndarray, draws: list[tuple[np.ndarray, np.ndarray]], true_u: np.ndarray
) -> dict:
    """One ranking's figures: measured ones averaged over the campaign's draws (with the Qini's spread), and the
    expected ones from the true uplift."""
    qinis = np.array([qini(score, t, r) for t, r in draws])
    out: dict[str, Any] = {
        "qini": float(qinis.mean()),
        "qini_sd": float(qinis.std(ddof=1)) if len(qinis) > 1 else None,
        "qini_first_campaign": float(qinis[0]),
        "qini_true": qini_coefficient(true_qini_curve(score, true_u)),
    }
    order = np.argsort(-score, kind="stable")
    for share in TOP_SHARES:
        pct = int(round(share * 100))
        out[f"uplift_top_{pct}"] = float(np.nanmean([uplift_at_top(score, t, r, share) for t, r in draws]))
        out[f"true_uplift_top_{pct}"] = float(true_u[order[: max(1, int(round(share * len(score))))]].mean())
    return out


def _paired(
    first: np.ndarray, second: np.ndarray, draws: list[tuple[np.ndarray, np.ndarray]]
) -> dict[str, Any]:
    """The Qini of ``first`` minus that of ``second`` on the same draws: mean, its standard error, and wins."""
    gaps = np.array([qini(first, t, r) - qini(second, t, r) for t, r in draws])
    se = float(gaps.std(ddof=1) / np.sqrt(len(gaps))) if len(gaps) > 1 else None
    return {
        "qini_gap": float(gaps.mean()),
        "qini_gap_se": se,
        "wins": int((gaps > 0).sum()),
        "draws": len(gaps),
    }


def _note(models: dict[str, dict], oracle: dict, paired: dict[str, Any]) -> str:
    up, resp = models["uplift"], models["response"]
    verb = "beats" if up["qini"] > resp["qini"] else "does not beat"
    se = f" (standard error {paired['qini_gap_se']:.4f})" if paired["qini_gap_se"] is not None else ""
    return (
        f"uplift ranking {verb} the response (propensity) ranking: Qini {up['qini']:.4f} vs {resp['qini']:.4f} on "
        f"the campaign's responses, averaged over {paired['draws']} draws of the campaign ({paired['qini_gap']:+.4f}"
        f"{se}; higher in {paired['wins']} of {paired['draws']}); expected Qini from the true uplift "
        f"{up['qini_true']:.4f} vs {resp['qini_true']:.4f} ({up['qini_true_share_of_oracle']:.0%} vs "
        f"{resp['qini_true_share_of_oracle']:.0%} of the oracle's {oracle['qini_true']:.4f}); uplift in the top 10% "
        f"{up['uplift_top_10']:.3f} vs {resp['uplift_top_10']:.3f}"
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]  # fmt: skip
