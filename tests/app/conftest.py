"""The app's test harness: headless Chromium for ``dash_duo``, a demo-bank database and trained models in temp folders.

``pytest tests/app`` needs no flags: Chromium runs headless via ``pytest_setup_options`` below. Browser tests carry
``@pytest.mark.browser`` (deselect them with ``-m "not browser"``).
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.options import Options

CHROMIUM = Path("/usr/bin/chromium")
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1440,1100",
)
DEMO_CUSTOMERS = 2_000
DEMO_SEED = 11
#: one signed-in user per role in the test bank's database (``app_users``); the password is for tests only
TEST_PASSWORD = "test-only-password-42"


def pytest_configure(config: pytest.Config) -> None:
    """Run dash's browser fixtures headless without ``--headless`` on the command line."""
    if hasattr(config.option, "headless"):
        config.option.headless = True


def pytest_setup_options() -> Options:
    """Chrome options for ``dash_duo`` (a dash.testing hook): Debian's Chromium, headless, no background traffic."""
    options = Options()
    if CHROMIUM.exists():
        options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    return options


def free_port() -> int:
    """A TCP port nobody listens on now (so parallel test runs do not collide on dash's fixed ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class BankEnv:
    """Where the test bank lives: the generated bank, its database URL and the temp folders the app reads."""

    bank: Any
    database_url: str
    checkpoints: Path
    data_dir: Path


@dataclass(frozen=True)
class TrainedEnv:
    """The test bank plus one trained artifact per model (``risk``, ``segments``, ``recsys``)."""

    bank_env: BankEnv
    store: Any
    artifacts: dict[str, Any]


def _clear_service_caches() -> None:
    from dashapp.services import clear_caches

    clear_caches()


@pytest.fixture(scope="session")
def bank_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BankEnv]:
    """A 2,000-customer demo bank in a temp SQLite database; DATABASE_URL and the data folders point at temp folders."""
    from bankdata import bank_identity, generate_bank, write_bank

    root = tmp_path_factory.mktemp("ledgerlight-app")
    env = BankEnv(
        bank=generate_bank(DEMO_CUSTOMERS, seed=DEMO_SEED),
        database_url=f"sqlite:///{root / 'bank.db'}",
        checkpoints=root / "checkpoints",
        data_dir=root / "data",
    )
    env.checkpoints.mkdir()
    env.data_dir.mkdir()
    write_bank(env.bank, url=env.database_url)
    env = dataclasses.replace(
        env, bank=dataclasses.replace(env.bank, identity=bank_identity(env.database_url))
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", env.database_url)
        mp.setenv("LEDGERLIGHT_CHECKPOINTS", str(env.checkpoints))
        mp.setenv("LEDGERLIGHT_DATA_DIR", str(env.data_dir))
        _clear_service_caches()
        yield env
    _clear_service_caches()


@pytest.fixture(scope="session")
def trained_env(bank_env: BankEnv) -> TrainedEnv:
    """``bank_env`` plus quick-trained risk, segments and recsys artifacts in its checkpoints folder."""
    import recsys
    import risk
    import segmentation
    from bankdata import ArtifactStore
    from dashapp.services.publishing import publish_version

    store = ArtifactStore(bank_env.checkpoints)
    artifacts = {
        "risk": risk.train_from_bank(bank_env.bank, store, quick=True),
        "segments": segmentation.train_from_bank(bank_env.bank, store, quick=True),
        "recsys": recsys.train_from_bank(bank_env.bank, store, quick=True),
    }
    for name, artifact in artifacts.items():
        publish_version(name, artifact, bank_env.bank, bank_env.database_url)
    _clear_service_caches()
    return TrainedEnv(bank_env=bank_env, store=store, artifacts=artifacts)


def own_checkpoints(
    bank_env: BankEnv, tmp_path_factory: pytest.TempPathFactory, train: Any, name: str
) -> Iterator[Any]:
    """Train one area quickly into a checkpoints folder of the calling module's own and point the app at it while the
    module runs (``bank_env``'s store stays empty for the other tests). Use it in a module-scoped fixture:
    ``yield from own_checkpoints(bank_env, tmp_path_factory, segmentation.train_from_bank, "segments")``.
    """
    from bankdata import ArtifactStore
    from dashapp.services.publishing import publish_version

    checkpoints = tmp_path_factory.mktemp(f"{name}-checkpoints")
    artifact = train(bank_env.bank, ArtifactStore(checkpoints), quick=True)
    publish_version(name, artifact, bank_env.bank, bank_env.database_url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGERLIGHT_CHECKPOINTS", str(checkpoints))
        _clear_service_caches()
        yield bank_env, artifact
    _clear_service_caches()


@pytest.fixture(scope="session")
def dash_app():
    """The app gunicorn serves (``dashapp.app.app``): Dash Pages allows one app per process."""
    from dashapp.app import app

    return app


@pytest.fixture(scope="session")
def app_users(bank_env: BankEnv) -> dict[str, str]:
    """Users ``admin``, ``risk`` and ``marketing`` (role = name) in the test bank's database: ``{name: password}``."""
    from dashapp.auth import ROLES, create_user
    from dashapp.auth.users import load_user

    for role in ROLES:
        if load_user(role) is None:
            create_user(role, TEST_PASSWORD, role)
    return dict.fromkeys(ROLES, TEST_PASSWORD)


def signed_in_client(dash_app, monkeypatch: pytest.MonkeyPatch, role: str = "admin"):
    """A Flask test client whose session belongs to a user called ``role`` with that role (no database needed:
    the user loader is replaced for the test; the real sign-in is tested in ``test_auth.py``)."""
    from dashapp.auth import ROLES, User

    manager = dash_app.server.login_manager
    monkeypatch.setattr(
        manager, "_user_callback", lambda uid: User(id=uid, role=uid) if uid in ROLES else None
    )
    test_client = dash_app.server.test_client()
    with test_client.session_transaction() as session:
        session["_user_id"] = role
        session["_fresh"] = True
    return test_client


@pytest.fixture()
def as_user(dash_app, app_users):
    """A fresh test client signed in through the real form (server-side session and all): ``as_user("marketing")``."""
    from tests.app.helpers import sign_in as sign_in_form

    def make(role: str):
        client = dash_app.server.test_client()
        response = sign_in_form(client, role, app_users[role])
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        client.get("/")  # the first request registers Dash's router callback
        return client

    return make


@pytest.fixture()
def client(dash_app, monkeypatch: pytest.MonkeyPatch):
    """A Flask test client of the app (no browser), signed in as an ``admin``."""
    return signed_in_client(dash_app, monkeypatch, "admin")


def sign_in(duo, username: str, password: str = TEST_PASSWORD) -> None:
    """Sign the browser in through the real ``/login`` form, then open the Overview (as ``start_server`` would)."""
    duo.driver.delete_all_cookies()
    duo.driver.get(f"{duo.server.url}/login")
    duo.wait_for_element("#login-username", timeout=15).send_keys(username)
    duo.find_element("#login-password").send_keys(password)
    duo.find_element("#login-submit").click()
    duo.wait_for_element("#nav-user", timeout=30)
    duo.server_url = duo.server.url  # dash.testing: remembers the URL and waits for the app to load


@pytest.fixture()
def empty_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point DATABASE_URL at a database file that does not exist (restored after the test)."""
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    _clear_service_caches()
    yield url
    _clear_service_caches()


@pytest.fixture()
def served(dash_duo, dash_app, bank_env: BankEnv, app_users: dict[str, str]):
    """``dash_duo`` with the app running on a free port against the test bank, signed in as ``admin``."""
    dash_duo.start_server(dash_app, navigate=False, port=free_port())  # "/" redirects to the sign-in form
    sign_in(dash_duo, "admin", app_users["admin"])
    return dash_duo
