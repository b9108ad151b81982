"""A campaign's audience from what training published: the members of served segments, or the top of a product's
ranked list (the recommender's campaign candidates, or the uplift model's ranking).

Both return one row per customer, ``customer_id`` (internal), ``stratum`` (the customer's served segment: what the
holdout is stratified by) and ``score`` (NaN for segments), and describe where the audience came from in
``frame.attrs["audience"]`` (JSON-ready: what :func:`bankdata.create_campaign` stores). Credit products are never
offered to customers the served risk model puts in a blocked band (``Settings.credit_blocked_bands``), exactly as
the Recommendations page holds them back: :func:`credit_blocked` is that rule as one subquery.

Reads only the served tables (indexed ranges of one version); imports no Dash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import recsys
import risk
import segmentation
from bankdata import (
    BANK_TABLES,
    ArtifactStore,
    get_settings,
    neutralise_formulas,
    published_rows,
    query,
    segment_names,
    shown_ids,
    to_internal,
    treated_customers,
)
from campaigns.publishing import UPLIFT_MODEL, UPLIFT_TABLE

UPLIFT_RANKING = "uplift"
"""The ranking name of the uplift model's published list (next to the recommender's models)."""
CONTACT_COLUMNS = ("rank", "customer_id", "stratum", "score")
"""The columns of a campaign's contact list (its export)."""
NO_SEGMENT = "all"
"""The stratum of customers no served segmentation covers."""
MAX_RANKED = recsys.MAX_CAMPAIGN
_S = segmentation.MEMBERS_TABLE
_C = recsys.CAMPAIGN_TABLE
_U = UPLIFT_TABLE
_P = BANK_TABLES["products"]


def served_version(model: str, table: sa.Table | None = None, url: str | None = None) -> str | None:
    """The served version of ``model`` (``LATEST`` of the artifact store), or None when none is served or (with
    ``table``) its rows are not published there."""
    version = ArtifactStore().latest(model)
    if version is None or (table is not None and published_rows(table, version, url) is None):
        return None
    return version


def _require(model: str, table: sa.Table, url: str | None, command: str) -> str:
    version = ArtifactStore().latest(model)
    if version is None:
        raise ValueError(f"no {model} model is served: run `{command}`")
    if published_rows(table, version, url) is None:
        raise ValueError(f"{model} {version} is trained but not published: run `ledgerlight publish {model}`")
    return version


def resolve_product(product: str | int, url: str | None = None) -> tuple[int, str, str]:
    """``(product_id, name, family)`` of a product named by its name (case-insensitive), its id, or the bank's
    text id; ``ValueError`` listing the catalogue when there is no such product."""
    catalogue = query(sa.select(_P.c.product_id, _P.c.name, _P.c.family).order_by(_P.c.product_id), url)
    text = str(product).strip()
    by_name = catalogue[catalogue["name"].astype(str).str.casefold() == text.casefold()]
    if by_name.empty:
        internal = to_internal("product", [text], url).get(text)
        if internal is None and text.isascii() and text.isdigit():
            internal = int(text)
        by_name = catalogue[catalogue["product_id"] == internal] if internal is not None else by_name
    if by_name.empty:
        names = ", ".join(catalogue["name"].astype(str)) or "none (load products first)"
        raise ValueError(f"unknown product {text!r}; the bank's products: {names}")
    row = by_name.iloc[0]
    return int(row["product_id"]), str(row["name"]), str(row["family"])


def credit_blocked(product_id: int, url: str | None = None) -> sa.Select | None:
    """``SELECT customer_id`` of the customers who may not be offered ``product_id``: for a credit product
    (``recsys.CREDIT_FAMILIES``), the served risk model's borrowers in a blocked band; None when nothing is blocked
    (not a credit product, no blocked band configured, or no risk model served and published)."""
    family = query(sa.select(_P.c.family).where(_P.c.product_id == int(product_id)), url)["family"]
    bands = [b for b in get_settings().credit_blocked_bands if b in risk.BANDS]
    if family.empty or str(family.iloc[0]) not in recsys.CREDIT_FAMILIES or not bands:
        return None
    version = served_version(risk.MODEL_NAME, risk.SCORES_TABLE, url)
    if version is None:
        return None
    scores = risk.SCORES_TABLE
    return sa.select(scores.c.customer_id).where(scores.c.model_version == version, scores.c.band.in_(bands))


def holders(product_id: int) -> sa.Select:
    """``SELECT customer_id`` of the customers who hold ``product_id`` (a ``purchase`` interaction of it)."""
    it = BANK_TABLES["interactions"]
    return sa.select(it.c.customer_id).where(it.c.product_id == int(product_id), it.c.event == "purchase")


