"""Continuous learning: ``ledgerlight learn``, ``ledgerlight retrain`` and ``ledgerlight promote``.

``learn --interactions FILE`` stores new events (exactly as ``ledgerlight load interactions FILE``), then refreshes the
ALS factors of the customers they concern (``recsys.incremental``) and saves the result as a new ``recsys`` version:
those customers' recommendations change at once, with no full retrain. ``retrain`` runs a full retrain of one or
every model on the bank in the database (new loan outcomes included) and saves new versions, promoted unless
``--no-promote``. ``promote`` moves ``LATEST``; the app serves the latest version on the next request, no restart.
Every new version is published (its serving rows written, ``dashapp.services.publishing``) before the command
returns, so the version the app serves always has its rows; ``promote`` publishes a version that lacks them.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata import (
    BANK_TABLES,
    Artifact,
    ArtifactError,
    ArtifactStore,
    append_load,
    engine_for,
    fingerprint,
    load_table,
    parse_column_map,
    query,
    read_bank,
)
from dashapp.services.publishing import publish_missing, publish_version
from ledgerlight.setup import TRAINERS
from recsys import (
    EVENT_WEIGHTS,
    MODEL_NAME,
    ALSRecommender,
    Recommender,
    partial_fit_users,
    publish_customers,
    with_held,
)

log = logging.getLogger("ledgerlight.learning")
MODEL_FILES = ("popularity", "als", "mf")
_IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's parameter limit


def customer_events(customer_ids: np.ndarray, url: str | None = None) -> pd.DataFrame:
    """Every stored interaction of ``customer_ids`` (customer_id, product_id, event), read in chunks."""
    table = sa.table("interactions", sa.column("customer_id"), sa.column("product_id"), sa.column("event"))
    ids = np.unique(np.asarray(customer_ids, dtype=np.int64))
    parts = []
    with engine_for(url).connect() as conn:
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = [int(i) for i in ids[start : start + _IN_CHUNK]]
            query = sa.select(table.c.customer_id, table.c.product_id, table.c.event).where(
                table.c.customer_id.in_(chunk)
            )
            parts.append(pd.DataFrame(conn.execute(query).fetchall(), columns=["customer_id", "product_id", "event"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["customer_id", "product_id", "event"])


def events_to_history(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bank events as the recommenders' long format (weights from ``EVENT_WEIGHTS``) and the purchases held."""
    kind = events["event"].astype("str")
    history = pd.DataFrame(
        {
            "user_id": events["customer_id"].to_numpy(dtype=np.int64),
            "item_id": events["product_id"].to_numpy(dtype=np.int64),
            "weight": kind.map(EVENT_WEIGHTS).to_numpy(dtype=np.float64),
        }
    )
    held = history.loc[(kind == "purchase").to_numpy(), ["user_id", "item_id"]]
    return history, held


def update_recommenders(
    history: pd.DataFrame, held: pd.DataFrame, store: ArtifactStore, *, source: str, promote: bool = True
) -> Artifact:
    """Save a new ``recsys`` version: ALS factors of the users in ``history`` refreshed, their held products updated.

    Parameters
    ----------
    history : DataFrame
        user_id, item_id, weight: every event (old and new) of the affected customers.
    held : DataFrame
        user_id, item_id: their purchases.
    store : ArtifactStore
    source : str
        Where the new events came from (recorded in the metadata, named in errors).
    promote : bool
        Move ``LATEST`` to the new version.
    """
    base = store.load(MODEL_NAME)
    models: dict[str, Recommender] = {name: Recommender.load(base.file(f"{name}.npz")) for name in MODEL_FILES}
    als = models["als"]
    if not isinstance(als, ALSRecommender):
        raise ArtifactError(f"{MODEL_NAME}/{base.version}: als.npz holds a {als.kind!r} model")
    started = time.perf_counter()
    models["als"] = partial_fit_users(als, history, held=held, source=source)
    for name in ("popularity", "mf"):  # no new factors: only what they must not recommend again
        models[name] = with_held(models[name], held, users=history["user_id"].to_numpy())
    seconds = time.perf_counter() - started
    copied = [name for name in base.metadata["files"] if not name.endswith(".npz")]

    def write(folder: Path) -> None:
        for name, model in models.items():
            model.save(folder / f"{name}.npz")
        for name in copied:
            (folder / name).write_bytes(base.file(name).read_bytes())

    users = int(history["user_id"].nunique())
    meta = base.metadata
    return store.save(
        MODEL_NAME,
        write,
        params=meta["params"],
        metrics=meta["metrics"],
        features=meta["features"],
        data_fingerprint=fingerprint(history),
        row_count=int(meta["row_count"]) + len(history),
        extra={
            **meta.get("extra", {}),
            "incremental": {
                "base_version": base.version,
                "source": source,
                "customers_updated": users,
                "update_seconds": round(seconds, 3),
                "note": "ALS user factors refreshed (partial_fit_users); MF and item factors as in the base version",
            },
        },
        promote=promote,
    )


