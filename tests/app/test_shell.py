"""The app shell without a browser: /healthz, page registry, routing, no CDN, the "no data" state, services, serve."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import dash
import numpy as np
import pandas as pd
import pytest

from dashapp import cli
from dashapp.components import nav_pages
from dashapp.services import docs
from dashapp.services.bank import (
    DataUnavailable,
    customer_loans,
    customer_monthly,
    customer_profile,
    database_reachable,
)
from dashapp.services.overview import get_overview

# ---------------------------------------------------------------- helpers


def render_path(client, path: str) -> dict[str, Any]:
    """What the Dash Pages router returns for ``path`` (the page's component tree as JSON)."""
    client.get("/")  # the first request registers the router callback
    deps = client.get("/_dash-dependencies").get_json()
    router = next(d for d in deps if "_pages_content.children" in d["output"])
    payload = {
        "output": router["output"],
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]["_pages_content"]["children"]


def find_ids(tree: Any) -> dict[str, dict]:
    """Every component with an ``id`` in a serialised layout, by id."""
    found: dict[str, dict] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and isinstance(props.get("id"), str):
                found[props["id"]] = node
            stack.extend(v for v in (props or node).values() if isinstance(v, dict | list))
    return found


# ---------------------------------------------------------------- /healthz


def test_healthz_reports_database_and_artifact_versions(client, bank_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "empty-store"))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"reachable": True, "backend": "sqlite"}
    assert set(body["artifacts"]) == {"risk", "segments", "recsys"}
    assert all(v is None for v in body["artifacts"].values())  # nothing trained in this store


def test_healthz_names_the_latest_version_of_each_trained_model(
    client, bank_env, monkeypatch, tmp_path
) -> None:
    from bankdata import ArtifactStore

    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path))
    saved = ArtifactStore(tmp_path).save(
        "segments",
        write=lambda d: (d / "centroids.txt").write_text("0 0"),
        params={},
        metrics={},
        features={},
        data_fingerprint="x",
        row_count=1,
    )
    artifacts = client.get("/healthz").get_json()["artifacts"]
    assert artifacts == {"risk": None, "segments": saved.version, "recsys": None}


def test_healthz_is_degraded_and_creates_nothing_when_the_database_is_missing(client, empty_database) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["reachable"] is False
    assert not Path(empty_database.removeprefix("sqlite:///")).exists()


def test_database_reachable_is_false_for_a_bad_url() -> None:
    assert database_reachable("nonsense://") is False


# ---------------------------------------------------------------- registry, routing, HTML


def test_navbar_pages_follow_order_and_hide_the_404(dash_app) -> None:
    pages = nav_pages(dash.page_registry.values())
    paths = [p["path"] for p in pages]
    assert paths[0] == "/" and paths[-1] == "/help"
    assert "/404" not in paths
    orders = [p["order"] for p in pages if p.get("order") is not None]
    assert orders == sorted(orders)


def test_nav_pages_sorts_unordered_last_and_respects_nav_false() -> None:
    registry = [
        {"module": "x.b", "name": "B", "order": None},
        {"module": "x.a", "name": "A", "order": 5},
        {"module": "x.hidden", "name": "H", "order": 1, "nav": False},
        {"module": "x.z", "name": "Z", "order": 0},
        {"module": "x.not_found_404", "name": "404", "order": 2},
    ]
    assert [p["name"] for p in nav_pages(registry)] == ["Z", "A", "B"]


def test_served_html_uses_no_cdn_and_loads_the_vendored_bootstrap(client) -> None:
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "no scripts or stylesheets found in the page"
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    assert any("bootstrap.min.css" in u for u in urls) and any("ledgerlight.css" in u for u in urls)
    css = client.get("/assets/bootstrap.min.css")
    assert css.status_code == 200 and b"Licensed under MIT" in css.data[:400]


def test_unknown_path_renders_the_not_found_page(client, bank_env) -> None:
    assert "not-found" in find_ids(render_path(client, "/no/such/page"))


