"""The risk service serves from the database: the Applicant grid pages, sorts and filters in SQL (checked against a
pandas reference), one borrower is an indexed look-up, other areas get a band subquery, and no service function
reads the whole bank. A PostgreSQL run (``DATABASE_URL_TEST``) must give the same pages."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import risk
from bankdata import BANK_TABLES, ArtifactStore, query, write_bank
from dashapp.services import clear_caches, governance
from dashapp.services import risk as svc
from dashapp.services.served import NotPublished, NotTrained
from dashapp.services.validation import InputError
from tests.app.helpers import CALLBACK, audit_rows

GRID_OUTPUT = "risk-grid.getRowsResponse"


@pytest.fixture(scope="module")
def reference(trained_env) -> pd.DataFrame:
    """Every borrower's grid row computed in pandas from the bank and the served model."""
    bank = trained_env.bank_env.bank
    loans = risk.latest_loans(bank)
    model = risk.RiskModel.load(trained_env.artifacts["risk"])
    scored = model.score(loans)
    return pd.DataFrame(
        {
            "customer_id": loans["customer_id"].to_numpy(),
            "loan_id": loans["loan_id"].to_numpy(),
            "pd": scored["pd"].to_numpy(),
            "band": scored["band"].astype(str).to_numpy(),
            "amount": loans["amount"].to_numpy(),
            "purpose": loans["purpose"].astype(str).str.lower().to_numpy(),
            "credit_score": loans["credit_score"].to_numpy(),
            "income": loans["income"].to_numpy(),
            "dti": loans["dti"].to_numpy(),
        }
    )


def _sorted(frame: pd.DataFrame, sort_model: list[dict]) -> pd.DataFrame:
    col, asc = (
        (sort_model[0]["colId"], sort_model[0]["sort"] == "asc") if sort_model else ("customer_id", True)
    )
    cols = [col] if col == "customer_id" else [col, "customer_id"]  # ties: customer id in the same direction
    return frame.sort_values(cols, ascending=asc, kind="mergesort")


CASES = [
    ([], {}),
    ([{"colId": "pd", "sort": "desc"}], {}),
    ([{"colId": "band", "sort": "desc"}], {}),
    (
        [{"colId": "income", "sort": "desc"}],
        {"band": {"filterType": "text", "type": "equals", "filter": "C"}},
    ),
    (
        [{"colId": "purpose", "sort": "asc"}],
        {"pd": {"filterType": "number", "type": "greaterThan", "filter": 0.1}},
    ),
    ([{"colId": "amount", "sort": "asc"}], {"band": {"filterType": "text", "type": "equals", "filter": "e"}}),
    (
        [{"colId": "credit_score", "sort": "desc"}],
        {
            "income": {"filterType": "number", "type": "inRange", "filter": 20_000, "filterTo": 60_000},
            "purpose": {"filterType": "text", "type": "contains", "filter": "ar"},
        },
    ),
    (
        [],
        {
            "dti": {
                "filterType": "number",
                "operator": "OR",
                "conditions": [
                    {"filterType": "number", "type": "lessThan", "filter": 0.1},
                    {"filterType": "number", "type": "greaterThanOrEqual", "filter": 0.5},
                ],
            }
        },
    ),
    (
        [{"colId": "loan_id", "sort": "desc"}],
        {
            "purpose": {"filterType": "text", "type": "startsWith", "filter": "ho"},
            "band": {"filterType": "text", "type": "notEqual", "filter": "A"},
        },
    ),
    ([], {"dti": {"filterType": "number", "type": "blank"}}),
    (
        [{"colId": "amount", "sort": "desc"}],
        {"band": {"filterType": "text", "type": "notEqual", "filter": "a"}},
    ),
    (
        [{"colId": "dti", "sort": "asc"}],
        {"purpose": {"filterType": "text", "type": "equals", "filter": "CAR"}},
    ),
]


def _filtered(frame: pd.DataFrame, filter_model: dict) -> pd.DataFrame:
    def one(col: str, f: dict) -> pd.Series:
        s, t = frame[col], f["type"]
        if t == "blank":
            return s.isna()
        if f.get("filterType") == "text":
            low, v = s.str.lower(), str(f["filter"]).lower()
            return {
                "equals": low == v,
                "notEqual": low != v,
                "contains": low.str.contains(v, regex=False),
                "startsWith": low.str.startswith(v),
            }[t]
        v = f.get("filter")
        return {
            "greaterThan": s > v,
            "lessThan": s < v,
            "greaterThanOrEqual": s >= v,
            "inRange": s.between(v, f.get("filterTo")),
        }[t]

    mask = pd.Series(True, index=frame.index)
    for col, f in filter_model.items():
        if "conditions" in f:
            parts = [one(col, c) for c in f["conditions"]]
            part = parts[0] | parts[1] if f["operator"] == "OR" else parts[0] & parts[1]
        else:
            part = one(col, f)
        mask &= part
    return frame[mask]


