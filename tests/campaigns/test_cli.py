"""``ledgerlight campaigns evaluate``: its JSON shape, its text report and its messages for bad input."""

from __future__ import annotations

import json

import pytest

from ledgerlight.cli import main


def test_json_report_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["campaigns", "evaluate", "--demo-customers", "3000", "--seed", "5", "--json", "--cost", "2",
                 "--margin", "50"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert set(report["models"]) == {"uplift", "response", "random"}
    for m in [*report["models"].values(), report["oracle"]]:
        assert isinstance(m["qini"], float)
        assert {"uplift_top_10", "uplift_top_20", "uplift_top_30", "qini_true"} <= set(m)
    assert report["control_share"] == 0.1
    assert report["campaign"]["n_control"] == pytest.approx(0.1 * report["data"]["later_customers"], abs=4)
    assert {"cost_per_incremental", "net"} <= set(report["economics"])
    assert "uplift ranking" in report["note"]


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["campaigns", "evaluate", "--demo-customers", "2000", "--product", "Savings account",
                 "--control-share", "0.25"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "'Savings account'" in out and "25% held out" in out and "oracle" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--control-share", "1.5"], "--control-share"),
        (["--control-share", "0"], "strictly between 0 and 1"),
        (["--product", "Yacht"], "unknown product 'Yacht'"),
        (["--margin", "10"], "--margin needs --cost"),
        (["--cost", "-1"], "--cost must be a non-negative"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["campaigns", "evaluate", "--demo-customers", "2000", *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_too_small_a_bank_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campaigns", "evaluate", "--demo-customers", "50"]) == 2
    assert "at least 1,000" in capsys.readouterr().err
