"""Training on the demo bank, the saved artifact, serving, business rules, explanations and the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from bankdata import ArtifactError
from ledgerlight.cli import main
from recsys import (
    MFRecommender,
    RecsysModels,
    also_took,
    blocked_mask,
    cooccurrence,
    customer_side_features,
    customers_in_bands,
    explain,
    train_from_bank,
)


@pytest.fixture(scope="module")
def trained(small_bank, tmp_path_factory):
    from bankdata import ArtifactStore

    store = ArtifactStore(tmp_path_factory.mktemp("recsys-store"))
    art = train_from_bank(small_bank, store, quick=True)
    return store, art, RecsysModels.from_artifact(store.load("recsys"))


def test_artifact_holds_factors_state_dict_and_metrics(trained) -> None:
    store, art, models = trained
    files = {p.name for p in art.path.iterdir()}
    assert {
        "popularity.npz",
        "als.npz",
        "mf.npz",
        "ease.npz",
        "mf.pt",
        "catalogue.json",
        "metadata.json",
    } <= files
    for name in ("als.npz", "mf.npz"):
        with np.load(art.path / name, allow_pickle=False) as data:
            assert data["item_ids"].dtype == np.int64
    state = MFRecommender.load_state_dict(art.path / "mf.pt")
    assert state["item.weight"].shape == (12, models.models["mf"].factors)
    metrics = art.metadata["metrics"]
    assert set(metrics["models"]) == {"popularity", "als", "mf", "ease"}
    k = metrics["k"]
    oracle = metrics["oracle"][f"ndcg@{k}"]
    for m in metrics["models"].values():
        assert 0 < m[f"ndcg@{k}"] <= oracle + 0.05
    assert set(models.models) == {"popularity", "als", "mf", "ease"}  # every saved model is served


def test_an_old_version_without_ease_still_loads(trained, tmp_path) -> None:
    _, art, _ = trained
    old = tmp_path / "old"
    shutil.copytree(art.path, old)
    (old / "ease.npz").unlink()
    loaded = RecsysModels.from_artifact(type(art)(art.model, art.version, old, art.metadata))
    assert set(loaded.models) == {"popularity", "als", "mf"}
    assert loaded.best in loaded.models
    assert len(loaded.recommend(int(loaded.models["mf"].user_ids_[0]), 3)) == 3


def test_state_dict_refuses_pickled_code(tmp_path) -> None:
    class Evil:
        def __reduce__(self):
            return (print, ("boom",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(Exception, match="(?i)weights_only|unsupported|global"):
        MFRecommender.load_state_dict(path)


def test_a_corrupt_artifact_file_is_named(trained, tmp_path) -> None:
    from bankdata import ArtifactStore

    store, art, _ = trained
    (art.path / "als.npz").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="als.npz"):
        RecsysModels.from_artifact(ArtifactStore(store.root).load("recsys"))


def test_serving_never_recommends_held_products(small_bank, trained) -> None:
    _, _, models = trained
    held = small_bank.held_products()
    side = customer_side_features(small_bank.customers)
    for customer in held["customer_id"].unique()[:40]:
        owned = set(held.loc[held["customer_id"] == customer, "product_id"])
        for name, frame in models.compare(int(customer), 12, user_features=side).items():
            assert not owned & set(frame["product_id"]), name
            assert len(frame) == 12 - len(owned)


def test_cold_start_customers_get_sensible_products(small_bank, trained) -> None:
    """A customer with no history is served from side features: better than random against the true affinity."""
    _, _, models = trained
    side = customer_side_features(small_bank.customers)
    truth = small_bank.truth.affinity.pivot(index="customer_id", columns="product_id", values="affinity")
    rng = np.random.default_rng(0)
    sample = rng.choice(small_bank.customers["customer_id"].to_numpy(), 300, replace=False)
    new_ids = sample + 10_000_000  # unknown ids: no history at all
    features = side.loc[sample].set_axis(new_ids)
    items, _ = models.models["mf"].recommend(new_ids, 3, user_features=features)
    top = np.array([truth.loc[c, items[r]].mean() for r, c in enumerate(sample)])
    mean = truth.loc[sample].to_numpy().mean(axis=1)
    assert (items >= 0).all()
    assert top.mean() > mean.mean() + 0.05
    reason = models.recommend(int(new_ids[0]), 1, user_features=features)["reason"].iloc[0]
    assert reason.startswith("Suggested for customers with") or reason.startswith("Popular")


def test_credit_block_and_campaign(small_bank, trained) -> None:
    _, _, models = trained
    side = customer_side_features(small_bank.customers)
    bands = pd.DataFrame({"customer_id": [1, 2, 3, 4], "band": ["A", "E", "E", "D"]})
    blocked = customers_in_bands(bands, {"E"})
    assert blocked.tolist() == [2, 3]
    assert customers_in_bands({1: "E", 2: "A"}, {"E"}).tolist() == [1]
    families = models.catalogue.set_index("product_id")["family"]
    frame = models.recommend(2, 12, user_features=side, blocked_customers=blocked)
    assert not {"card", "loan"} & set(families[frame["product_id"]])
    assert {"card", "loan"} & set(families[models.recommend(1, 12, user_features=side)["product_id"]])
    loan = int(models.catalogue.loc[models.catalogue["family"] == "loan", "product_id"].iloc[0])
    listed = models.campaign(loan, 5000, user_features=side, blocked_customers=blocked)
    holders = set(small_bank.held_products().query("product_id == @loan")["customer_id"])
    assert not (holders | {2, 3}) & set(listed["customer_id"])
    assert (np.diff(listed["score"].to_numpy()) <= 1e-9).all()
    mask = blocked_mask([1, 2], ["deposit", "card", "loan"], [2])
    assert mask.tolist() == [[False, False, False], [False, True, True]]


def test_explanations_name_the_linked_product() -> None:
    import scipy.sparse as sp

    held = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]]))
    cooc = cooccurrence(held)
    assert cooc.tolist() == [[3, 2, 1], [2, 2, 0], [1, 0, 2]]
    assert also_took(cooc, np.array([0]), 1) == (0, pytest.approx(2 / 3))
    assert also_took(cooc, np.array([]), 1) is None
    text = explain(item_name="Savings", link=("Current", 2 / 3))
    assert text == "67% of customers who hold Current also took Savings"
    contrib = pd.DataFrame(
        {"feature": ["age_band", "region"], "value": ["25-34", "North"], "contribution": [0.4, -0.1]}
    )
    assert explain(item_name="Card", contributions=contrib) == "Suggested for customers with age band 25-34"
    assert explain(item_name="Card", popularity=0.25) == "Popular: 25% of customers hold Card"


def test_cli_evaluate_a_file_prints_json_for_every_model(tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    rows = [
        (u, int(i), int(rng.integers(1, 6))) for u in range(80) for i in rng.choice(60, 12, replace=False)
    ]
    path = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=["user", "movie", "rating"]).to_csv(path, index=False)
    code = main(["recsys", "evaluate", "--interactions", str(path), "--user", "user", "--item", "movie",
                 "--weight", "rating", "--k", "10", "--quick", "--json"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["models"]) == {"popularity", "als", "mf", "ease"}
    for metrics in report["models"].values():
        assert {"precision@10", "recall@10", "ndcg@10", "map@10", "hit_rate@10", "coverage"} <= set(metrics)


def test_cli_bad_file_exits_2_with_the_problem(tmp_path, capsys) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("user,item,w\n1,2,3\n1,3,-1\n", encoding="utf-8")
    code = main(
        [
            "recsys",
            "evaluate",
            "--interactions",
            str(path),
            "--user",
            "user",
            "--item",
            "item",
            "--weight",
            "w",
        ]
    )
    assert code == 2
    assert "bad.csv: column 'w': negative weights" in capsys.readouterr().err
    assert main(["recsys", "evaluate", "--interactions", str(path), "--user", "user"]) == 2
    assert "--item" in capsys.readouterr().err


def test_side_features_give_missing_income_and_region_a_band_of_their_own(small_bank) -> None:
    customers = small_bank.customers.head(50).copy()
    customers["income"] = customers["income"].astype("float64").where(customers.index % 5 != 0)
    customers["region"] = customers["region"].astype(object).where(customers.index % 7 != 0)
    side = customer_side_features(customers)
    assert (side["income_band"] == "unknown").sum() == customers["income"].isna().sum()
    assert set(side.loc[customers["income"].notna().to_numpy(), "income_band"]) <= {
        "low",
        "lower-middle",
        "middle",
        "upper-middle",
        "high",
    }
    assert (side["region"] == "unknown").sum() == customers["region"].isna().sum()
    assert "nan" not in set(side["region"])
