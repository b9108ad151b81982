"""``ledgerlight risk backtest``: a clear message without later loans; ``demo extend`` refreshes it;
``--json`` shape;
the report is stored as evidence of the version."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import risk
from bankdata import ArtifactStore, generate_bank, read_bank, read_evidence, write_bank
from ledgerlight.cli import main


@pytest.fixture()
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    write_bank(generate_bank(n_customers=1_500, seed=4), url=url)
    artifact = risk.train_from_bank(
        read_bank(url, with_truth=True), ArtifactStore(tmp_path / "checkpoints"), quick=True
    )
    return {"url": url, "version": artifact.version}


def test_backtest_cli_messages_json_shape_and_evidence(
    served: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["risk", "backtest"]) == 2
    err = capsys.readouterr().err
    assert "no loans issued after 2025-12-31" in err and "ledgerlight demo extend --months 12" in err
    assert len(err.strip().splitlines()) == 1  # one line, no traceback

    assert main(["demo", "extend", "--months", "4", "--customers", "1500"]) == 0
    out = capsys.readouterr().out
    assert f"refreshed the back-test of risk/{served['version']} (Monitoring page)" in out

    assert main(["risk", "backtest", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "risk" and doc["version"] == served["version"] and doc["has_true_pd"] is True
    assert (doc["first_month"], doc["last_month"]) == ("2026-01", "2026-04")
    assert [m["month"] for m in doc["months"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert set(doc["months"][0]) >= {
        "n",
        "defaults",
        "mean_pd",
        "realised",
        "calibration_in_the_large",
        "roc_auc",
        "psi",
        "psi_status",
        "true_pd",
    }
    assert set(doc["bands"][0]) >= {
        "band",
        "n",
        "mean_pd",
        "realised",
        "jeffreys_low",
        "jeffreys_high",
        "p_value",
        "light",
        "true_pd",
    }
    assert sum(b["n"] for b in doc["bands"]) == doc["later_loans"] == sum(m["n"] for m in doc["months"])
    assert sum(r["n"] for r in doc["month_bands"]) == doc["later_loans"]
    assert {b["light"] for b in doc["bands"]} <= {"green", "amber", "red"}
    assert read_evidence("risk", served["version"], risk.BACKTEST_KIND, served["url"]) == doc

    assert main(["risk", "backtest"]) == 0
    table = capsys.readouterr().out
    assert "band       n  mean PD realised" in table and "green p >= 0.05" in table.lower()
    assert main(["risk", "backtest", "--version", "19990101T000000Z"]) == 2
    assert "ledgerlight: error:" in capsys.readouterr().err


def test_load_loans_refreshes_the_back_test_without_truth(
    served: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loans = read_bank(served["url"]).loans
    later = loans.sample(300, random_state=1).assign(
        loan_id=lambda d: range(int(loans["loan_id"].max()) + 1, int(loans["loan_id"].max()) + 301),
        issued_at=pd.Timestamp("2026-02-10 09:30:00"),
    )
    later.to_csv(tmp_path / "later.csv", index=False)
    assert main(["load", "loans", str(tmp_path / "later.csv")]) == 0
    out = capsys.readouterr().out
    assert "stored 300 rows" in out and f"refreshed the back-test of risk/{served['version']}" in out
    doc = read_evidence("risk", served["version"], risk.BACKTEST_KIND, served["url"])
    assert doc["later_loans"] == 300 and [m["month"] for m in doc["months"]] == ["2026-02"]
    assert (
        doc["has_true_pd"] is False and doc["overall"]["true_pd"] is None
    )  # loans of your own carry no truth
    assert doc["overall"]["realised"] == pytest.approx(later["defaulted"].mean())
