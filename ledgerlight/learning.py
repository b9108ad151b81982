"""Continuous learning: ``ledgerlight learn``, ``ledgerlight retrain`` and ``ledgerlight promote``.

``learn --interactions FILE`` (or ``learn --campaign ID``: the campaign's responders, whose take-ups are stored
purchases) stores new events (exactly as ``ledgerlight load interactions FILE``), then refreshes the
ALS factors of the customers they concern and folds their new history into EASE's input rows (EASE's item-item
matrix needs no refit: ``recsys.incremental``) and saves the result as a new ``recsys`` version: those customers'
recommendations change at once, with no full retrain. ``retrain`` runs a full retrain of one or
every model on the bank in the database (new loan outcomes included). Both save *candidates*: the app keeps serving
what it served until ``promote MODEL VERSION --reason TEXT`` (or ``--promote --reason TEXT`` on the training command)
moves ``LATEST``, after checking that the version was trained on this bank; the promotion is audited and the app
serves the version on the next request, no restart. Every new version is published (its serving rows written,
``dashapp.services.publishing``) before the command returns, so it can be compared and promoted at once.
"""

from __future__ import annotations

import argparse
import json
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
    Bank,
    append_load,
    bank_identity,
    campaign_outcomes,
    engine_for,
    fingerprint,
    get_settings,
    load_table,
    parse_column_map,
    query,
    read_bank,
    read_campaign,
    saved_state,
    store_response_purchases,
    table_counts,
    to_internal,
)
from bankdata.cli import cli_user
from dashapp.services.challenger import compare_with_served, summary_lines
from dashapp.services.promotion import check_reason, population_problem, promote_version
from dashapp.services.publishing import train_and_publish
from ledgerlight.progress import StageProgress
from ledgerlight.setup import TRAINERS
from recsys import (
    EVENT_WEIGHTS,
    MODEL_NAME,
    ALSRecommender,
    EASERecommender,
    Recommender,
    customer_side_features,
    fold_in_users,
    partial_fit_users,
    publish_customers,
    with_held,
)
from risk import cli_backtest

log = logging.getLogger("ledgerlight.learning")
MODEL_FILES = ("popularity", "als", "mf")
OPTIONAL_FILES = ("ease",)  # carried (and updated) when the base version has them
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
            parts.append(
                pd.DataFrame(conn.execute(query).fetchall(), columns=["customer_id", "product_id", "event"])
            )
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["customer_id", "product_id", "event"])
    )


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
    history: pd.DataFrame,
    held: pd.DataFrame,
    store: ArtifactStore,
    *,
    source: str,
    promote: bool = False,
    user_features: pd.DataFrame | None = None,
) -> Artifact:
    """Save a new ``recsys`` version: ALS factors of the users in ``history`` refreshed, their EASE input rows
    rebuilt from their history (when the base version has EASE), their held products updated.

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
        Move ``LATEST`` to the new version (default: a candidate, promoted through ``promote_version``).
    user_features : DataFrame, optional
        Side features by customer id (``recsys.customer_side_features``): EASE's category inputs of customers the
        base version did not know.
    """
    base = store.load(MODEL_NAME)
    names = [*MODEL_FILES, *(n for n in OPTIONAL_FILES if f"{n}.npz" in base.metadata["files"])]
    models: dict[str, Recommender] = {name: Recommender.load(base.file(f"{name}.npz")) for name in names}
    als = models["als"]
    if not isinstance(als, ALSRecommender):
        raise ArtifactError(f"{MODEL_NAME}/{base.version}: als.npz holds a {als.kind!r} model")
    started = time.perf_counter()
    models["als"] = partial_fit_users(als, history, held=held, source=source)
    for name in ("popularity", "mf"):  # no new factors: only what they must not recommend again
        models[name] = with_held(models[name], held, users=history["user_id"].to_numpy())
    if "ease" in models:
        ease = models["ease"]
        if not isinstance(ease, EASERecommender):
            raise ArtifactError(f"{MODEL_NAME}/{base.version}: ease.npz holds a {ease.kind!r} model")
        models["ease"] = fold_in_users(ease, history, held=held, user_features=user_features, source=source)
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
                "note": "ALS user factors refreshed (partial_fit_users), EASE input rows rebuilt (fold_in_users); "
                "MF, item factors and EASE's item-item matrix as in the base version",
                "models": list(models),
            },
        },
        promote=promote,
    )


