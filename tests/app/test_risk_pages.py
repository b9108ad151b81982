"""The Risk pages: services and figures on a trained model, then the Applicant page in headless Chromium."""

from __future__ import annotations

import time

import numpy as np
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from dashapp.figures import risk as figs
from dashapp.services import clear_caches
from dashapp.services import risk as svc
from dashapp.services.served import NotTrained

CONSOLE_WARNINGS_HOOK = """window.__warnings = [];
const warn = console.warn.bind(console);
console.warn = (...args) => { window.__warnings.push(args.map(String).join(' ')); warn(...args); };"""


@pytest.fixture(scope="module")
def risk_env(trained_env):
    """The test bank with its quick-trained, published risk model."""
    clear_caches()
    yield trained_env.bank_env
    clear_caches()


def test_nothing_is_served_without_a_model(empty_database) -> None:
    assert svc.customers_in_bands(["E"]) is None and svc.band_of(1) is None
    with pytest.raises(NotTrained, match="ledgerlight risk train"):
        svc.applicant_page(0, 10, [], {})


def test_services_agree_with_the_model(risk_env) -> None:
    rows, total = svc.applicant_page(0, 20, [], {})
    assert total == risk_env.bank.loans["customer_id"].nunique()
    assert [r["customer_id"] for r in rows] == sorted(r["customer_id"] for r in rows)
    s_low, s_high = svc.cutoff_summary(0.05, 5, 1), svc.cutoff_summary(0.5, 5, 1)
    assert s_low.approval_rate < s_high.approval_rate
    assert s_low.tp + s_low.fp + s_low.fn + s_low.tn == svc.get_portfolio().report["cv_rows"]
    cid = int(rows[0]["customer_id"])
    e = svc.explain(svc.applicant_features(cid))
    assert e.pd == pytest.approx(float(rows[0]["pd"]), abs=5e-5)  # the grid rounds to 4 places
    assert e.band == rows[0]["band"] == svc.band_of(cid)
    assert " | ".join(e.reasons) == rows[0]["reasons"]


def test_figures_draw_from_the_portfolio(risk_env) -> None:
    p = svc.get_portfolio()
    champ = p.calibrated[p.champion]
    assert len(figs.roc_figure(p.y, {p.champion: champ}).data) == 2
    assert figs.calibration_figure(p.y, champ).data[1].x.size == 10
    feature = p.spec.features[0]
    dep = figs.dependence_figure(p.spec, p.sample["x"], p.sample["shap"], feature)
    assert np.allclose(dep.data[0].y, p.sample["shap"][:, 0])
    assert dep.data[0].type == "scatter"  # SVG: WebGL traces need an eval the CSP does not allow
    e = svc.explain(svc.applicant_features(int(svc.applicant_page(0, 5, [], {})[0][3]["customer_id"])))
    water = figs.waterfall_figure(e)
    assert water.data[0].x[0] == pytest.approx(e.base_pd) and water.data[0].x[-1] == pytest.approx(e.pd)


def _click_row(duo, selector: str, index: int) -> str:
    """Click the grid's ``index``-th loaded row and return its row id (retrying while the grid redraws it)."""
    for _ in range(10):
        try:
            row = duo.driver.find_elements(By.CSS_SELECTOR, selector)[index]
            picked = row.get_attribute("row-id")
            row.click()
            return picked
        except StaleElementReferenceException:
            time.sleep(0.3)
    raise AssertionError("the grid kept redrawing its rows")


def _decision(duo) -> str:
    return duo.find_element("#risk-decision-badge").text


@pytest.mark.browser
def test_pick_an_applicant_see_the_waterfall_move_the_threshold(risk_env, served) -> None:
    duo = served
    # dash.testing keeps only SEVERE console entries: record the page's console warnings itself
    duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CONSOLE_WARNINGS_HOOK})
    duo.wait_for_page(url=f"{duo.server_url}/risk/applicant")
    loaded = "#risk-grid .ag-center-cols-container .ag-row:not(.ag-row-loading)"
    # the infinite row model draws loading rows first, then the block the server sent
    WebDriverWait(duo.driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, loaded)) >= 3)
    grid_warnings = [w for w in duo.driver.execute_script("return window.__warnings || []") if "AG Grid" in w]
    assert not grid_warnings, grid_warnings  # e.g. warning #25: getRowId must return a string
    picked = _click_row(duo, loaded, 2)
    duo.wait_for_element("#risk-decision-badge", timeout=30)
    duo.wait_for_element("#risk-waterfall g.trace", timeout=30)
    expected = svc.customer_risk(int(picked)).explanation.pd
    duo.wait_for_text_to_equal("#risk-pd", f"PD {expected:.1%}", timeout=20)
    handle = duo.find_element(
        "#risk-app-threshold [role='slider']"
    )  # the cut-off (the PD range has two more)
    handle.send_keys(Keys.HOME)  # threshold 0: every applicant is declined
    duo.wait_for_text_to_equal("#risk-decision-badge", "DECLINE", timeout=20)
    handle.send_keys(Keys.END)  # threshold 1: approved
    duo.wait_for_text_to_equal("#risk-decision-badge", "APPROVE", timeout=20)
    assert duo.find_elements("#risk-reasons li")
    # the ICE curve (this applicant and the portfolio) and one contributions row per feature, sortable
    duo.wait_for_element("#risk-ice g.trace", timeout=30)
    assert len(duo.find_elements("#risk-ice g.trace.scatter")) == 2
    features = svc.get_model().spec.features
    contrib = "#risk-contrib-grid .ag-center-cols-container .ag-row"
    WebDriverWait(duo.driver, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, contrib)) == len(features)
    )
    assert {r.get_attribute("row-id") for r in duo.find_elements(contrib)} == set(features)


@pytest.mark.browser
def test_the_pd_range_narrows_the_applicant_grid(risk_env, served) -> None:
    duo = served
    duo.wait_for_page(url=f"{duo.server_url}/risk/applicant")
    loaded = "#risk-grid .ag-center-cols-container .ag-row:not(.ag-row-loading)"
    WebDriverWait(duo.driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, loaded)) >= 3)

    def pds(d) -> list[float]:
        return [float(c.text) for c in d.find_elements(By.CSS_SELECTOR, f"{loaded} [col-id='pd']") if c.text]

    WebDriverWait(duo.driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: (shown := pds(d)) and min(shown) < 0.1
    )  # before: the first page has PDs under 10%
    low = duo.find_element("#risk-pd-range [role='slider']")  # the lower handle
    for _ in range(10):
        low.send_keys(Keys.ARROW_RIGHT)  # PD >= 10%

    WebDriverWait(duo.driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: (shown := pds(d)) and min(shown) >= 0.1
    )


@pytest.mark.browser
def test_portfolio_page_renders_metrics_and_cutoff(risk_env, served) -> None:
    duo = served
    duo.wait_for_page(url=f"{duo.server_url}/risk")
    duo.wait_for_element("#risk-metrics", timeout=30)
    assert "lightgbm+" in duo.find_element("#risk-metrics").text
    duo.wait_for_contains_text("#risk-approval-rate", "Approval rate", timeout=20)
    for graph in ("#risk-importance", "#risk-beeswarm", "#risk-dependence", "#risk-gains", "#risk-lift"):
        duo.wait_for_element(f"{graph} g.trace", timeout=30)
    assert len(duo.find_elements("#risk-importance g.trace.bars")) == 2  # SHAP beside permutation
    assert duo.find_elements("#risk-dependence .colorbar")  # coloured by the interacting feature
    assert duo.find_element("#risk-export-html").text.startswith("Download portfolio")
    assert duo.get_logs() in ([], None)
