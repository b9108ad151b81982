"""Monitoring and Models: services on trained models, promotion picked up without a restart, retrain job progress,
and both pages in headless Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

import risk
from bankdata import ArtifactStore, engine_for, generate_cohort, read_audit, write_evidence
from bankdata._serving import evidence_table
from dashapp.components.comparison import comparison_view
from dashapp.figures.governance import challenger_calibration_figure
from dashapp.services import backtest as backtest_service
from dashapp.services import challenger, governance, models
from dashapp.services import risk as risk_service
from dashapp.services.publishing import publish_version
from dashapp.services.validation import InputError
from tests.app.helpers import CALLBACK, router


def test_fairness_service_reports_both_attributes(trained_env) -> None:
    fair = governance.fairness()
    assert set(fair["attributes"]) == {"age_band", "gender"} and fair["scores"] == "out-of-fold"
    strict = governance.fairness(0.0)  # decline everyone: approval 0 in every group
    assert all(g["approval_rate"] == 0 for a in strict["attributes"].values() for g in a["groups"])
    with pytest.raises(ValueError, match="threshold"):
        governance.fairness(2.0)


def test_drift_service_alerts_only_when_shifted(trained_env) -> None:
    assert governance.drift(2.0).alerts and governance.drift(2.0).score_psi > 0.25
    assert governance.drift(0.0).score_psi < governance.drift(2.0).score_psi
    with pytest.raises(ValueError, match="shift"):
        governance.drift(9.0)
    grid = governance.drift_grid()
    assert grid["later_customers"] == min(trained_env.bank_env.bank.n_customers, 50_000)
    assert (min(grid["shift"]), max(grid["shift"])) == governance.SHIFT_RANGE


def test_versions_card_and_promotion_are_picked_up_without_restart(trained_env) -> None:
    store: ArtifactStore = trained_env.store
    old = trained_env.artifacts["risk"].version
    page_before = risk_service.applicant_page(0, 50, [], {})
    new = risk.train_from_bank(
        trained_env.bank_env.bank, store, quick=True
    ).version  # a candidate: not served
    assert store.latest("risk") == old and risk_service.applicant_page(0, 50, [], {}) == page_before
    table = models.versions()
    status = table[table["model"] == "risk"].set_index("version")["status"]
    assert status[old] == "served" and status[new] == "not published"
    reason = "challenger beats the champion on the held-out loans"
    with pytest.raises(PermissionError):
        models.promote("risk", new, role="risk", reason=reason)
    with pytest.raises(InputError, match="ledgerlight publish"):  # an unpublished version is never promoted
        models.promote("risk", new, role="admin", user="tester", reason=reason)
    with pytest.raises(InputError, match="say why"):
        models.promote("risk", new, role="admin", user="tester", reason="  ")
    with pytest.raises(InputError, match="already served"):
        models.promote("risk", old, role="admin", user="tester", reason=reason)
    assert store.latest("risk") == old
    unpublished, _ = models.card("risk", new)
    assert "ledgerlight publish risk" in " ".join(str(s.get("note", "")) for s in unpublished)
    publish_version(
        "risk", store.load("risk", new), trained_env.bank_env.bank, trained_env.bank_env.database_url
    )
    assert models.versions().set_index("version").loc[new, "status"] == "candidate"
    report = challenger.compare_with_served("risk", new)  # champion / challenger before promoting
    assert report["champion"]["version"] == old and report["challenger"]["version"] == new
    view = str(comparison_view(report, challenger_calibration_figure(report["calibration"])))
    assert "models-compare-metrics" in view and "models-compare-flips" in view and "ROC-AUC" in view
    assert store.latest("risk") == old
    models.promote("risk", new, role="admin", user="tester", reason=reason)
    assert (
        store.latest("risk") == new and risk_service.get_portfolio().version == new
    )  # no cache clearing needed
    audit = read_audit(trained_env.bank_env.database_url)
    assert audit.iloc[0]["detail"] == f"from {old}; reason: {reason}" and audit.iloc[0]["user"] == "tester"
    models.promote("risk", old, role="admin", user="tester", reason="back to the session's version")
    assert risk_service.applicant_page(0, 50, [], {}) == page_before
    sections, page = models.card("risk", old)
    titles = [s["title"] for s in sections]
    assert (
        "Metrics" in titles
        and "Calibration" in titles
        and "Fairness: gender" in titles
        and "Limits" in titles
    )
    assert "Missing values" in titles
    assert "bootstrap" in next(s for s in sections if s["title"] == "Metrics")["note"]
    assert page.startswith("<!doctype html>") and old in page
    with pytest.raises(ValueError, match="model: 'nope' is not one of risk"):
        models.card("nope", old)
    with pytest.raises(ValueError, match="version: not a saved version of risk"):
        models.card("risk", "../../etc/passwd")


def test_retrain_job_reports_progress_and_saves_a_candidate(trained_env) -> None:
    steps: list[tuple[int, int, str]] = []
    served = trained_env.store.latest("segments")
    version = models.retrain("segments", lambda *a: steps.append(a), quick=True)
    assert [s[0] for s in steps] == [0, 1, 3] and f"segments/{version} (candidate" in steps[-1][2]
    assert trained_env.store.latest("segments") == served and not models.is_served("segments", version)
    assert models.versions().set_index("version").loc[version, "status"] == "candidate"


@pytest.fixture()
def stored_backtest(trained_env) -> Iterator[dict]:
    """A back-test of the served risk version on 12 generated later months of the test bank, stored as its
    evidence (deleted afterwards, so the other tests see the empty state)."""
    bank = trained_env.bank_env.bank
    version = trained_env.store.latest("risk")
    later = generate_cohort(
        bank.loans["issued_at"].max(),
        n_customers=2_000,
        seed=5,
        months=12,
        customer_offset=int(bank.customers["customer_id"].max()),
        loan_offset=int(bank.loans["loan_id"].max()),
    )
    doc = risk.backtest_version(
        trained_env.store.load("risk", version),
        pd.concat([bank.loans, later.loans], ignore_index=True),
        pd.concat([bank.customers, later.customers], ignore_index=True),
        truth=pd.concat([bank.truth.loan_pd, later.truth.loan_pd], ignore_index=True),
        bank_id=bank.identity.bank_id,
    )
    url = trained_env.bank_env.database_url
    write_evidence("risk", version, {risk.BACKTEST_KIND: doc}, url)
    yield doc
    with engine_for(url).begin() as conn:
        conn.execute(sa.delete(evidence_table).where(evidence_table.c.kind == risk.BACKTEST_KIND))


def test_monitoring_says_what_to_run_when_no_back_test_is_stored(trained_env, as_user) -> None:
    assert backtest_service.backtest() is None
    answer = as_user("risk").post(CALLBACK, json=router("/monitoring"))
    assert answer.status_code == 200
    page = json.dumps(answer.get_json())
    assert "monitoring-backtest-empty" in page and "ledgerlight demo extend --months 12" in page
    assert page.index("Back-test (real outcomes)") < page.index("What-if (generated month)")
    assert "monitoring-shift" in page  # the what-if sliders are still there, in the second tab


def test_backtest_service_reads_the_stored_report(trained_env, stored_backtest, as_user) -> None:
    doc = backtest_service.backtest()
    assert doc == json.loads(json.dumps(stored_backtest))
    assert doc["version"] == trained_env.store.latest("risk")
    assert backtest_service.stamp() is not None
    # the page cached with the empty state (the test above) is rebuilt: its stamp is the back-test's write time
    page = json.dumps(as_user("risk").post(CALLBACK, json=router("/monitoring")).get_json())
    assert "monitoring-backtest-table" in page and "monitoring-backtest-empty" not in page


@pytest.mark.browser
def test_monitoring_back_test_tab_shows_the_traffic_lights(trained_env, stored_backtest, served) -> None:
    duo = served
    duo.wait_for_page(url=f"{duo.server_url}/monitoring")
    duo.wait_for_element("#monitoring-backtest-table", timeout=40)
    table = duo.find_element("#monitoring-backtest-table").text
    for band in stored_backtest["bands"]:
        assert f"{band['n']:,}" in table
        light = duo.find_element(f"#monitoring-backtest-table-light-{band['band']}").text.lower()
        assert light == band["light"]
    assert "True PD" in table
    duo.wait_for_element("#monitoring-backtest-rates g.trace", timeout=20)
    duo.wait_for_element("#monitoring-backtest-auc g.trace", timeout=20)
    duo.wait_for_element("#monitoring-backtest-lights .hm", timeout=20)
    duo.find_element("#monitoring-tab-whatif-label .nav-link").click()
    duo.wait_for_element("#monitoring-psi g.trace", timeout=30)
    assert duo.get_logs() == []


@pytest.mark.browser
def test_monitoring_and_models_pages_render(trained_env, served) -> None:
    duo = served
    duo.wait_for_page(url=f"{duo.server_url}/monitoring")
    duo.wait_for_element("#monitoring-backtest-empty", timeout=40)
    duo.wait_for_element("#monitoring-fair-gender g.trace", timeout=40)
    duo.find_element("#monitoring-tab-whatif-label .nav-link").click()  # the generated month: second tab
    duo.wait_for_element("#monitoring-alert", timeout=60)
    duo.wait_for_element("#monitoring-psi g.trace", timeout=20)
    duo.wait_for_page(url=f"{duo.server_url}/models")
    duo.wait_for_element("#models-card-body", timeout=60)
    duo.wait_for_element("#models-grid .ag-row", timeout=20)
    assert "served" in duo.find_element("#models-grid").text
    assert duo.find_element("#models-promote")  # admin sees the actions
    assert duo.get_logs() == []


def test_traffic_light_grid_has_one_cell_per_month_and_band_with_loans(stored_backtest) -> None:
    from dashapp.figures.backtest import LIGHT_CODES, lights_figure

    rows = stored_backtest["month_bands"]
    heat = lights_figure(rows).data[0]
    cells = {(m, b): z for m, zs in zip(heat.y, heat.z, strict=True) for b, z in zip(heat.x, zs, strict=True)}
    assert {k for k, z in cells.items() if z is not None} == {(r["month"], r["band"]) for r in rows}
    assert all(cells[(r["month"], r["band"])] == LIGHT_CODES[r["light"]] for r in rows)


def test_fairness_groups_are_drawn_in_natural_order() -> None:
    from dashapp.figures.governance import fairness_figure

    names = ["35-49", "25-34", "50-64", "<25", "65+", "unknown"]
    groups = [
        {"group": n, "approval_rate": 0.5, "tpr": 0.5, "fpr": 0.1, "di_ratio": 1.0, "n": 10} for n in names
    ]
    figure = fairness_figure({"groups": groups, "reference": "65+"})
    assert list(figure.data[0].x) == ["<25", "25-34", "35-49", "50-64", "65+", "unknown"]


@pytest.mark.browser
def test_an_admin_retrains_in_the_background_through_the_request_checks(trained_env, served) -> None:
    """The one background callback: its start and its polling requests pass the checks, and the job runs."""
    duo = served
    before = trained_env.store.latest("segments")
    duo.wait_for_page(url=f"{duo.server_url}/models")
    duo.wait_for_element("#models-retrain", timeout=60)
    from selenium.webdriver.support.ui import Select

    Select(duo.find_element("#models-retrain-model")).select_by_value("segments")
    duo.find_element("#models-retrain").click()
    duo.wait_for_contains_text("#models-retrain-result", "a candidate", timeout=240)
    candidate = trained_env.store.versions("segments")[-1]
    assert trained_env.store.latest("segments") == before and candidate != before
    duo.wait_for_page(url=f"{duo.server_url}/models")  # the new candidate is listed
    duo.wait_for_element(f"#models-grid .ag-row[row-id='segments/{candidate}']", timeout=30).click()
    duo.find_element("#models-compare").click()  # champion / challenger first
    duo.wait_for_element("#models-compare-metrics", timeout=30)
    assert "Favours" in duo.find_element("#models-compare-metrics").text
    duo.find_element("#models-promote").click()
    duo.wait_for_contains_text("#models-promote-result", "say why", timeout=20)
    assert trained_env.store.latest("segments") == before
    duo.find_element("#models-promote-reason").send_keys("retrained in the app, checked by the test")
    duo.find_element("#models-promote").click()
    duo.wait_for_contains_text("#models-promote-result", "is served now", timeout=20)
    assert trained_env.store.latest("segments") == candidate
    trained_env.store.promote("segments", before)  # leave the session's model as it was
    assert duo.get_logs() == []