def test_help_lists_the_docs_and_rejects_unknown_slugs(client) -> None:
    ids = find_ids(render_path(client, "/help"))
    assert "help-docs" in ids
    assert docs.list_docs(), "docs/*.md should exist"
    assert docs.get_doc("../pyproject") is None
    assert docs.get_doc(docs.list_docs()[0].slug) is not None
    assert all("`" not in d.title for d in docs.list_docs())


def test_doc_images_are_served_and_nothing_outside_docs_img(client) -> None:
    app_doc = docs.get_doc("app")
    assert app_doc is not None and f"]({docs.IMAGE_ROUTE}/overview.png)" in app_doc.text
    image = client.get(f"{docs.IMAGE_ROUTE}/overview.png")
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"{docs.IMAGE_ROUTE}/../app.md").status_code == 404
    assert client.get(f"{docs.IMAGE_ROUTE}/%2e%2e/app.md").status_code == 404


# ---------------------------------------------------------------- data states


def test_overview_shows_the_no_data_card_when_the_database_is_missing(client, empty_database) -> None:
    ids = find_ids(render_path(client, "/"))
    assert "no-data-card" in ids
    assert "ledgerlight demo generate" in json.dumps(ids["no-data-card"])
    assert "overview-monthly" not in ids


def test_overview_renders_tiles_and_charts_with_data(client, bank_env) -> None:
    ids = find_ids(render_path(client, "/"))
    assert "no-data-card" not in ids
    assert "2,000" in json.dumps(ids["kpi-customers"])
    for graph in (
        "overview-monthly",
        "overview-uptake",
        "overview-defaults",
        "overview-income",
        "overview-regions",
    ):
        figure = ids[graph]["props"]["figure"]
        assert figure["data"], f"{graph} has no traces"


def test_a_missing_database_file_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    with pytest.raises(DataUnavailable, match="nothing.db"):
        customer_profile(1, f"sqlite:///{missing}")
    with pytest.raises(DataUnavailable, match="nothing.db"):
        get_overview(f"sqlite:///{missing}")
    assert not missing.exists()


def test_a_database_without_a_bank_is_reported(tmp_path: Path) -> None:
    import sqlalchemy as sa

    path = tmp_path / "empty.db"
    with sa.create_engine(f"sqlite:///{path}").connect() as conn:
        conn.execute(sa.text("CREATE TABLE unrelated (x INTEGER)"))
        conn.commit()
    with pytest.raises(DataUnavailable, match="no bank summary"):
        get_overview(f"sqlite:///{path}")
    with pytest.raises(DataUnavailable, match="customers"):
        customer_profile(1, f"sqlite:///{path}")


def test_one_customers_rows_are_read_by_look_up(bank_env) -> None:
    bank = bank_env.bank
    cid = int(bank.loans["customer_id"].iloc[0])
    row = customer_profile(cid)
    expected = bank.customers.set_index("customer_id").loc[cid]
    assert row["age"] == expected["age"] and row["region"] == expected["region"]
    assert row["signup_date"] == expected["signup_date"]
    assert customer_profile(10**9) is None
    loans = customer_loans(cid)
    assert sorted(loans["loan_id"]) == sorted(bank.loans.loc[bank.loans["customer_id"] == cid, "loan_id"])
    tx = bank.transactions[bank.transactions["customer_id"] == cid]
    monthly = customer_monthly(cid)
    assert monthly["count"].sum() == len(tx) and monthly["amount"].sum() == pytest.approx(tx["amount"].sum())
    assert set(monthly["direction"]) <= {"debit", "credit"}
    month = pd.to_datetime(tx["ts"]).dt.to_period("M").dt.to_timestamp()
    expected = tx.assign(month=month).groupby(["month", "direction"])["amount"].agg(["sum", "size"])
    got = monthly.set_index(["month", "direction"])
    np.testing.assert_allclose(got["amount"], expected["sum"].reindex(got.index))  # summed by the database
    assert got["count"].tolist() == expected["size"].reindex(got.index).tolist() and len(got) == len(expected)


