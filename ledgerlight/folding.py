"""Folding API events into the served recommender, in place: what ``ledgerlight events worker`` does each round.

Choice: the served ``recsys`` version's **rows** are rewritten, no new version is saved or promoted. A fold keeps
every fitted part of the version (ALS item factors, EASE's item-item matrix, MF, popularity) and only applies it
to the customers' current history, as serving a version to a customer with new events means: ALS solves their user
factors from their whole stored history with the version's item factors fixed (``recsys.partial_fit_users``, a
deterministic closed form, so folding the same history twice gives the same rows), EASE rebuilds their input rows
(``recsys.fold_in_users``). Their ``als`` and ``ease`` rows of ``RECOMMENDATIONS_TABLE`` are replaced for the
served version in one transaction; MF and popularity rows stay as published (their purchases are held back at
request time, as for every list). Promoting a new version automatically every 15 seconds would instead mint a
version per round (each publishing every customer's rows, 4M rows at 1M customers), bypass the reasoned,
audited promotion that is the only way the served version changes, and fill the store. The campaign candidate
lists are not re-ranked by a fold (they follow the next version).

Audit: each folded group is an ``api_folds`` row (version, worker, events, customers, rows, seconds) and its
events carry its ``fold_id``; each round that folded something writes one audit row; a group that cannot be
folded is retried customer by customer and the events of a customer that still fails keep a ``fold_error``.
The worker flags a full retrain (``freshness`` evidence of the version, an audit row when it is raised) once the
purchases received since the version was trained reach ``retrain_after`` or ``retrain_share`` of its training
rows; the retrain itself goes through candidate and promotion as usual.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

import recsys
from bankdata import (
    BANK_TABLES,
    FRESHNESS_KIND,
    ArtifactError,
    ArtifactStore,
    Fold,
    append_audit,
    fold_status,
    mark_unfoldable,
    pending_events,
    query,
    read_evidence,
    record_fold,
    release_fold_lease,
    replace_served_rows,
    requeue_folded,
    take_fold_lease,
    write_evidence,
)
from ledgerlight.learning import customer_events, events_to_history

log = logging.getLogger("ledgerlight.events")
FOLDED_MODELS = ("als", "ease")
WORKER_USER = "events worker"
RETRAIN_AFTER = 10_000
RETRAIN_SHARE = 0.02
_IN_CHUNK = 500


def worker_name() -> str:
    """host:pid:random, unique per worker process (the lease holder and the ``api_folds.worker`` column)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class ServedModels:
    """What a worker holds of the served ``recsys`` version: its ALS and EASE models and a few numbers."""

    version: str
    models: dict[str, recsys.Recommender]
    depth: int
    income_edges: np.ndarray
    trained_at: datetime | None
    training_rows: int


def _trained_at(meta: dict) -> datetime | None:
    try:
        return pd.Timestamp(meta["created_at"]).tz_convert(None).to_pydatetime()
    except (KeyError, ValueError, TypeError):
        try:
            return pd.Timestamp(meta["created_at"]).to_pydatetime()
        except (KeyError, ValueError, TypeError):
            return None


def load_served(store: ArtifactStore, url: str | None) -> ServedModels | None:
    """The served version's ALS (and EASE) models, or None when no recommender is served or published."""
    if store.latest(recsys.MODEL_NAME) is None:
        return None
    artifact = store.load(recsys.MODEL_NAME)
    doc = recsys.serving_evidence(artifact.version, url)
    if doc is None:
        raise ArtifactError(
            f"recsys {artifact.version} is served but not published: run `ledgerlight publish recsys`"
        )
    models = {
        name: recsys.Recommender.load(artifact.file(f"{name}.npz"))
        for name in FOLDED_MODELS
        if f"{name}.npz" in artifact.metadata["files"]
    }
    customers = BANK_TABLES["customers"]
    incomes = query(sa.select(customers.c.income), url)["income"]
    return ServedModels(
        artifact.version,
        models,
        int(doc["depth"]),
        recsys.income_edges(incomes),
        _trained_at(artifact.metadata),
        int(artifact.metadata.get("row_count") or 0),
    )


