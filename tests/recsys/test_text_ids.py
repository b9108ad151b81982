"""Text ids (customer codes, product codes such as CC-GOLD) through the file commands, the models and their files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankdata import DataValidationError
from ledgerlight.cli import main
from recsys import ALSRecommender, InteractionMatrix, MFRecommender, PopularityRecommender, Recommender
from recsys.interactions import lookup_ids, read_interactions
from recsys.split import per_user_random_split, temporal_split

PRODUCTS = ("CC-GOLD", "CC-CLASSIC", "MTG-FIX5", "MTG-VAR", "INS-HOME", "INS-LIFE", "DEP-SAVE", "INV-FUND")


def holdings(n_customers: int = 120, seed: int = 0) -> pd.DataFrame:
    """A product holdings file as banks keep it: customer code, product code, number of policies.

    Two tastes: even customers hold cards and mortgages, odd ones insurance, savings and funds.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        liked = PRODUCTS[:4] if c % 2 == 0 else PRODUCTS[4:]
        for product in rng.choice(liked, size=3, replace=False):
            rows.append((f"CUST-{c:05d}", str(product), int(rng.integers(1, 4))))
    return pd.DataFrame(rows, columns=["customer", "product", "policies"])


@pytest.fixture()
def holdings_file(tmp_path: Path) -> Path:
    path = tmp_path / "holdings.csv"
    holdings().to_csv(path, index=False)
    return path


def test_the_issue_holdings_file_reads_with_text_ids(holdings_file: Path) -> None:
    frame = read_interactions(holdings_file, user="customer", item="product", weight="policies")
    assert frame["user_id"].iloc[0] == "CUST-00000"
    assert set(frame["item_id"]) <= set(PRODUCTS)
    assert frame["weight"].between(1, 3).all()


