"""Deployments for the app benchmarks: a demo bank of a given size in SQLite or PostgreSQL, every model trained and
published, one user per role; built once and kept under ``bench/.cache/`` (ignored by git) for the next run.

SQLite: ``ledgerlight setup --customers N`` in a fresh process, exactly what ``make run DEMO_CUSTOMERS=N`` does, timed
(``setup.json`` keeps the seconds and the peak memory). PostgreSQL: the same seeded bank written to a database of the
server in ``DATABASE_URL_BENCH``, the SQLite deployment's trained checkpoints copied, and ``ledgerlight publish``
writing the serving tables there (training on the same bank again would give the same models).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("LEDGERLIGHT_BENCH_CACHE", ROOT / "bench" / ".cache"))
SEED = 42  # ledgerlight setup's demo seed


@dataclass(frozen=True)
class Deployment:
    """Where a benchmark deployment lives and how to reach it."""

    root: Path
    size: int
    database: str  # "sqlite" or "postgresql"
    env: dict[str, str]
    passwords: dict[str, str]
    setup: dict

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]


def _env(root: Path, url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEDGERLIGHT_CHECKPOINTS": str(root / "ckpt"),
        "LEDGERLIGHT_DATA_DIR": str(root / "data"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("LEDGERLIGHT_ENV", None)
    return env


def _timed(cmd: list[str], env: dict[str, str], log: Path) -> dict:
    """Run a command under /usr/bin/time; its wall seconds and peak memory (GiB)."""
    started = time.perf_counter()
    with log.open("ab") as out:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "maxrss_kib=%M", *cmd],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed (exit {done.returncode}); see {log}")
    text = log.read_text(encoding="utf-8", errors="replace")
    rss = [int(line.split("=")[1]) for line in text.splitlines() if line.startswith("maxrss_kib=")]
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_gib": round(rss[-1] / 2**20, 2) if rss else None,
    }


def _users(env: dict[str, str], folder: Path) -> dict[str, str]:
    path = folder / "users.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    passwords = {role: secrets.token_urlsafe(12) for role in ("admin", "risk", "marketing")}
    code = (
        "import json,sys\nfrom dashapp.auth.users import change_password, create_user, load_user\n"
        "for r,p in json.loads(sys.argv[1]).items():\n"
        "    change_password(r, p, by='bench') if load_user(r) else create_user(r, p, r)\n"
    )
    subprocess.run([sys.executable, "-c", code, json.dumps(passwords)], cwd=ROOT, env=env, check=True)
    path.write_text(json.dumps(passwords), encoding="utf-8")
    return passwords


def sqlite_deployment(size: int) -> Deployment:
    """The ``size``-customer deployment on SQLite, built by ``ledgerlight setup`` when it is not cached."""
    folder = CACHE / f"{size}-sqlite"
    env = _env(folder, f"sqlite:///{folder / 'bank.db'}")
    marker = folder / "setup.json"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        timing = _timed(
            [sys.executable, "-m", "ledgerlight", "setup", "--customers", str(size)],
            env,
            folder / "setup.log",
        )
        marker.write_text(
            json.dumps({"command": f"ledgerlight setup --customers {size}", **timing}), encoding="utf-8"
        )
    return Deployment(
        folder, size, "sqlite", env, _users(env, folder), json.loads(marker.read_text(encoding="utf-8"))
    )


def postgres_deployment(size: int, server_url: str) -> Deployment:
    """The ``size``-customer deployment in database ``bench_<size>`` of the PostgreSQL server at ``server_url``."""
    import sqlalchemy as sa

    base = sqlite_deployment(size)
    folder = CACHE / f"{size}-postgresql"
    name = f"bench_{size}"
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
    marker = folder / "setup.json"
    if not exists or not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        shutil.copytree(base.root / "ckpt", folder / "ckpt")
        env = _env(folder, url)
        write = _timed(
            [
                sys.executable,
                "-c",
                f"from bankdata import generate_bank, write_bank\n"
                f"write_bank(generate_bank(n_customers={size}, seed={SEED}))",
            ],
            env,
            folder / "setup.log",
        )
        publish = _timed([sys.executable, "-m", "ledgerlight", "publish"], env, folder / "setup.log")
        marker.write_text(json.dumps({"write_bank": write, "publish": publish}), encoding="utf-8")
    admin.dispose()
    env = _env(folder, url)
    return Deployment(
        folder, size, "postgresql", env, _users(env, folder), json.loads(marker.read_text(encoding="utf-8"))
    )


def deployment(size: int, database: str) -> Deployment:
    """The cached deployment of ``size`` customers on ``database`` (``sqlite``, or ``postgresql`` when
    ``DATABASE_URL_BENCH`` names a server)."""
    if database == "sqlite":
        return sqlite_deployment(size)
    server = os.environ.get("DATABASE_URL_BENCH")
    if not server:
        raise RuntimeError(
            "PostgreSQL benchmarks need DATABASE_URL_BENCH (make bench starts a throwaway server)"
        )
    return postgres_deployment(size, server)
