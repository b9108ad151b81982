"""One applicant encoded without a DataFrame is encoded exactly as the frame path encodes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bankdata import DataValidationError
from risk.features import MISSING_CATEGORY, FeatureSpec

SPEC = FeatureSpec(
    numeric=["income", "dti", "defaults"],
    categorical={"purpose": ["car", "home", MISSING_CATEGORY], "region": ["north", "south"]},
    fill={"income": 41_000.0, "dti": 0.3, "defaults": 0.0, "purpose": 1.0, "region": 0.0},
)

ROWS = [
    {"income": 52_000, "dti": 0.25, "defaults": 1, "purpose": "car", "region": "south"},
    {
        "income": 52_000.5,
        "dti": np.float32(0.5),
        "defaults": np.int64(2),
        "purpose": "home",
        "region": "north",
    },
    {"income": None, "dti": float("nan"), "defaults": True, "purpose": None, "region": float("nan")},
    {"income": float("inf"), "dti": 0.0, "defaults": False, "purpose": "boat", "region": "east"},
    {
        "income": "61000",
        "dti": "0.4",
        "defaults": 0,
        "purpose": "car",
        "region": "north",
    },  # text: the frame path
    {"income": 10, "dti": 0.1, "defaults": 0, "purpose": 3, "region": "north"},  # a number as a category
]


@pytest.mark.parametrize("row", ROWS)
def test_a_row_encodes_as_its_one_row_frame(row: dict) -> None:
    np.testing.assert_array_equal(SPEC.encode_row(row), SPEC.encode(pd.DataFrame([row])))


def test_missing_values_get_the_fill_and_the_missing_category() -> None:
    x = SPEC.encode_row(ROWS[2])[0]
    assert x[0] == 41_000.0 and x[1] == 0.3 and x[2] == 1.0
    assert x[3] == SPEC.categorical["purpose"].index(MISSING_CATEGORY)
    assert x[4] == SPEC.categorical["region"].index(
        "north"
    )  # NaN is the missing category: unseen, so the fill


def test_bad_rows_fail_as_the_frame_path_does() -> None:
    with pytest.raises(DataValidationError, match="missing feature column"):
        SPEC.encode_row({"income": 1})
    with pytest.raises(DataValidationError, match="numeric column holds text"):
        SPEC.encode_row({**ROWS[0], "dti": "high"})
