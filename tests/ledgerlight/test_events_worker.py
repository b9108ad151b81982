"""``ledgerlight events worker``: API events folded into the served recommender's rows, once, in place."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import recsys
from bankdata import (
    BANK_TABLES,
    FRESHNESS_KIND,
    ArtifactStore,
    Bank,
    api_events_table,
    engine_for,
    folds_table,
    read_audit,
    read_bank,
    read_evidence,
    take_fold_lease,
    write_bank,
)
from dashapp.services import clear_caches
from dashapp.services import events as events_service
from dashapp.services import recsys as recsys_service
from ledgerlight.cli import main
from ledgerlight.folding import Folder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One database and one trained, published recsys version for the module (tests use customers of their own)."""
    tmp = tmp_path_factory.mktemp("events")
    url = f"sqlite:///{tmp / 'bank.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp / "checkpoints"))
        mp.setenv("LEDGERLIGHT_DATA_DIR", str(tmp / "data"))
        mp.delenv("LEDGERLIGHT_ENV", raising=False)
        write_bank(small_bank, url)
        store = ArtifactStore()
        bank = read_bank(url, with_truth=True)
        recsys.publish(recsys.train_from_bank(bank, store, quick=True), bank, url)
        clear_caches()
        yield {"tmp": tmp, "url": url, "store": store, "bank": small_bank}
        clear_caches()


def _customers(env: dict, start: int, n: int) -> list[int]:
    """``n`` customers with history (each test takes its own slice, so tests do not see each other's events)."""
    ids = np.unique(env["bank"].interactions["customer_id"].to_numpy())
    return [int(i) for i in ids[start : start + n]]


def _stored_als(env: dict, customer: int) -> tuple[str, str]:
    t = recsys.RECOMMENDATIONS_TABLE
    version = env["store"].latest("recsys")
    with engine_for(env["url"]).connect() as conn:
        row = conn.execute(
            sa.select(t.c.products, t.c.scores).where(
                t.c.model_version == version, t.c.customer_id == customer, t.c.model == "als"
            )
        ).one()
    return str(row[0]), str(row[1])


def _purchases(customer: int, products: list[int], tag: str) -> list[dict]:
    return [
        {
            "event_id": f"{tag}-{customer}-{p}",
            "customer_id": customer,
            "product_id": int(p),
            "ts": "2030-01-02T10:00:00",
            "event": "purchase",
        }
        for p in products
    ]


def _events(env: dict, prefix: str) -> pd.DataFrame:
    t = api_events_table
    with engine_for(env["url"]).connect() as conn:
        rows = conn.execute(
            sa.select(t.c.id, t.c.event_id, t.c.folded_at, t.c.fold_id, t.c.fold_error).where(
                t.c.event_id.like(f"{prefix}-%")
            )
        ).fetchall()
    return pd.DataFrame(
        [tuple(r) for r in rows], columns=["id", "event_id", "folded_at", "fold_id", "fold_error"]
    )


def _last_two(customer: int) -> list[int]:
    shown = recsys_service.customer_view(customer, 12, models=("als",)).recommendations["als"]
    return [int(p) for p in shown["product_id"].tolist()[-2:]]


def test_the_worker_folds_posted_purchases_into_the_served_list_once(env: dict) -> None:
    customer, other = _customers(env, 0, 2)
    served = env["store"].latest("recsys")
    before, other_before = _stored_als(env, customer), _stored_als(env, other)
    bought = _last_two(customer)
    assert events_service.store_interactions(_purchases(customer, bought, "fold"), "test").accepted == 2
    assert _events(env, "fold")["folded_at"].isna().all()

    first = Folder(env["store"], env["url"]).run_once()
    assert (first.events, first.customers, first.version) == (2, 1, served)
    after = _stored_als(env, customer)
    assert after != before  # the served version's row was rewritten ...
    assert not set(bought) & {int(p) for p in after[0].split(",")}  # ... without what the customer now holds
    assert _stored_als(env, other) == other_before  # nobody else's
    assert env["store"].latest("recsys") == served  # no new version, no promotion
    stored = _events(env, "fold")
    assert stored["folded_at"].notna().all() and stored["fold_id"].nunique() == 1

    clear_caches()
    shown = recsys_service.customer_view(customer, 5, models=("als",)).recommendations["als"]
    assert shown["product_id"].tolist() == [int(p) for p in after[0].split(",")][: len(shown)]

    again = Folder(env["store"], env["url"]).run_once()
    assert again.events == 0 and _stored_als(env, customer) == after
    audit = read_audit(env["url"])
    assert ((audit["action"] == "fold_events") & (audit["target"] == f"recsys/{served}")).sum() == 1


