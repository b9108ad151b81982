"""The explanation views of the Risk pages: permutation importance beside SHAP, beeswarm, coloured dependence,
lift and gains, the applicant's ICE curve and contributions, the PD range and the portfolio's HTML export."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bankdata import read_audit
from dashapp.figures import explain as explain_figs
from dashapp.figures import risk as figs
from dashapp.services import clear_caches
from dashapp.services import risk as svc
from dashapp.services import risk_insights as insights_svc
from dashapp.services.validation import InputError
from tests.app.helpers import CALLBACK, single


@pytest.fixture(scope="module")
def risk_env(trained_env):
    """The test bank with its quick-trained, published risk model."""
    clear_caches()
    yield trained_env.bank_env
    clear_caches()


def _borrower() -> dict:
    return svc.applicant_features(svc.applicant_page(0, 1, [], {})[0][0]["customer_id"])


def test_importance_compares_shap_with_the_published_permutation(risk_env) -> None:
    p = svc.get_portfolio()
    perm = insights_svc.permutation()
    assert perm["features"] == p.spec.features and "later month" in perm["held_out"]
    fig = explain_figs.importance_comparison_figure(p.spec, p.sample["importance"], perm, top=5)
    shap_bars, perm_bars = fig.data
    top5 = np.argsort(p.sample["importance"])[-5:]
    assert np.allclose(shap_bars.x, p.sample["importance"][top5]) and list(shap_bars.y) == list(perm_bars.y)
    assert np.allclose(perm_bars.x, [perm["mean"][j] for j in top5])
    only_shap = explain_figs.importance_comparison_figure(
        p.spec, p.sample["importance"], {"unavailable": "no"}
    )
    assert len(only_shap.data) == 1


def test_beeswarm_draws_each_sampled_loan_once_per_feature_coloured_by_rank(risk_env) -> None:
    p = svc.get_portfolio()
    fig = explain_figs.beeswarm_figure(
        p.spec, p.sample["x"], p.sample["shap"], p.sample["importance"], top=4, rows=50
    )
    dots = fig.data[0]
    assert dots.type == "scatter" and len(dots.x) == 4 * min(50, len(p.sample["x"]))
    colours = np.asarray(dots.marker.color)
    assert colours.min() == 0 and colours.max() == 1
    most = p.spec.features[int(np.argmax(p.sample["importance"]))]
    assert fig.layout.yaxis.ticktext[-1] == risk_plain(most)  # the most important feature on top
    top_dots = np.asarray(
        dots.x[-min(50, len(p.sample["x"])) :]
    )  # the top row: the most important feature's SHAP
    assert np.isin(top_dots, p.sample["shap"][:, int(np.argmax(p.sample["importance"]))]).all()


def risk_plain(name: str) -> str:
    from risk import plain_name

    return plain_name(name)


def test_dependence_is_coloured_by_the_automatic_or_the_chosen_feature(risk_env) -> None:
    p = svc.get_portfolio()
    feature = p.spec.features[0]
    partner = insights_svc.colour_feature(feature, "auto")
    assert partner in p.spec.features and partner != feature
    assert insights_svc.colour_feature(feature, "none") is None
    assert insights_svc.colour_feature(feature, p.spec.features[1]) == p.spec.features[1]
    with pytest.raises(InputError):
        insights_svc.colour_feature(feature, "salary')--")
    fig = figs.dependence_figure(p.spec, p.sample["x"], p.sample["shap"], feature, color_by=partner)
    assert np.allclose(fig.data[0].marker.color, p.sample["x"][:, p.spec.features.index(partner)])


def test_gains_and_lift_come_from_the_out_of_fold_pds(risk_env) -> None:
    p = svc.get_portfolio()
    g = insights_svc.gains()
    assert g.share_caught[0] == 0 and g.share_caught[-1] == pytest.approx(1.0)
    assert np.all(np.diff(g.share_caught) >= -1e-12)
    ten = int(np.searchsorted(g.share_targeted, 0.1))
    riskiest = np.argsort(-p.calibrated[p.champion])[: int(round(0.1 * len(p.y)))]
    assert g.share_caught[ten] == pytest.approx(p.y[riskiest].sum() / p.y.sum(), abs=0.02)
    assert explain_figs.lift_figure(g).data[0].y[-1] == pytest.approx(1.0)


def test_ice_passes_through_the_applicants_own_pd(risk_env) -> None:
    features = _borrower()
    spec = svc.get_model().spec
    e = svc.explain(features)
    category = next(iter(spec.categorical))
    curve = insights_svc.ice(features, category)
    assert curve.categorical and curve.labels == spec.categorical[category] and curve.pdp is not None
    assert curve.ice[curve.labels.index(curve.current)] == pytest.approx(e.pd)
    numeric = insights_svc.ice(features, spec.numeric[0])
    assert len(numeric.ice) == len(numeric.pdp) == len(numeric.labels) and not numeric.categorical
    fig = explain_figs.ice_figure(
        numeric.feature, numeric.labels, numeric.ice, numeric.pdp, numeric.current, False
    )
    assert [t.name for t in fig.data] == ["this applicant", "portfolio average"]


def test_contributions_table_adds_up_to_the_applicants_pd(risk_env) -> None:
    e = svc.explain(_borrower())
    rows = insights_svc.contribution_rows(e)
    assert [r["feature"] for r in rows] == e.features and all(isinstance(r["feature"], str) for r in rows)
    assert sum(r["pd_points"] for r in rows) == pytest.approx((e.pd - e.base_pd) * 100, abs=0.01 * len(rows))
    for r, logit in zip(rows, e.shap_logit, strict=True):
        assert r["direction"] == ("raises risk" if logit > 0 else "lowers risk" if logit < 0 else "no effect")


def test_the_pd_range_is_checked_and_filters_the_grid_on_the_server(risk_env) -> None:
    assert insights_svc.pd_range_filter(0, 1) == {}
    with pytest.raises(InputError):
        insights_svc.pd_range_filter(0.5, 0.2)
    with pytest.raises(InputError):
        insights_svc.pd_range_filter(-1, 0.2)
    model = insights_svc.pd_range_filter(0.1, 0.3)
    rows, total = svc.applicant_page(0, 100, [], model)
    everyone = svc.applicant_page(0, 1, [], {})[1]
    assert 0 < total < everyone and all(0.1 <= r["pd"] <= 0.3 for r in rows)


def _export(client):
    return client.post(
        CALLBACK, json=single("risk-export-download.data", [("risk-export-html", "n_clicks", 1)])
    )


def test_the_portfolio_exports_as_one_offline_html_file_and_is_audited(risk_env, as_user) -> None:
    before = int((read_audit(limit=100_000)["action"] == "export_portfolio").sum())
    answer = _export(as_user("marketing"))  # the portfolio is for every role: aggregates only
    assert answer.status_code == 200
    data = answer.get_json()["response"]["risk-export-download"]["data"]
    page = data["content"]
    assert data["filename"].endswith(".html") and page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # nothing to fetch: it opens offline
    assert page.count('class="plotly-graph-div"') >= 10 and "Plotly.newPlot" in page
    sections = re.findall(r'<section><h2>[^<]*</h2><div style="height:(\d+)px', page)  # "100%" collapses
    assert len(sections) == page.count("<section>")
    assert insights_svc.BUNDLE.read_text(encoding="utf-8")[:200] in page  # the cartesian bundle, inlined
    assert int((read_audit(limit=100_000)["action"] == "export_portfolio").sum()) == before + 1


def test_the_new_applicant_callbacks_are_for_risk_roles_only(risk_env, as_user) -> None:
    body = single(
        "risk-grid.filterModel", [("risk-pd-range", "value", [0.1, 0.3])], [("risk-grid", "filterModel", {})]
    )
    assert as_user("marketing").post(CALLBACK, json=body).status_code == 403
    answer = as_user("risk").post(CALLBACK, json=body)
    assert answer.status_code == 200
    assert answer.get_json()["response"]["risk-grid"]["filterModel"]["pd"]["type"] == "inRange"
    bad = single(
        "risk-grid.filterModel", [("risk-pd-range", "value", [0.6, 0.3])], [("risk-grid", "filterModel", {})]
    )
    assert as_user("risk").post(CALLBACK, json=bad).status_code == 400
