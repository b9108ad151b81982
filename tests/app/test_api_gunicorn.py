"""The JSON API end to end: real HTTP against gunicorn (2 workers) on the trained test bank: keys, roles, a rate limit
shared by both workers, scoring, recommendations, an event, its retry, and a recommendation changed by it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(trained_env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from bench import bench_load as load

    env = trained_env.bank_env
    root = Path(tmp_path_factory.mktemp("api-gunicorn"))
    dep = load.Deployment(
        root=root,
        passwords={},
        env={
            **os.environ,
            "DATABASE_URL": env.database_url,
            "LEDGERLIGHT_CHECKPOINTS": str(env.checkpoints),
            "LEDGERLIGHT_DATA_DIR": str(env.data_dir),
            "SECRET_KEY": secrets.token_hex(32),
            "LEDGERLIGHT_WARMUP": "0",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    dep.env.pop("LEDGERLIGHT_ENV", None)
    port = load.free_port()
    proc = load.start_gunicorn(dep, port, workers=2, threads=2)
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        load.stop(proc)


def _key(role: str, **limits: float) -> tuple[str, str]:
    from dashapp.api.keys import create_key

    name = f"e2e-{role}-{secrets.token_hex(3)}"
    return name, create_key(name, role, **limits)


def test_score_recommend_post_an_event_and_retry_it_over_http(base: str, trained_env) -> None:
    from dashapp.services import risk as risk_service

    _, risk_key = _key("risk", rate_per_s=100, burst=100)
    _, shop_key = _key("marketing", rate_per_s=100, burst=100)
    http = requests.Session()
    spec = risk_service.get_model().spec
    row = risk_service.latest_loan_row(int(trained_env.bank_env.bank.loans["customer_id"].iloc[0]))
    features = {f: row[f] if isinstance(row[f], str) else float(row[f]) for f in spec.features}

    scored = http.post(
        f"{base}/risk/score",
        json={"applicants": [{"ref": "e2e", "features": features}]},
        headers={"Authorization": f"Bearer {risk_key}"},
        timeout=30,
    )
    assert scored.status_code == 200, scored.text
    result = scored.json()["results"][0]
    assert result["ref"] == "e2e" and 0 < result["pd"] < 1 and result["decision"] in ("approve", "decline")
    assert (
        http.post(
            f"{base}/risk/score",
            json={"applicants": [{"features": features}]},
            headers={"X-API-Key": shop_key},
            timeout=30,
        ).status_code
        == 403
    )

    customer = 33
    recs_url = f"{base}/customers/{customer}/recommendations?n=3"
    before = http.get(recs_url, headers={"X-API-Key": shop_key}, timeout=30)
    assert before.status_code == 200, before.text
    top = before.json()["recommendations"][0]["product_id"]

    batch = {
        "events": [
            {
                "event_id": f"e2e-{secrets.token_hex(4)}",
                "customer_id": customer,
                "product_id": top,
                "ts": "2025-07-01T12:00:00Z",
                "event": "purchase",
            }
        ]
    }
    first = http.post(f"{base}/events", json=batch, headers={"X-API-Key": shop_key}, timeout=30)
    assert first.status_code == 200 and first.json()["accepted"] == 1, first.text
    retry = http.post(f"{base}/events", json=batch, headers={"X-API-Key": shop_key}, timeout=30)
    assert retry.status_code == 200 and (retry.json()["accepted"], retry.json()["duplicates"]) == (0, 1)

    after = http.get(recs_url, headers={"X-API-Key": shop_key}, timeout=30).json()
    assert top in after["rules"]["held_products_excluded"]
    assert top not in [r["product_id"] for r in after["recommendations"]]


def test_keys_and_the_rate_limit_hold_across_workers_over_http(base: str) -> None:
    from dashapp.api.keys import revoke_key

    name, key = _key("marketing", rate_per_s=0.05, burst=4)
    codes = []
    for _ in range(6):  # a new connection each time (gunicorn's keep-alive is off): both workers answer
        answer = requests.get(
            f"{base}/customers/2/segment", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        codes.append(answer.status_code)
    assert codes == [200] * 4 + [429] * 2, codes
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.headers["Content-Type"].startswith("application/json")
    revoke_key(name)
    assert (
        requests.get(f"{base}/customers/2/segment", headers={"X-API-Key": key}, timeout=30).status_code == 401
    )
    assert requests.get(f"{base}/customers/2/segment", timeout=30).status_code == 401
    assert requests.get(f"{base}/health", timeout=30).json()["status"] == "ok"