def _internal_customers(customer_ids: pd.Series, url: str | None) -> np.ndarray:
    """The internal ids of a stored file's customers (its own ids when they are whole numbers)."""
    if pd.api.types.is_integer_dtype(customer_ids.dtype):
        return customer_ids.to_numpy(dtype=np.int64)
    found = to_internal("customer", customer_ids.unique().tolist(), url)
    return np.array(list(found.values()), dtype=np.int64)


def learn_interactions(
    path: Path, *, column_map: dict[str, str] | None = None, url: str | None = None,
    store: ArtifactStore | None = None, promote_reason: str | None = None, user: str = "ledgerlight",
) -> Artifact:  # fmt: skip
    """Validate and store an interaction file, update the recommenders of the customers it concerns and publish the
    new version (every customer's lists and the campaign candidates, from the customers table): a candidate, served
    only when ``promote_reason`` is given (then promoted and audited, as ``ledgerlight promote`` does)."""
    store = store or ArtifactStore()
    if promote_reason is not None:
        check_reason(promote_reason)  # refuse before storing anything
    store.load(MODEL_NAME)  # fail before storing anything when there is no model to update
    frame = load_table(
        path, "interactions", column_map, text_ids=True
    )  # the bank's ids: whole numbers or text
    stored = append_load("interactions", frame, url, source=Path(path).name)
    log.info("stored %s interactions from %s", f"{stored:,}", Path(path).name)
    return refresh_customers(
        _internal_customers(frame["customer_id"], url),
        source=Path(path).name,
        url=url,
        store=store,
        promote_reason=promote_reason,
        user=user,
    )


def refresh_customers(
    customer_ids: np.ndarray, *, source: str, url: str | None = None, store: ArtifactStore | None = None,
    promote_reason: str | None = None, user: str = "ledgerlight",
) -> Artifact:  # fmt: skip
    """Update the recommenders of ``customer_ids`` from their stored interactions and publish the new version (a
    candidate, promoted and audited when ``promote_reason`` is given); ``source`` is recorded in its metadata."""
    store = store or ArtifactStore()
    events = customer_events(customer_ids, url)
    history, held = events_to_history(events)
    customers = query(sa.select(BANK_TABLES["customers"]), url)
    artifact = update_recommenders(
        history, held, store, source=source, promote=False, user_features=customer_side_features(customers)
    )
    started = time.perf_counter()
    written = publish_customers(artifact, customers, url)
    log.info(
        "published %s %s in %.1f s: %s",
        MODEL_NAME,
        artifact.version,
        time.perf_counter() - started,
        ", ".join(f"{t} {n:,}" for t, n in written.items()),
    )
    if promote_reason is not None:
        promote_version(MODEL_NAME, artifact.version, reason=promote_reason, user=user, url=url, store=store)
    return artifact


def learn_campaign(
    campaign_id: int, *, url: str | None = None, store: ArtifactStore | None = None,
    promote_reason: str | None = None, user: str = "ledgerlight",
) -> Artifact:  # fmt: skip
    """Refresh the recommenders of a campaign's responders from the stored interactions (their take-ups stored as
    purchases first, never twice) and publish the new version, as :func:`learn_interactions` does for a file.

    Raises
    ------
    ValueError
        No such campaign, or it has no recorded responses yet.
    """
    store = store or ArtifactStore()
    if promote_reason is not None:
        check_reason(promote_reason)
    campaign = read_campaign(campaign_id, url)
    if campaign is None:
        raise ValueError(f"no campaign {campaign_id}: `ledgerlight campaigns list` shows the stored ones")
    store.load(MODEL_NAME)  # fail before storing anything when there is no model to update
    outcomes = campaign_outcomes(campaign.campaign_id, url)
    responders = outcomes.loc[outcomes["responded"], "customer_id"].to_numpy(dtype=np.int64)
    if not len(responders):
        raise ValueError(
            f"campaign {campaign.campaign_id} has no recorded responses yet: load them with `ledgerlight "
            f"load responses FILE --campaign {campaign.campaign_id}`"
        )
    added = store_response_purchases(campaign.campaign_id, url)
    log.info(
        "campaign %d: %s responder(s), %s take-up(s) newly stored as purchases",
        campaign.campaign_id,
        f"{len(responders):,}",
        f"{added:,}",
    )
    return refresh_customers(
        responders,
        source=f"campaign {campaign.campaign_id}",
        url=url,
        store=store,
        promote_reason=promote_reason,
        user=user,
    )


