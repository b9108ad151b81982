"""Every page as every role in headless Chromium: the pages a role may open load without a console error (so no
callback the browser sends is refused by the request checks), and the others answer "Not allowed".

Set ``LEDGERLIGHT_SCREENSHOTS=folder`` to keep a screenshot of each page per role.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dashapp.policy import ROLES, may_open_page
from tests.app.conftest import free_port, sign_in

PAGES = (
    "/",
    "/risk",
    "/risk/applicant",
    "/customer",
    "/segments",
    "/recommendations",
    "/campaigns",
    "/monitoring",
    "/models",
    "/admin",
    "/help",
)


def _customer_with_a_loan(trained_env) -> int:
    return int(trained_env.bank_env.bank.loans["customer_id"].iloc[0])


@pytest.mark.browser
@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_may_open_loads_cleanly_and_the_rest_are_refused(
    dash_duo, dash_app, trained_env, app_users, role
) -> None:
    shots = os.environ.get("LEDGERLIGHT_SCREENSHOTS")
    dash_duo.start_server(dash_app, navigate=False, port=free_port())
    sign_in(dash_duo, role, app_users[role])
    for path in PAGES:
        address = f"{path}?id={_customer_with_a_loan(trained_env)}" if path == "/customer" else path
        dash_duo.driver.get(dash_duo.server_url + address)
        if not may_open_page(role, path):
            dash_duo.wait_for_text_to_equal("#error-title", "Not allowed", timeout=15)
            dash_duo.get_logs()  # the browser logs the 403 itself; drain it so the next page starts clean
            continue
        dash_duo.wait_for_element("#nav-user", timeout=30)
        dash_duo.wait_for_no_elements("._dash-loading", timeout=60)
        dash_duo.wait_for_no_elements(".dash-spinner", timeout=60)
        if shots:
            time.sleep(2)  # lazy-loaded tables and charts draw after the callbacks answered
            folder = Path(shots)
            folder.mkdir(parents=True, exist_ok=True)
            dash_duo.driver.save_screenshot(str(folder / f"{role}{path.replace('/', '-') or '-home'}.png"))
        assert dash_duo.get_logs() in ([], None), f"{role} {path}: {dash_duo.get_logs()}"