def learn_interactions(
    path: Path, *, column_map: dict[str, str] | None = None, url: str | None = None,
    store: ArtifactStore | None = None, promote: bool = True,
) -> Artifact:  # fmt: skip
    """Validate and store an interaction file, update the recommenders of the customers it concerns and publish the
    new version (every customer's lists and the campaign candidates, from the customers table)."""
    store = store or ArtifactStore()
    store.load(MODEL_NAME)  # fail before storing anything when there is no model to update
    frame = load_table(path, "interactions", column_map)
    stored = append_load("interactions", frame, url, source=Path(path).name)
    log.info("stored %s interactions from %s", f"{stored:,}", Path(path).name)
    events = customer_events(frame["customer_id"].to_numpy(), url)
    history, held = events_to_history(events)
    artifact = update_recommenders(history, held, store, source=Path(path).name, promote=promote)
    started = time.perf_counter()
    written = publish_customers(artifact, query(sa.select(BANK_TABLES["customers"]), url), url)
    log.info("published %s %s in %.1f s: %s", MODEL_NAME, artifact.version, time.perf_counter() - started,
             ", ".join(f"{t} {n:,}" for t, n in written.items()))
    return artifact


def retrain(models: list[str], *, quick: bool = False, promote: bool = True, url: str | None = None,
            store: ArtifactStore | None = None) -> dict[str, str]:  # fmt: skip
    """Full retrain of ``models`` on the bank in the database; returns ``{model: new version}``.

    With ``promote=False`` the new versions are saved but ``LATEST`` stays where it was (promote them later).
    """
    unknown = sorted(set(models) - set(TRAINERS))
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(TRAINERS)}")
    store = store or ArtifactStore()
    bank = read_bank(url, with_truth=True)
    versions = {}
    for name in models:
        before = store.latest(name)
        artifact = TRAINERS[name](bank, store, quick=quick)
        if not promote and before is not None:
            store.promote(name, before)
        publish_version(name, artifact, bank, url)
        versions[name] = artifact.version
    return versions


def _run_learn(args: argparse.Namespace) -> int:
    art = learn_interactions(
        args.interactions, column_map=parse_column_map(args.map), promote=not args.no_promote
    )
    inc = art.metadata["extra"]["incremental"]
    state = "promoted" if not args.no_promote else "saved (not promoted)"
    print(
        f"recsys {art.version} {state}: ALS refreshed for {inc['customers_updated']:,} customer(s) "
        f"in {inc['update_seconds']:.2f} s (base {inc['base_version']})"
    )
    return 0


def _run_retrain(args: argparse.Namespace) -> int:
    models = list(TRAINERS) if args.model == "all" else [args.model]
    versions = retrain(models, quick=args.quick, promote=not args.no_promote)
    for name, version in versions.items():
        print(f"{name} {version} {'promoted' if not args.no_promote else 'saved (not promoted)'}")
    return 0


def _run_promote(args: argparse.Namespace) -> int:
    store = ArtifactStore()
    store.promote(args.model, args.version)
    if args.model in TRAINERS:
        publish_missing([args.model])  # the served version's rows (written at training; again if they were dropped)
    print(f"{args.model}: LATEST is now {args.version} (the app serves it on the next request)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``learn``, ``retrain`` and ``promote`` to the ``ledgerlight`` command."""
    learn = subparsers.add_parser(
        "learn", help="store new interactions and refresh those customers' ALS recommendations (no full retrain)"
    )
    learn.add_argument("--interactions", type=Path, required=True, help="a CSV/Parquet interaction log")
    learn.add_argument("--map", action="append", metavar="SRC=DST", help="rename a column of the file (repeatable)")
    learn.add_argument("--no-promote", action="store_true", help="save the new version without serving it")
    learn.set_defaults(func=_run_learn)

    full = subparsers.add_parser("retrain", help="full retrain on the bank in the database: new versions")
    full.add_argument("model", nargs="?", default="all", choices=["all", *TRAINERS], help="which model (default all)")
    full.add_argument("--quick", action="store_true", help="small models, for smoke tests")
    full.add_argument("--no-promote", action="store_true", help="save the new versions without serving them")
    full.set_defaults(func=_run_retrain)

    promote = subparsers.add_parser("promote", help="serve a saved version (moves LATEST)")
    promote.add_argument("model", help="model name, e.g. recsys")
    promote.add_argument("version", help="a version listed under checkpoints/MODEL/")
    promote.set_defaults(func=_run_promote)
