"""Segment profiles against the base, and readable automatic names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.naming import name_segment, name_segments
from segmentation.profiles import segment_profiles


@pytest.fixture()
def frame() -> tuple[pd.DataFrame, np.ndarray]:
    features = pd.DataFrame(
        {
            "age": [22, 25, 24, 70, 68, 72],
            "income": [30e3, 26e3, 28e3, 28e3, 30e3, 26e3],
            "monetary": [900.0, 1100.0, 1000.0, 100.0, 50.0, 150.0],
            "channel_mobile": [0.9, 0.8, 0.85, 0.1, 0.0, 0.05],
            "channel_branch": [0.1, 0.2, 0.15, 0.9, 1.0, 0.95],
        }
    )
    return features, np.array([0, 0, 0, 1, 1, 1])


def test_profiles_sizes_revenue_and_stats(frame) -> None:
    features, labels = frame
    p = segment_profiles(features, labels)
    assert p.summary["size"].tolist() == [3, 3]
    assert p.summary["revenue_share"].tolist() == pytest.approx([3000 / 3300, 300 / 3300])
    row = p.stats.set_index(["segment", "feature"]).loc[(1, "age")]
    assert row["mean"] == 70.0 and row["median"] == 70.0
    assert row["base_mean"] == pytest.approx(features["age"].mean())
    assert row["z"] > 0.9
    assert p.summary.loc[0, "distinctive"].count(";") == 2


def test_names_read_like_people(frame) -> None:
    names = name_segments(segment_profiles(*frame).stats)
    assert names[0] == "Young digital big spenders"
    assert names[1] == "Senior branch light spenders"


def test_duplicate_names_are_told_apart() -> None:
    stats = pd.DataFrame({"segment": [0, 1], "feature": ["age", "age"], "z": [-1.0, -1.2]})
    names = name_segments(stats)
    assert len(set(names.values())) == 2
    assert all(n.startswith("Young customers") for n in names.values())


def test_a_featureless_segment_gets_a_neutral_name() -> None:
    assert name_segment(pd.Series({"age": 0.1, "income": -0.1})) == "Customers"


def test_profiles_reject_mismatched_labels(frame) -> None:
    with pytest.raises(ValueError, match="labels has 2 rows"):
        segment_profiles(frame[0], np.array([0, 1]))
