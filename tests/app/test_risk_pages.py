"""The Risk pages: services and figures on a trained model, then the Applicant page in headless Chromium."""

from __future__ import annotations

import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import risk
from bankdata import ArtifactStore
from dashapp.figures import risk as figs
from dashapp.services import clear_caches
from dashapp.services import risk as svc


@pytest.fixture(scope="module")
def risk_env(bank_env):
    """bank_env with a quick-trained risk model in its checkpoints folder."""
    risk.train_from_bank(bank_env.bank, ArtifactStore(bank_env.checkpoints), quick=True)
    clear_caches()
    yield bank_env
    clear_caches()


def test_customer_risk_bands_is_none_without_a_model(empty_database) -> None:
    assert svc.customer_risk_bands() is None


def test_services_agree_with_the_model(risk_env) -> None:
    bands = svc.customer_risk_bands()
    assert list(bands.columns) == ["customer_id", "pd", "band"] and bands["customer_id"].is_unique
    assert len(bands) == risk_env.bank.loans["customer_id"].nunique()
    s_low, s_high = svc.cutoff_summary(0.05, 5, 1), svc.cutoff_summary(0.5, 5, 1)
    assert s_low.approval_rate < s_high.approval_rate
    assert s_low.tp + s_low.fp + s_low.fn + s_low.tn == svc.get_portfolio().report["rows"]
    cid = int(bands["customer_id"].iloc[0])
    e = svc.explain(svc.applicant_features(cid))
    assert e.pd == pytest.approx(float(bands["pd"].iloc[0]))


def test_figures_draw_from_the_portfolio(risk_env) -> None:
    p = svc.get_portfolio()
    champ = p.calibrated[p.champion]
    assert len(figs.roc_figure(p.y, {p.champion: champ}).data) == 2
    assert figs.calibration_figure(p.y, champ).data[1].x.size == 10
    feature = p.spec.features[0]
    dep = figs.dependence_figure(p.spec, p.sample["x"], p.sample["shap"], feature)
    assert np.allclose(dep.data[0].y, p.sample["shap"][:, 0])
    e = svc.explain(svc.applicant_features(int(svc.customer_risk_bands()["customer_id"].iloc[3])))
    water = figs.waterfall_figure(e)
    assert water.data[0].x[0] == pytest.approx(e.base_pd) and water.data[0].x[-1] == pytest.approx(e.pd)


def _decision(duo) -> str:
    return duo.find_element("#risk-decision-badge").text


@pytest.mark.browser
def test_pick_an_applicant_see_the_waterfall_move_the_threshold(risk_env, served) -> None:
    duo = served
    duo.wait_for_page(url=f"{duo.server_url}/risk/applicant")
    duo.wait_for_element("#risk-grid .ag-row", timeout=30)
    rows = duo.driver.find_elements(By.CSS_SELECTOR, "#risk-grid .ag-center-cols-container .ag-row")
    rows[2].click()
    picked = rows[2].get_attribute("row-id")
    duo.wait_for_element("#risk-decision-badge", timeout=30)
    duo.wait_for_element("#risk-waterfall g.trace", timeout=30)
    expected = svc.customer_risk_bands().set_index("customer_id").loc[int(picked), "pd"]
    duo.wait_for_text_to_equal("#risk-pd", f"PD {expected:.1%}", timeout=20)
    handle = duo.find_element("[role='slider']")  # the page's only slider
    handle.send_keys(Keys.HOME)  # threshold 0: every applicant is declined
    duo.wait_for_text_to_equal("#risk-decision-badge", "DECLINE", timeout=20)
    handle.send_keys(Keys.END)  # threshold 1: approved
    duo.wait_for_text_to_equal("#risk-decision-badge", "APPROVE", timeout=20)
    assert duo.find_elements("#risk-reasons li")


@pytest.mark.browser
def test_portfolio_page_renders_metrics_and_cutoff(risk_env, served) -> None:
    duo = served
    duo.wait_for_page(url=f"{duo.server_url}/risk")
    duo.wait_for_element("#risk-metrics", timeout=30)
    assert "lightgbm+" in duo.find_element("#risk-metrics").text
    duo.wait_for_contains_text("#risk-approval-rate", "Approval rate", timeout=20)
    assert duo.get_logs() in ([], None)
