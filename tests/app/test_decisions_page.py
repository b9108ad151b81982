"""Recording decisions on the Applicant page: the service, the callback (roles, audit) and the page in Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

import risk
from bankdata import ArtifactStore, read_decision
from dashapp.services import clear_caches
from dashapp.services import decisions as svc
from dashapp.services import risk as risk_svc
from dashapp.services.validation import InputError
from tests.app.helpers import CALLBACK, audit_rows

RECORD_OUTPUT = "..risk-record-result.children...risk-record-id.data...risk-notice-buttons.hidden.."


@pytest.fixture(scope="module")
def borrowers(trained_env):
    """The customer ids of the highest-PD (declined) and the lowest-PD (approved) borrowers."""
    clear_caches()
    top = risk_svc.applicant_page(0, 1, [{"colId": "pd", "sort": "desc"}], {})[0][0]
    low = risk_svc.applicant_page(0, 1, [{"colId": "pd", "sort": "asc"}], {})[0][0]
    assert top["pd"] >= risk_svc.served().threshold > low["pd"]
    return int(top["customer_id"]), int(low["customer_id"])


def test_a_risk_officer_records_what_the_server_scores(trained_env, borrowers) -> None:
    declined_id, approved_id = borrowers
    rec = svc.record_decision(declined_id, role="risk", user="officer-1")
    part = risk_svc.customer_risk(declined_id)
    assert rec.customer_id == declined_id and rec.recorded_by == "officer-1" and rec.declined
    assert rec.pd == part.explanation.pd and rec.cutoff == part.threshold
    assert [r["text"] for r in rec.reasons] == part.explanation.reasons[:4]
    assert rec.model_version == risk_svc.served().version and rec.recourse is not None
    assert risk.rescore(rec, ArtifactStore(trained_env.bank_env.checkpoints)).reproduced
    content, name, media = svc.notice(rec.id, "html", role="risk")
    assert media == "text/html" and rec.reasons[0]["text"].encode() in content and name.endswith(".html")
    assert svc.notice(rec.id, "pdf", role="admin")[0].startswith(b"%PDF")
    approved = svc.record_decision(approved_id, role="admin", user="admin-1")
    assert approved.decision == "approve" and approved.recourse is None
    with pytest.raises(InputError, match="approved the applicant"):
        svc.notice(approved.id, "html", role="risk")


@pytest.mark.parametrize("role", ["marketing", None, "superuser"])
def test_other_roles_are_refused(trained_env, borrowers, role) -> None:
    with pytest.raises(PermissionError, match="may not record"):
        svc.record_decision(borrowers[0], role=role, user="x")
    with pytest.raises(PermissionError, match="may not download"):
        svc.notice(1, "html", role=role)


@pytest.mark.parametrize("bad", [0, -3, "1; DROP TABLE decision_records", 2.5, {"id": 1}])
def test_hostile_ids_and_formats_are_refused(trained_env, bad) -> None:
    with pytest.raises(InputError):
        svc.record_decision(bad, role="risk", user="x")
    with pytest.raises(InputError):
        svc.notice(bad, "html", role="risk")
    with pytest.raises(InputError):
        svc.notice(1, "exe", role="risk")


def _record_request(customer_id) -> dict:
    return {
        "output": RECORD_OUTPUT,
        "outputs": [
            {"id": "risk-record-result", "property": "children"},
            {"id": "risk-record-id", "property": "data"},
            {"id": "risk-notice-buttons", "property": "hidden"},
        ],
        "inputs": [
            {"id": "risk-record", "property": "n_clicks", "value": 1},
            {"id": "risk-applicant", "property": "data", "value": customer_id},
        ],
        "changedPropIds": ["risk-record.n_clicks"],
        "state": [],
    }


def test_the_callback_records_audits_and_refuses_marketing(as_user, trained_env, borrowers) -> None:
    response = as_user("risk").post(CALLBACK, json=_record_request(borrowers[0]))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()["response"]
    record_id = body["risk-record-id"]["data"]
    assert body["risk-notice-buttons"]["hidden"] is False
    stored = read_decision(record_id)
    assert stored.recorded_by == "risk" and stored.customer_id == borrowers[0]
    assert ("record_decision", f"decision {record_id}") in audit_rows("risk")
    notice = {
        "output": "risk-notice-download.data",
        "outputs": {"id": "risk-notice-download", "property": "data"},
        "inputs": [
            {"id": "risk-notice-html", "property": "n_clicks", "value": None},
            {"id": "risk-notice-pdf", "property": "n_clicks", "value": 1},
        ],
        "state": [{"id": "risk-record-id", "property": "data", "value": record_id}],
        "changedPropIds": ["risk-notice-pdf.n_clicks"],
    }
    download = as_user("risk").post(CALLBACK, json=notice)
    assert download.status_code == 200
    assert download.get_json()["response"]["risk-notice-download"]["data"]["filename"].endswith(".pdf")
    assert ("download_notice", f"decision {record_id}") in audit_rows("risk")
    assert as_user("marketing").post(CALLBACK, json=_record_request(borrowers[0])).status_code == 403
    assert as_user("risk").post(CALLBACK, json=_record_request("x; DROP")).status_code == 400


@pytest.mark.browser
def test_record_decision_on_the_applicant_page(trained_env, borrowers, served) -> None:
    duo = served
    duo.wait_for_page(url=f"{duo.server_url}/risk/applicant?customer_id={borrowers[0]}")
    duo.wait_for_element("#risk-decision-badge", timeout=30)
    duo.find_element("#risk-record").click()
    duo.wait_for_contains_text("#risk-record-text", "Recorded as decision", timeout=30)
    text = duo.find_element("#risk-record-text").text
    record_id = int(text.removeprefix("Recorded as decision ").split(":")[0])
    assert read_decision(record_id).customer_id == borrowers[0] and "DECLINE" in text
    WebDriverWait(duo.driver, 10).until(lambda d: duo.find_element("#risk-notice-pdf").is_displayed())
    assert duo.find_element("#risk-notice-html").is_displayed()