@pytest.mark.parametrize(("sort_model", "filter_model"), CASES)
def test_grid_pages_sort_and_filter_like_pandas(trained_env, reference, sort_model, filter_model) -> None:
    expected = _sorted(_filtered(reference, filter_model), sort_model)
    rows, total = svc.applicant_page(0, 50, sort_model, filter_model)
    assert total == len(expected)
    assert [r["customer_id"] for r in rows] == expected["customer_id"].head(50).tolist()
    if total > 60:  # a later page continues exactly where the first stopped
        later, again = svc.applicant_page(37, 61, sort_model, filter_model)
        assert (
            again == total
            and [r["customer_id"] for r in later] == expected["customer_id"].iloc[37:61].tolist()
        )
    if rows:
        got = pd.DataFrame(rows).set_index("customer_id")
        want = expected.set_index("customer_id").loc[got.index]
        np.testing.assert_allclose(got["pd"], want["pd"].round(4), atol=1e-9)
        assert (got["band"] == want["band"]).all() and (got["loan_id"] == want["loan_id"]).all()
        assert set(got.columns) == set(risk.publishing.GRID_COLUMNS) - {"customer_id"}


def test_the_last_page_and_beyond(trained_env, reference) -> None:
    n = len(reference)
    rows, total = svc.applicant_page(n - 3, n + 97, [{"colId": "pd", "sort": "asc"}], {})
    assert total == n and len(rows) == 3
    assert (
        rows[-1]["customer_id"]
        == _sorted(reference, [{"colId": "pd", "sort": "asc"}])["customer_id"].iloc[-1]
    )
    assert svc.applicant_page(n + 10, n + 20, [], {}) == ([], n)


HOSTILE = [
    (0, 10_000, [], {}),  # more rows than a page
    (-1, 10, [], {}),
    (10, 5, [], {}),
    ("0", 10, [], {}),
    (0, 10, [{"colId": "pd; DROP TABLE risk_scores", "sort": "asc"}], {}),
    (0, 10, [{"colId": "model_version", "sort": "asc"}], {}),
    (0, 10, [{"colId": "reasons", "sort": "asc"}], {}),
    (0, 10, [{"colId": "pd", "sort": "sideways"}], {}),
    (0, 10, [{"colId": "pd"}], {}),
    (
        0,
        10,
        [{"colId": "band", "sort": "asc"}, {"colId": "pd", "sort": "asc"}],
        {},
    ),  # one sort column at a time
    (0, 10, "pd", {}),
    (0, 10, [], {"model_version": {"filterType": "text", "type": "equals", "filter": "x"}}),
    (0, 10, [], {"reasons": {"filterType": "text", "type": "contains", "filter": "x"}}),
    (0, 10, [], {"pd": {"filterType": "number", "type": "regex", "filter": ".*"}}),
    (0, 10, [], {"pd": {"filterType": "text", "type": "contains", "filter": "1"}}),
    (0, 10, [], {"pd": {"filterType": "number", "type": "equals", "filter": "0 OR 1=1"}}),
    (0, 10, [], {"purpose": {"filterType": "text", "type": "equals", "filter": "x" * 500}}),
    (0, 10, [], {"purpose": {"filterType": "text", "type": "equals", "filter": 3}}),
    (0, 10, [], {"pd": {"filterType": "number", "operator": "XOR", "conditions": []}}),
    (
        0,
        10,
        [],
        {
            "pd": {
                "filterType": "number",
                "operator": "AND",
                "conditions": [{"type": "equals", "filter": 1}] * 3,
            }
        },
    ),
    (0, 10, [], ["pd"]),
]


@pytest.mark.parametrize(("start", "end", "sort_model", "filter_model"), HOSTILE)
def test_hostile_grid_requests_are_refused(trained_env, start, end, sort_model, filter_model) -> None:
    with pytest.raises(InputError):
        svc.applicant_page(start, end, sort_model, filter_model)


