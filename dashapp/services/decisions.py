"""Recorded credit decisions for the Applicant page: record one, and the adverse-action notice of a declined one.

The decision is always computed here, from the served model and the borrower's row in the database (their latest
loan), at the training cut-off: never from a PD, decision or cut-off a request sends. Recording needs
``Capability.RECORD_DECISIONS`` (risk officers and admins) and is audited as ``record_decision``; every notice
served is audited as ``download_notice``. Storage and re-scoring are ``bankdata`` and ``risk.decisions``.
"""

from __future__ import annotations

from typing import Any

import risk
from bankdata import DatabaseError, DecisionRecord, append_decision, get_settings, read_decision
from dashapp import policy
from dashapp.policy import Capability
from dashapp.services import audit, ids, validation
from dashapp.services import risk as risk_svc
from dashapp.services.bank import DataUnavailable, check_database
from dashapp.services.served import served_artifact
from dashapp.services.validation import InputError

NOTICE_FORMATS = ("html", "pdf")


def _url() -> str:
    return check_database(get_settings().database_url)


def record_decision(customer_id: Any, *, role: str | None, user: str) -> DecisionRecord:
    """Score the borrower's latest loan with the served model at its training cut-off and record the decision
    (with reasons and, when declined, the recourse); returns the stored record. Audited as ``record_decision``.

    Raises
    ------
    PermissionError
        The role may not record decisions.
    InputError
        A bad customer id, or no borrower with this id.
    InvalidApplicant
        The borrower's row holds values the model cannot score (a ``ValueError`` naming each field).
    NotTrained
        No risk model is served.
    """
    policy.require(role, Capability.RECORD_DECISIONS, "record a credit decision")
    cid = ids.customer(customer_id)  # the bank's id (17 or C-00017) to the internal one the database keys by
    served = risk_svc.served()
    artifact = served_artifact(risk.MODEL_NAME)
    if artifact.version != served.version:
        raise InputError("model", "the served risk model changed while recording; record the decision again")
    row = risk_svc.latest_loan_row(cid)
    if row is None:
        raise InputError("customer id", f"no borrower with customer id {customer_id}")
    features = risk.check_applicant(served.model.spec, {c: row[c] for c in served.model.spec.features})
    new = risk.build_decision(
        artifact,
        served.model,
        features,
        served.threshold,
        customer_id=cid,
        loan_id=row.get("loan_id"),
        recorded_by=user,
    )
    try:
        record_id = append_decision(new, _url())
        record = read_decision(record_id, _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if record is None:  # written in this transaction's database a moment ago
        raise DataUnavailable(f"decision {record_id} was recorded but cannot be read back")
    audit.served(
        "record_decision",
        f"decision {record_id}",
        {
            "customer": ids.shown("customer", cid),
            "loan": ids.shown("loan", new.loan_id) if new.loan_id is not None else None,
            "model": f"{new.model}/{new.model_version}",
            "decision": new.decision,
            "pd": round(new.pd, 6),
            "cutoff": new.cutoff,
        },
    )
    return record


def notice(record_id: Any, fmt: Any, *, role: str | None) -> tuple[bytes, str, str]:
    """``(content, file name, media type)`` of the adverse-action notice of a declined record, in ``html`` or
    ``pdf``; audited as ``download_notice``.

    Raises
    ------
    PermissionError
        The role may not see notices.
    InputError
        A bad record id or format, no such record, or a record that approved the applicant.
    """
    policy.require(role, Capability.RECORD_DECISIONS, "download an adverse-action notice")
    rid = validation.whole_number(record_id, "decision record", lo=1, hi=10**15)
    fmt = validation.choice(fmt, "notice format", NOTICE_FORMATS)
    try:
        record = read_decision(rid, _url())
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc
    if record is None:
        raise InputError("decision record", f"no decision record {rid}")
    if not record.declined:
        raise InputError("decision record", f"decision {rid} approved the applicant: there is no notice")
    shown = (
        ids.shown("customer", record.customer_id),
        None if record.loan_id is None else ids.shown("loan", record.loan_id),
    )
    content, name, media = risk.render_notice(record, fmt, ids=shown)
    audit.served("download_notice", f"decision {rid}", {"customer": shown[0], "format": fmt})
    return content, name, media