def full_training_time(store: ArtifactStore, version: str) -> datetime | None:
    """When the full training behind ``version`` ran: its own time, or, for an incremental version (``ledgerlight
    learn``), its base's, back to the first full one. Events received since then may be missing from its rows."""
    seen: set[str] = set()
    while version not in seen:
        seen.add(version)
        meta = store.load(recsys.MODEL_NAME, version).metadata
        base = ((meta.get("extra") or {}).get("incremental") or {}).get("base_version")
        if not base or base not in store.versions(recsys.MODEL_NAME):
            return _trained_at(meta)
        version = base
    return None


def _customers(ids: np.ndarray, url: str | None) -> pd.DataFrame:
    t = BANK_TABLES["customers"]
    parts = [
        query(sa.select(t).where(t.c.customer_id.in_([int(i) for i in ids[s : s + _IN_CHUNK]])), url)
        for s in range(0, len(ids), _IN_CHUNK)
    ]
    return pd.concat(parts, ignore_index=True)


def fold_customers(served: ServedModels, customer_ids: np.ndarray, url: str | None, *, source: str) -> int:
    """Rewrite the served version's ALS and EASE rows of ``customer_ids`` from their whole stored history; returns
    the rows written.

    Raises
    ------
    DataValidationError
        Their history names a product the version does not know (a new product needs a full retrain).
    """
    ids = np.unique(np.asarray(customer_ids, dtype=np.int64))
    history, held = events_to_history(customer_events(ids, url))
    side = recsys.customer_side_features(_customers(ids, url), income_edges=served.income_edges)
    folded: dict[str, recsys.Recommender] = {}
    for name, model in served.models.items():
        part = recsys.users_only(model, ids)
        if isinstance(part, recsys.ALSRecommender):
            folded[name] = recsys.partial_fit_users(part, history, held=held, source=source)
        elif isinstance(part, recsys.EASERecommender):
            folded[name] = recsys.fold_in_users(part, history, held=held, user_features=side, source=source)
        else:
            raise TypeError(f"{name}: only ALS and EASE rows are folded, got {type(part).__name__}")
    rows = recsys.customer_rows(folded, ids, served.depth, side)
    return replace_served_rows(
        recsys.RECOMMENDATIONS_TABLE, served.version, "customer_id", rows, url, within={"model": list(folded)}
    )


@dataclass
class Round:
    """What one round of the worker did."""

    skipped: bool = False  # another worker holds the lease
    version: str | None = None
    events: int = 0
    customers: int = 0
    unfoldable: int = 0
    fold_ids: list[int] = field(default_factory=list)
    retrain_due: bool = False
    purchases_since: int = 0
    retrain_threshold: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the log and the command's output."""
        if self.skipped:
            return "another worker is folding: nothing done this round"
        if self.version is None:
            return "no recommender is served: nothing to fold"
        text = (
            f"recsys {self.version}: folded {self.events:,} event(s) of {self.customers:,} customer(s) in "
            f"{self.seconds:.2f} s"
        )
        if self.unfoldable:
            text += f"; {self.unfoldable:,} event(s) could not be folded (left unfolded with the reason)"
        if self.retrain_due:
            text += (
                f"; RETRAIN DUE: {self.purchases_since:,} purchases since it was trained (threshold "
                f"{self.retrain_threshold:,}): `ledgerlight retrain recsys`, then promote"
            )
        return text


