"""The Recommendations page: its service (queries of the published rows) and figures, then the page in Chromium."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from selenium.common.exceptions import ElementClickInterceptedException

from dashapp.figures import recsys as figs
from dashapp.services import recsys as svc
from dashapp.services.served import NotPublished, NotTrained
from tests.app.conftest import own_checkpoints


@pytest.fixture(scope="module")
def recsys_env(bank_env, tmp_path_factory):
    """``bank_env`` plus a quick-trained, published ``recsys`` artifact in a checkpoints folder of this module's own."""
    import recsys

    yield from own_checkpoints(bank_env, tmp_path_factory, recsys.train_from_bank, "recsys")


@pytest.fixture(scope="module")
def old_way(recsys_env):
    """The fitted models as the worker used to hold them, and every customer's side features (the reference)."""
    import recsys

    bank_env, artifact = recsys_env
    return recsys.RecsysModels.from_artifact(artifact), recsys.customer_side_features(bank_env.bank.customers)


@pytest.fixture()
def no_whole_bank(monkeypatch):
    """Fail the test if anything reads the whole bank (the service must query what it shows)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the recommendations service read the whole bank")

    import bankdata
    from bankdata import _db
    from dashapp.services import bank as bank_service

    monkeypatch.setattr(bankdata, "read_bank", refuse)
    monkeypatch.setattr(_db, "read_bank", refuse)
    for name in ("read_bank", "get_bank"):  # (gone from the bank service; refused should they come back)
        monkeypatch.setattr(bank_service, name, refuse, raising=False)


def _block(monkeypatch, customers) -> None:
    """Put ``customers`` in the blocked band E (what the risk service answers, without a risk model)."""
    from bankdata import BANK_TABLES

    blocked = {int(c) for c in customers}
    t = BANK_TABLES["customers"]
    monkeypatch.setattr("dashapp.services.risk.band_of", lambda cid: "E" if int(cid) in blocked else "A")
    monkeypatch.setattr(
        "dashapp.services.risk.customers_in_bands",
        lambda bands: (
            sa.select(t.c.customer_id).where(t.c.customer_id.in_(sorted(blocked))) if "E" in bands else None
        ),
    )


def _same_order_but_ties(listed: pd.DataFrame, old: pd.DataFrame) -> None:
    """The same customers in the same order, except that equal scores may come in another order (published lists
    break ties by customer id)."""
    np.testing.assert_allclose(listed["score"], old["score"], rtol=1e-6)
    for score in np.unique(old["score"]):
        near = np.isclose(old["score"], score, rtol=1e-6)
        assert set(listed.loc[near, "customer_id"]) == set(old.loc[near, "customer_id"]) or near[-1]
    # the first 50 in the same order, reading each run of equal scores in customer-id order (a run cut off at 50
    # may hold other customers of the same score)
    scores = old["score"].to_numpy()[:50]
    run = np.concatenate([[0], np.cumsum(~np.isclose(scores[1:], scores[:-1], rtol=1e-6))])
    whole = run < run[-1]
    assert sorted(zip(run[whole], listed["customer_id"].to_numpy()[:50][whole], strict=True)) == sorted(
        zip(run[whole], old["customer_id"].to_numpy()[:50][whole], strict=True)
    )


def test_without_an_artifact_the_service_says_not_trained(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "none"))
    with pytest.raises(NotTrained, match="no recsys model") as caught:
        svc.served()
    assert caught.value.command == "ledgerlight recsys train"


def test_a_trained_version_without_its_rows_says_how_to_publish(bank_env, monkeypatch, tmp_path) -> None:
    import recsys
    from bankdata import ArtifactStore
    from dashapp.services import clear_caches

    store = ArtifactStore(tmp_path / "checkpoints")
    recsys.train_from_bank(bank_env.bank, store, quick=True)  # not published
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(store.root))
    clear_caches()
    try:
        with pytest.raises(NotPublished, match="ledgerlight publish recsys") as caught:
            svc.customer_view(1, 5)
        assert caught.value.command == "ledgerlight publish recsys"
    finally:
        monkeypatch.undo()
        clear_caches()


def test_customer_view_equals_the_models_lists_with_reasons(recsys_env, old_way, no_whole_bank) -> None:
    bank_env, _ = recsys_env
    models, side = old_way
    held = bank_env.bank.held_products()
    customers = [int(c) for c in held["customer_id"].value_counts().index[:5]]
    customers += [int(c) for c in bank_env.bank.customers["customer_id"].iloc[[0, 7, 500]]]
    for customer in customers:
        view = svc.customer_view(customer, 12)
        owned = set(held.loc[held["customer_id"] == customer, "product_id"])
        assert set(view.held["product_id"]) == owned
        assert list(view.recommendations) == ["popularity", "als", "mf", "ease"]
        for model, frame in view.recommendations.items():
            expected = models.recommend(customer, 12, model=model, user_features=side)
            assert frame["product_id"].tolist() == expected["product_id"].tolist(), (customer, model)
            assert frame["reason"].tolist() == expected["reason"].tolist(), (customer, model)
            assert frame["name"].tolist() == expected["name"].tolist()
            np.testing.assert_allclose(frame["score"], expected["score"], rtol=1e-5, atol=1e-6)
            assert not owned & set(frame["product_id"])
        assert not view.credit_blocked
    short = svc.customer_view(customers[0], 3)
    assert all(len(f) <= 3 for f in short.recommendations.values())


def _lists_as_view(customer: int, n: int) -> None:
    """``customer_lists`` (the API's pandas-free path) answers exactly what ``customer_view`` does."""
    view = svc.customer_view(customer, n)
    lists = svc.customer_lists(customer, n)
    assert lists.credit_blocked == view.credit_blocked
    assert lists.held == view.held.to_dict("records")
    assert list(lists.recommendations) == list(view.recommendations)
    for model, frame in view.recommendations.items():
        rows = lists.recommendations[model]
        assert [{k: v for k, v in r.items() if k != "score"} for r in rows] == (
            frame.drop(columns="score").to_dict("records")
        ), (customer, model)
        np.testing.assert_allclose([r["score"] for r in rows], frame["score"].to_numpy(), rtol=0, atol=0)
        assert all(type(r["product_id"]) is int and type(r["score"]) is float for r in rows)
    one = svc.customer_lists(customer, n, models=("als",))
    assert list(one.recommendations) == ["als"] and one.recommendations["als"] == lists.recommendations["als"]


def test_customer_lists_equal_the_customer_view(recsys_env, monkeypatch, no_whole_bank) -> None:
    bank_env, _ = recsys_env
    held = bank_env.bank.held_products()
    customers = [int(c) for c in held["customer_id"].value_counts().index[:4]]
    customers += [int(c) for c in bank_env.bank.customers["customer_id"].iloc[[0, 7, 500]]]
    for customer in customers:
        _lists_as_view(customer, 12)
        _lists_as_view(customer, 2)
    _block(monkeypatch, customers[:3])
    for customer in customers[:4]:  # three blocked from credit products, one not
        _lists_as_view(customer, 12)
    with pytest.raises(ValueError, match="no customer"):
        svc.customer_lists(-5, 5)
    with pytest.raises(ValueError, match="between 1 and"):
        svc.customer_lists(1, 13)


def test_customer_view_refuses_unknown_customers_and_bad_lengths(recsys_env) -> None:
    with pytest.raises(ValueError, match="no customer"):
        svc.customer_view(-5, 5)
    with pytest.raises(ValueError, match="between 1 and"):
        svc.customer_view(1, 0)
    with pytest.raises(ValueError, match="between 1 and"):
        svc.customer_view(1, 13)


def test_credit_products_are_held_back_from_the_blocked_band(
    recsys_env, old_way, monkeypatch, no_whole_bank
) -> None:
    bank_env, _ = recsys_env
    models, side = old_way
    customers = bank_env.bank.customers["customer_id"].to_numpy()[:300]
    _block(monkeypatch, customers)
    families = dict(zip(bank_env.bank.products["product_id"], bank_env.bank.products["family"], strict=True))
    view = svc.customer_view(int(customers[0]), 12)
    assert view.credit_blocked
    for model, frame in view.recommendations.items():
        assert not {"card", "loan"} & {families[p] for p in frame["product_id"]}
        expected = models.recommend(
            int(customers[0]), 12, model=model, user_features=side, blocked_customers=customers
        )
        assert frame["product_id"].tolist() == expected["product_id"].tolist()
    assert not svc.customer_view(int(bank_env.bank.customers["customer_id"].iloc[-1]), 12).credit_blocked
    card = int(bank_env.bank.products.loc[bank_env.bank.products["family"] == "card", "product_id"].iloc[0])
    listed = svc.campaign(card, 1_000, "als")
    assert not set(customers) & set(listed["customer_id"])
    old = models.campaign(
        card,
        1_000,
        model="als",
        customer_ids=bank_env.bank.customers["customer_id"].to_numpy(),
        user_features=side,
        blocked_customers=customers,
    )
    np.testing.assert_allclose(listed["score"], old["score"], rtol=1e-6)
    _same_order_but_ties(listed, old)
    assert listed["rank"].tolist() == list(range(1, 1_001))
    deposit = int(
        bank_env.bank.products.loc[bank_env.bank.products["family"] == "deposit", "product_id"].iloc[0]
    )
    assert set(customers) & set(svc.campaign(deposit, 2_000, "als")["customer_id"])  # not a credit product


def test_campaign_excludes_holders_matches_the_models_and_exports_safely(
    recsys_env, old_way, monkeypatch, no_whole_bank
) -> None:
    bank_env, _ = recsys_env
    models, side = old_way
    product = 2
    frame = svc.campaign(product, 300)  # the default: the best model
    holders = set(bank_env.bank.held_products().query("product_id == @product")["customer_id"])
    assert len(frame) == 300 and not holders & set(frame["customer_id"])
    assert list(frame.columns) == list(svc.CAMPAIGN_COLUMNS)
    assert np.all(np.diff(frame["score"].to_numpy()) <= 1e-9)
    old = models.campaign(
        product,
        300,
        model=models.best,
        customer_ids=bank_env.bank.customers["customer_id"].to_numpy(),
        user_features=side,
    )
    _same_order_but_ties(frame, old)
    attrs = bank_env.bank.customers.set_index("customer_id").loc[frame["customer_id"]]
    assert frame["age"].tolist() == attrs["age"].tolist()
    assert frame["region"].tolist() == attrs["region"].astype(str).tolist()
    evil = frame.assign(region='=HYPERLINK("http://x")')
    monkeypatch.setattr(svc, "campaign", lambda *a, **k: evil)
    out = svc.campaign_export(product, 300)
    assert out["region"].str.startswith("'=").all()


def test_campaign_grid_pages_sorts_and_filters_in_the_query(recsys_env, no_whole_bank) -> None:
    reference = svc.campaign(3, 250, "als").round({"score": 4, "income": 0})
    rows, total = svc.campaign_page(3, 250, "als", 0, 100)
    assert total == 250 and [r["customer_id"] for r in rows] == reference["customer_id"].tolist()[:100]
    rows, _ = svc.campaign_page(3, 250, "als", 200, 300)
    assert [r["rank"] for r in rows] == list(range(201, 251))
    rows, _ = svc.campaign_page(3, 250, "als", 0, 50, [{"colId": "age", "sort": "desc"}])
    expected = reference.sort_values(["age", "rank"], ascending=[False, True])
    assert [r["customer_id"] for r in rows] == expected["customer_id"].tolist()[:50]
    flt = {
        "age": {"filterType": "number", "type": "greaterThan", "filter": 40},
        "region": {"filterType": "text", "type": "contains", "filter": reference["region"].iloc[0][:3]},
    }
    rows, total = svc.campaign_page(3, 250, "als", 0, 500, [{"colId": "income", "sort": "asc"}], flt)
    mask = (reference["age"] > 40) & reference["region"].str.lower().str.contains(
        reference["region"].iloc[0][:3].lower(), regex=False
    )
    expected = reference[mask].sort_values(["income", "rank"])
    assert total == int(mask.sum()) and [r["customer_id"] for r in rows] == expected["customer_id"].tolist()
    rows, total = svc.campaign_page(3, 250, "als", 0, 100, [{"colId": "rank", "sort": "desc"}])
    assert total == 250 and [r["rank"] for r in rows] == list(range(250, 150, -1))
    assert svc.campaign_page(3, 250, "als", 300, 400) == ([], 250)
    with pytest.raises(ValueError, match="row range"):
        svc.campaign_page(3, 250, "als", 0, 10_000)
    with pytest.raises(ValueError, match="sort column"):
        svc.campaign_page(3, 250, "als", 0, 10, [{"colId": "gender; drop", "sort": "asc"}])
    with pytest.raises(ValueError, match="filter"):
        svc.campaign_page(3, 250, "als", 0, 10, None, {"age": {"filterType": "number", "type": "like"}})


def test_campaign_grid_leaves_blocked_customers_out_of_every_page(
    recsys_env, monkeypatch, no_whole_bank
) -> None:
    bank_env, _ = recsys_env
    blocked = bank_env.bank.customers["customer_id"].to_numpy()[::3]
    _block(monkeypatch, blocked)
    card = 4
    reference = svc.campaign(card, 300, "mf")
    assert not set(blocked) & set(reference["customer_id"])
    pages = [svc.campaign_page(card, 300, "mf", start, start + 100) for start in (0, 100, 200)]
    assert all(total == 300 for _, total in pages)
    assert [r["customer_id"] for rows, _ in pages for r in rows] == reference["customer_id"].tolist()
    assert [r["rank"] for rows, _ in pages for r in rows] == list(range(1, 301))
    rows, total = svc.campaign_page(card, 300, "mf", 0, 300, [{"colId": "score", "sort": "asc"}])
    assert total == 300 and [r["customer_id"] for r in rows] == reference["customer_id"].tolist()[::-1]


def _best(metrics: dict, names) -> str:
    """The model with the highest held-out nDCG@k (the first on a tie), computed here from the stored report."""
    k = metrics["k"]
    return max(names, key=lambda m: (metrics["models"][m][f"ndcg@{k}"], -list(names).index(m)))


def test_campaign_request_checks_every_field(recsys_env) -> None:
    _, artifact = recsys_env
    best = _best(artifact.metadata["metrics"], ["popularity", "als", "mf", "ease"])
    assert svc.best_model() == best
    assert svc.campaign_request(1, 10, None) == (1, 10, best)
    assert svc.campaign_request(1, 10, "ease") == (1, 10, "ease")
    for bad in [
        (999, 10, "mf"),
        (1, 0, "mf"),
        (1, svc.MAX_CAMPAIGN + 1, "mf"),
        (1, 10, "gbm"),
        ("1", 10, "mf"),
    ]:
        with pytest.raises(ValueError):
            svc.campaign_request(*bad)


def test_comparison_lists_models_and_the_oracle(recsys_env) -> None:
    table = svc.comparison()
    k = svc.metrics_k()
    assert {"Popularity", "Implicit ALS", "PyTorch MF", "EASE (item-item)"} <= set(table["model"])
    assert any(m.startswith("oracle") for m in table["model"])
    fig = figs.comparison_figure(table, k)
    assert len(fig.data) == len(table)
    assert [o["value"] for o in svc.product_options()] == list(range(1, 13))


@pytest.mark.parametrize(
    "search", ["1", "19", "10", "100", "2", "20", "199", "1999", "2000", "7", "0", "05", ""]
)
def test_customer_search_offers_the_smallest_ids_starting_with_the_digits(
    recsys_env, search, no_whole_bank
) -> None:
    bank_env, _ = recsys_env
    ids = np.sort(bank_env.bank.customers["customer_id"].to_numpy())
    expected = [int(i) for i in ids if str(i).startswith(search)][:30]
    assert [o["value"] for o in svc.customer_options(search)] == expected
    assert [o["value"] for o in svc.customer_options(search, limit=5)] == expected[:5]


def test_customer_search_ignores_what_is_not_digits(recsys_env) -> None:
    assert svc.customer_options("abc") == []
    assert svc.customer_options("1a") == []
    assert svc.customer_options("²") == []
    assert svc.customer_options("9" * 16) == []
    assert len(svc.customer_options(None)) == 30
    assert svc.customer_options(" 12 ")[0]["value"] == 12


def test_the_service_imports_no_torch() -> None:
    code = (
        "import sys, dashapp.services.recsys; bad = [m for m in ('torch', 'implicit') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2]
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.postgres
def test_postgresql_serves_the_same_answers(recsys_env, monkeypatch) -> None:
    import os

    import recsys
    from bankdata import _db as db
    from bankdata import _serving as serving
    from bankdata import write_bank
    from dashapp.services import clear_caches

    pg_url = os.environ.get("DATABASE_URL_TEST")
    if not pg_url:
        pytest.skip("DATABASE_URL_TEST is not set")
    bank_env, artifact = recsys_env
    customers = [int(c) for c in bank_env.bank.customers["customer_id"].iloc[[0, 5, 99]]]

    def answers() -> dict:
        views = {c: svc.customer_view(c, 8) for c in customers}
        return {
            "options": [svc.customer_options(s) for s in ("1", "19", "200", "")],
            "lists": {
                c: {m: f.to_dict("list") for m, f in v.recommendations.items()} for c, v in views.items()
            },
            "held": {c: v.held["product_id"].tolist() for c, v in views.items()},
            "campaign": svc.campaign(4, 150, "als").to_dict("list"),
            "page": svc.campaign_page(
                2,
                300,
                "mf",
                100,
                200,
                [{"colId": "income", "sort": "desc"}],
                {"age": {"filterType": "number", "type": "lessThan", "filter": 50}},
            ),
            "comparison": svc.comparison().to_dict("list"),
        }

    on_sqlite = answers()
    with db.engine_for(pg_url).begin() as conn:
        serving.served_metadata.drop_all(conn)
        db.metadata.drop_all(conn)
    try:
        write_bank(bank_env.bank, pg_url)
        recsys.publish(artifact, bank_env.bank, pg_url)
        monkeypatch.setenv("DATABASE_URL", pg_url)
        clear_caches()
        on_postgres = answers()
    finally:
        monkeypatch.undo()
        clear_caches()
        with db.engine_for(pg_url).begin() as conn:
            serving.served_metadata.drop_all(conn)
            db.metadata.drop_all(conn)
    assert on_postgres["options"] == on_sqlite["options"]
    assert on_postgres["held"] == on_sqlite["held"] and on_postgres["lists"] == on_sqlite["lists"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(on_postgres["campaign"]), pd.DataFrame(on_sqlite["campaign"]), check_dtype=False
    )
    assert on_postgres["page"] == on_sqlite["page"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(on_postgres["comparison"]), pd.DataFrame(on_sqlite["comparison"])
    )


@pytest.mark.browser
def test_pick_a_customer_and_see_recommendations(recsys_env, served) -> None:
    from dashapp.services.customer import suggested_customers

    suggested = suggested_customers()
    served.wait_for_page(f"{served.server_url}/recommendations")
    served.wait_for_element("#recs-customer", timeout=30)
    served.wait_for_element(
        "#recs-list-mf", timeout=30
    )  # the first view: the first suggested customer's lists
    served.wait_for_contains_text(
        "#recs-campaign-note", "customers, best first", timeout=30
    )  # and a product's list
    served.select_dcc_dropdown("#recs-customer", index=1)  # another suggested customer
    first = suggested[1].internal_id
    served.wait_for_contains_text("#recs-customer", f"Customer {suggested[1].customer_id}", timeout=10)
    view = svc.customer_view(first, 5)
    held_text = ", ".join(view.held["name"]) or "nothing yet"
    served.wait_for_contains_text("#recs-held", held_text, timeout=30)  # the new customer's lists are drawn
    served.wait_for_element("#recs-list-mf", timeout=30)
    served.wait_for_element("#recs-list-als", timeout=5)
    served.wait_for_contains_text("#recs-held", "Holds:", timeout=5)
    assert "Product" in served.find_element("#recs-list-popularity").text
    held = set(view.held["name"])
    shown = {cell.text for cell in served.find_elements("#recs-lists tbody tr td:nth-child(2)")}
    assert shown and not held & shown
    served.wait_for_element("#recs-list-ease", timeout=10)  # every list drawn: the layout above stops moving
    _select_below_the_fold(served, "#recs-product", index=1)
    served.wait_for_contains_text("#recs-campaign-note", "200 customers", timeout=30)
    expected = svc.campaign(2, 200, svc.best_model())["customer_id"].astype(str).tolist()  # the default model
    served.wait_for_contains_text(
        "#recs-campaign-grid .ag-row[row-index='0'] [col-id='customer_id']", expected[0], timeout=30
    )
    served.wait_for_element("#recs-list-ease", timeout=5)
    other = next(m for m in ("als", "ease", "mf") if m != svc.best_model())
    _select_below_the_fold(
        served, "#recs-campaign-model", index=list(svc.MODEL_LABELS).index(other)
    )  # a fresh list
    theirs = svc.campaign(2, 200, other)["customer_id"].astype(str).tolist()
    served.wait_for_contains_text(
        "#recs-campaign-grid .ag-row[row-index='0'] [col-id='customer_id']", theirs[0], timeout=30
    )
    assert served.get_logs() in ([], None)


# --- EASE served, the best model by default, an old version without EASE, forged model names -----------------------


def _find(tree, component_id: str):
    """The props of the component with ``component_id`` in a layout's JSON tree (None when absent)."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") == component_id:
            return props
        children = [props.get("children"), *tree.values()] if "props" in tree else list(tree.values())
        for child in children:
            found = _find(child, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for child in tree:
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


def _layout(client, path: str = "/recommendations") -> dict:
    from tests.app.helpers import CALLBACK, router

    response = client.post(CALLBACK, json=router(path))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]["_pages_content"]["children"]


def test_the_page_offers_ease_and_defaults_to_the_best_model(recsys_env, as_user) -> None:
    _, artifact = recsys_env
    best = _best(artifact.metadata["metrics"], ["popularity", "als", "mf", "ease"])
    dropdown = _find(_layout(as_user("marketing")), "recs-campaign-model")
    assert dropdown is not None
    assert [o["value"] for o in dropdown["options"]] == ["popularity", "als", "mf", "ease"]
    assert {"label": "EASE (item-item)", "value": "ease"} in dropdown["options"]
    assert dropdown["value"] == best


def _campaign_body(model):
    from tests.app.helpers import single

    request = {"startRow": 0, "endRow": 20, "sortModel": [], "filterModel": {}}
    body = single(
        "..recs-campaign-grid.getRowsResponse...recs-campaign-note.children..",
        [("recs-campaign-grid", "getRowsRequest", request)],
        [
            ("recs-product", "value", 1),
            ("recs-campaign-model", "value", model),
            ("recs-campaign-n", "value", 50),
        ],
    )
    body["outputs"] = [
        {"id": "recs-campaign-grid", "property": "getRowsResponse"},
        {"id": "recs-campaign-note", "property": "children"},
    ]
    return body


@pytest.mark.parametrize("forged", ["gbm", "EASE", "ease ", 1, ["ease"]])
def test_a_forged_model_name_is_refused(recsys_env, as_user, forged) -> None:
    from tests.app.helpers import CALLBACK, single

    client = as_user("marketing")
    genuine = client.post(CALLBACK, json=_campaign_body("ease"))
    assert genuine.status_code == 200
    rows = genuine.get_json()["response"]["recs-campaign-grid"]["getRowsResponse"]["rowData"]
    assert [r["customer_id"] for r in rows] == svc.campaign(1, 20, "ease")["customer_id"].tolist()
    response = client.post(CALLBACK, json=_campaign_body(forged))
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200:
        answer = response.get_json()["response"]
        assert answer["recs-campaign-grid"]["getRowsResponse"]["rowData"] == []
        assert "model" in answer["recs-campaign-note"]["children"]
    export = single(
        "recs-download.data",
        [("recs-export", "n_clicks", 1)],
        [
            ("recs-product", "value", 1),
            ("recs-campaign-model", "value", forged),
            ("recs-campaign-n", "value", 10),
        ],
    )
    refused = client.post(CALLBACK, json=export)
    assert refused.status_code in (400, 422), refused.status_code
    assert "recs-download" not in refused.get_data(as_text=True)


@pytest.fixture()
def old_version(recsys_env):
    """A served version as saved before EASE (no ease.npz, no EASE in its evaluation), published; the EASE
    version is served again afterwards."""
    from bankdata import ArtifactStore
    from dashapp.services import clear_caches
    from dashapp.services.publishing import publish_version

    bank_env, artifact = recsys_env
    store = ArtifactStore()
    meta = artifact.metadata
    metrics = {
        **meta["metrics"],
        "models": {m: v for m, v in meta["metrics"]["models"].items() if m != "ease"},
    }

    def write(folder: Path) -> None:
        for name in meta["files"]:
            if name not in ("ease.npz", "metadata.json"):
                (folder / name).write_bytes(artifact.file(name).read_bytes())

    old = store.save(
        "recsys",
        write,
        params={k: v for k, v in meta["params"].items() if k != "ease"},
        metrics=metrics,
        features=meta["features"],
        data_fingerprint=meta["data_fingerprint"],
        row_count=meta["row_count"],
        extra=meta.get("extra"),
        promote=True,
    )
    publish_version("recsys", old, bank_env.bank, bank_env.database_url)
    clear_caches()
    yield old
    store.promote("recsys", artifact.version)
    clear_caches()


def test_an_old_version_without_ease_still_serves(recsys_env, old_version, as_user) -> None:
    bank_env, _ = recsys_env
    assert "ease.npz" not in old_version.metadata["files"]
    pub = svc.served()
    assert pub.version == old_version.version and pub.models == ("popularity", "als", "mf")
    best = _best(old_version.metadata["metrics"], ["popularity", "als", "mf"])
    assert pub.best == best
    customer = int(bank_env.bank.customers["customer_id"].iloc[0])
    view = svc.customer_view(customer, 5)
    assert list(view.recommendations) == ["popularity", "als", "mf"] and len(view.recommendations[best]) == 5
    with pytest.raises(ValueError, match="model"):
        svc.campaign_request(1, 10, "ease")  # the old version has no EASE to serve
    assert svc.campaign_request(1, 10, None) == (1, 10, best)
    dropdown = _find(_layout(as_user("marketing")), "recs-campaign-model")
    assert [o["value"] for o in dropdown["options"]] == ["popularity", "als", "mf"] and dropdown[
        "value"
    ] == best


def _centre(duo, selector: str) -> None:
    """Scroll an element to the middle of the window before it is clicked."""
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", duo.find_element(selector))


def _select_below_the_fold(duo, selector: str, index: int, tries: int = 3) -> None:
    """Centre a dropdown and pick an option; a click that lands on something else (the page still settling on a
    busy machine) is retried after centring again."""
    for attempt in range(tries):
        _centre(duo, selector)
        try:
            duo.select_dcc_dropdown(selector, index=index)
            return
        except ElementClickInterceptedException:
            if attempt == tries - 1:
                raise
            time.sleep(0.5)
