"""Fairness metrics against hand-computed cases, and the protected attributes stay out of the features."""

from __future__ import annotations

import json

import numpy as np
import pytest

import risk
from risk import fairness
from risk.fairness import age_band, check_protected_excluded, fairness_report, group_table, protected_groups

# group a: 4 rows, group b: 4 rows; decline when p >= 0.5
Y = np.array([1, 0, 0, 1, 1, 1, 0, 0])
P = np.array([0.9, 0.6, 0.1, 0.2, 0.7, 0.8, 0.3, 0.2])
G = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])


def test_group_rates_hand_computed() -> None:
    table, ref = group_table(Y, P, G, 0.5, reference="a")
    a, b = (table.set_index("group").loc[g] for g in ("a", "b"))
    # a: declined 0.9 (bad), 0.6 (good); approved 0.1 (good), 0.2 (bad)
    assert a["approval_rate"] == pytest.approx(0.5) and a["default_rate"] == pytest.approx(0.5)
    assert a["tpr"] == pytest.approx(0.5) and a["fpr"] == pytest.approx(0.5)
    # b: declined 0.7, 0.8 (both bad); approved 0.3, 0.2 (good)
    assert b["approval_rate"] == pytest.approx(0.5) and b["tpr"] == pytest.approx(1.0) and b["fpr"] == 0.0
    assert ref == "a"
    assert b["di_ratio"] == pytest.approx(1.0) and b["eo_gap"] == pytest.approx(0.5) and not b["flag"]


def test_disparate_impact_flags_below_four_fifths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fairness, "MIN_REFERENCE_ROWS", 1)
    y = np.zeros(10, dtype=int)
    y[[0, 5]] = 1
    p = np.array([0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1])
    g = np.array(["x"] * 5 + ["z"] * 5)
    table, ref = group_table(y, p, g, 0.5)
    rows = table.set_index("group")
    # x approves 4/5 = 0.8, z approves 2/5 = 0.4: reference x (most favoured), z's ratio 0.5 -> flagged
    assert ref == "x" and rows.loc["z", "di_ratio"] == pytest.approx(0.5) and rows.loc["z", "flag"]
    assert rows.loc["x", "di_ratio"] == pytest.approx(1.0) and not rows.loc["x", "flag"]
    # both defaults declined -> TPR 1 in each: equal opportunity holds although approval differs
    assert rows.loc["z", "eo_gap"] == pytest.approx(0.0)
    # z has 4 good loans, 2 declined -> FPR 1/2
    assert rows.loc["z", "fpr"] == pytest.approx(0.5)


def test_reference_skips_tiny_groups() -> None:
    # a tiny group that approves everyone is not the reference; the most favoured group of >= 30 rows is
    g = np.array(["tiny"] * 3 + ["big"] * 40 + ["mid"] * 30)
    p = np.r_[np.zeros(3), np.full(20, 0.9), np.full(20, 0.1), np.full(30, 0.1)]
    y = np.r_[np.zeros(3), np.r_[1, np.zeros(39)], np.r_[1, np.zeros(29)]].astype(int)
    table, ref = group_table(y, p, g, 0.5)
    # mid approves 30/30 and is the reference although big is larger; big approves 20/40
    assert ref == "mid" and table.set_index("group").loc["big", "di_ratio"] == pytest.approx(0.5)
    assert table["group"].tolist() == ["big", "mid", "tiny"]


def test_report_is_json_and_names_flags() -> None:
    report = fairness_report(Y, P, {"grp": G}, 0.75)
    text = json.dumps(report)
    assert json.loads(text)["attributes"]["grp"]["flagged"] == report["attributes"]["grp"]["flagged"]
    # at 0.75: a approves 3/4, b approves 3/4 -> nothing flagged, ratio 1
    assert report["attributes"]["grp"]["min_di_ratio"] == pytest.approx(1.0)
    assert report["attributes"]["grp"]["flagged"] == []


def test_a_group_without_defaults_has_no_tpr() -> None:
    table, _ = group_table(np.array([0, 0, 1]), np.array([0.6, 0.1, 0.9]), np.array(["a", "a", "b"]), 0.5)
    assert np.isnan(table.set_index("group").loc["a", "tpr"])
    report = fairness_report(
        np.array([0, 0, 1]), np.array([0.6, 0.1, 0.9]), {"g": np.array(["a", "a", "b"])}, 0.5
    )
    json.dumps(report, allow_nan=False)  # NaN becomes null


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="equally long"):
        group_table(Y, P[:3], G, 0.5)
    with pytest.raises(ValueError, match="reference group 'q'"):
        group_table(Y, P, G, 0.5, reference="q")
    with pytest.raises(ValueError, match="threshold"):
        group_table(Y, P, G, 1.5)


def test_age_bands() -> None:
    bands = age_band(np.array([18, 24.9, 25, 34, 35, 49, 50, 64, 65, 90, np.nan]))
    assert bands.tolist() == [
        "<25",
        "<25",
        "25-34",
        "25-34",
        "35-49",
        "35-49",
        "50-64",
        "50-64",
        "65+",
        "65+",
        "unknown",
    ]


def test_protected_attributes_stay_out_of_the_model_features(small_bank) -> None:
    book = risk.prepare_loan_book(risk.loan_frame(small_bank), "defaulted", "1")
    assert {"age", "gender"} <= set(book.spec.protected)
    check_protected_excluded(book.spec.features, book.spec.protected)
    with pytest.raises(ValueError, match="gender"):
        check_protected_excluded([*book.spec.features, "gender"])
    groups = protected_groups(book.frame, book.spec.protected)
    assert set(groups) == {"age_band", "gender"} and set(groups["gender"]) == {"F", "M"}