def _segment_labels(version: str, segments: Sequence[int], url: str | None) -> dict[int, str]:
    named = segment_names(version, url)
    return {int(s): f"{int(s)} {named[int(s)]}" if int(s) in named else f"segment {int(s)}" for s in segments}


def _blocked_count(ids: np.ndarray, product_id: int | None, url: str | None) -> tuple[np.ndarray, int]:
    """``ids`` without the credit-blocked customers, and how many were left out."""
    blocked = credit_blocked(product_id, url) if product_id is not None else None
    if blocked is None or not len(ids):
        return np.ones(len(ids), dtype=bool), 0
    out = set(query(blocked, url)["customer_id"].astype("int64"))
    keep = ~np.isin(ids, list(out))
    return keep, int((~keep).sum())


def segment_audience(segment_ids: Sequence[int], url: str | None = None, *, product_id: int | None = None
                     ) -> pd.DataFrame:  # fmt: skip
    """Every customer of the served segmentation's ``segment_ids``, by customer id.

    Parameters
    ----------
    segment_ids : sequence of int
        Segments of the served (published) segmentation.
    product_id : int, optional
        The product offered: for a credit product, customers in a blocked risk band are left out.

    Returns
    -------
    DataFrame
        ``customer_id``, ``stratum`` (the segment, with its name when one was given), ``score`` (NaN); ``attrs
        ["audience"]``: the segments, the segmentation version and how many blocked customers were left out.

    Raises
    ------
    ValueError
        No segment given, an unknown segment (the served ones are listed), no served segmentation.
    """
    wanted = sorted({int(s) for s in segment_ids})
    if not wanted:
        raise ValueError("name at least one segment (e.g. --segments 1,2)")
    version = _require(segmentation.MODEL_NAME, _S, url, "ledgerlight train segments")
    served = query(sa.select(_S.c.segment).where(_S.c.model_version == version).distinct(), url)["segment"]
    known = sorted(int(s) for s in served)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ValueError(f"unknown segment(s) {', '.join(map(str, unknown))} of segmentation {version}; it has "
                         f"{', '.join(map(str, known))}")  # fmt: skip
    rows = query(
        sa.select(_S.c.customer_id, _S.c.segment)
        .where(_S.c.model_version == version, _S.c.segment.in_(wanted))
        .order_by(_S.c.customer_id),
        url,
    )
    ids = rows["customer_id"].to_numpy(dtype=np.int64)
    keep, blocked = _blocked_count(ids, product_id, url)
    labels = _segment_labels(version, wanted, url)
    frame = pd.DataFrame({
        "customer_id": ids[keep],
        "stratum": rows["segment"].astype("int64")[keep].map(labels).astype("str").to_numpy(),
        "score": np.nan,
    })  # fmt: skip
    frame.attrs["audience"] = {"kind": "segments", "segments": wanted, "model": segmentation.MODEL_NAME,
                               "model_version": version, "credit_blocked_left_out": blocked}  # fmt: skip
    return frame


def ranking_models(url: str | None = None) -> list[str]:
    """The rankings :func:`ranked_audience` can use now: the served recommender's published models, then
    :data:`UPLIFT_RANKING` when an uplift model is published."""
    names: list[str] = []
    version = served_version(recsys.MODEL_NAME, _C, url)
    if version is not None:
        names += list((recsys.serving_evidence(version, url) or {}).get("models", []))
    if served_version(UPLIFT_MODEL, _U, url) is not None:
        names.append(UPLIFT_RANKING)
    return names


def _strata(ids: np.ndarray, url: str | None) -> np.ndarray:
    """Each customer's served segment label (:data:`NO_SEGMENT` without one or without a served segmentation)."""
    out = np.full(len(ids), NO_SEGMENT, dtype=object)
    version = served_version(segmentation.MODEL_NAME, _S, url)
    if version is None or not len(ids):
        return out
    parts = []
    unique = np.unique(ids)
    for start in range(0, len(unique), 5_000):
        chunk = [int(i) for i in unique[start : start + 5_000]]
        parts.append(query(sa.select(_S.c.customer_id, _S.c.segment)
                           .where(_S.c.model_version == version, _S.c.customer_id.in_(chunk)), url))  # fmt: skip
    found = pd.concat(parts, ignore_index=True)
    labels = _segment_labels(version, sorted(found["segment"].astype(int).unique()), url)
    by_customer = dict(zip(found["customer_id"].astype("int64"), found["segment"].astype("int64").map(labels),
                           strict=True))  # fmt: skip
    return np.array([by_customer.get(int(i), NO_SEGMENT) for i in ids], dtype=object)