def test_the_same_history_folds_to_the_same_rows(env: dict) -> None:
    """Folding is a function of the version and the customer's stored history: refolding changes nothing."""
    (customer,) = _customers(env, 10, 1)
    events_service.store_interactions(_purchases(customer, _last_two(customer)[:1], "same"), "test")
    Folder(env["store"], env["url"]).run_once()
    once = _stored_als(env, customer)
    events_service.store_interactions(
        [
            {
                **_purchases(customer, [0], "same2")[0],
                "event": "view",
                "product_id": int(once[0].split(",")[0]),
            }
        ],
        "test",
    )
    Folder(env["store"], env["url"]).run_once()
    twice = _stored_als(env, customer)
    assert twice != once  # a view changes the ALS solve
    from ledgerlight.folding import fold_customers, load_served

    fold_customers(load_served(env["store"], env["url"]), np.array([customer]), env["url"], source="test")
    assert _stored_als(env, customer) == twice


def test_a_second_worker_waits_while_one_holds_the_lease(env: dict) -> None:
    (customer,) = _customers(env, 20, 1)
    events_service.store_interactions(_purchases(customer, _last_two(customer), "lease"), "test")
    assert take_fold_lease("someone-else", 60, env["url"])
    try:
        assert Folder(env["store"], env["url"]).run_once().skipped
        assert _events(env, "lease")["folded_at"].isna().all()
    finally:
        from bankdata import release_fold_lease

        release_fold_lease("someone-else", env["url"])
    assert Folder(env["store"], env["url"]).run_once().events == 2


def test_two_workers_started_at_once_fold_each_event_once(env: dict) -> None:
    customers = _customers(env, 30, 40)
    batch = [e for c in customers for e in _purchases(c, _last_two(c)[:1], "twice")]
    assert events_service.store_interactions(batch, "test").accepted == len(customers)
    command = [sys.executable, "-m", "ledgerlight", "events", "worker", "--once", "--batch", "5"]
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    stored = _events(env, "twice")
    assert stored["folded_at"].notna().all() and stored["fold_id"].notna().all()
    with engine_for(env["url"]).connect() as conn:
        counted = conn.execute(
            sa.select(sa.func.sum(folds_table.c.events)).where(
                folds_table.c.id.in_([int(i) for i in stored["fold_id"].unique()])
            )
        ).scalar()
    assert counted == len(batch)  # no event counted in two folds


def test_a_bad_group_leaves_its_events_unfolded_with_a_reason_and_the_rest_are_folded(env: dict) -> None:
    good, bad = _customers(env, 80, 2)
    products = BANK_TABLES["products"]
    with engine_for(env["url"]).begin() as conn:  # a product launched after the served version was trained
        new_id = int(conn.execute(sa.select(sa.func.max(products.c.product_id))).scalar()) + 1
        row_no = int(conn.execute(sa.select(sa.func.max(products.c.row_no))).scalar()) + 1
        conn.execute(
            sa.insert(products).values(product_id=new_id, name="New card", family="card", row_no=row_no)
        )
    (good_product,) = _last_two(good)[:1]
    events_service.store_interactions(
        _purchases(good, [good_product], "bad") + _purchases(bad, [new_id], "bad"), "test"
    )
    done = Folder(env["store"], env["url"]).run_once()  # both in one group: it fails, then one by one
    assert (done.events, done.unfoldable) == (1, 1)
    stored = _events(env, "bad").set_index("event_id")
    assert pd.notna(stored.loc[f"bad-{good}-{good_product}", "folded_at"])
    failed = stored.loc[f"bad-{bad}-{new_id}"]
    assert pd.isna(failed["folded_at"]) and "does not know" in failed["fold_error"]
    assert Folder(env["store"], env["url"]).run_once().unfoldable == 0  # not retried every round
    assert main(["events", "retry"]) == 0
    assert Folder(env["store"], env["url"]).run_once().unfoldable == 1


def test_the_retrain_flag_is_raised_past_the_threshold(env: dict, capsys: pytest.CaptureFixture) -> None:
    customers = _customers(env, 100, 3)
    version = env["store"].latest("recsys")
    low = Folder(env["store"], env["url"], retrain_after=10_000, retrain_share=1.0).run_once()
    assert not low.retrain_due
    events_service.store_interactions(
        [e for c in customers for e in _purchases(c, _last_two(c)[:1], "flag")], "test"
    )
    done = Folder(env["store"], env["url"], retrain_after=low.purchases_since + 3).run_once()
    assert done.retrain_due and done.purchases_since == low.purchases_since + 3
    assert "RETRAIN DUE" in done.summary()
    doc = read_evidence("recsys", version, FRESHNESS_KIND, env["url"])
    assert doc["retrain_due"] and doc["retrain_threshold"] == low.purchases_since + 3
    assert (read_audit(env["url"])["action"] == "retrain_due").sum() == 1
    assert main(["events", "status"]) == 0
    assert "retrain due: yes" in capsys.readouterr().out


