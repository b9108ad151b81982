"""The Campaigns page: creating a campaign with its holdout, the treated export, responses, measurement, fair
offers and who may do it; then the whole loop in Chromium as marketing."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import campaigns
from bankdata import campaign_outcomes, holdings_responses, query, read_campaign, simulated_responses
from dashapp.services import audit, validation
from dashapp.services import campaign_responses as responses
from dashapp.services import campaigns as svc
from dashapp.services import recsys as recsys_service
from dashapp.services import segments as segments_service
from tests.app.conftest import free_port, sign_in
from tests.app.helpers import CALLBACK, audit_rows, single

CREDIT_CARD = "Credit card"


def _product_id(bank, name: str) -> int:
    return int(bank.products.loc[bank.products["name"] == name, "product_id"].iloc[0])


def _non_credit_product(bank) -> int:
    return int(bank.products.loc[bank.products["family"] == "deposit", "product_id"].iloc[0])


def _csv_upload(frame: pd.DataFrame) -> str:
    return "data:text/csv;base64," + base64.b64encode(frame.to_csv(index=False).encode()).decode()


def _from_filter(bank, segments=(), percent=10, product=None):
    flt = segments_service.SegmentFilter(segments=tuple(segments))
    return svc.create_from_segments(
        flt, product or _non_credit_product(bank), "filter campaign", percent, "tester"
    )


# --- creating -------------------------------------------------------------------------------------------------------


def test_a_campaign_from_a_filter_holds_out_ten_percent_within_each_segment(trained_env) -> None:
    bank = trained_env.bank_env.bank
    flt = segments_service.SegmentFilter(segments=(0, 1))
    expected = segments_service.export_frame(flt)
    stored = svc.create_from_segments(flt, _non_credit_product(bank), "  Spring savings  ", 10, "tester")
    assert stored.name == "Spring savings" and stored.control_share == pytest.approx(0.10)
    assert stored.source == "segments" and stored.created_by == "tester"
    members = campaign_outcomes(stored.campaign_id)
    assert set(members["customer_id"]) == set(expected["customer_id"])  # every matching customer
    segment_of = expected.set_index("customer_id")["segment"]
    assert (
        members["stratum"].str.split(":").str[0].astype(int).to_numpy()
        == segment_of.loc[members["customer_id"]].to_numpy()
    ).all()  # stratum = the served segment
    for stratum, group in members.groupby("stratum"):
        n = len(group)
        assert (~group["treated"]).sum() == max(1, int(np.floor(0.1 * n + 0.5))), stratum
    assert stored.n_treated + stored.n_control == len(expected)
    again = read_campaign(stored.campaign_id)
    assert again.audience["filter"]["segments"] == [0, 1]
    assert again.audience["segments_version"] == segments_service.published().version
    assert again.audience["recsys_version"] == recsys_service.served().version
    assert again.seed == stored.seed  # the seed is recorded: the same draw can be made again
    redrawn = campaigns.assign_holdout(
        members["stratum"].to_numpy(dtype=object), again.control_share, again.seed
    )
    assert (redrawn == members["treated"].to_numpy()).all()


def test_a_campaign_from_a_campaign_list_keeps_the_models_ranking(trained_env) -> None:
    bank = trained_env.bank_env.bank
    product = _product_id(bank, CREDIT_CARD)
    model = recsys_service.best_model()
    listed = recsys_service.campaign(product, 300, model)
    stored = svc.create_from_recommendations(product, 300, model, "cards", 20, "tester")
    members = campaign_outcomes(stored.campaign_id)
    assert set(members["customer_id"]) == set(
        listed["customer_id"]
    )  # credit-blocked left out as the list does
    scores = listed.set_index("customer_id")["score"]
    assert np.allclose(members["score"].to_numpy(), scores.loc[members["customer_id"]].to_numpy())
    assert stored.n_control == pytest.approx(0.2 * len(listed), abs=len(members["stratum"].unique()))
    audience = read_campaign(stored.campaign_id).audience
    assert (audience["n"], audience["model"], audience["listed"]) == (300, model, len(listed))
    report = svc.campaign_view(stored.campaign_id).report
    assert report["ranked"] and "qini_curve" in report


@pytest.mark.parametrize("percent", [0, 0.5, 51, 100, -5, "10", True, float("nan")])
def test_the_control_share_must_be_one_to_fifty_percent(trained_env, percent) -> None:
    with pytest.raises(validation.InputError, match="control share"):
        svc.control_share(percent)


def test_the_control_share_defaults_to_ten_percent() -> None:
    assert svc.control_share(None) == pytest.approx(0.10)
    assert 0 < svc.control_share(1) < svc.control_share(50) < 1


def test_a_request_cannot_select_by_risk_band_without_the_capability(trained_env) -> None:
    audience = dict.fromkeys(svc.SEGMENT_KEYS) | {"risk": ["A"]}
    product = _non_credit_product(trained_env.bank_env.bank)
    with pytest.raises(PermissionError):
        svc.create_from("segments", audience, product, "x", 10, role="marketing", user="m")
    with pytest.raises(validation.InputError, match="audience"):
        svc.create_from("segments", {"segment": None}, product, "x", 10, role="marketing", user="m")
    with pytest.raises(validation.InputError, match="campaign source"):
        svc.create_from("cli", {}, product, "x", 10, role="marketing", user="m")


def test_creating_and_exporting_are_audited(trained_env, dash_app) -> None:
    bank = trained_env.bank_env.bank
    with dash_app.server.test_request_context("/"):
        stored = _from_filter(bank, segments=(0,))
        frame, _ = svc.export_treated(stored.campaign_id, "marketing")
        events = audit.pending()
    assert [(e.action, e.target) for e in events] == [
        ("campaign_create", f"campaign {stored.campaign_id}"),
        ("export_campaign_treated", f"campaign {stored.campaign_id}"),
    ]
    assert (
        f'"treated": {stored.n_treated}' in events[0].detail
        and f'"control": {stored.n_control}' in events[0].detail
    )
    assert f'"rows": {len(frame)}' in events[1].detail


# --- export ---------------------------------------------------------------------------------------------------------


def test_the_export_holds_the_treated_only_in_rank_order(trained_env) -> None:
    bank = trained_env.bank_env.bank
    stored = svc.create_from_recommendations(
        _product_id(bank, CREDIT_CARD), 200, None, "ranked", 25, "tester"
    )
    members = campaign_outcomes(stored.campaign_id)
    frame, name = svc.export_treated(stored.campaign_id, "marketing")
    assert list(frame.columns) == list(svc.EXPORT_COLUMNS)
    assert set(frame["customer_id"]) == set(members.loc[members["treated"], "customer_id"])
    assert not set(frame["customer_id"]) & set(members.loc[~members["treated"], "customer_id"])  # no control
    assert list(frame["rank"]) == list(range(1, len(frame) + 1))
    assert frame["score"].is_monotonic_decreasing
    assert name == f"ledgerlight-campaign-{stored.campaign_id}-ranked-treated.csv"


# --- responses ------------------------------------------------------------------------------------------------------


def test_an_upload_with_bad_rows_is_refused_naming_the_rows(trained_env) -> None:
    bank = trained_env.bank_env.bank
    stored = _from_filter(bank, segments=(0,))
    members = campaign_outcomes(stored.campaign_id)["customer_id"].tolist()
    when = (pd.Timestamp(stored.created_at) + pd.Timedelta(days=3)).isoformat()
    rows = pd.DataFrame(
        {
            "customer_id": [members[0], members[1], 99_999_999, "", members[2]],
            "responded_at": [when, "yesterday", when, when, when],
        }
    )
    with pytest.raises(responses.UploadRefused) as refused:
        responses.record_upload(stored.campaign_id, _csv_upload(rows), "responses.csv")
    message = str(refused.value)
    assert "responded_at: not an ISO date" in message and "row 2" in message
    assert "customer_id: not a customer of the bank in row 3" in message
    assert "customer_id: empty in row 4" in message
    assert "nothing recorded" in message
    assert not campaign_outcomes(stored.campaign_id)["responded"].any()  # one bad row: nothing stored


def test_an_upload_of_another_products_responses_is_refused(trained_env) -> None:
    bank = trained_env.bank_env.bank
    stored = _from_filter(bank, segments=(0,))
    member = int(campaign_outcomes(stored.campaign_id)["customer_id"].iloc[0])
    when = (pd.Timestamp(stored.created_at) + pd.Timedelta(days=1)).isoformat()
    rows = pd.DataFrame(
        {
            "customer_id": [member, member],
            "responded_at": [when, when],
            "product": [str(stored.product_id), "Mortgage"],
        }
    )
    with pytest.raises(responses.UploadRefused, match=r"product: not this campaign's product .* in row 2"):
        responses.record_upload(stored.campaign_id, _csv_upload(rows), "r.csv")


@pytest.mark.parametrize(
    ("contents", "name", "message"),
    [
        ("data:text/csv;base64,!!!", "r.csv", "not a UTF-8 CSV"),
        ("data:text/csv;base64," + base64.b64encode(b"id,when\n1,2\n").decode(), "r.csv", "missing column"),
        (
            "data:text/csv;base64," + base64.b64encode(b"customer_id,responded_at\n").decode(),
            "r.csv",
            "no rows",
        ),
        ("data:text/csv;base64,", "r.xlsx", "upload a CSV"),
    ],
)
def test_unreadable_uploads_say_why(trained_env, contents, name, message) -> None:
    stored = _from_filter(trained_env.bank_env.bank, segments=(0,))
    with pytest.raises(responses.UploadRefused, match=message):
        responses.record_upload(stored.campaign_id, contents, name)


def test_simulated_responses_measure_the_campaign(trained_env) -> None:
    bank = trained_env.bank_env.bank
    stored = svc.create_from_recommendations(_product_id(bank, CREDIT_CARD), 400, None, "sim", 30, "tester")
    drawn = simulated_responses(stored.campaign_id, bank)
    upload = drawn.assign(responded_at=drawn["responded_at"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    message = responses.record_upload(stored.campaign_id, _csv_upload(upload), "sim.csv")
    assert f"{len(drawn):,} response(s) recorded" in message
    assert "already recorded" in responses.record_upload(
        stored.campaign_id, _csv_upload(upload), "sim.csv"
    )  # once only
    # each take-up is stored once as a purchase of the product: what learning and the holdings read
    bought = holdings_responses(stored.campaign_id)
    assert sorted(bought["customer_id"]) == sorted(drawn["customer_id"])
    view = svc.campaign_view(stored.campaign_id, 2.0, 50.0)
    outcomes = campaign_outcomes(stored.campaign_id)
    expected = campaigns.measure(outcomes["treated"].to_numpy(), outcomes["responded"].to_numpy())
    assert view.report["overall"]["uplift"] == pytest.approx(expected.uplift)
    assert view.report["responses"] == len(drawn)
    assert view.report["economics"]["cost"] == pytest.approx(2.0 * stored.n_treated)
    with pytest.raises(validation.InputError, match="cost per contact"):
        svc.campaign_view(stored.campaign_id, -1, None)


def test_a_date_on_the_first_day_counts_from_the_campaigns_creation(trained_env) -> None:
    stored = _from_filter(trained_env.bank_env.bank, segments=(0,))
    member = int(campaign_outcomes(stored.campaign_id)["customer_id"].iloc[0])
    rows = pd.DataFrame({"customer_id": [member], "responded_at": [f"{stored.created_at:%Y-%m-%d}"]})
    assert "1 response(s) recorded" in responses.record_upload(
        stored.campaign_id, _csv_upload(rows), "day.csv"
    )
    outcomes = campaign_outcomes(stored.campaign_id).set_index("customer_id")
    assert outcomes.at[member, "responded_at"] >= pd.Timestamp(stored.created_at).floor("s")


def test_holdings_record_purchases_after_the_campaign(trained_env) -> None:
    stored = _from_filter(trained_env.bank_env.bank, segments=(0,))
    message = responses.record_holdings(
        stored.campaign_id
    )  # the demo bank's purchases all predate the campaign
    assert "No new holdings" in message


# --- fair offers ----------------------------------------------------------------------------------------------------


def test_fair_offers_are_the_audiences_selection_rates_by_group(trained_env) -> None:
    from risk.fairness import age_band

    bank = trained_env.bank_env.bank
    stored = _from_filter(bank, segments=(0,), product=_product_id(bank, CREDIT_CARD))
    view = svc.campaign_view(stored.campaign_id)
    assert view.product.credit and view.fairness is not None
    members = set(campaign_outcomes(stored.campaign_id)["customer_id"])
    customers = bank.customers.assign(
        band=age_band(bank.customers["age"]), chosen=bank.customers["customer_id"].isin(members)
    )
    for fair, column in zip(view.fairness, ("band", "gender"), strict=True):
        rates = customers.groupby(customers[column].astype(str))["chosen"].agg(["sum", "size"])
        table = fair.table.set_index("group")
        assert table["customers"].to_dict() == rates["size"].to_dict()
        assert table["selected"].to_dict() == rates["sum"].to_dict()
        reference = (rates["sum"] / rates["size"])[rates["size"] >= 30].idxmax()
        assert fair.reference == reference
        assert (
            table["flag"].to_dict()
            == ((rates["sum"] / rates["size"]) / (rates["sum"] / rates["size"])[reference] < 0.8).to_dict()
        )
    deposit = _from_filter(bank, segments=(0,))
    assert svc.campaign_view(deposit.campaign_id).fairness is None  # not a credit product: no check


def test_a_credit_campaign_from_a_filter_leaves_out_the_blocked_band(trained_env) -> None:
    from dashapp.services import risk as risk_service

    bank = trained_env.bank_env.bank
    stored = _from_filter(bank, product=_product_id(bank, CREDIT_CARD))
    blocked = set(query(risk_service.customers_in_bands(["E"]))["customer_id"])
    assert blocked and not blocked & set(campaign_outcomes(stored.campaign_id)["customer_id"])
    assert read_campaign(stored.campaign_id).audience["filter"]["exclude_ineligible"] is True


# --- who may -------------------------------------------------------------------------------------------------------


def _create_body(source: str, audience: dict) -> dict:
    def cid(part: str) -> dict:
        return {"aio_id": source, "component": "CreateCampaign", "subcomponent": part}

    return {
        "output": '{"aio_id":["MATCH"],"component":"CreateCampaign","subcomponent":"feedback"}.children',
        "outputs": {"id": cid("feedback"), "property": "children"},
        "inputs": [{"id": cid("button"), "property": "n_clicks", "value": 1}],
        "state": [
            {"id": cid("name"), "property": "value", "value": "by request"},
            {"id": cid("share"), "property": "value", "value": 10},
            {"id": cid("product"), "property": "value", "value": None},
            {"id": cid("audience"), "property": "data", "value": audience},
            {"id": cid("ranking"), "property": "value", "value": "list"},
        ],
        "changedPropIds": [
            f'{{"aio_id":"{source}","component":"CreateCampaign","subcomponent":"button"}}.n_clicks'
        ],
    }


def test_risk_may_call_no_campaign_callback_and_marketing_may(trained_env, as_user) -> None:
    bank = trained_env.bank_env.bank
    stored = _from_filter(bank, segments=(0,))
    export = single(
        "campaigns-download.data",
        [("campaigns-export", "n_clicks", 1)],
        [("campaigns-picker", "value", stored.campaign_id)],
    )
    audience = {"product": _product_id(bank, CREDIT_CARD), "model": None, "n": 50}
    create = _create_body("recommendations", audience)
    risk = as_user("risk")
    for body in (export, create):
        assert risk.post(CALLBACK, json=body).status_code == 403
    assert ("export_campaign_treated", f"campaign {stored.campaign_id}") not in audit_rows("risk")
    marketing = as_user("marketing")
    answer = marketing.post(CALLBACK, json=export)
    assert answer.status_code == 200
    assert audit_rows("marketing")[-1] == ("export_campaign_treated", f"campaign {stored.campaign_id}")
    created = marketing.post(CALLBACK, json=create)
    assert created.status_code == 200 and "/campaigns?campaign=" in str(created.get_json()), (
        created.get_json()
    )
    assert audit_rows("marketing")[-1][0] == "campaign_create"


def test_the_page_says_how_to_create_a_campaign_when_there_is_none(
    trained_env, dash_app, monkeypatch
) -> None:
    import dash

    monkeypatch.setattr(svc, "campaign_options", lambda include=None: [])
    page = next(p for p in dash.page_registry.values() if p["path"] == "/campaigns")
    text = str(page["layout"]())
    assert "Create a campaign from the Segments filters or a product's campaign list" in text
    assert "campaigns-empty" in text and "campaigns-picker" not in text


def test_the_page_opens_the_campaign_its_address_names_even_an_old_one(
    trained_env, dash_app, monkeypatch
) -> None:
    import dash

    first = _from_filter(trained_env.bank_env.bank, segments=(0,))
    _from_filter(trained_env.bank_env.bank, segments=(1,))
    monkeypatch.setattr(
        svc, "read_campaigns", lambda: [read_campaign(first.campaign_id + 1)]
    )  # only the newest
    page = next(p for p in dash.page_registry.values() if p["path"] == "/campaigns")

    def picked(**query):
        picker = next(
            c for c in page["layout"](**query)._traverse() if getattr(c, "id", None) == "campaigns-picker"
        )
        return picker.value, [o["value"] for o in picker.options]

    assert picked(campaign=str(first.campaign_id)) == (
        first.campaign_id,
        [first.campaign_id + 1, first.campaign_id],
    )
    assert picked(campaign="999999") == (
        first.campaign_id + 1,
        [first.campaign_id + 1],
    )  # unknown: the newest
    assert picked()[0] == first.campaign_id + 1


def test_the_qini_panel_says_why_there_is_no_curve(trained_env, dash_app) -> None:
    import dash

    bank = trained_env.bank_env.bank
    page = next(p for p in dash.page_registry.values() if p["path"] == "/campaigns")

    def shown(campaign) -> str:
        return str(page["layout"](campaign=str(campaign.campaign_id)))

    assert "this audience was not ranked" in shown(_from_filter(bank, segments=(0,)))
    ranked = svc.create_from_recommendations(_product_id(bank, CREDIT_CARD), 300, None, "q", 30, "tester")
    assert "none are recorded" in shown(ranked) and "campaigns-qini'" not in shown(ranked)
    drawn = simulated_responses(ranked.campaign_id, bank)
    responses.record_upload(ranked.campaign_id, _csv_upload(drawn), "sim.csv")
    assert "campaigns-qini'" in shown(ranked) and "random targeting" in shown(ranked)


# --- the loop in the browser -----------------------------------------------------------------------------------------


def _wait_for_file(folder: Path, timeout: float = 20) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = list(folder.glob("*.csv"))
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no CSV downloaded into {folder}")


def _by_id(duo, part: str, source: str = "segments"):
    from selenium.webdriver.common.by import By

    element_id = f'{{"aio_id":"{source}","component":"CreateCampaign","subcomponent":"{part}"}}'
    return duo.driver.find_element(By.XPATH, f"//*[@id='{element_id}']")


def _click(duo, element) -> None:
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    time.sleep(0.3)
    element.click()


@pytest.mark.browser
def test_marketing_runs_the_loop_in_the_browser(trained_env, dash_duo, dash_app, app_users, tmp_path) -> None:
    from selenium.webdriver.common.keys import Keys

    bank = trained_env.bank_env.bank
    duo = dash_duo
    duo.start_server(dash_app, navigate=False, port=free_port())
    sign_in(duo, "marketing", app_users["marketing"])
    duo.wait_for_page(duo.server_url + "/segments")
    duo.wait_for_contains_text("#segments-count", "of 2,000 customers match", timeout=30)
    duo.select_dcc_dropdown("#segments-filter-segment", index=0)  # a filter: the first segment
    expected = len(segments_service.export_frame(segments_service.SegmentFilter(segments=(0,))))
    duo.wait_for_text_to_equal("#segments-count", f"{expected:,} of 2,000 customers match", timeout=20)
    duo.select_dcc_dropdown(_by_id(duo, "product"), value=f"{CREDIT_CARD} (card)")
    _by_id(duo, "name").send_keys("Browser loop")
    _click(duo, _by_id(duo, "button"))
    deadline = time.time() + 30
    while not _by_id(duo, "feedback").text and time.time() < deadline:
        time.sleep(0.2)
    feedback = _by_id(duo, "feedback").text
    assert "created" in feedback and "held out" in feedback, feedback
    link = duo.find_element(".ll-campaign-link")
    _click(duo, link)

    duo.wait_for_text_to_equal("#campaigns-name", "Browser loop", timeout=30)
    campaign_id = int(duo.driver.current_url.rsplit("campaign=", 1)[1])
    stored = read_campaign(campaign_id)
    eligible = segments_service.count_matching(
        segments_service.SegmentFilter(segments=(0,), exclude_ineligible=True)
    )
    assert (
        stored.n_treated + stored.n_control == eligible and stored.created_by == "marketing"
    )  # credit: E left out
    assert stored.audience["filter"]["segments"] == [0] and stored.audience["filter"]["age"] is None
    duo.wait_for_element("#campaigns-fair", timeout=10)  # a credit product: fair offers before the export
    _click(duo, duo.find_element("#campaigns-export"))
    exported = pd.read_csv(io.StringIO(_wait_for_file(Path(duo.download_path)).read_text()))
    assert len(exported) == stored.n_treated

    drawn = simulated_responses(campaign_id, bank)
    upload = tmp_path / "responses.csv"
    drawn.assign(responded_at=drawn["responded_at"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(
        upload, index=False
    )
    duo.find_element("#campaigns-upload input[type=file]").send_keys(str(upload))
    duo.wait_for_contains_text(
        "#campaigns-responses-feedback", f"{len(drawn):,} response(s) recorded", timeout=30
    )
    outcomes = campaign_outcomes(campaign_id)
    uplift = campaigns.measure(outcomes["treated"].to_numpy(), outcomes["responded"].to_numpy()).uplift
    duo.wait_for_contains_text("#campaigns-uplift", f"{uplift * 100:+.1f} pts", timeout=20)
    duo.find_element("#campaigns-cost").send_keys("2", Keys.TAB)
    duo.find_element("#campaigns-margin").send_keys("50", Keys.TAB)
    duo.wait_for_contains_text("#campaigns-cost-total", f"{2 * stored.n_treated:,}", timeout=20)
    duo.wait_for_element("#campaigns-net", timeout=20)
    assert duo.get_logs() == [], "severe errors in the browser console"


def test_a_campaign_list_can_be_ranked_by_the_uplift_model_once_it_is_trained(trained_env) -> None:
    bank = trained_env.bank_env.bank
    pid = _product_id(bank, CREDIT_CARD)
    with pytest.raises(ValueError, match="train-uplift"):
        svc.create_from_recommendations(pid, 200, None, "by uplift", 10, "tester", ranking="uplift")
    with pytest.raises(validation.InputError, match="ranking"):
        svc.create_from_recommendations(pid, 200, None, "x", 10, "tester", ranking="gut feeling")
    learning = svc.create_from_recommendations(pid, 1_500, None, "learning", 50, "tester")
    drawn = simulated_responses(learning.campaign_id, bank)
    upload = drawn.assign(responded_at=drawn["responded_at"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    responses.record_upload(learning.campaign_id, _csv_upload(upload), "learning.csv")
    campaigns.train_uplift(bank, [pid], url=trained_env.bank_env.database_url, store=trained_env.store)
    assert svc.uplift_ranking_available()
    ranked = svc.create_from_recommendations(pid, 300, None, "by uplift", 10, "tester", ranking="uplift")
    assert ranked.audience["model"] == "uplift" and ranked.n_treated + ranked.n_control == 300
    members = campaign_outcomes(ranked.campaign_id)
    scores = members["score"]
    assert scores.notna().all()
    holders = set(query(campaigns.holders(pid))["customer_id"].astype(int))
    assert holders and not holders & set(members["customer_id"].astype(int))  # never offered what they hold
    published = query(campaigns.UPLIFT_TABLE.select().where(campaigns.UPLIFT_TABLE.c.product_id == pid))
    eligible = published[~published["customer_id"].isin(holders)]
    assert scores.min() >= eligible.nlargest(400, "uplift")["uplift"].min()  # the best by predicted uplift
