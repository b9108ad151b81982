"""Explanations for the Risk pages beyond the waterfall: what publishing stored (permutation importance, partial
dependence), what the bounded evaluation gives (lift, gains, interaction partners), one applicant's ICE curve and
contributions, the PD range of the applicant grid and the portfolio's HTML export.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from plotly.offline import get_plotlyjs

import risk
from bankdata import DatabaseError, format_value, get_settings, read_evidence
from dashapp.services import audit, validation
from dashapp.services import risk as risk_svc
from dashapp.services.bank import DataUnavailable
from dashapp.services.served import NotTrained

#: Plotly's cartesian bundle the app serves (a third of the full bundle): the export inlines it when it can
BUNDLE = Path(__file__).resolve().parents[2] / "assets" / "vendor" / "plotly-cartesian.min.js"


@dataclass(frozen=True)
class IceCurve:
    """One applicant's PD as ``feature`` moves through ``labels`` (``ice``), the portfolio's ``pdp`` (None when not
    published) and the applicant's own value (``current``, as on the axis)."""

    feature: str
    labels: list[Any]
    ice: np.ndarray
    pdp: np.ndarray | None
    current: Any
    categorical: bool


def _evidence(kind: str) -> Any | None:
    """The served version's evidence document ``kind``; None when its scores are not published."""
    try:
        version = risk_svc.published_version()
    except NotTrained:
        return None
    try:
        return read_evidence(risk.MODEL_NAME, version, kind, get_settings().database_url)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def permutation() -> dict[str, Any] | None:
    """Permutation importance of the served version as publishing measured it (None when not published; a dict
    with ``unavailable`` when no loans were held out)."""
    try:
        return _evidence("permutation_importance")
    except DataUnavailable:
        return None


def gains() -> risk.Gains:
    """Cumulative gains (and lift) of the champion's out-of-fold PDs."""
    p = risk_svc.get_portfolio()
    return risk.cumulative_gains(p.y, p.calibrated[p.champion])


@functools.cache
def _partners(version: str) -> dict[str, str | None]:
    p = risk_svc.get_portfolio()
    return {f: risk.interaction_partner(p.spec, p.sample["x"], p.sample["shap"], f) for f in p.spec.features}


def interaction_partner(feature: str) -> str | None:
    """The feature that best explains the spread of ``feature``'s SHAP values in the stored sample."""
    p = risk_svc.get_portfolio()
    return _partners(p.version)[validation.choice(feature, "feature", p.spec.features)]


def colour_feature(feature: str, chosen: str | None) -> str | None:
    """The dependence plot's colour: the user's ``chosen`` feature, or the automatic partner when ``chosen`` is
    ``"auto"`` or empty; None for ``"none"``."""
    spec = risk_svc.get_portfolio().spec
    if chosen in (None, "", "auto"):
        return interaction_partner(feature)
    if chosen == "none":
        return None
    return validation.choice(chosen, "colour feature", spec.features)


def ice(features: dict[str, Any], feature: str) -> IceCurve:
    """One applicant's ICE curve for ``feature`` over the grid publishing used for the portfolio's partial
    dependence (scoring one row per grid point: no training).

    Raises
    ------
    InvalidApplicant
        When the values fail ``risk.check_applicant``.
    """
    model = risk_svc.get_model()
    spec = model.spec
    feature = validation.choice(feature, "feature", spec.features)
    row = spec.encode_row(risk.check_applicant(spec, features))
    doc = _evidence("pdp")
    published = (doc or {}).get("features", {}).get(feature)
    if published:
        grid, pdp = (
            np.asarray(published["grid"], dtype=np.float64),
            np.asarray(published["pd"], dtype=np.float64),
        )
    else:
        grid, pdp = risk.feature_grid(spec, risk_svc.get_portfolio().sample["x"], feature), None
    j = spec.features.index(feature)
    categorical = feature in spec.categorical
    if categorical:
        labels: list[Any] = [spec.decode_category(feature, v) for v in grid]
        current: Any = spec.decode_category(feature, row[0, j])
    else:
        labels, current = grid.tolist(), float(row[0, j])
    return IceCurve(feature, labels, risk.ice_curve(model, row, feature, grid), pdp, current, categorical)


def contribution_rows(e: risk.Explanation) -> list[dict[str, Any]]:
    """The contributions table of one explained applicant: one row per feature (``feature`` is the row id)."""
    rows = []
    for name, value, logit, share in zip(e.features, e.values, e.shap_logit, e.shap_pd, strict=True):
        direction = "raises risk" if logit > 0 else "lowers risk" if logit < 0 else "no effect"
        rows.append(
            {
                "feature": name,
                "name": risk.plain_name(name),
                "value": f"{risk.plain_name(name)} is {format_value(name, value)}",
                "shap": round(float(logit), 4),
                "pd_points": round(float(share) * 100, 2),
                "direction": direction,
            }
        )
    return rows


def pd_range_filter(low: Any, high: Any) -> dict[str, Any]:
    """The applicant grid's filter model for PDs in ``[low, high]`` (fractions, checked here); an empty model for
    the whole range (the grid's server-side filters check it again, see ``services.grid``)."""
    lo = validation.number(low, "lowest PD", lo=0, hi=1, default=0.0)
    hi = validation.number(high, "highest PD", lo=0, hi=1, default=1.0)
    if lo > hi:
        raise validation.InputError("PD range", "the lowest PD is above the highest")
    if lo <= 0 and hi >= 1:
        return {}
    return {
        "pd": {"filterType": "number", "type": "inRange", "filter": round(lo, 4), "filterTo": round(hi, 4)}
    }


@functools.cache
def _bundle_traces() -> frozenset[str]:
    return frozenset(re.findall(r'moduleType:"trace",name:"(\w+)"', BUNDLE.read_text(encoding="utf-8")))


@functools.cache
def _script(name: str) -> str:
    return BUNDLE.read_text(encoding="utf-8") if name == "cartesian" else get_plotlyjs()


def plotly_script(trace_types: set[str]) -> tuple[str, str]:
    """The plotly.js to inline in an offline export: the app's cartesian bundle when it draws every trace type
    (1.5 MB), else the full bundle (about 4.6 MB). Returns ``(name, script)``."""
    name = "cartesian" if BUNDLE.exists() and trace_types <= _bundle_traces() else "full"
    return name, _script(name)


def record_export(version: str, figures: list[str], size: int) -> None:
    """Audit the portfolio's HTML export (``export_portfolio``), with the figures it held and its size."""
    audit.served("export_portfolio", f"risk portfolio {version} (HTML)", {"figures": figures, "bytes": size})
