"""A bank loaded with its own text ids (customers ``C-00017``, products ``CC-…``, loans ``L-9``): trained end to end,
and the app shows and accepts the bank's ids, never the internal ones."""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest

from bankdata import read_bank, to_internal
from dashapp.services import audit, clear_caches, ids
from dashapp.services import customer as customer_service
from dashapp.services import recsys as recsys_service
from dashapp.services import risk as risk_service
from dashapp.services import segments as segments_service
from dashapp.services.validation import InputError
from ledgerlight.cli import main
from tests.app.conftest import TEST_PASSWORD, free_port, sign_in
from tests.text_id_bank import LOAD_ORDER, customer_text, write_text_id_files

TEXT_ID = r"C-\d{5}"


@pytest.fixture(scope="module")
def text_bank(tmp_path_factory: pytest.TempPathFactory):
    """A 600-customer bank loaded from text-id files with ``ledgerlight load``, every model trained on it."""
    from dashapp.auth import ROLES, create_user

    root = tmp_path_factory.mktemp("text-id-bank")
    bank, paths = write_text_id_files(root / "files", n_customers=600, seed=13)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite:///{root / 'bank.db'}")
        mp.setenv("LEDGERLIGHT_CHECKPOINTS", str(root / "checkpoints"))
        mp.setenv("LEDGERLIGHT_DATA_DIR", str(root / "data"))
        clear_caches()
        for table in LOAD_ORDER:
            assert main(["load", table, str(paths[table])]) == 0
        assert main(["train", "all", "--quick"]) == 0
        for role in ROLES:
            create_user(role, TEST_PASSWORD, role)
        clear_caches()
        yield bank
    clear_caches()