@dataclass
class Folder:
    """The events worker's state: the served models (reloaded when ``LATEST`` moves) and its settings."""

    store: ArtifactStore
    url: str | None = None
    batch_customers: int = 500
    limit: int = 20_000
    retrain_after: int = RETRAIN_AFTER
    retrain_share: float = RETRAIN_SHARE
    lease_seconds: float = 300.0
    name: str = field(default_factory=worker_name)
    _served: ServedModels | None = None

    def served(self) -> ServedModels | None:
        """The served models, loaded once per served version."""
        latest = self.store.latest(recsys.MODEL_NAME)
        if latest is None:
            self._served = None
        elif self._served is None or self._served.version != latest:
            self._served = load_served(self.store, self.url)
            since = full_training_time(self.store, latest)
            requeued = requeue_folded(recsys.MODEL_NAME, latest, since, self.url)
            if requeued:
                log.info(
                    "recsys %s is served now: %d event(s) folded into an earlier version (received since %s) "
                    "will be folded into it",
                    latest,
                    requeued,
                    since,
                )
        return self._served

    def run_once(self) -> Round:
        """One round: take the lease, fold the waiting events group by group, flag a retrain, give the lease back."""
        if not take_fold_lease(self.name, self.lease_seconds, self.url):
            return Round(skipped=True)
        started = time.perf_counter()
        try:
            served = self.served()
            if served is None:
                return Round()
            out = Round(version=served.version)
            pending = pending_events(self.url, self.limit)
            customers = np.unique(pending["customer_id"].to_numpy(dtype=np.int64))
            for start in range(0, len(customers), self.batch_customers):
                self._fold_group(served, pending, customers[start : start + self.batch_customers], out)
                take_fold_lease(self.name, self.lease_seconds, self.url)  # renew between groups
            out.seconds = time.perf_counter() - started
            if out.events:
                append_audit(
                    WORKER_USER,
                    "fold_events",
                    f"{recsys.MODEL_NAME}/{served.version}",
                    f"{out.events} event(s) of {out.customers} customer(s) folded in place (ALS user factors,"
                    f" EASE rows; folds {', '.join(map(str, out.fold_ids))}); worker {self.name}",
                    self.url,
                )
            self._flag_retrain(served, out)
            return out
        finally:
            release_fold_lease(self.name, self.url)

    def _fold_group(self, served: ServedModels, pending: pd.DataFrame, group: np.ndarray, out: Round) -> None:
        events = pending[np.isin(pending["customer_id"].to_numpy(), group)]
        t0 = time.perf_counter()
        try:
            rows = fold_customers(served, group, self.url, source="api events")
        except Exception as exc:  # a bad group never stops the worker
            if len(group) > 1:
                log.warning(
                    "a group of %d customers could not be folded (%s): trying them one by one",
                    len(group),
                    exc,
                )
                for customer in group:
                    self._fold_group(served, pending, np.array([customer]), out)
                return
            reason = f"{type(exc).__name__}: {exc}"
            log.error("events of customer %d not folded, left with the reason: %s", int(group[0]), reason)
            mark_unfoldable(events["id"].to_numpy(), reason, self.url)
            out.unfoldable += len(events)
            return
        fold = Fold(
            recsys.MODEL_NAME,
            served.version,
            self.name,
            len(events),
            len(group),
            rows,
            round(time.perf_counter() - t0, 4),
        )
        out.fold_ids.append(record_fold(fold, events["id"].to_numpy(), self.url))
        out.events += len(events)
        out.customers += len(group)

    def _flag_retrain(self, served: ServedModels, out: Round) -> None:
        status = fold_status(recsys.MODEL_NAME, served.version, served.trained_at, self.url)
        threshold = max(
            1, min(int(self.retrain_after), math.ceil(self.retrain_share * max(served.training_rows, 1)))
        )
        out.purchases_since, out.retrain_threshold = status.purchases_since, threshold
        out.retrain_due = status.purchases_since >= threshold
        before = read_evidence(recsys.MODEL_NAME, served.version, FRESHNESS_KIND, self.url) or {}
        if not out.events and before.get("retrain_due") == out.retrain_due and before:
            return  # nothing new to record
        now = datetime.now(UTC).replace(tzinfo=None)
        doc = {
            "checked_at": now.isoformat(),
            "purchases_since_trained": status.purchases_since,
            "retrain_threshold": threshold,
            "retrain_after": int(self.retrain_after),
            "retrain_share": float(self.retrain_share),
            "training_rows": served.training_rows,
            "retrain_due": out.retrain_due,
            "retrain_due_since": before.get("retrain_due_since") if before.get("retrain_due") else None,
        }
        if out.retrain_due and not before.get("retrain_due"):
            doc["retrain_due_since"] = now.isoformat()
            append_audit(
                WORKER_USER,
                "retrain_due",
                f"{recsys.MODEL_NAME}/{served.version}",
                f"{status.purchases_since} purchases received since it was trained (threshold {threshold}): "
                "a full retrain is due (candidate, then promotion)",
                self.url,
            )
            log.warning(out.summary())
        write_evidence(recsys.MODEL_NAME, served.version, {FRESHNESS_KIND: doc}, self.url)