def retrain(models: list[str], *, quick: bool = False, promote_reason: str | None = None, url: str | None = None,
            store: ArtifactStore | None = None, user: str = "ledgerlight") -> dict[str, str]:  # fmt: skip
    """Full retrain of ``models`` on the bank in the database; returns ``{model: new version}``.

    Each new version is published and kept as a candidate (see :func:`train_and_publish` for the automatic cases);
    with ``promote_reason`` each is promoted at once, audited with that reason.
    """
    unknown = sorted(set(models) - set(TRAINERS))
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(TRAINERS)}")
    if promote_reason is not None:
        check_reason(promote_reason)
    store = store or ArtifactStore()
    with StageProgress(["reading the bank", *models], table_counts(url).get("customers", 0)) as progress:
        with progress.stage("reading the bank"):
            bank = read_bank(url, with_truth=True)
        versions = _retrain_each(models, bank, progress, quick=quick, promote_reason=promote_reason, url=url,
                                 store=store, user=user)  # fmt: skip
    return versions


def _retrain_each(models: list[str], bank: Bank, progress: StageProgress, *, quick: bool, promote_reason: str | None,
                  url: str | None, store: ArtifactStore, user: str) -> dict[str, str]:  # fmt: skip
    versions = {}
    for name in models:
        with progress.stage(name):
            artifact = train_and_publish(name, bank, url, quick=quick, store=store)
        if promote_reason is not None and store.latest(name) != artifact.version:
            promote_version(name, artifact.version, reason=promote_reason, user=user, url=url, store=store)
        versions[name] = artifact.version
    return versions


def _promote_reason(args: argparse.Namespace) -> str | None:
    if args.promote and not args.reason:
        raise ValueError("--promote needs --reason TEXT (why this version should be served; it is audited)")
    if args.reason and not args.promote:
        raise ValueError("--reason goes with --promote")
    return args.reason if args.promote else None


def _run_learn(args: argparse.Namespace) -> int:
    store = ArtifactStore()
    if (args.interactions is None) == (args.campaign is None):
        raise ValueError("learn needs --interactions FILE or --campaign ID (one of them)")
    if args.campaign is not None:
        if args.map:
            raise ValueError("--map goes with --interactions FILE")
        art = learn_campaign(
            args.campaign, store=store, promote_reason=_promote_reason(args), user=cli_user()
        )
    else:
        art = learn_interactions(
            args.interactions, column_map=parse_column_map(args.map), store=store,
            promote_reason=_promote_reason(args), user=cli_user(),
        )  # fmt: skip
    inc = art.metadata["extra"]["incremental"]
    print(
        f"recsys {art.version}: {'ALS and EASE' if 'ease' in inc.get('models', ()) else 'ALS'} refreshed for "
        f"{inc['customers_updated']:,} customer(s) "
        f"in {inc['update_seconds']:.2f} s (base {inc['base_version']})"
    )
    print(saved_state(art, store.latest(MODEL_NAME)))
    return 0


def _run_retrain(args: argparse.Namespace) -> int:
    models = list(TRAINERS) if args.model == "all" else [args.model]
    store = ArtifactStore()
    versions = retrain(
        models, quick=args.quick, promote_reason=_promote_reason(args), store=store, user=cli_user()
    )
    for name, version in versions.items():
        print(saved_state(store.load(name, version), store.latest(name)))
    return 0


