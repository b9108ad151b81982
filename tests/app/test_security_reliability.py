"""Reliability on loopback: a worker killed mid-load, a corrupt checkpoint, an unreachable database, hostile uploads
and formula cells in exports. The gunicorn test is bounded (about 30 s) and marked ``slow``."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from bankdata import DataValidationError, load_table, read_tabular

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------ gunicorn


@pytest.mark.slow
def test_killing_a_worker_mid_load_fails_only_in_flight_requests_and_loses_no_audit_row(
    tmp_path: Path,
) -> None:
    from bench import bench_load as load

    dep = load.prepare(tmp_path / "deploy", customers=1_000, seed=3)
    proc = load.start_gunicorn(dep, load.free_port(), workers=2, threads=2)
    try:
        base = f"http://127.0.0.1:{proc.args[proc.args.index('--bind') + 1].split(':')[1]}"
        sessions = [load.sign_in(base, "risk", dep.passwords["risk"]) for _ in range(4)]
        kinds = ("cutoff_callback", "overview_callback", "dash_layout", "cutoff_callback")
        for n, session in enumerate(
            sessions
        ):  # both workers read the bank and the model before the clock starts
            for kind in kinds:
                assert load.one_request(session, base, kind, n).status == 200
        before = load.worker_pids(proc)
        assert len(before) == 2
        killed: list[float] = []

        def kill_one() -> None:
            time.sleep(4)
            killed.append(time.perf_counter())
            os.kill(before[0], signal.SIGKILL)

        threading.Thread(target=kill_one, daemon=True).start()
        audit_before = load.audit_count(dep.database_url, "change_cutoff")
        run = load.run_load(base, sessions, seconds=12, kinds=kinds)
        audited = load.audit_count(dep.database_url, "change_cutoff") - audit_before

        failed = run.failed()
        assert killed, "the worker was not killed"
        assert len(failed) <= len(sessions), f"more failures than requests in flight: {failed}"
        assert all(abs(s.started - killed[0]) < 60 for s in failed)
        assert run.ok() > 50, "the surviving worker should keep serving"
        ok_cutoffs = run.ok("cutoff_callback")
        failed_cutoffs = sum(1 for s in failed if s.kind == "cutoff_callback")
        assert (
            ok_cutoffs <= audited <= ok_cutoffs + failed_cutoffs
        )  # every answered action is in the audit log
        assert load.one_request(sessions[0], base, "healthz", 0).status == 200
        deadline = time.monotonic() + 30
        while len(set(load.worker_pids(proc)) - {before[0]}) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(set(load.worker_pids(proc)) - {before[0]}) == 2, (
            "gunicorn should replace the killed worker"
        )
    finally:
        load.stop(proc)


# ------------------------------------------------------------------------------------------------ bad state


@pytest.fixture()
def corrupt_checkpoints(trained_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the trained checkpoints with the risk model's files overwritten by garbage."""
    from dashapp.services import clear_caches

    copy = tmp_path / "checkpoints"
    shutil.copytree(trained_env.bank_env.checkpoints, copy)
    from bankdata import ArtifactStore

    latest = ArtifactStore(copy).latest("risk")  # other tests may have trained or promoted newer versions
    for file in (copy / "risk" / latest).iterdir():
        if file.name != "metadata.json":
            file.write_bytes(b"not a model")
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(copy))
    clear_caches()
    yield copy
    clear_caches()


def test_a_corrupt_checkpoint_gives_a_clear_card_not_a_crash(client, corrupt_checkpoints) -> None:
    from tests.app.test_shell import find_ids, render_path

    page = render_path(client, "/risk")
    text = str(page)
    assert "not ready yet" in text and "risk" in text
    assert "Traceback" not in text
    assert "risk-metrics" not in find_ids(page)
    assert client.get("/healthz").status_code == 200  # the database still answers


def test_a_callback_on_a_corrupt_checkpoint_answers_503_with_a_message(client, corrupt_checkpoints) -> None:
    from bench.bench_load import cutoff_body

    client.get("/")
    response = client.post("/_dash-update-component", json=cutoff_body(0.2))
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "Model unavailable" and "risk" in body["message"] and body["request_id"]