def test_a_like_filter_matches_its_wildcards_literally(trained_env) -> None:
    _, total = svc.applicant_page(
        0, 10, [], {"purpose": {"filterType": "text", "type": "contains", "filter": "%"}}
    )
    assert total == 0


def _grid_request(request: dict) -> dict:
    return {
        "output": GRID_OUTPUT,
        "outputs": {"id": "risk-grid", "property": "getRowsResponse"},
        "inputs": [{"id": "risk-grid", "property": "getRowsRequest", "value": request}],
        "changedPropIds": ["risk-grid.getRowsRequest"],
        "state": [],
    }


def test_the_grid_callback_serves_a_block_and_refuses_a_hostile_one(as_user, trained_env, reference) -> None:
    client = as_user("risk")
    ok = client.post(
        CALLBACK, json=_grid_request({"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}})
    )
    assert ok.status_code == 200
    assert len(ok.get_data()) < 1_000_000
    body = ok.get_json()["response"]["risk-grid"]["getRowsResponse"]
    assert body["rowCount"] == len(reference) and len(body["rowData"]) == min(100, len(reference))
    assert ("view_applicants", "applicant grid") in audit_rows("risk")
    bad = client.post(
        CALLBACK,
        json=_grid_request(
            {
                "startRow": 0,
                "endRow": 100,
                "filterModel": {},
                "sortModel": [{"colId": "1; DROP TABLE x", "sort": "asc"}],
            }
        ),
    )
    assert bad.status_code == 400 and "response" not in bad.get_json()
    assert (
        as_user("marketing").post(CALLBACK, json=_grid_request({"startRow": 0, "endRow": 10})).status_code
        == 403
    )


def test_applicant_look_up_and_customer_risk(trained_env, reference) -> None:
    bank = trained_env.bank_env.bank
    loans = risk.latest_loans(bank).set_index("customer_id")
    cid = int(reference.sort_values("pd")["customer_id"].iloc[-1])  # the riskiest: declined, with recourse
    values = svc.applicant_features(cid)
    model = svc.get_model()
    assert list(values) == model.spec.features
    for name, value in values.items():
        want = loans.loc[cid, name]
        assert value == (want.item() if hasattr(want, "item") else want), name
    part = svc.customer_risk(cid)
    assert part is not None and part.explanation.pd == pytest.approx(
        float(reference.set_index("customer_id").loc[cid, "pd"])
    )
    assert part.loan["loan_id"] == loans.loc[cid, "loan_id"] and isinstance(
        part.loan["issued_at"], pd.Timestamp
    )
    assert part.threshold == trained_env.artifacts["risk"].load_json("report.json")["threshold"]
    assert part.recourse is not None and part.explanation.pd >= part.threshold
    no_loan = int(sorted(set(bank.customers["customer_id"]) - set(bank.loans["customer_id"]))[0])
    assert svc.customer_risk(no_loan) is None and svc.band_of(no_loan) is None
    with pytest.raises(InputError, match="no borrower"):
        svc.applicant_features(no_loan)
    assert svc.band_of(cid) == reference.set_index("customer_id").loc[cid, "band"]


def test_customers_in_bands_is_a_subquery_of_the_served_version(trained_env, reference) -> None:
    select = svc.customers_in_bands(["D", "E"])
    assert isinstance(select, sa.Select)
    got = set(query(select, trained_env.bank_env.database_url)["customer_id"])
    assert got == set(reference.loc[reference["band"].isin(["D", "E"]), "customer_id"])
    c = BANK_TABLES["customers"]
    outside = query(
        sa.select(sa.func.count()).select_from(c).where(c.c.customer_id.not_in(select)),
        trained_env.bank_env.database_url,
    ).iloc[0, 0]
    assert outside == len(trained_env.bank_env.bank.customers) - len(got)
    with pytest.raises(InputError):
        svc.customers_in_bands(["Z"])


def test_no_service_function_reads_the_bank(trained_env, reference, monkeypatch) -> None:
    def refuse(*_a, **_k):
        raise AssertionError("a service read the whole bank")

    for target in (
        "bankdata.read_bank",
        "dashapp.services.bank.read_bank",
        "dashapp.services.bank.get_bank",
        "bankdata.generate_later_batch",
        "risk.latest_loans",
        "risk.loan_frame",
    ):
        monkeypatch.setattr(
            target, refuse, raising=False
        )  # (some are gone already; refused should they return)
    clear_caches()
    cid = int(reference["customer_id"].iloc[5])
    svc.applicant_page(
        0,
        100,
        [{"colId": "pd", "sort": "desc"}],
        {"band": {"filterType": "text", "type": "equals", "filter": "B"}},
    )
    svc.explain(svc.applicant_features(cid))
    svc.customer_risk(cid)
    svc.band_of(cid)
    svc.customers_in_bands(["E"])
    svc.cutoff_summary(0.2, 5, 1)
    svc.best_threshold(5, 1)
    assert governance.fairness(0.23)["threshold"] == pytest.approx(0.23)
    assert governance.drift(1.0, 0.5).features["feature"].tolist()
    assert governance.true_default_rate(1.0, 0.5) is not None


def test_an_unpublished_version_is_not_served(trained_env, tmp_path, monkeypatch) -> None:
    store = ArtifactStore(tmp_path / "checkpoints")
    risk.train_from_bank(trained_env.bank_env.bank, store, quick=True)  # trained, never published
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    clear_caches()
    with pytest.raises(NotPublished, match="ledgerlight publish risk") as caught:
        svc.applicant_page(0, 10, [], {})
    assert isinstance(caught.value, NotTrained) and caught.value.command == "ledgerlight publish risk"
    assert svc.customers_in_bands(["E"]) is None and svc.band_of(1) is None
    with pytest.raises(NotTrained, match="publish"):
        governance.fairness()
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "none"))
    clear_caches()
    assert svc.customers_in_bands(["E"]) is None
    with pytest.raises(NotTrained, match="ledgerlight risk train"):
        svc.applicant_page(0, 10, [], {})
    clear_caches()


