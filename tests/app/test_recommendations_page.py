"""The Recommendations page: its service and figures, then the page in Chromium."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashapp.figures import recsys as figs
from dashapp.services import recsys as svc
from tests.app.conftest import own_checkpoints


@pytest.fixture(scope="module")
def recsys_env(bank_env, tmp_path_factory):
    """``bank_env`` plus a quick-trained ``recsys`` artifact in a checkpoints folder of this module's own."""
    import recsys

    yield from own_checkpoints(bank_env, tmp_path_factory, recsys.train_from_bank, "recsys")


def test_without_an_artifact_the_service_says_not_trained(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "none"))
    with pytest.raises(svc.RecsysNotTrained, match="no recommender"):
        svc.get_models()


def test_customer_view_never_offers_held_products(recsys_env) -> None:
    bank_env, _ = recsys_env
    held = bank_env.bank.held_products()
    customer = int(held["customer_id"].value_counts().index[0])
    view = svc.customer_view(customer, 5)
    owned = set(held.loc[held["customer_id"] == customer, "product_id"])
    assert set(view.held["product_id"]) == owned
    assert set(view.recommendations) == {"popularity", "als", "mf"}
    for frame in view.recommendations.values():
        assert 0 < len(frame) <= 5
        assert not owned & set(frame["product_id"])
        assert frame["reason"].str.len().gt(10).all()
    with pytest.raises(ValueError, match="no customer"):
        svc.customer_view(-5, 5)
    with pytest.raises(ValueError, match="between 1 and"):
        svc.customer_view(customer, 0)


def test_credit_products_are_held_back_from_the_highest_band(recsys_env, monkeypatch) -> None:
    bank_env, _ = recsys_env
    customers = bank_env.bank.customers["customer_id"].to_numpy()[:50]
    bands = pd.DataFrame({"customer_id": customers, "pd": 0.5, "band": "E"})
    monkeypatch.setattr("dashapp.services.risk.customer_risk_bands", lambda: bands)
    families = dict(zip(bank_env.bank.products["product_id"], bank_env.bank.products["family"], strict=True))
    view = svc.customer_view(int(customers[0]), 12)
    assert view.credit_blocked
    for frame in view.recommendations.values():
        assert not {"card", "loan"} & {families[p] for p in frame["product_id"]}
    card = int(bank_env.bank.products.loc[bank_env.bank.products["family"] == "card", "product_id"].iloc[0])
    listed = svc.campaign(card, 2_000)
    assert not set(customers) & set(listed["customer_id"])


def test_campaign_excludes_holders_and_exports_safely(recsys_env, monkeypatch) -> None:
    bank_env, _ = recsys_env
    product = 2
    frame = svc.campaign(product, 300)
    holders = set(bank_env.bank.held_products().query("product_id == @product")["customer_id"])
    assert len(frame) == 300 and not holders & set(frame["customer_id"])
    assert np.all(np.diff(frame["score"].to_numpy()) <= 1e-9)
    evil = frame.assign(region="=HYPERLINK(\"http://x\")")
    monkeypatch.setattr(svc, "campaign", lambda *a, **k: evil)
    out = svc.campaign_export(product, 300)
    assert out["region"].str.startswith("'=").all()


def test_comparison_lists_models_and_the_oracle(recsys_env) -> None:
    table = svc.comparison()
    k = svc.metrics_k()
    assert {"Popularity", "Implicit ALS", "PyTorch MF"} <= set(table["model"])
    assert any(m.startswith("oracle") for m in table["model"])
    fig = figs.comparison_figure(table, k)
    assert len(fig.data) == len(table)


def test_customer_search_offers_matching_ids(recsys_env) -> None:
    options = svc.customer_options("12")
    assert options and all(str(o["value"]).startswith("12") for o in options)
    assert svc.customer_options("abc") == []
    assert len(svc.customer_options(None)) == 30


@pytest.mark.browser
def test_pick_a_customer_and_see_recommendations(recsys_env, served) -> None:
    bank_env, _ = recsys_env
    first = int(bank_env.bank.customers["customer_id"].iloc[0])
    served.wait_for_page(f"{served.server_url}/recommendations")
    served.wait_for_element("#recs-customer", timeout=30)
    served.select_dcc_dropdown("#recs-customer", index=0)
    served.wait_for_element("#recs-list-mf", timeout=30)
    served.wait_for_element("#recs-list-als", timeout=5)
    served.wait_for_contains_text("#recs-held", "Holds:", timeout=5)
    assert "Product" in served.find_element("#recs-list-popularity").text
    held = set(svc.customer_view(first, 5).held["name"])
    shown = {cell.text for cell in served.find_elements("#recs-lists tbody tr td:nth-child(2)")}
    assert shown and not held & shown
    assert served.get_logs() in ([], None)