def test_missing_text_ids_are_refused_with_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "holdings.csv"
    path.write_text("customer,product\nC1,CC-GOLD\nC2,\nC3,  \n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"column 'product': missing ids in rows 2, 3"):
        read_interactions(path, user="customer", item="product")


def test_a_numeric_column_with_fractions_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("u,i\nA,10\nB,1.5\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"column 'i': non-integer ids .*in row 2"):
        read_interactions(path, user="u", item="i")


def test_the_matrix_keeps_text_vocabularies_as_unicode_arrays() -> None:
    frame = holdings().rename(columns={"customer": "user_id", "product": "item_id", "policies": "weight"})
    matrix = InteractionMatrix.from_frame(frame)
    assert matrix.item_ids.dtype.kind == "U" and matrix.user_ids.dtype.kind == "U"
    assert matrix.item_ids.tolist() == sorted(PRODUCTS)
    assert matrix.item_index(["INS-HOME"]).tolist() == [sorted(PRODUCTS).index("INS-HOME")]
    assert lookup_ids(matrix.item_ids, ["NOPE"]).tolist() == [-1]
    with pytest.raises(KeyError, match="NOPE"):
        matrix.item_index(["NOPE"])


@pytest.mark.parametrize("split", [per_user_random_split, temporal_split])
def test_splits_work_on_text_ids(split) -> None:
    frame = holdings().rename(columns={"customer": "user_id", "product": "item_id", "policies": "weight"})
    frame["ts"] = np.arange(len(frame))
    train, test = split(frame, test_fraction=0.34)
    assert len(test) > 0 and set(test["user_id"]) <= set(train["user_id"])
    pairs = set(zip(train["user_id"], train["item_id"], strict=True))
    assert not pairs & set(zip(test["user_id"], test["item_id"], strict=True))


@pytest.mark.parametrize(
    "model",
    [
        PopularityRecommender(),
        ALSRecommender(factors=4, iterations=5, regularization=0.1, n_jobs=1),
        MFRecommender(factors=4, epochs=20, batch_size=16),
    ],
    ids=["popularity", "als", "mf"],
)
def test_models_recommend_save_and_load_original_text_ids(model: Recommender, tmp_path: Path) -> None:
    frame = holdings().rename(columns={"customer": "user_id", "product": "item_id", "policies": "weight"})
    matrix = InteractionMatrix.from_frame(frame)
    model.fit(matrix)
    users = ["CUST-00000", "CUST-00001", "NEW-CUSTOMER"]
    items, scores = model.recommend(users, 8)
    assert items.dtype.kind == "U"
    held = frame.groupby("user_id")["item_id"].agg(set)
    for user, row in zip(users, items, strict=True):
        listed = [i for i in row if i != ""]
        assert set(listed) <= set(PRODUCTS)
        assert not set(listed) & held.get(user, set()), "a held product was recommended"
    assert (items[0] == "").sum() == 3 and (
        items[2] != ""
    ).all()  # 3 held (padding ""), a cold start holds none
    path = model.save(tmp_path / f"{model.kind}.npz")
    with np.load(path, allow_pickle=False) as data:  # the vocabularies are plain unicode arrays, no pickles
        assert data["item_ids"].dtype.kind == "U" and data["user_ids"].dtype.kind == "U"
    loaded = Recommender.load(path)
    again, again_scores = loaded.recommend(users, 8)
    assert (again == items).all()
    np.testing.assert_allclose(again_scores, scores, rtol=1e-5)
    similar, _ = loaded.similar_items(["CC-GOLD"], 3)
    assert "CC-GOLD" not in similar[0].tolist() and set(similar[0]) <= set(PRODUCTS)


def test_learning_models_find_the_two_tastes_with_text_ids() -> None:
    frame = holdings().rename(columns={"customer": "user_id", "product": "item_id", "policies": "weight"})
    model = ALSRecommender(factors=4, iterations=10, regularization=0.1, n_jobs=1).fit(
        InteractionMatrix.from_frame(frame)
    )
    items, _ = model.recommend(["CUST-00000", "CUST-00001"], 1)
    assert items[0, 0] in PRODUCTS[:4] and items[1, 0] in PRODUCTS[4:]


def test_cli_evaluates_the_issue_holdings_file(holdings_file: Path, capsys) -> None:
    code = main(["recsys", "evaluate", "--interactions", str(holdings_file), "--user", "customer",
                 "--item", "product", "--weight", "policies", "--k", "3", "--quick", "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["split"]["users"] == 120 and report["split"]["items"] == len(PRODUCTS)
    assert report["models"]["als"]["hit_rate@3"] > report["models"]["popularity"]["hit_rate@3"]


def test_cli_writes_recommendations_with_the_original_ids(
    holdings_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "next_best.csv"
    code = main(["recsys", "evaluate", "--interactions", str(holdings_file), "--user", "customer",
                 "--item", "product", "--weight", "policies", "--k", "2", "--quick",
                 "--recommendations", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert str(out) in captured.out
    recs = pd.read_csv(out)
    assert list(recs.columns) == ["model", "customer", "rank", "product", "score"]
    assert set(recs["model"]) == {"popularity", "als", "mf", "ease"}
    assert set(recs["product"]) <= set(PRODUCTS)
    assert recs["customer"].str.fullmatch(r"CUST-\d{5}").all()
    assert recs.groupby(["model", "customer"]).size().eq(2).all()
    held = set(zip(*holdings()[["customer", "product"]].T.to_numpy(), strict=True))
    assert not held & set(zip(recs["customer"], recs["product"], strict=True))


def test_cli_recommendations_need_a_file(tmp_path: Path, capsys) -> None:
    assert main(["recsys", "evaluate", "--recommendations", str(tmp_path / "x.csv")]) == 2
    assert "--recommendations needs --interactions" in capsys.readouterr().err


def test_mf_cold_start_of_a_new_text_customer_follows_side_features() -> None:
    frame = holdings().rename(columns={"customer": "user_id", "product": "item_id", "policies": "weight"})
    customers = pd.unique(frame["user_id"])
    side = pd.DataFrame(
        {"taste": ["even" if int(c[-5:]) % 2 == 0 else "odd" for c in customers]}, index=customers
    )
    model = MFRecommender(factors=4, epochs=60, batch_size=16, weight_decay=0.01, user_dropout=0.5).fit(
        InteractionMatrix.from_frame(frame), user_features=side
    )
    cold = pd.DataFrame({"taste": ["even", "odd"]}, index=["NEW-A", "NEW-B"])
    items, _ = model.recommend(["NEW-A", "NEW-B"], 2, user_features=cold)
    assert set(items[0]) <= set(PRODUCTS[:4]) and set(items[1]) <= set(PRODUCTS[4:])


def test_continuous_learning_adds_a_new_text_customer() -> None:
    from recsys import partial_fit_users, with_held

    frame = holdings().rename(columns={"customer": "user_id", "product": "item_id", "policies": "weight"})
    model = ALSRecommender(factors=4, iterations=5, n_jobs=1).fit(InteractionMatrix.from_frame(frame))
    new = pd.DataFrame(
        {"user_id": ["NEW-1", "NEW-1"], "item_id": ["INS-HOME", "INS-LIFE"], "weight": [1.0, 2.0]}
    )
    grown = with_held(partial_fit_users(model, new), new)
    assert grown.user_ids_.dtype.kind == "U" and "NEW-1" in grown.user_ids_.tolist()
    assert (np.sort(grown.user_ids_) == grown.user_ids_).all()
    items, _ = grown.recommend(["NEW-1"], 2)
    assert not {"INS-HOME", "INS-LIFE"} & set(items[0]) and set(items[0]) <= set(PRODUCTS)


def test_serving_answers_with_product_and_customer_codes() -> None:
    from recsys import RecsysModels

    frame = holdings().rename(columns={"customer": "user_id", "product": "item_id", "policies": "weight"})
    matrix = InteractionMatrix.from_frame(frame)
    models = {
        "popularity": PopularityRecommender().fit(matrix),
        "als": ALSRecommender(factors=4, iterations=5, regularization=0.1, n_jobs=1).fit(matrix),
        "mf": MFRecommender(factors=4, epochs=5, batch_size=16).fit(matrix),
    }
    families = {"CC": "card", "MT": "loan", "IN": "insurance", "DE": "deposit"}
    catalogue = pd.DataFrame(
        {
            "product_id": matrix.item_ids,
            "name": [f"{p} plan" for p in matrix.item_ids],
            "family": [families.get(p[:2], "investment") for p in matrix.item_ids],
        }
    )
    served = RecsysModels(models, catalogue, {})
    recs = served.recommend("CUST-00001", 3, model="als")
    assert set(recs["product_id"]) <= set(PRODUCTS) and recs["reason"].str.len().gt(0).all()
    assert not set(recs["product_id"]) & set(served.held("CUST-00001")["product_id"])
    blocked = served.recommend("CUST-00001", 5, model="als", blocked_customers=["CUST-00001"])
    assert not blocked["family"].isin(["card", "loan"]).any()
    campaign = served.campaign("CC-GOLD", 5, model="als")
    assert campaign["customer_id"].str.startswith("CUST-").all() and len(campaign) == 5
    with pytest.raises(KeyError, match="NOPE"):
        served.campaign("NOPE", 5)
