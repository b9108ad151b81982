"""The stage progress bar: estimates from the last run here, scaled to the bank, and the stages' names shown."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ledgerlight import progress
from ledgerlight.progress import StageProgress, estimate_seconds


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path))
    return tmp_path


def test_an_estimate_is_the_last_run_here_scaled_to_the_bank(monkeypatch: pytest.MonkeyPatch) -> None:
    assert estimate_seconds("risk", 50_000) == pytest.approx(progress.DEFAULT_SECONDS_PER_1K["risk"] * 50)
    clock = iter([100.0, 112.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock, 112.0))
    with StageProgress(["risk"], 10_000, disable=True) as bar, bar.stage("risk"):
        pass
    assert estimate_seconds("risk", 50_000) == pytest.approx(60.0)  # 12 s at 10k -> 60 s at 50k


def test_a_failed_stage_records_no_time_and_an_unknown_stage_is_refused() -> None:
    with StageProgress(["segments"], 1_000, disable=True) as bar:
        with pytest.raises(RuntimeError), bar.stage("segments"):
            raise RuntimeError("training failed")
        with pytest.raises(ValueError, match="unknown stage 'recsys'"), bar.stage("recsys"):
            pass
    assert estimate_seconds("segments", 1_000) == pytest.approx(progress.DEFAULT_SECONDS_PER_1K["segments"])


def test_the_bar_names_the_stage_and_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    with StageProgress(["demo bank", "risk"], 2_000, disable=False) as bar:
        with bar.stage("demo bank"):
            pass
        with bar.stage("risk"):
            pass
    text = out.getvalue()
    assert "1/2 demo bank" in text and "2/2 risk" in text and "left" in text