# ---------------------------------------------------------------- ledgerlight serve


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_serve_execs_gunicorn_without_preload_and_with_single_threaded_blas(monkeypatch, capsys) -> None:
    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda path, argv, env: calls.append((path, argv, env)))
    args = _parse(["serve", "--host", "0.0.0.0", "--port", "9001", "--workers", "3", "--threads", "2"])
    assert args.func is cli.serve
    args.func(args)
    ((_, argv, env),) = calls
    assert argv[1:4] == ["-m", "gunicorn", "dashapp.app:server"]
    assert "--preload" not in argv
    joined = " ".join(argv)
    assert "--bind 0.0.0.0:9001" in joined and "--workers 3" in joined and "--threads 2" in joined
    assert "--timeout 120" in joined
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["OMP_NUM_THREADS"] == "1"
    assert "http://0.0.0.0:9001" in capsys.readouterr().out


def test_serve_defaults_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    args = _parse(["serve"])
    assert (args.host, int(args.port), int(args.workers)) == ("127.0.0.1", 9100, 5)


@pytest.mark.parametrize(("flag", "value"), [("--port", "http"), ("--port", "70000"), ("--workers", "0")])
def test_serve_rejects_bad_options_with_a_clear_message(monkeypatch, flag: str, value: str) -> None:
    monkeypatch.setattr(cli.os, "execve", lambda *a: pytest.fail("must not start a server"))
    args = _parse(["serve", flag, value])
    with pytest.raises(ValueError, match=re.escape(flag)):
        args.func(args)


def test_serve_dev_runs_flask_without_debug(monkeypatch, dash_app, capsys) -> None:
    runs = []
    monkeypatch.setattr(dash_app, "run", lambda **kw: runs.append(kw))
    monkeypatch.setattr(cli.os, "execve", lambda *a: pytest.fail("--dev must not exec gunicorn"))
    for var in cli.SINGLE_THREAD_ENV:
        monkeypatch.delenv(var, raising=False)
    args = _parse(["serve", "--dev", "--port", "8123"])
    assert args.func(args) == 0
    assert runs == [{"host": "127.0.0.1", "port": 8123, "debug": False}]
    assert cli.os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert "http://127.0.0.1:8123" in capsys.readouterr().out


def _exec_env(monkeypatch, tmp_path: Path, **env: str) -> tuple[list[str], dict[str, str]]:
    """Run ``ledgerlight serve`` from a directory outside the repository; the argv and environment it execs."""
    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda path, argv, environ: calls.append((argv, environ)))
    for name in ("SECRET_KEY", "LEDGERLIGHT_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    args = _parse(["serve"])
    args.func(args)
    ((argv, environ),) = calls
    return argv, environ


@pytest.mark.parametrize("key", [None, "short-key"])
def test_serve_makes_one_session_key_for_every_worker_when_none_or_a_short_one_is_set(
    monkeypatch, tmp_path, key
) -> None:
    """Each worker made its own key (sign-in failed about half the time): the server run gets one, passed to all."""
    argv, environ = _exec_env(monkeypatch, tmp_path, **({"SECRET_KEY": key} if key else {}))
    assert len(environ["SECRET_KEY"]) >= 32 and environ["SECRET_KEY"] != key
    _, again = _exec_env(monkeypatch, tmp_path, **({"SECRET_KEY": key} if key else {}))
    assert again["SECRET_KEY"] != environ["SECRET_KEY"]  # random per server run, never a constant


def test_serve_keeps_a_long_enough_key_and_leaves_production_to_refuse(monkeypatch, tmp_path) -> None:
    long_key = "k" * 40
    assert _exec_env(monkeypatch, tmp_path, SECRET_KEY=long_key)[1]["SECRET_KEY"] == long_key
    _, environ = _exec_env(monkeypatch, tmp_path, LEDGERLIGHT_ENV="production")
    assert "SECRET_KEY" not in environ  # the app then refuses to start, as it must in production


def test_serve_uses_the_repositorys_gunicorn_config_from_any_directory(monkeypatch, tmp_path) -> None:
    argv, _ = _exec_env(monkeypatch, tmp_path)
    config = Path(argv[argv.index("--config") + 1])
    assert config.is_absolute() and config.name == "gunicorn.conf.py" and config.is_file()