def ranked_audience(
    product_id: int, n: int, model: str | None = None, url: str | None = None
) -> pd.DataFrame:
    """The ``n`` best-ranked customers for ``product_id``, best first.

    Parameters
    ----------
    product_id : int
    n : int
        How many (1 to :data:`MAX_RANKED`); fewer when the ranking holds fewer candidates.
    model : str, optional
        A model of the served recommender (``popularity``, ``als``, ``mf``, ``ease``: its campaign candidates, the
        customers not holding the product) or :data:`UPLIFT_RANKING` (the published uplift ranking); default the
        recommender's best model.

    Returns
    -------
    DataFrame
        ``customer_id``, ``stratum`` (served segment), ``score`` (the model's score or predicted uplift), in rank
        order; ``attrs["audience"]``: the model, its version, ``n`` and how many blocked customers were passed over.

    Raises
    ------
    ValueError
        A size out of range, an unknown model, nothing published, or a product the ranking does not know.
    """
    if not 1 <= int(n) <= MAX_RANKED:
        raise ValueError(f"--top must be between 1 and {MAX_RANKED:,}, got {n}")
    blocked = credit_blocked(product_id, url)
    if model == UPLIFT_RANKING:
        version = _require(UPLIFT_MODEL, _U, url, "ledgerlight campaigns train-uplift")
        table, where, model_name = (
            _U,
            [_U.c.model_version == version, _U.c.product_id == int(product_id)],
            UPLIFT_MODEL,
        )
        score = _U.c.uplift
    else:
        version = _require(recsys.MODEL_NAME, _C, url, "ledgerlight train recsys")
        evidence: dict[str, Any] = recsys.serving_evidence(version, url) or {}
        models = list(evidence.get("models", []))
        model = model or str(evidence.get("best_model") or (models[0] if models else "als"))
        if model not in models:
            choices = ", ".join(
                [*models, *([UPLIFT_RANKING] if served_version(UPLIFT_MODEL, _U, url) else [])]
            )
            raise ValueError(f"unknown model {model!r}; choose one of {choices}")
        table, where, model_name = _C, [_C.c.model_version == version, _C.c.model == model,
                                        _C.c.product_id == int(product_id)], recsys.MODEL_NAME  # fmt: skip
        score = _C.c.score
    total = int(
        query(sa.select(sa.func.count().label("n")).select_from(table).where(*where), url)["n"].iloc[0]
    )
    if total == 0:
        raise ValueError(
            f"the {model} ranking ({model_name} {version}) has no candidates for product {product_id}"
        )
    if blocked is not None:
        where = [*where, table.c.customer_id.not_in(blocked)]
    if (
        model == UPLIFT_RANKING
    ):  # the uplift model ranks everyone; a customer who holds the product is not offered it
        where = [*where, table.c.customer_id.not_in(holders(product_id))]
    rows = query(sa.select(table.c.customer_id, score.label("score")).where(*where).order_by(table.c.rank)
                 .limit(int(n)), url)  # fmt: skip
    ids = rows["customer_id"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"customer_id": ids, "stratum": pd.array(_strata(ids, url), dtype="str"),
                          "score": rows["score"].to_numpy(dtype=float)})  # fmt: skip
    frame.attrs["audience"] = {
        "kind": "ranked",
        "ranking": model,
        "model": model_name,
        "model_version": version,
        "top": int(n),
        "credit_rule_applied": blocked is not None,
    }
    return frame


def contact_list(campaign_id: int, url: str | None = None) -> pd.DataFrame:
    """Whom to contact: the campaign's treated members in rank order (never a control), ready for a CSV:
    ``rank``, ``customer_id`` (as the bank writes its ids), ``stratum``, ``score`` (empty for an unranked
    audience), text cells that a spreadsheet could run as a formula neutralised."""
    treated = treated_customers(campaign_id, url)
    frame = pd.DataFrame({
        "rank": np.arange(1, len(treated) + 1),
        "customer_id": shown_ids("customer", treated["customer_id"], url).to_numpy(),
        "stratum": treated["stratum"].astype("str").to_numpy(),
        "score": pd.to_numeric(treated["score"], errors="coerce").round(6).to_numpy(),
    })  # fmt: skip
    return neutralise_formulas(frame).loc[:, list(CONTACT_COLUMNS)]
