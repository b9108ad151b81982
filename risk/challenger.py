"""Champion / challenger: a candidate risk version next to the served one, on the same held-out loans.

Each version stores the out-of-fold calibrated PD of its champion for every loan it was cross-validated on
(``evaluation.npz``: ``loan_id``, ``y``, ``cal__<champion>``). Both versions' PDs are held out from the model that
made them, so comparing them on the loans both were cross-validated on is fair to each, whatever else they were
trained on. The comparison reports discrimination (ROC-AUC, PR-AUC, KS), accuracy of the PDs (Brier,
calibration-in-the-large, a decile table), fairness (disparate-impact ratio per protected group at the served
cut-off), the PSI of the challenger's PDs against the champion's, and which applicants would flip between approve
and decline at the served cut-off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bankdata import Artifact
from risk.fairness import DI_FLAG, fairness_report
from risk.metrics import brier, calibration_bins, ks_statistic, pr_auc, roc_auc
from risk.monitoring import psi, status

GROUP_PREFIX = "group__"
SAMPLE = 10
"""Flipped applicants listed in the comparison (the largest PD changes first)."""


def held_out_pds(artifact: Artifact) -> pd.DataFrame:
    """``loan_id``, ``defaulted``, ``pd`` (the champion's out-of-fold calibrated PD) and the protected groups
    (``group__<attribute>``) of the loans one risk version was cross-validated on.

    Raises
    ------
    ValueError
        The version was saved before the loan of each out-of-fold PD was recorded.
    """
    evaluation = artifact.load_npz("evaluation.npz")
    champion = artifact.load_json("report.json")["champion"]
    if "loan_id" not in evaluation:
        raise ValueError(
            f"{artifact.model}/{artifact.version} was saved before its held-out PDs named their loans; "
            f"retrain it (`ledgerlight train {artifact.model}`) to compare it"
        )
    groups = {key: evaluation[key] for key in evaluation if key.startswith(GROUP_PREFIX)}
    return pd.DataFrame(
        {
            "loan_id": evaluation["loan_id"],
            "defaulted": evaluation["y"].astype(np.int64),
            "pd": evaluation[f"cal__{champion}"].astype(np.float64),
            **groups,
        }
    )


def compare_versions(champion: Artifact, challenger: Artifact, *, sample: int = SAMPLE) -> dict[str, Any]:
    """The challenger next to the champion on the loans both hold out-of-fold PDs for.

    Parameters
    ----------
    champion, challenger : Artifact
        The served risk version and the candidate.
    sample : int
        How many flipped applicants to list.

    Raises
    ------
    ValueError
        A version lacks loan ids, or the two versions share fewer than 50 loans (or no default among them).
    """
    ours, theirs = held_out_pds(champion), held_out_pds(challenger)
    groups = [
        c for c in ours.columns if c.startswith(GROUP_PREFIX)
    ]  # the champion's record of each loan's groups
    both = ours.merge(
        theirs.drop(columns=[c for c in theirs.columns if c.startswith(GROUP_PREFIX)]),
        on="loan_id",
        suffixes=("_champion", "_challenger"),
        validate="one_to_one",
    )
    if len(both) < 50 or both["defaulted_champion"].nunique() < 2:
        raise ValueError(
            f"{champion.version} and {challenger.version} share {len(both):,} cross-validated loans (with "
            f"{int(both['defaulted_champion'].sum())} defaults): too few to compare them"
        )
    y = both["defaulted_champion"].to_numpy()
    p_old, p_new = both["pd_champion"].to_numpy(), both["pd_challenger"].to_numpy()
    cutoff = float(champion.load_json("report.json")["threshold"])
    out: dict[str, Any] = {
        "champion": _version(champion),
        "challenger": _version(challenger),
        "rows": int(len(both)),
        "defaults": int(y.sum()),
        "rows_note": (
            f"out-of-fold PDs of each version on the {len(both):,} loans both were cross-validated on "
            f"(of {len(ours):,} and {len(theirs):,})"
        ),
        "metrics": {name: _pair(fn(y, p_old), fn(y, p_new)) for name, fn in METRICS.items()},
        "calibration": {"champion": _calibration(y, p_old), "challenger": _calibration(y, p_new)},
        "score_psi": {"value": psi(p_old, p_new), "status": status(psi(p_old, p_new))},
        "cutoff": cutoff,
        "flips": _flips(both, cutoff, sample),
        "fairness": _fairness(both, groups, cutoff),
    }
    return out


METRICS = {
    "roc_auc": roc_auc,
    "pr_auc": pr_auc,
    "ks": ks_statistic,
    "brier": brier,
    "calibration_in_the_large": lambda y, p: float(np.mean(p) - np.mean(y)),
}
"""Higher is better for roc_auc, pr_auc and ks; lower for brier; nearer 0 for calibration_in_the_large."""


def _version(artifact: Artifact) -> dict[str, Any]:
    report = artifact.load_json("report.json")
    return {
        "version": artifact.version,
        "model": report["champion"],
        "calibration": report.get("calibration"),
        "trained_rows": int(artifact.metadata.get("row_count", 0)),
    }


def _pair(old: float, new: float) -> dict[str, float]:
    return {"champion": float(old), "challenger": float(new), "difference": float(new - old)}


def _calibration(y: np.ndarray, p: np.ndarray) -> list[dict[str, float]]:
    pred, obs, n = calibration_bins(y, p, 10)
    return [
        {"bin": i + 1, "predicted": float(a), "observed": float(b), "n": int(c)}
        for i, (a, b, c) in enumerate(zip(pred, obs, n, strict=True))
    ]


def _flips(both: pd.DataFrame, cutoff: float, sample: int) -> dict[str, Any]:
    old_declined = both["pd_champion"].to_numpy() >= cutoff
    new_declined = both["pd_challenger"].to_numpy() >= cutoff
    flipped = both.loc[old_declined != new_declined].copy()
    flipped["change"] = np.where(
        new_declined[old_declined != new_declined], "approve -> decline", "decline -> approve"
    )
    flipped["moved"] = (flipped["pd_challenger"] - flipped["pd_champion"]).abs()
    listed = flipped.sort_values(["moved", "loan_id"], ascending=[False, True]).head(sample)
    return {
        "approve_to_decline": int((~old_declined & new_declined).sum()),
        "decline_to_approve": int((old_declined & ~new_declined).sum()),
        "unchanged": int((old_declined == new_declined).sum()),
        "declined": {"champion": int(old_declined.sum()), "challenger": int(new_declined.sum())},
        "sample": [
            {
                "loan_id": _plain(r.loan_id),
                "champion_pd": float(r.pd_champion),
                "challenger_pd": float(r.pd_challenger),
                "defaulted": int(r.defaulted_champion),
                "change": r.change,
            }
            for r in listed.itertuples(index=False)
        ],
    }


def _plain(value: Any) -> int | str:
    return int(value) if isinstance(value, np.integer | int) else str(value)


def _fairness(both: pd.DataFrame, columns: list[str], cutoff: float) -> dict[str, Any]:
    """Disparate-impact ratio (approval rate against the champion's reference group) per protected group, for both
    versions; a group is flagged when either ratio is below 0.8."""
    if not columns:
        return {}
    groups = {c.removeprefix(GROUP_PREFIX): both[c].to_numpy() for c in columns}
    y = both["defaulted_champion"].to_numpy()
    old = fairness_report(y, both["pd_champion"].to_numpy(), groups, cutoff)["attributes"]
    references = {
        name: attr["reference"] for name, attr in old.items()
    }  # one reference group for both versions
    new = fairness_report(y, both["pd_challenger"].to_numpy(), groups, cutoff, references)["attributes"]
    out: dict[str, Any] = {}
    for name, attr in old.items():
        theirs = {g["group"]: g for g in new[name]["groups"]}
        out[name] = {
            "reference": attr["reference"],
            "groups": [
                {
                    "group": g["group"],
                    "n": int(g["n"]),
                    "champion_di": g["di_ratio"],
                    "challenger_di": theirs[g["group"]]["di_ratio"],
                    "flag": any(
                        v is not None and v < DI_FLAG for v in (g["di_ratio"], theirs[g["group"]]["di_ratio"])
                    ),
                }
                for g in attr["groups"]
            ],
        }
    return out
