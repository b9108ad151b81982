"""Interaction files and tables: clear errors for bad input, the confidence matrix, the splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bankdata import DataValidationError
from recsys import EVENT_WEIGHTS, InteractionMatrix, bank_interactions, read_interactions
from recsys.split import per_user_random_split, temporal_split


def _write(tmp_path, text: str, name: str = "log.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_reads_into_the_standard_columns(tmp_path) -> None:
    path = _write(tmp_path, "u,i,w,t\n1,10,2,2024-01-01\n1,11,1,2024-01-02\n2,10,5,2024-01-03\n")
    frame = read_interactions(path, user="u", item="i", weight="w", time="t")
    assert list(frame.columns) == ["user_id", "item_id", "weight", "ts"]
    assert frame["user_id"].tolist() == [1, 1, 2] and frame["weight"].tolist() == [2.0, 1.0, 5.0]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (
            "u,i,w\n1,10,2\n2,11,-1\n3,12,-4\n",
            {"weight": "w"},
            r"log.csv: column 'w': negative weights.* rows 2, 3",
        ),
        ("u,i\n1,10\n,11\n", {}, r"column 'u': missing ids in row 2"),
        ("u,i\n1,10\n2,1.5\n", {}, r"column 'i': non-integer ids .*in row 2"),
        ("u,x\n1,10\n", {}, r"missing column\(s\) 'i'"),
        ("u,i,w\n1,10,\n", {"weight": "w"}, r"column 'w': missing or non-numeric weights in row 1"),
        ("u,i\n", {}, r"log.csv"),
        ("", {}, r"log.csv"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, text, kwargs, message) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DataValidationError, match=message):
        read_interactions(path, user="u", item="i", **kwargs)


def test_missing_file_and_unknown_ids(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        read_interactions(tmp_path / "nope.csv", user="u", item="i")
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [10, 11, 99], "weight": 1.0})
    with pytest.raises(
        DataValidationError, match=r"column 'item_id': ids outside the known users/items in row 3"
    ):
        InteractionMatrix.from_frame(frame, item_ids=[10, 11])


def test_bank_events_weigh_view_click_apply_purchase_in_order(small_bank) -> None:
    assert EVENT_WEIGHTS["view"] < EVENT_WEIGHTS["click"] < EVENT_WEIGHTS["apply"] < EVENT_WEIGHTS["purchase"]
    frame = bank_interactions(small_bank)
    assert len(frame) == len(small_bank.interactions)
    matrix = InteractionMatrix.from_frame(frame)
    # duplicate (customer, product) events keep the strongest weight: a purchase pair has confidence 8
    held = small_bank.held_products().iloc[0]
    row, col = matrix.user_index([held["customer_id"]])[0], matrix.item_index([held["product_id"]])[0]
    assert matrix.matrix[row, col] == EVENT_WEIGHTS["purchase"]


def test_bank_with_an_unknown_event_is_refused(small_bank) -> None:
    import dataclasses

    log = small_bank.interactions.copy()
    log.loc[log.index[3], "event"] = "like"
    bad = dataclasses.replace(small_bank, interactions=log)
    with pytest.raises(DataValidationError, match=r"column 'event': unknown events .* row 4"):
        bank_interactions(bad)


def _log(n_users: int = 40, n_items: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (u, i, 1.0, pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 300))))
        for u in range(n_users)
        for i in rng.choice(n_items, size=int(rng.integers(1, 9)), replace=False)
    ]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "weight", "ts"])


@pytest.mark.parametrize("split", ["random", "temporal"])
def test_splits_keep_pairs_on_one_side_and_hold_out_about_a_quarter(split) -> None:
    log = _log()
    train, test = per_user_random_split(log, seed=1) if split == "random" else temporal_split(log)
    assert len(train) + len(test) == len(log)
    keys = lambda f: set(zip(f["user_id"], f["item_id"], strict=True))  # noqa: E731
    assert not keys(train) & keys(test)
    assert set(test["user_id"]) <= set(train["user_id"])  # every test user keeps history
    sizes = log.groupby("user_id").size()
    expected = sum(min(int(np.floor(n * 0.25 + 0.5)), n - 1) for n in sizes)
    assert len(test) == expected


def test_temporal_split_holds_out_the_latest_items() -> None:
    log = _log()
    train, test = temporal_split(log)
    last_train = train.groupby("user_id")["ts"].max()
    first_test = test.groupby("user_id")["ts"].min()
    assert (first_test >= last_train.reindex(first_test.index)).all()
    with pytest.raises(ValueError, match="--time"):
        temporal_split(log.drop(columns="ts"))
    with pytest.raises(ValueError, match="test_fraction"):
        per_user_random_split(log, test_fraction=1.5)
