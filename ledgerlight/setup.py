"""``ledgerlight setup`` and ``ledgerlight train``: build the demo bank if the database is empty, train what is missing."""

from __future__ import annotations

import argparse
import logging
import time
from contextlib import nullcontext

import sqlalchemy as sa

from bankdata import (
    ArtifactStore,
    Bank,
    ensure_bank_indexes,
    generate_bank,
    get_settings,
    read_bank,
    read_summary,
    refresh_summary,
    saved_state,
    table_counts,
    write_bank,
)
from dashapp.auth.cli import print_demo_users
from dashapp.auth.config import is_production
from dashapp.auth.users import demo_users
from dashapp.services.publishing import (
    PUBLISHERS,
    TRAINERS,
    publish_missing,
    publish_version,
    train_and_publish,
)
from ledgerlight.progress import StageProgress

log = logging.getLogger("ledgerlight.setup")

DEMO_CUSTOMERS = 50_000
DEMO_SEED = 42


def database_has_bank(url: str | None = None) -> bool:
    """True when the database holds at least one customer."""
    return table_counts(url).get("customers", 0) > 0


def ensure_demo_bank(n_customers: int = DEMO_CUSTOMERS, seed: int = DEMO_SEED) -> bool:
    """Generate and store the demo bank unless the database already holds a bank; True when it generated one."""
    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if database_has_bank(settings.database_url):
        log.info("database already holds a bank: %s", _safe_url(settings.database_url))
        return False
    started = time.perf_counter()
    log.info("generating the demo bank: %s customers, seed %s", f"{n_customers:,}", seed)
    bank = generate_bank(n_customers=n_customers, seed=seed)
    write_bank(bank, settings.database_url)
    log.info("demo bank stored in %.1f s", time.perf_counter() - started)
    return True


def models_to_train(models: list[str], *, only_missing: bool) -> list[str]:
    """The named models that need training (with ``only_missing``: those with no saved version)."""
    store = ArtifactStore()
    return [m for m in models if not (only_missing and store.latest(m))]


def train_models(models: list[str], *, only_missing: bool, quick: bool = False, bank: Bank | None = None,
                 progress: StageProgress | None = None) -> list[str]:  # fmt: skip
    """Train the named models on the bank in the database; return the names that were trained.

    Each new version is published and kept as a candidate, except a model's first version (served at once); see
    :func:`~dashapp.services.publishing.train_and_publish`. ``progress`` has a stage named after each model.
    """
    store = ArtifactStore()
    todo = models_to_train(models, only_missing=only_missing)
    if not todo:
        log.info("every model is trained: %s", ", ".join(f"{m}@{store.latest(m)}" for m in models))
        return []
    bank = bank if bank is not None else read_bank(with_truth=True)
    for name in todo:
        started = time.perf_counter()
        log.info("training %s on %s customers", name, f"{bank.n_customers:,}")
        with progress.stage(name) if progress is not None else nullcontext():
            artifact = train_and_publish(name, bank, quick=quick, store=store)
        log.info(
            "trained and published %s version %s in %.1f s",
            name,
            artifact.version,
            time.perf_counter() - started,
        )
        print(saved_state(artifact, store.latest(name)))
    return todo


def prepare_serving(url: str | None = None) -> list[str]:
    """Make a database written by an older release servable: the bank's summary and the served versions' rows
    (both written at load and training time now); returns the models published."""
    url = url or get_settings().database_url
    if read_summary(url) is None:
        log.info("writing the bank's summary (the Overview)")
        refresh_summary(url)
    created = ensure_bank_indexes(url)
    if created:
        log.info("created the missing indexes: %s", ", ".join(created))
    missing = publish_missing(list(PUBLISHERS), url=url)
    if missing:
        log.info("published the served versions of: %s", ", ".join(missing))
    return missing


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _run_setup(args: argparse.Namespace) -> int:
    if is_production() and not args.demo and not database_has_bank():
        print(
            "setup: the database holds no bank, and in production the demo bank is made only with --demo. Load "
            "your files with `ledgerlight load TABLE FILE` (docs/your-own-data.md), then run setup again."
        )
        return 0
    make_bank = not database_has_bank()
    todo = models_to_train(list(TRAINERS), only_missing=True)
    customers = args.customers if make_bank else table_counts().get("customers", 0)
    stages = [*(["demo bank"] if make_bank else []), *todo, "serving tables"]
    with StageProgress(stages, customers) as progress:
        if make_bank:
            with progress.stage("demo bank"):
                ensure_demo_bank(args.customers, args.seed)
        train_models(todo, only_missing=True, progress=progress)
        with progress.stage("serving tables"):
            prepare_serving()
    if not is_production():  # production: an operator adds users with `ledgerlight users add`
        print_demo_users(demo_users())
    return 0


def _run_train(args: argparse.Namespace) -> int:
    models = list(TRAINERS) if args.model == "all" else [args.model]
    todo = models_to_train(models, only_missing=args.missing)
    with StageProgress(todo, table_counts().get("customers", 0)) as progress:
        train_models(todo, only_missing=False, quick=args.quick, progress=progress)
    if not todo:
        log.info("every model is trained: %s", ", ".join(models))
    return 0


def _run_publish(args: argparse.Namespace) -> int:
    if args.version:
        if args.model == "all":
            raise ValueError("--version needs one model: ledgerlight publish risk --version V")
        store = ArtifactStore()
        if args.version not in store.versions(args.model):
            raise ValueError(
                f"{args.version!r} is not a saved version of {args.model} "
                f"(saved: {', '.join(store.versions(args.model)[-3:]) or 'none'})"
            )
        publish_version(args.model, store.load(args.model, args.version), read_bank(with_truth=True))
        print(
            f"published {args.model} {args.version}: promote it on the Models page or with `ledgerlight promote`"
        )
        return 0
    models = list(PUBLISHERS) if args.model == "all" else [args.model]
    done = publish_missing(models, force=args.force)
    print(f"published: {', '.join(done)}" if done else "every served version is already published")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``setup``, ``train`` and ``publish`` to the ``ledgerlight`` command."""
    publish = subparsers.add_parser("publish", help="write the serving tables of the served model versions")
    publish.add_argument(
        "model", nargs="?", default="all", choices=["all", *PUBLISHERS], help="which model (default all)"
    )
    publish.add_argument("--force", action="store_true", help="publish again even when the rows are there")
    publish.add_argument(
        "--version", default=None, help="publish this saved version (e.g. before promoting it)"
    )
    publish.set_defaults(func=_run_publish)

    setup = subparsers.add_parser(
        "setup",
        help="generate the demo bank if the database is empty (in production only with --demo), then train "
        "what is missing",
    )
    setup.add_argument(
        "--demo",
        action="store_true",
        help="in production (LEDGERLIGHT_ENV=production), make the demo bank when the database is empty",
    )
    setup.add_argument(
        "--customers", type=int, default=DEMO_CUSTOMERS, help="demo bank size (default %(default)s)"
    )
    setup.add_argument("--seed", type=int, default=DEMO_SEED, help="demo bank seed (default %(default)s)")
    setup.set_defaults(func=_run_setup)

    train = subparsers.add_parser("train", help="train models on the bank in the database")
    train.add_argument(
        "model", nargs="?", default="all", choices=["all", *TRAINERS], help="which model (default all)"
    )
    train.add_argument("--missing", action="store_true", help="only models with no artifact yet")
    train.add_argument("--quick", action="store_true", help="small models, for smoke tests")
    train.set_defaults(func=_run_train)
