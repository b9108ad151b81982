"""Recorded decisions re-score exactly with their recorded version, after later promotions too; notices."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import struct
import zlib
from datetime import date

import numpy as np
import pytest

import risk
from bankdata import (
    ArtifactError,
    ArtifactStore,
    append_decision,
    append_decisions,
    generate_bank,
    read_decision,
)
from risk.notices import ECOA_TEMPLATE, TEMPLATE_MARK, notice_content

URL_NAME = "decisions.db"


@pytest.fixture(scope="module")
def recorded(small_bank, tmp_path_factory):
    """A risk version, a database with its decisions on 40 borrowers, then a newer version promoted over it."""
    root = tmp_path_factory.mktemp("decisions")
    store, url = ArtifactStore(root / "checkpoints"), f"sqlite:///{root / URL_NAME}"
    first = risk.train_from_bank(small_bank, store, quick=True)
    model = risk.RiskModel.load(first)
    cutoff = float(first.load_json("report.json")["threshold"])
    loans = risk.latest_loans(small_bank).head(40)
    ids = append_decisions(risk.batch_decisions(first, model, loans, cutoff, recorded_by="batch"), url)
    newer = risk.train_from_bank(generate_bank(n_customers=2_000, seed=8), store, quick=True)
    store.promote("risk", newer.version)
    return store, url, first, newer, loans, ids


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_a_recorded_decision_reproduces_after_a_promotion(recorded) -> None:
    store, url, first, newer, loans, ids = recorded
    assert store.latest("risk") == newer.version != first.version
    served = risk.RiskModel.load(store.load("risk"))
    row = loans.iloc[0].to_dict()
    record_id = append_decision(
        risk.build_decision(
            first,
            risk.RiskModel.load(first),
            row,
            0.2,
            customer_id=int(row["customer_id"]),
            loan_id=int(row["loan_id"]),
            recorded_by="officer",
        ),
        url,
    )
    record = read_decision(record_id, url)
    assert record.model_version == first.version and record.model_sha256 == risk.artifact_sha256(first)
    again = risk.rescore(record, store)
    assert again.reproduced, again.differences
    assert _bits(again.pd) == _bits(record.pd) and again.decision == record.decision
    assert again.reasons == record.reasons and 1 <= len(record.reasons) <= 4
    # the test can fail: the served (newer) version scores this applicant differently
    assert risk.assess(served, record.inputs, record.cutoff).pd != record.pd


def test_batch_records_equal_the_batch_scores_and_reproduce(recorded) -> None:
    store, url, first, _newer, loans, ids = recorded
    model = risk.RiskModel.load(first)
    scored = model.score(loans)["pd"].to_numpy()
    records = [read_decision(i, url) for i in ids]
    assert [r.pd for r in records] == scored.tolist()
    assert [r.decision for r in records] == [
        "decline" if p >= records[0].cutoff else "approve" for p in scored
    ]
    declined = [r for r in records if r.declined]
    assert declined and all(r.recourse is not None for r in declined)
    assert all(r.recourse is None for r in records if not r.declined)
    for r in records:
        assert risk.rescore(r, store, model).reproduced


def test_a_tampered_record_or_version_is_not_reproduced(recorded, tmp_path) -> None:
    store, url, first, _newer, _loans, ids = recorded
    record = read_decision(ids[0], url)
    other = dataclasses.replace(
        record, pd=np.nextafter(record.pd, 1.0), inputs={**record.inputs, "dti": 0.99}
    )
    result = risk.rescore(other, store)
    assert not result.reproduced
    assert any("inputs do not match" in d for d in result.differences)
    assert any(d.startswith("PD ") for d in result.differences)
    with pytest.raises(ArtifactError, match="changed since it was recorded"):
        risk.rescore(dataclasses.replace(record, model_sha256="0" * 64), store)
    with pytest.raises(ArtifactError, match="cannot be loaded.*no such version"):
        risk.rescore(dataclasses.replace(record, model_version="20200101T000000Z"), store)
    copy = ArtifactStore(tmp_path / "copy")
    shutil.copytree(store.root, copy.root)
    with (copy.root / "risk" / first.version / "calibration.json").open("a") as fh:
        fh.write(" ")
    with pytest.raises(ArtifactError, match="cannot be loaded.*corrupt"):
        risk.rescore(record, copy)


def _declined(recorded):
    _store, url, *_rest, ids = recorded
    return next(r for r in (read_decision(i, url) for i in ids) if r.declined and r.reasons)


def test_the_notice_lists_at_most_four_reasons_in_words_and_escapes(recorded) -> None:
    record = _declined(recorded)
    hostile = dataclasses.replace(
        record, reasons=[{"code": f"c{i}", "text": f"<script>alert({i})</script> & more"} for i in range(6)]
    )
    page = risk.notice_html(hostile, bank_name="<b>First & Co</b>", today=date(2026, 1, 2))
    assert "<script>" not in page and "<b>First" not in page
    assert "&lt;b&gt;First &amp; Co&lt;/b&gt;" in page
    assert page.count("&lt;script&gt;alert(") == 4 and "alert(4)" not in page
    plain = risk.notice_html(record, bank_name="Bank of Tests", today=date(2026, 1, 2))
    for reason in record.reasons[:4]:
        assert f"<li>{reason['text']}</li>" in plain
    assert record.model_version in plain and "2026-01-02" in plain and html.escape(TEMPLATE_MARK) in plain
    assert "Equal Credit Opportunity Act" in ECOA_TEMPLATE and f"customer {record.customer_id}" in plain
    if record.recourse and record.recourse["feasible"]:
        assert 'id="changes"' in plain


def pdf_text(content: bytes) -> str:
    """The text the PDF's (zlib) content streams show."""
    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            shown += re.findall(r"\((.*?)\) Tj", zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(s.replace("\\(", "(").replace("\\)", ")") for s in shown)


def test_the_notice_pdf_and_its_refusals(recorded, monkeypatch) -> None:
    record = _declined(recorded)
    monkeypatch.delenv("LEDGERLIGHT_BANK_NAME", raising=False)
    assert notice_content(record).bank.startswith("[Bank name")
    monkeypatch.setenv("LEDGERLIGHT_BANK_NAME", "Ledger Savings \u2013 Bank \u2603")
    assert notice_content(record).bank == "Ledger Savings \u2013 Bank \u2603"
    content, name, media = risk.render_notice(record, "pdf")
    assert content.startswith(b"%PDF") and name.endswith(f"-{record.id}.pdf") and media == "application/pdf"
    text = pdf_text(content)
    assert "Ledger Savings - Bank ?" in text and f"decision record {record.id}" in text
    assert all(r["text"] in text for r in record.reasons) and "Equal Credit Opportunity Act" in text
    with pytest.raises(ValueError, match="html or pdf"):
        risk.render_notice(record, "docx")
    approved = dataclasses.replace(record, decision="approve")
    with pytest.raises(ValueError, match="no adverse-action notice"):
        risk.notice_html(approved)
