"""``risk score --record``, ``risk decisions list|verify`` and ``risk notice`` from the command line."""

from __future__ import annotations

import json
import sqlite3

import pytest
import sqlalchemy as sa

import risk
from bankdata import ArtifactStore, Bank, generate_bank, read_audit, read_decisions
from bankdata._db import engine_for
from bankdata._decisions import APPEND_ONLY_TRIGGERS
from ledgerlight.cli import main
from risk.bankbook import loan_frame

ROWS = 60


@pytest.fixture(scope="module")
def scored(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A trained store, a Parquet book of 60 loans and a database where ``risk score --record`` recorded them."""
    tmp = tmp_path_factory.mktemp("cli-decisions")
    store = ArtifactStore(tmp / "checkpoints")
    artifact = risk.train_from_bank(small_bank, store, quick=True)
    frame = loan_frame(small_bank).head(ROWS)
    frame.iloc[:25].to_parquet(tmp / "book-0.parquet", index=False)
    frame.iloc[25:].to_parquet(tmp / "book-1.parquet", index=False)
    env = {"LEDGERLIGHT_CHECKPOINTS": str(tmp / "checkpoints"), "DATABASE_URL": f"sqlite:///{tmp / 'cli.db'}"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert (
            main(
                [
                    "risk",
                    "score",
                    "--data",
                    str(tmp / "book-*.parquet"),
                    "--out",
                    str(tmp / "out"),
                    "--record",
                ]
            )
            == 0
        )
    return {"tmp": tmp, "store": store, "artifact": artifact, "frame": frame, "env": env}


@pytest.fixture()
def env(scored: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    for k, v in scored["env"].items():
        monkeypatch.setenv(k, v)
    return scored


def test_score_record_records_every_row_audited(env: dict, capsys) -> None:
    records = read_decisions(limit=1_000)
    assert len(records) == ROWS and {r.recorded_by for r in records} == {records[0].recorded_by}
    assert records[0].recorded_by.startswith("cli:")
    assert sorted(r.loan_id for r in records) == sorted(env["frame"]["loan_id"].tolist())
    scores = risk.RiskModel.load(env["artifact"]).score(env["frame"])["pd"]
    by_loan = dict(zip(env["frame"]["loan_id"].tolist(), scores.tolist(), strict=True))
    assert all(r.pd == by_loan[r.loan_id] for r in records)
    audit = read_audit()
    assert (audit["action"] == "record_decisions").sum() == 2  # one row per file (transaction)


def test_record_needs_customer_ids_and_checks_first(env: dict, capsys) -> None:
    tmp = env["tmp"]
    env["frame"].drop(columns=["customer_id"]).to_parquet(tmp / "anonymous.parquet", index=False)
    assert (
        main(
            [
                "risk",
                "score",
                "--data",
                str(tmp / "anonymous.parquet"),
                "--out",
                str(tmp / "anon"),
                "--record",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "anonymous.parquet" in err and "customer_id" in err and len(err.strip().splitlines()) == 1
    assert not (tmp / "anon").exists() and len(read_decisions(limit=1_000)) == ROWS


def test_list_shows_the_latest(env: dict, capsys) -> None:
    assert main(["risk", "decisions", "list", "--limit", "5", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["decisions"]
    assert [d["id"] for d in listed] == [ROWS, ROWS - 1, ROWS - 2, ROWS - 3, ROWS - 4]
    assert {d["decision"] for d in listed} <= {"approve", "decline"} and all(d["reasons"] for d in listed)
    assert main(["risk", "decisions", "list", "--limit", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[1].split()[0] == str(ROWS)
    with pytest.raises(SystemExit) as exit_:
        main(["risk", "decisions", "list", "--limit", "0"])
    assert exit_.value.code == 2


def test_verify_reproduces_after_a_promotion(env: dict, capsys) -> None:
    newer = risk.train_from_bank(generate_bank(n_customers=2_000, seed=9), env["store"], quick=True)
    env["store"].promote("risk", newer.version)
    assert main(["risk", "decisions", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"hash chain intact: {ROWS} record(s)") and out.count(": reproduced") == ROWS
    assert main(["risk", "decisions", "verify", "7", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["records"] == [{"id": 7, "reproduced": True, "differences": []}]
    assert main(["risk", "decisions", "verify", "999"]) == 2
    assert "no decision record 999" in capsys.readouterr().err


def test_notice_writes_html_and_pdf_for_a_decline_only(env: dict, capsys) -> None:
    records = read_decisions(limit=1_000)
    declined = next(r for r in records if r.declined)
    approved = next(r for r in records if not r.declined)
    html_file, pdf_file = env["tmp"] / "n.html", env["tmp"] / "n.pdf"
    assert main(["risk", "notice", str(declined.id), "--format", "html", "--output", str(html_file)]) == 0
    page = html_file.read_text(encoding="utf-8")
    assert declined.reasons[0]["text"] in page and declined.model_version in page
    assert main(["risk", "notice", str(declined.id), "--format", "pdf", "--output", str(pdf_file)]) == 0
    assert pdf_file.read_bytes().startswith(b"%PDF")
    audit = read_audit()
    assert (audit["target"] == f"decision {declined.id}").sum() == 2
    capsys.readouterr()
    assert main(["risk", "notice", str(approved.id), "--output", str(html_file)]) == 2
    err = capsys.readouterr().err
    assert "approved the applicant" in err and len(err.strip().splitlines()) == 1
    assert (
        main(["risk", "notice", str(declined.id), "--output", str(env["tmp"] / "no" / "such" / "f.html")])
        == 2
    )


def test_verify_fails_on_an_edited_row(env: dict, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    copy = env["tmp"] / "edited.db"
    with sqlite3.connect(env["tmp"] / "cli.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the write-ahead log too
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("DATABASE_URL", url)
    with engine_for(url).begin() as conn:  # as an owner of the database could: drop the append-only guard
        for name in APPEND_ONLY_TRIGGERS:
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(sa.text("UPDATE decision_records SET decision = 'approve', pd = 0.01 WHERE id = 3"))
    assert main(["risk", "decisions", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("hash chain BROKEN") and "decision 3: its content does not match its hash" in out
    assert "decision 3: NOT reproduced: PD" in out
