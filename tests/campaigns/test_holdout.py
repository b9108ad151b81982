"""The stratified random holdout: its share in every segment, its randomness and its validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from campaigns import DEFAULT_CONTROL_SHARE, assign_holdout


def test_every_segment_is_held_out_at_the_share() -> None:
    segments = pd.Series(["a"] * 1000 + ["b"] * 333 + ["c"] * 57 + [None] * 20)
    treated = assign_holdout(segments, 0.2, seed=3)
    for label, members in segments.fillna("(missing)").groupby(segments.fillna("(missing)")).groups.items():
        control = int((~treated[np.asarray(members)]).sum())
        assert control == round(0.2 * len(members)), label


def test_default_share_is_ten_percent_and_seeded() -> None:
    segments = np.repeat(["x", "y"], 500)
    first = assign_holdout(segments)
    assert DEFAULT_CONTROL_SHARE == 0.1
    assert (~first).sum() == 100
    assert np.array_equal(first, assign_holdout(segments))
    assert not np.array_equal(first, assign_holdout(segments, seed=1))


def test_the_holdout_is_random_within_a_segment() -> None:
    segments = np.zeros(10_000, dtype=int)
    control = np.flatnonzero(~assign_holdout(segments, 0.1, seed=5))
    assert abs(np.mean(control < 5_000) - 0.5) < 0.05  # not the first tenth, spread over the segment


def test_a_two_customer_segment_keeps_one_in_each_arm() -> None:
    treated = assign_holdout(np.array(["big"] * 100 + ["pair"] * 2), 0.1)
    assert treated[-2:].sum() == 1


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1, float("nan"), True, "0.1"])
def test_bad_shares_are_refused(share: object) -> None:
    with pytest.raises(ValueError, match="control share"):
        assign_holdout(np.zeros(10), share)  # type: ignore[arg-type]
