"""``segments evaluate``: the evidence for k, quality and the ARI against the demo bank's true personas."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bankdata import Bank
from ledgerlight.cli import main
from segmentation import bank_features
from segmentation.evaluate import evaluate_bank, evaluate_features, true_personas
from segmentation.selection import STABLE_ARI

ARI_FLOOR = 0.65
"""Segments recover the six overlapping personas of a small demo bank at least this well (chance is 0; before the
count-based mixes and the gap statistic, about 0.4)."""


@pytest.fixture(scope="module")
def report(small_bank: Bank) -> dict:
    return evaluate_bank(small_bank, quick=True)


def test_segments_recover_the_true_personas(report: dict) -> None:
    assert report["true_personas"] == 6
    assert report["ari_personas"] >= ARI_FLOOR
    assert (
        report["ari_personas"] > report["comparison"]["gaussian_mixture"]["ari_personas"]
    )  # K-Means earns its place
    assert -1 <= report["silhouette"] <= 1 and report["davies_bouldin"] > 0


def test_k_follows_the_gap_rule_on_the_reported_evidence(report: dict) -> None:
    table = pd.DataFrame(report["selection"]).set_index("k")
    stable = table[table["stability"] >= STABLE_ARI]
    assert len(stable), "the small demo bank has stable candidates"
    ks = list(table.index)
    within = [
        k for k in stable.index if ks.index(k) + 1 < len(ks)
        and table.loc[k, "gap"] >= table.loc[ks[ks.index(k) + 1], "gap"] - table.loc[ks[ks.index(k) + 1], "gap_se"]
    ]  # fmt: skip
    expected = within[0] if within else int(stable["gap"].idxmax())  # else the gap rose over the whole range
    assert report["k"] == expected
    assert report["stability"] == pytest.approx(table.loc[report["k"], "stability"])
    assert "gap statistic" in report["k_rule"]


def test_the_truth_never_decides_k(small_bank: Bank, report: dict) -> None:
    features = bank_features(small_bank)
    shuffled = true_personas(small_bank, features.index).sample(frac=1.0, random_state=0)
    blind = evaluate_features(features, None, quick=True)
    scrambled = evaluate_features(features, shuffled.set_axis(features.index), quick=True)
    assert blind["k"] == scrambled["k"] == report["k"]
    assert "ari_personas" not in blind and "ari_personas" not in blind["comparison"]["gaussian_mixture"]
    assert abs(scrambled["ari_personas"]) < 0.05  # a scrambled truth scores as chance


def test_evaluate_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "evaluate", "--demo-customers", "600", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"data", "customers", "k", "k_rule", "silhouette", "davies_bouldin", "stability", "ari_personas",
            "true_personas", "comparison", "selection", "seconds"} <= out.keys()  # fmt: skip
    assert out["customers"] == 600 and out["data"] == "demo bank (600 customers, seed 42)"
    assert [row["k"] for row in out["selection"]] == list(range(2, 8))
    assert {"silhouette", "davies_bouldin", "stability", "gap", "gap_se"} <= out["selection"][0].keys()


def test_evaluate_command_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "evaluate", "--demo-customers", "400", "--quick", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert (
        "demo bank (400 customers, seed 3)" in out
        and "<- chosen" in out
        and "ARI vs the 6 true personas" in out
    )


@pytest.mark.parametrize("n", ["0", "-5", "99"])
def test_too_few_demo_customers_is_a_clear_error(n: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segments", "evaluate", "--demo-customers", n, "--json"]) == 2
    captured = capsys.readouterr()
    assert f"--demo-customers must be at least 100; got {n}" in captured.err and captured.out == ""
