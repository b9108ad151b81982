"""The Overview page: its aggregates and figures, then the real page in headless Chromium."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from bankdata import _summary as summary
from dashapp.figures import overview as figs
from dashapp.services import overview as svc

GRAPHS = ("overview-monthly", "overview-uptake", "overview-defaults", "overview-income", "overview-regions")
TILES = ("kpi-customers", "kpi-balances", "kpi-loans", "kpi-products", "kpi-transactions")

# ---------------------------------------------------------------- aggregates and figures (no browser)


@pytest.fixture(scope="module")
def overview(bank_env) -> svc.Overview:
    return svc.summarise(bank_env.bank)


def test_kpis_agree_with_the_tables(bank_env, overview) -> None:
    bank, k = bank_env.bank, overview.kpis
    assert k.customers == len(bank.customers) == 2_000
    assert k.total_balance == pytest.approx(bank.customers["balance"].sum())
    assert k.default_rate == pytest.approx(bank.loans["defaulted"].mean())
    assert k.avg_products == pytest.approx(len(bank.held_products()) / len(bank.customers))
    last = bank.transactions["ts"].max()
    in_last = (bank.transactions["ts"].dt.year == last.year) & (
        bank.transactions["ts"].dt.month == last.month
    )
    assert k.transactions_last_month == int(in_last.sum()) > 0


def test_breakdowns_add_up(bank_env, overview) -> None:
    bank = bank_env.bank
    assert overview.monthly["amount"].sum() == pytest.approx(bank.transactions["amount"].sum())
    assert overview.monthly["month"].nunique() >= 12
    assert overview.income["customers"].sum() == bank.customers["income"].notna().sum()
    for by, table in overview.defaults.items():
        assert table["loans"].sum() == len(bank.loans), by
        assert table["default_rate"].between(0, 1).all()
    assert overview.regions["customers"].sum() == len(bank.customers)
    assert overview.uptake["share"].between(0, 1).all() and overview.uptake["customers"].max() > 0


def test_score_bands_are_ordered_and_cover_the_range() -> None:
    bands = summary.score_band(pd.Series([300, 579, 580, 669, 670, 799, 800, 850]))
    assert list(bands.astype(str)) == [
        "Poor <580",
        "Poor <580",
        "Fair 580-669",
        "Fair 580-669",
        "Good 670-739",
        "Very good 740-799",
        "Exceptional 800+",
        "Exceptional 800+",
    ]
    assert bands.cat.ordered


def test_default_rates_reject_an_unknown_breakdown(bank_env) -> None:
    with pytest.raises(ValueError, match="region"):
        summary.default_rates(bank_env.bank, "region")


def test_figures_carry_the_data(overview) -> None:
    monthly = figs.monthly_volume_figure(overview.monthly)
    assert {t.name for t in monthly.data} == {"Spending (debit)", "Income (credit)"}
    assert sum(np.sum(t.y) for t in monthly.data) == pytest.approx(overview.monthly["amount"].sum())
    defaults = figs.default_rate_figure(overview.defaults["score_band"], "Credit-score band")
    assert list(defaults.data[0].y) == list(overview.defaults["score_band"]["group"])
    assert sum(figs.income_figure(overview.income).data[0].y) == overview.income["customers"].sum()
    assert len(figs.regions_figure(overview.regions).data[0].x) == len(overview.regions)
    assert len(figs.uptake_figure(overview.uptake).data[0].x) == 5


def test_empty_inputs_give_a_message_not_an_error() -> None:
    fig = figs.regions_figure(pd.DataFrame({"region": [], "customers": [], "balance": []}))
    assert not fig.data and fig.layout.annotations[0].text == "No customers"


# ---------------------------------------------------------------- in the browser


def _plot_traces(duo, graph_id: str) -> int:
    """How many traces of a rendered chart hold finite points (Plotly's calcdata: numpy arrays arrive encoded)."""
    return duo.driver.execute_script(
        "const el = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "if (!el || !el.calcdata) { return 0; }"
        "const num = v => typeof v === 'number' && isFinite(v);"
        "return el.calcdata.filter(cd => cd.some(p => [p.x, p.y, p.s, p.p].some(num))).length;",
        f"#{graph_id}",
    )


@pytest.mark.browser
def test_overview_in_the_browser(served) -> None:
    duo = served
    duo.wait_for_text_to_equal("#kpi-customers .ll-kpi-value", "2,000", timeout=30)
    for tile in TILES:
        assert duo.find_element(f"#{tile} .ll-kpi-value").text.strip()
    for graph in GRAPHS:
        duo.wait_for_element(f"#{graph} .js-plotly-plot .main-svg", timeout=20)
        assert _plot_traces(duo, graph) > 0, f"{graph} rendered no data"

    # the breakdown control redraws the default-rate chart by credit-score band
    duo.find_elements("#overview-default-by label")[1].click()
    duo.wait_for_contains_text("#overview-defaults", "Exceptional 800+", timeout=15)

    # the navbar goes to Help and back
    duo.find_element("#nav-help").click()
    duo.wait_for_element("#help-docs", timeout=15)
    assert duo.driver.current_url.endswith("/help")
    duo.find_element("#nav-home").click()
    duo.wait_for_text_to_equal("#kpi-customers .ll-kpi-value", "2,000", timeout=15)

    # an unknown address shows the 404 page inside the shell
    duo.driver.get(duo.server_url + "/no/such/page")
    duo.wait_for_element("#not-found", timeout=15)
    assert duo.driver.find_element(By.ID, "navbar").is_displayed()

    # on a narrow screen the links fold behind the toggler
    duo.driver.set_window_size(600, 900)
    duo.wait_for_element("#navbar-toggler", timeout=10)
    assert not duo.find_element("#nav-help").is_displayed()
    duo.find_element("#navbar-toggler").click()
    duo.wait_for_style_to_equal("#navbar-collapse", "display", "block", timeout=10)
    duo.wait_for_element("#nav-help").click()
    duo.wait_for_element("#help-docs", timeout=15)

    assert duo.get_logs() == [], "severe errors in the browser console"


def test_the_overview_is_read_from_the_stored_summary_not_the_bank(bank_env, monkeypatch) -> None:
    import bankdata

    def refuse(*_args, **_kwargs):
        raise AssertionError("the Overview read the whole bank")

    monkeypatch.setattr(bankdata, "read_bank", refuse)
    monkeypatch.setattr(bankdata, "summarise_bank", refuse)
    stored = svc.get_overview(bank_env.database_url)
    expected = svc.from_document(summary.summarise_bank(bank_env.bank))
    assert stored.kpis == expected.kpis
    pd.testing.assert_frame_equal(stored.monthly, expected.monthly)
    for by in svc.DEFAULT_BREAKDOWNS:
        pd.testing.assert_frame_equal(stored.defaults[by], expected.defaults[by])