def test_the_models_page_freshness_follows_the_events_and_the_worker(env: dict) -> None:
    from dashapp.services import freshness

    (customer,) = _customers(env, 120, 1)
    version = env["store"].latest("recsys")
    Folder(env["store"], env["url"]).run_once()  # nothing left from other tests
    before = freshness.freshness().set_index("model").loc["recsys"]
    assert before["version"] == version and before["trained_at"]
    events_service.store_interactions(_purchases(customer, _last_two(customer), "fresh"), "test")
    waiting = freshness.freshness().set_index("model").loc["recsys"]
    assert waiting["events_waiting"] == before["events_waiting"] + 2
    assert waiting["purchases_since_trained"] == before["purchases_since_trained"] + 2
    Folder(env["store"], env["url"], retrain_after=1).run_once()
    after = freshness.freshness().set_index("model").loc["recsys"]
    assert after["events_waiting"] == before["events_waiting"]
    assert after["events_folded"] == before["events_folded"] + 2
    assert after["last_folded_at"] not in ("", "never")
    assert after["retrain"].startswith("due:")


def test_through_the_api_a_purchase_event_changes_the_served_list_after_one_worker_round(env: dict) -> None:
    from dashapp.api.keys import create_key
    from dashapp.app import app

    client = app.server.test_client()
    headers = {
        "Authorization": f"Bearer {create_key('e2e-worker', 'marketing', rate_per_s=1000, burst=1000)}"
    }
    (customer,) = _customers(env, 140, 1)
    Folder(env["store"], env["url"]).run_once()  # nothing left from other tests

    def als() -> list[tuple[int, float]]:
        answer = client.get(f"/api/v1/customers/{customer}/recommendations?n=12&model=als", headers=headers)
        assert answer.status_code == 200, answer.get_json()
        return [(r["product_id"], r["score"]) for r in answer.get_json()["recommendations"]]

    before = als()
    bought = before[-1][0]
    event = {
        "event_id": f"e2e-{customer}",
        "customer_id": customer,
        "product_id": bought,
        "ts": "2030-02-01",
        "event": "purchase",
    }
    assert (
        client.post("/api/v1/events", json={"events": [event]}, headers=headers).get_json()["accepted"] == 1
    )
    held_back = als()
    assert bought not in [p for p, _ in held_back]  # at once: a held product is never offered ...
    assert held_back == [r for r in before if r[0] != bought]  # ... but the list is not refolded yet
    assert main(["events", "worker", "--once"]) == 0
    refolded = als()
    assert bought not in [p for p, _ in refolded]
    assert refolded != held_back  # the worker re-ranked it from the new history


def test_events_folded_into_a_version_are_folded_again_into_a_newly_served_one(env: dict) -> None:
    """An incremental version (``learn``) keeps its base's rows for customers it did not refresh: events folded
    into the base since its training are folded into the new version once it is served."""
    from ledgerlight.learning import refresh_customers

    (customer, other) = _customers(env, 160, 2)
    store: ArtifactStore = env["store"]
    base = store.latest("recsys")
    Folder(store, env["url"]).run_once()
    events_service.store_interactions(_purchases(customer, _last_two(customer)[:1], "requeue"), "test")
    folder = Folder(store, env["url"])
    assert folder.run_once().events == 1
    folded_base = _stored_als(env, customer)
    new = refresh_customers(np.array([other]), source="test", url=env["url"], store=store)  # a candidate
    assert new.version != base and new.metadata["extra"]["incremental"]["base_version"] == base
    store.promote("recsys", new.version)
    clear_caches()
    stale = _stored_als(env, customer)  # the new version's row for the customer: its base's, before the event
    done = folder.run_once()  # the same worker notices the new served version
    assert (
        done.version == new.version and done.events >= 1
    )  # every event folded into the base since its training
    (fold_id,) = _events(env, "requeue")["fold_id"].tolist()
    with engine_for(env["url"]).connect() as conn:
        folded_into = conn.execute(
            sa.select(folds_table.c.model_version).where(folds_table.c.id == int(fold_id))
        ).scalar_one()
    assert folded_into == new.version
    assert _stored_als(env, customer) != stale and _stored_als(env, customer)[0] == folded_base[0]
    assert folder.run_once().events == 0  # once
    store.promote("recsys", base)  # leave the module's served version as it was
    clear_caches()