UNREACHABLE = "postgresql+psycopg://ledger:s3cret-pw@127.0.0.1:9/ledger?connect_timeout=2"


def test_an_unreachable_database_gives_healthz_503_without_the_password(dash_app, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    response = dash_app.server.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == {"reachable": False, "backend": "postgresql"}
    assert "s3cret" not in response.get_data(as_text=True)


def test_an_unreachable_database_gives_a_clear_page_to_a_signed_in_user(dash_app, monkeypatch) -> None:
    client = dash_app.server.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "a-session-token-that-only-the-database-could-check"
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    page = client.get("/")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "Database unavailable" in text and "s3cret" not in text and "Traceback" not in text
    assert client.get("/_dash-layout").status_code == 503
    login = client.get("/login")  # the session's user cannot be checked either: the same clear page
    assert login.status_code == 503 and "Database unavailable" in login.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ uploads


def test_a_malformed_csv_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "loans.csv"
    path.write_text('loan_id,amount\n1,100\n2,"unterminated\n3,300,extra,cells\n', encoding="utf-8")
    with pytest.raises(DataValidationError, match="loans.csv"):
        load_table(path, "loans")


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,2\n" * 5_000, encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"big.csv.*too large.*limit"):
        read_tabular(path, max_bytes=10_000)


def test_a_file_in_the_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id,region\n1,North\n2,Zürich\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"customers.csv.*(UTF-8|utf-8).*line 3"):
        read_tabular(path)


def test_a_million_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(1_000_000))
    path.write_text(header + "\n" + ",".join("1" for _ in range(10)) + "\n", encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(DataValidationError, match=r"wide.csv.*too many columns \(1,000,000"):
        read_tabular(path)
    assert time.perf_counter() - started < 20


def test_an_empty_file_and_an_unknown_type_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataValidationError, match="empty.csv.*empty"):
        read_tabular(empty)
    exe = tmp_path / "payload.exe"
    exe.write_bytes(b"MZ\x90\x00")
    with pytest.raises(DataValidationError, match="payload.exe.*unsupported file type"):
        read_tabular(exe)


# ------------------------------------------------------------------------------------------------ exports

HOSTILE = ["=CMD()", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", '=HYPERLINK("http://x")', "plain", None]


def test_safe_csv_neutralises_every_formula_cell() -> None:
    import base64

    from dashapp.components import safe_csv

    frame = pd.DataFrame({"name": pd.Series(HOSTILE, dtype="str"), "n": range(len(HOSTILE))})
    sent = safe_csv(frame, "x.csv")
    content = sent["content"] if not sent.get("base64") else base64.b64decode(sent["content"]).decode()
    back = pd.read_csv(pd.io.common.StringIO(content), keep_default_na=False)
    cells = back["Name"].tolist()  # headers in words (the label map)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    assert "'=CMD()" in cells and "plain" in cells
    assert back["N"].tolist() == list(range(len(HOSTILE)))  # numbers stay numbers
    assert frame["name"].iloc[0] == "=CMD()"  # the caller's frame is untouched


def test_csv_exports_have_headers_in_words_and_values_as_stored() -> None:
    from dashapp.components.export import csv_frame

    frame = pd.DataFrame(
        {
            "customer_id": [7],
            "dti": [0.31],
            "employment": ["self_employed"],
            "spend_dining": [0.2],
            "x_y": [1],
        }
    )
    out = csv_frame(frame)
    assert list(out.columns) == [
        "Customer id",
        "Debt-to-income ratio",
        "Employment",
        "Share of spending on dining",
        "X y",
    ]
    assert out["Employment"].tolist() == ["self_employed"] and list(frame.columns)[0] == "customer_id"


def test_every_csv_export_in_the_app_goes_through_safe_csv() -> None:
    offenders = []
    for path in sorted((ROOT / "dashapp").rglob("*.py")):
        if path.name == "export.py":
            continue
        if "send_data_frame" in path.read_text(encoding="utf-8"):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"CSV exports that bypass dashapp.components.safe_csv: {offenders}"
