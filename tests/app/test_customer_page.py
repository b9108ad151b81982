"""Customer 360: the service joins every area for one customer; the page shows it in headless Chromium."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By

import risk
import segmentation
from bankdata import query
from dashapp.components.customer_link import customer_href
from dashapp.services import customer as svc
from dashapp.services import risk as risk_service
from dashapp.services.served import served_version


def _click_second_customer_cell(duo) -> str:
    """Click the second row's customer id once the server's first block has replaced the grid's loading rows
    (the infinite row model redraws its rows, so an element found too early goes stale); returns its text."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            cells = duo.driver.find_elements(
                By.CSS_SELECTOR, "#risk-grid .ag-center-cols-container .ag-row [col-id='customer_id']"
            )
            if len(cells) > 1 and cells[1].text.strip().isdigit():
                target = cells[1].text.strip()
                cells[1].click()
                return target
        except StaleElementReferenceException:
            pass
        time.sleep(0.2)
    raise AssertionError("the Applicant grid never showed its rows")


def _declined_customer() -> int:
    """A borrower the served risk model declines at the training cut-off (from the published scores)."""
    threshold = risk_service.get_portfolio().report["threshold"]
    t = risk.SCORES_TABLE
    rows = query(
        sa.select(t.c.customer_id)
        .where(t.c.model_version == served_version(risk.MODEL_NAME), t.c.pd >= threshold)
        .order_by(t.c.customer_id)
        .limit(1)
    )
    return int(rows["customer_id"].iloc[0])


def test_customer_360_joins_every_area(trained_env) -> None:
    cid = _declined_customer()
    view = svc.customer_360(cid, "risk")
    bank = trained_env.bank_env.bank
    assert view.profile["age"] == bank.customers.set_index("customer_id").loc[cid, "age"]
    tx = bank.transactions[bank.transactions["customer_id"] == cid]
    assert view.monthly["amount"].sum() == pytest.approx(tx["amount"].sum())
    assert view.risk is not None and view.risk.explanation.pd >= view.risk.threshold
    assert view.risk.recourse is not None and view.risk.recourse.pd_before == pytest.approx(
        view.risk.explanation.pd
    )
    members = segmentation.load_segmentation(trained_env.artifacts["segments"]).customers
    seg = members.set_index("customer_id").loc[cid, "segment"]
    assert view.segment["segment"] == seg
    held_ids = set(view.held["product_id"])
    assert held_ids.isdisjoint(set(view.next_best["product_id"]))  # never recommend what is held
    assert view.missing == {}


def test_bad_and_unknown_ids_are_named(trained_env) -> None:
    with pytest.raises(ValueError, match="whole number"):
        svc.parse_customer_id("12a")
    with pytest.raises(ValueError, match="no customer with id 99999999"):
        svc.customer_360(99_999_999)


def test_grid_click_on_a_customer_id_links_to_the_page() -> None:
    assert customer_href({"colId": "customer_id", "value": 42}) == "/customer?id=42"
    assert (
        customer_href({"colId": "pd", "value": 0.1}) is not None
        and customer_href({"colId": "pd"}) != "/customer?id="
    )
    assert customer_href(None) == customer_href({"colId": "customer_id", "value": "x"})  # both no_update


@pytest.mark.browser
def test_customer_page_shows_the_whole_picture(trained_env, served) -> None:
    duo = served
    cid = _declined_customer()
    view = svc.customer_360(cid, "risk")
    duo.wait_for_page(url=f"{duo.server_url}/customer?id={cid}")
    duo.wait_for_text_to_equal("#customer-title", f"Customer {cid}", timeout=30)
    duo.wait_for_text_to_equal("#customer-pd", f"PD {view.risk.explanation.pd:.1%}", timeout=20)
    assert duo.find_element("#customer-band").text.startswith(f"band {view.risk.explanation.band}")
    assert duo.find_elements("#customer-reasons li")
    assert duo.find_element("#customer-recourse").text
    assert duo.find_element("#customer-segment").text.startswith(f"{view.segment['segment']}:")
    held = duo.find_element("#customer-held").text
    assert all(name in held for name in view.held["name"])
    duo.wait_for_element("#customer-monthly g.trace", timeout=20)
    # from a grid: clicking a customer id on the Applicant page opens that customer's page
    duo.wait_for_page(url=f"{duo.server_url}/risk/applicant")
    duo.wait_for_element("#risk-grid .ag-row", timeout=30)
    target = _click_second_customer_cell(duo)
    duo.wait_for_text_to_equal("#customer-title", f"Customer {target}", timeout=30)
    assert duo.get_logs() == []


def test_segment_card_and_tables_use_the_label_map(dash_app, trained_env) -> None:
    import pandas as pd

    from dashapp.pages import customer as page

    lines = page.segment_medians({"age": 46.0, "income": 45123.4, "recency_days": 3.0, "n_products": 2.0})
    assert lines == [
        "Age: 46 years (segment median)",
        "Income: 45,123 (segment median)",
        "Days since last spending: 3 days (segment median)",
        "Products held: 2 (segment median)",
    ]
    table = page._table(
        pd.DataFrame(
            {"loan_id": [12], "purpose": ["debt_consolidation"], "dti": [0.456], "term_months": [36]}
        ),
        "t",
    )
    assert [c["name"] for c in table.columns] == [
        "Loan id",
        "Loan purpose",
        "Debt-to-income ratio",
        "Loan term",
    ]
    assert table.data == [
        {"loan_id": 12, "purpose": "Debt consolidation", "dti": "0.46", "term_months": "36 months"}
    ]
    view = svc.customer_360(_declined_customer(), "risk")
    card = str(page._segment_card(view).to_plotly_json())
    assert "(segment median)" in card and "age: " not in card
    assert f"Age: {view.segment['age']:.0f} years (segment median)" in card