def test_monitoring_reads_the_published_grid(trained_env) -> None:
    art = trained_env.artifacts["risk"]
    frame = risk.loan_frame(trained_env.bank_env.bank)
    assert governance.fairness(0.301)["attributes"] == risk.model_fairness(art, frame, 0.30)["attributes"]
    trained = art.load_json("report.json")["threshold"]
    assert governance.fairness()["threshold"] == pytest.approx(trained)
    assert governance.fairness(trained)["threshold"] == pytest.approx(round(trained, 4))
    assert governance.drift(1.9).score_psi == governance.drift(2.0).score_psi  # snapped to the published 2.0
    rates = [governance.true_default_rate(0.0, d) for d in (-1.0, 0.0, 2.0)]
    assert rates == sorted(rates) and rates[0] < rates[-1]
    with pytest.raises(ValueError, match="pd_shift"):
        governance.drift(0.0, 5.0)


@pytest.mark.postgres
def test_postgres_pages_equal_sqlite(trained_env, monkeypatch) -> None:
    pg_url = os.environ.get("DATABASE_URL_TEST")
    if not pg_url:
        pytest.skip("DATABASE_URL_TEST is not set")
    from dashapp.services.publishing import publish_version

    cases = [(s, f) for s, f in CASES if f.get("dti", {}).get("type") != "blank"]
    sqlite_pages = [svc.applicant_page(0, 40, s, f) for s, f in cases]
    cid = int(sqlite_pages[0][0][3]["customer_id"])
    sqlite_one = (svc.applicant_features(cid), svc.band_of(cid))
    write_bank(trained_env.bank_env.bank, url=pg_url)
    publish_version("risk", trained_env.artifacts["risk"], trained_env.bank_env.bank, pg_url)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    clear_caches()
    try:
        for (s, f), want in zip(cases, sqlite_pages, strict=True):
            got = svc.applicant_page(0, 40, s, f)
            assert got[1] == want[1] and [r["customer_id"] for r in got[0]] == [
                r["customer_id"] for r in want[0]
            ]
            np.testing.assert_allclose([r["pd"] for r in got[0]], [r["pd"] for r in want[0]], atol=1e-9)
        assert (svc.applicant_features(cid), svc.band_of(cid)) == sqlite_one
    finally:
        clear_caches()


def test_grid_shows_purposes_in_words_and_filters_on_them(trained_env, reference) -> None:
    stored = {"purpose": {"filterType": "text", "type": "equals", "filter": "debt_consolidation"}}
    words = {"purpose": {"filterType": "text", "type": "equals", "filter": "Debt consolidation"}}
    rows, total = svc.applicant_page(0, 50, [], words)
    assert total == (reference["purpose"] == "debt_consolidation").sum() > 0
    assert svc.applicant_page(0, 50, [], stored) == (rows, total)
    assert {r["purpose"] for r in rows} == {"Debt consolidation"}
    everyone, _ = svc.applicant_page(0, 200, [], {})
    assert not any("_" in str(r["purpose"]) for r in everyone)
