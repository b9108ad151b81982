"""ALS's and EASE's settings are chosen on a validation split of the training side only, and then beat popularity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import recsys.evaluate as evaluate
from bankdata import generate_bank
from recsys import bank_interactions
from recsys.als import ALSRecommender, reweight
from recsys.ease import EASERecommender
from recsys.evaluate import default_grids, default_models, evaluate_models
from recsys.features import customer_side_features
from recsys.popularity import PopularityRecommender
from recsys.split import per_user_random_split
from recsys.tuning import select_params, validation_split


def _pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["user_id"].tolist(), frame["item_id"].tolist(), strict=True))


def _matrix_pairs(matrix) -> set[tuple[int, int]]:
    coo = matrix.matrix.tocoo()
    return set(zip(matrix.user_ids[coo.row].tolist(), matrix.item_ids[coo.col].tolist(), strict=True))


@pytest.fixture(scope="module")
def frame(small_bank) -> pd.DataFrame:
    log = bank_interactions(small_bank)
    return log[log["user_id"] <= 1_000].reset_index(drop=True)


@pytest.mark.parametrize(
    ("name", "model", "grid"),
    [
        ("als", ALSRecommender(iterations=2, n_jobs=1), [{"factors": 4, "regularization": r} for r in (1.0, 100.0)]),
        ("ease", EASERecommender(), [{"regularization": r, "side_features": s} for r in (10.0, 1e4) for s in (True, False)]),
    ],
)  # fmt: skip
def test_selection_never_sees_a_test_pair(
    frame: pd.DataFrame, small_bank, monkeypatch: pytest.MonkeyPatch, name: str, model, grid: list
) -> None:
    """Every fit and every scoring of the selection stays inside the evaluation's training side."""
    seen: list[tuple[set, set]] = []
    real = evaluate.evaluate_recommender

    def spy(model, train, test, **kwargs):
        seen.append((_matrix_pairs(train), _pairs(test)))
        return real(model, train, test, **kwargs)

    monkeypatch.setattr(evaluate, "evaluate_recommender", spy)
    side = customer_side_features(small_bank.customers)
    report = evaluate_models(frame, {name: model}, k=5, seed=3, grids={name: grid}, user_features=side)

    train, test = per_user_random_split(frame, test_fraction=0.25, seed=3)
    test_pairs, train_pairs = _pairs(test), _pairs(train)
    assert len(seen) == len(grid) + 1  # one validation fit per candidate, then the test fit
    for fitted, scored in seen[: len(grid)]:
        assert fitted and scored
        assert not (fitted | scored) & test_pairs
        assert (fitted | scored) <= train_pairs and not fitted & scored
    assert seen[-1][1] == test_pairs - {p for p in test_pairs if p[0] not in {q[0] for q in train_pairs}}
    assert report["tuning"][name]["chosen"] in grid
    assert len(report["tuning"][name]["candidates"]) == len(grid)
    scores = [c["ndcg"] for c in report["tuning"][name]["candidates"]]
    assert report["tuning"][name]["chosen"] == grid[int(np.argmax(scores))]


def test_validation_split_partitions_the_training_side(frame: pd.DataFrame) -> None:
    train, _ = per_user_random_split(frame, seed=1)
    fit, val = validation_split(train, seed=1)
    assert _pairs(fit) | _pairs(val) == _pairs(train) and not _pairs(fit) & _pairs(val)
    sampled_fit, sampled_val = validation_split(train, seed=1, max_users=100)
    assert pd.concat([sampled_fit, sampled_val])["user_id"].nunique() == 100


def test_selection_picks_the_best_candidate_on_validation(frame: pd.DataFrame) -> None:
    train, _ = per_user_random_split(frame, seed=2)
    grid = [{"factors": 2, "regularization": 1e4}, {"factors": 8, "regularization": 100.0}]
    out = select_params(ALSRecommender(iterations=3, n_jobs=1), grid, train, k=5, seed=2)
    scores = [c["ndcg"] for c in out["candidates"]]
    assert out["chosen"] == grid[int(np.argmax(scores))] and out["validation_ndcg"] == max(scores)
    with pytest.raises(ValueError, match="at least one"):
        select_params(ALSRecommender(), [], train, k=5)


def test_reweighting_keeps_every_interaction_positive() -> None:
    matrix = sp.csr_matrix(np.array([[1.0, 8.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 0.0, 4.0]]))
    assert reweight(matrix, "none") is matrix
    for weighting in ("bm25", "tfidf"):
        out = reweight(matrix, weighting)
        assert (out != 0).toarray().tolist() == (matrix != 0).toarray().tolist()
        assert out.data.min() > 0
        # a user who touched the whole catalogue says little about any one item: idf per user
        assert out[1].data.max() < out[0].data.min()
    with pytest.raises(ValueError, match="unknown weighting"):
        reweight(matrix, "idf")


@pytest.mark.parametrize("seed", [11, 12])
def test_tuned_als_beats_popularity_on_a_small_demo_bank(seed: int) -> None:
    bank = generate_bank(n_customers=2_000, seed=seed)
    models = default_models(len(bank.products))
    report = evaluate_models(
        bank_interactions(bank),
        {"popularity": PopularityRecommender(), "als": models["als"]},
        k=5,
        seed=seed,
        grids=default_grids(len(bank.products)),
    )
    ndcg = {name: m["ndcg@5"] for name, m in report["models"].items()}
    assert ndcg["als"] > ndcg["popularity"] + 0.01, ndcg


def test_file_command_reports_the_settings_chosen_on_validation(tmp_path, capsys) -> None:
    from ledgerlight.cli import main

    rng = np.random.default_rng(1)
    rows = [(u, int(i)) for u in range(60) for i in rng.choice(8, 4, replace=False)]
    path = tmp_path / "holdings.csv"
    pd.DataFrame(rows, columns=["customer", "product"]).to_csv(path, index=False)
    argv = ["recsys", "evaluate", "--interactions", str(path), "--user", "customer", "--item", "product",
            "--k", "3", "--quick"]  # fmt: skip
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tuning"]["als"]["chosen"] in default_grids(8)["als"]
    assert main([*argv, "--json", "--no-tune"]) == 0
    assert json.loads(capsys.readouterr().out)["tuning"] == {}
    assert main(argv) == 0
    assert (
        "als settings chosen on a validation split of the training side: weighting" in capsys.readouterr().out
    )