def _click_cell(duo, selector: str, index: int) -> str:
    """Click a grid cell once the grid stops redrawing it (an element found too early goes stale); its text."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            cell = duo.driver.find_elements(By.CSS_SELECTOR, selector)[index]
            text = cell.text.strip()
            cell.click()
            return text
        except (StaleElementReferenceException, IndexError):
            time.sleep(0.2)
    raise AssertionError(f"no clickable cell {selector} [{index}]")


def _cell_texts(driver, selector: str) -> list[str] | None:
    """The texts of the grid cells once at least three are drawn with their values (None until then)."""
    from selenium.webdriver.common.by import By

    texts = [c.text.strip() for c in driver.find_elements(By.CSS_SELECTOR, selector)]
    return texts if len(texts) >= 3 and all(texts) else None


def _borrower(bank) -> str:
    """The text id of a customer with a loan."""
    return customer_text(bank.loans["customer_id"].iloc[0])


def test_the_ids_service_sees_text_ids(text_bank) -> None:
    assert ids.is_text("customer") and ids.is_text("product") and ids.is_text("loan")
    cid = _borrower(text_bank)
    internal = ids.customer(cid)
    assert ids.shown("customer", internal) == cid
    with pytest.raises(InputError, match="no customer with id 'C-99999'"):
        ids.customer("C-99999")
    with pytest.raises(InputError, match="printable"):
        ids.customer("C-\x00")


def test_customer_360_opens_by_the_bank_id_and_audits_it(text_bank, dash_app) -> None:
    cid = _borrower(text_bank)
    with dash_app.server.test_request_context():
        view = customer_service.customer_360(customer_service.parse_customer_id(cid), "risk")
        events = audit.pending()
    assert view.customer_id == cid
    row = text_bank.customers.set_index("customer_id").loc[text_bank.loans["customer_id"].iloc[0]]
    assert view.profile["age"] == row["age"]
    assert view.risk is not None and str(view.risk.loan["loan_id"]).startswith("L-")
    assert len(view.loans) and view.loans["loan_id"].map(lambda v: str(v).startswith("L-")).all()
    assert len(view.held) and view.held["product_id"].map(lambda p: str(p).startswith("CC-")).all()
    assert view.next_best["product_id"].map(lambda p: str(p).startswith("CC-")).all()
    assert {e.target for e in events} == {f"customer {cid}"}


def test_the_applicant_grid_shows_filters_and_searches_text_ids(text_bank) -> None:
    rows, total = risk_service.applicant_page(0, 50, [], {})
    assert total == text_bank.loans["customer_id"].nunique() and len(rows) == 50
    assert all(pd.Series([r["customer_id"] for r in rows]).str.fullmatch(TEXT_ID))
    assert all(str(r["loan_id"]).startswith("L-") for r in rows)
    assert risk_service.filter_kinds()["customer_id"] == "text"
    cid = _borrower(text_bank)
    hit, n = risk_service.applicant_page(
        0, 10, [], {"customer_id": {"filterType": "text", "type": "equals", "filter": cid}}
    )
    assert n == 1 and hit[0]["customer_id"] == cid
    some, n_some = risk_service.applicant_page(
        0, 500, [], {"customer_id": {"filterType": "text", "type": "startsWith", "filter": "C-001"}}
    )
    assert n_some == len(some) > 0 and all(r["customer_id"].startswith("C-001") for r in some)
    features = risk_service.applicant_features(cid)
    assert set(features) == set(risk_service.get_model().spec.features)


def test_segment_export_and_scatter_show_text_ids(text_bank) -> None:
    frame = segments_service.export_frame(segments_service.SegmentFilter())
    assert len(frame) == text_bank.n_customers
    assert frame["customer_id"].str.fullmatch(TEXT_ID).all()
    assert set(frame["customer_id"]) == set(text_bank.customers["customer_id"].map(customer_text))
    csv = pd.read_csv(io.StringIO(frame.to_csv(index=False)))
    assert csv["customer_id"].iloc[0].startswith("C-")
    view = segments_service.segment_view(segments_service.SegmentFilter())
    assert view.sample["customer_id"].str.fullmatch(TEXT_ID).all()


def test_recommendations_picker_campaign_grid_and_export_show_text_ids(text_bank) -> None:
    options = recsys_service.customer_options("C-0002")
    assert options and all(str(o["value"]).startswith("C-0002") for o in options)
    assert [o["value"] for o in options] == sorted(o["value"] for o in options)
    product = int(recsys_service.served().catalogue["product_id"].iloc[0])
    rows, total = recsys_service.campaign_page(product, 50, "mf", 0, 20)
    assert rows and all(pd.Series([r["customer_id"] for r in rows]).str.fullmatch(TEXT_ID))
    target = rows[3]["customer_id"]
    hit, n = recsys_service.campaign_page(
        product,
        50,
        "mf",
        0,
        20,
        [],
        {"customer_id": {"filterType": "text", "type": "equals", "filter": target}},
    )
    assert n == 1 and hit[0]["customer_id"] == target and hit[0]["rank"] == 4
    export = recsys_service.campaign_export(product, 50, "mf")
    shown = ids.shown("product", product)
    assert shown.startswith("CC-")
    assert recsys_service.campaign_file_name(product) == f"ledgerlight-campaign-product-{shown}.csv"
    assert export["customer_id"].tolist()[:20] == [r["customer_id"] for r in rows]
    view = recsys_service.customer_view(ids.customer(options[0]["value"]), 3)
    assert all(
        str(p).startswith("CC-") for frame in view.recommendations.values() for p in frame["product_id"]
    )
    lists = recsys_service.customer_lists(ids.customer(options[0]["value"]), 3)  # the API's path
    assert lists.recommendations == {m: f.to_dict("records") for m, f in view.recommendations.items()}
    assert lists.held == view.held.to_dict("records")
    assert all(str(r["product_id"]).startswith("CC-") for r in lists.held)


def test_a_campaign_exports_and_takes_responses_in_the_banks_ids(text_bank) -> None:
    import base64

    from bankdata import campaign_outcomes
    from dashapp.services import campaign_responses
    from dashapp.services import campaigns as campaigns_service

    product = int(recsys_service.served().catalogue["product_id"].iloc[0])
    stored = campaigns_service.create_from_recommendations(product, 60, "mf", "text ids", 20, "tester")
    frame, _ = campaigns_service.export_treated(stored.campaign_id, "marketing")
    assert frame["customer_id"].str.fullmatch(TEXT_ID).all() and len(frame) == stored.n_treated
    when = f"{stored.created_at + pd.Timedelta(minutes=1):%Y-%m-%dT%H:%M:%S}"
    upload = pd.DataFrame(
        {
            "customer_id": [*frame["customer_id"][:3], "C-99999"],
            "responded_at": [when] * 4,
            "product": [ids.shown("product", product)] * 4,
        }
    )
    contents = "data:text/csv;base64," + base64.b64encode(upload.to_csv(index=False).encode()).decode()
    with pytest.raises(campaign_responses.UploadRefused, match="not a customer of the bank in row 4"):
        campaign_responses.record_upload(stored.campaign_id, contents, "r.csv")
    contents = "data:text/csv;base64," + base64.b64encode(upload[:3].to_csv(index=False).encode()).decode()
    assert "3 response(s) recorded" in campaign_responses.record_upload(stored.campaign_id, contents, "r.csv")
    responded = campaign_outcomes(stored.campaign_id).query("responded")["customer_id"]
    assert sorted(responded) == sorted(ids.customer(c) for c in frame["customer_id"][:3])


def test_the_database_keeps_internal_whole_numbers(text_bank) -> None:
    stored = read_bank()
    assert stored.customers["customer_id"].dtype == "int64"
    mapped = to_internal("customer", text_bank.customers["customer_id"].map(customer_text))
    assert sorted(mapped.values()) == stored.customers["customer_id"].tolist()


@pytest.mark.browser
def test_customer_360_opens_by_a_text_id_in_the_browser(text_bank, dash_duo, dash_app) -> None:
    cid = _borrower(text_bank)
    dash_duo.start_server(dash_app, navigate=False, port=free_port())
    sign_in(dash_duo, "admin", TEST_PASSWORD)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/customer?id={cid}")
    dash_duo.wait_for_text_to_equal("#customer-title", f"Customer {cid}", timeout=30)
    assert dash_duo.find_element("#customer-pd").text.startswith("PD ")
    # the search box takes the bank's id too
    box = dash_duo.find_element("#customer-search")
    other = customer_text(text_bank.customers["customer_id"].iloc[5])
    box.clear()
    box.send_keys(other + "\n")
    dash_duo.wait_for_text_to_equal("#customer-title", f"Customer {other}", timeout=30)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "C-" not in dash_duo.driver.current_url:
        time.sleep(0.1)
    assert other in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_demo_status_names_the_kind_of_each_id(text_bank, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "status"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("ids: "))
    first = customer_text(text_bank.customers["customer_id"].iloc[0])
    assert line.startswith(f"ids: customers text (e.g. {first}), loans text (e.g. L-")


def test_learn_takes_new_events_written_with_the_bank_ids(text_bank, tmp_path, capsys) -> None:
    """Last in the module: it saves a candidate recommender (the served version does not change)."""
    product = recsys_service.served().catalogue["product_id"].iloc[-1]
    customers = [customer_text(c) for c in text_bank.customers["customer_id"].iloc[:3]]
    product_text = ids.shown("product", int(product))
    path = tmp_path / "new.csv"
    pd.DataFrame(
        {"customer_id": customers, "product_id": product_text, "ts": "2030-01-02", "event": "purchase"}
    ).to_csv(path, index=False)
    assert main(["learn", "--interactions", str(path)]) == 0, capsys.readouterr().err
    assert "ALS and EASE refreshed for 3 customer(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "customer_id": [customers[0], "C-NOBODY"],
            "product_id": product_text,
            "ts": "2030-01-02",
            "event": "purchase",
        }
    ).to_csv(bad, index=False)
    assert main(["learn", "--interactions", str(bad)]) == 2
    assert (
        "bad.csv: column 'customer_id': ids not in table customers (e.g. 'C-NOBODY')"
        in capsys.readouterr().err
    )


@pytest.mark.browser
def test_the_applicant_page_takes_a_text_id_and_its_grid_links_to_the_customer(
    text_bank, dash_duo, dash_app
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    cid = _borrower(text_bank)
    expected = risk_service.customer_risk(ids.customer(cid)).explanation.pd
    dash_duo.start_server(dash_app, navigate=False, port=free_port())
    sign_in(dash_duo, "admin", TEST_PASSWORD)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/risk/applicant")
    cells = "#risk-grid .ag-center-cols-container .ag-row:not(.ag-row-loading) [col-id='customer_id']"
    shown = WebDriverWait(dash_duo.driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: _cell_texts(d, cells)
    )
    assert all(pd.Series(shown).str.fullmatch(TEXT_ID)), shown
    dash_duo.find_element("#risk-search").send_keys(cid + "\n")
    dash_duo.wait_for_text_to_equal("#risk-pd", f"PD {expected:.1%}", timeout=30)
    target = _click_cell(dash_duo, cells, 1)  # a grid's customer id opens Customer 360
    dash_duo.wait_for_text_to_equal("#customer-title", f"Customer {target}", timeout=30)
    assert dash_duo.get_logs() == []


def test_a_recorded_decision_and_its_notice_name_the_bank_ids(text_bank, capsys) -> None:
    import json

    from dashapp.services import decisions

    cid = _borrower(text_bank)
    record = decisions.record_decision(cid, role="risk", user="tester")
    assert record.customer_id == ids.customer(cid)  # stored by the internal number, shown by the bank's id
    assert main(["risk", "decisions", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["decisions"][0]
    assert listed["customer_id"] == cid and str(listed["loan_id"]).startswith("L-")
    borrowers = dict.fromkeys(customer_text(c) for c in text_bank.loans["customer_id"])
    declined = next(
        r
        for r in (decisions.record_decision(b, role="risk", user="tester") for b in list(borrowers)[:60])
        if r.declined
    )
    content, _, _ = decisions.notice(declined.id, "html", role="risk")
    shown = ids.shown("customer", declined.customer_id)
    assert shown.startswith("C-") and f"customer {shown}, loan L-" in content.decode("utf-8")