NEWEST = "newest"
"""The version argument that names a model's newest saved version (what a retrain just saved)."""


def _resolve_version(model: str, version: str, store: ArtifactStore) -> str:
    if version != NEWEST:
        return version
    saved = store.versions(model)
    if not saved:
        raise ValueError(f"no saved version of {model}: train it first (`ledgerlight train {model}`)")
    return saved[-1]


def _run_promote(args: argparse.Namespace) -> int:
    args.version = _resolve_version(args.model, args.version, ArtifactStore())
    if args.dry_run:
        return _run_dry_run(args)
    if not args.reason:
        raise ValueError(
            "promote needs --reason TEXT: why this version should be served (it is audited); "
            f"compare it first with `ledgerlight promote {args.model} {args.version} --dry-run`"
        )
    done = promote_version(
        args.model, args.version, reason=args.reason, user=cli_user(), publish_if_missing=True
    )
    published = " (published its serving rows first)" if done.published_now else ""
    print(
        f"{done.model}: {done.version} is served now, was {done.previous or 'none'}{published}; the app serves it on "
        "the next request. Audited with the reason given."
    )
    if done.model == "risk":  # Monitoring's back-test is of the served version
        print(cli_backtest.refresh_after_new_loans())
    return 0


def _run_dry_run(args: argparse.Namespace) -> int:
    """Print the version next to the served one, and whether promotion would be accepted; change nothing."""
    store = ArtifactStore()
    report = dict(
        compare_with_served(args.model, args.version, store=store)
    )  # the cached report stays as it was
    problem = population_problem(
        args.model, store.load(args.model, args.version).metadata, bank_identity(get_settings().database_url)
    )
    report["promotable"] = {"ok": problem is None, "problem": problem}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print("\n".join(summary_lines(report)))
    print(
        f"  promotion: {'would be accepted with --reason TEXT' if problem is None else 'refused: ' + problem}"
    )
    print("  nothing changed (dry run)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``learn``, ``retrain`` and ``promote`` to the ``ledgerlight`` command."""
    learn = subparsers.add_parser(
        "learn",
        help="store new interactions (or use a campaign's responses) and refresh those customers' ALS and EASE "
        "recommendations (no full retrain)",
    )
    learn.add_argument("--interactions", type=Path, help="a CSV/Parquet interaction log")
    learn.add_argument(
        "--campaign",
        type=int,
        metavar="ID",
        help="instead of a file: the responders of a stored campaign (their take-ups are purchases)",
    )
    learn.add_argument(
        "--map", action="append", metavar="SRC=DST", help="rename a column of the file (repeatable)"
    )
    _add_promote_options(learn, "the new version")
    learn.set_defaults(func=_run_learn)

    full = subparsers.add_parser(
        "retrain", help="full retrain on the bank in the database: new candidate versions"
    )
    full.add_argument(
        "model", nargs="?", default="all", choices=["all", *TRAINERS], help="which model (default all)"
    )
    full.add_argument("--quick", action="store_true", help="small models, for smoke tests")
    _add_promote_options(full, "the new versions")
    full.set_defaults(func=_run_retrain)

    promote = subparsers.add_parser(
        "promote", help="serve a saved version (checks it was trained on this bank and is published; audited)"
    )
    promote.add_argument("model", choices=list(TRAINERS), help="which served model")
    promote.add_argument(
        "version",
        help="a version listed on the Models page or under checkpoints/MODEL/, or "
        f"'{NEWEST}' for the newest saved one",
    )
    promote.add_argument(
        "--reason", help="why it should be served (required unless --dry-run; written to the audit log)"
    )
    promote.add_argument(
        "--dry-run",
        action="store_true",
        help="compare the version with the served one on the same held-out rows; change nothing",
    )
    promote.add_argument("--json", action="store_true", help="with --dry-run: print the comparison as JSON")
    promote.set_defaults(func=_run_promote)


def _add_promote_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--promote",
        action="store_true",
        help=f"serve {what} at once (default: keep as candidates; needs --reason)",
    )
    parser.add_argument("--reason", help="with --promote: why (written to the audit log)")
