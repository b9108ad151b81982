"""The seeded demo bank: determinism, schema, marginals and the documented ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from bankdata import TABLES, Bank, generate_bank
from bankdata import _gen_loans as L
from bankdata._catalogue import CREDIT_FAMILIES
from bankdata._gen_common import pack_keys, unpack_keys
from bankdata._generator import generate_later_batch
from bankdata._personas import PERSONAS

SCHEMA: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "int64",
        "age": "int64",
        "gender": "str",
        "region": "str",
        "income": "float64",
        "employment": "str",
        "tenure_months": "int64",
        "credit_score": "int64",
        "balance": "float64",
        "signup_date": "datetime64[ns]",
    },
    "transactions": {
        "customer_id": "int64",
        "ts": "datetime64[ns]",
        "amount": "float64",
        "category": "str",
        "channel": "str",
        "direction": "str",
    },
    "loans": {
        "loan_id": "int64",
        "customer_id": "int64",
        "issued_at": "datetime64[ns]",
        "amount": "float64",
        "term_months": "int64",
        "interest_rate": "float64",
        "purpose": "str",
        "dti": "float64",
        "prior_delinquencies": "int64",
        "defaulted": "int64",
    },
    "products": {"product_id": "int64", "name": "str", "family": "str"},
    "interactions": {"customer_id": "int64", "product_id": "int64", "ts": "datetime64[ns]", "event": "str"},
}
WINDOW_START, WINDOW_END = pd.Timestamp("2025-01-01"), pd.Timestamp("2026-01-01")


@pytest.fixture(scope="module")
def bank() -> Bank:
    return generate_bank(n_customers=6_000, seed=11)


def _all_frames(b: Bank) -> list[pd.DataFrame]:
    return [b.table(t) for t in TABLES] + [b.truth.personas, b.truth.loan_pd, b.truth.affinity]


def test_same_seed_gives_identical_bank() -> None:
    first, second = generate_bank(400, seed=5), generate_bank(400, seed=5)
    for a, b in zip(_all_frames(first), _all_frames(second), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_different_seed_gives_different_bank() -> None:
    first, second = generate_bank(400, seed=5), generate_bank(400, seed=6)
    assert not first.customers["income"].equals(second.customers["income"])
    assert len(first.transactions) != len(second.transactions) or not first.transactions.equals(
        second.transactions
    )


@pytest.mark.parametrize("table", TABLES)
def test_schema_and_dtypes(bank: Bank, table: str) -> None:
    df = bank.table(table)
    assert list(df.columns) == list(SCHEMA[table])
    assert {c: str(t) for c, t in df.dtypes.items()} == SCHEMA[table]
    assert not df.isna().any().any(), f"{table} has missing values"


def test_ids_start_at_one_and_reference_existing_rows(bank: Bank) -> None:
    assert bank.customers["customer_id"].tolist() == list(range(1, 6_001))
    assert bank.loans["loan_id"].tolist() == list(range(1, len(bank.loans) + 1))
    assert bank.products["product_id"].tolist() == list(range(1, 13))
    for table in ("transactions", "loans", "interactions"):
        assert bank.table(table)["customer_id"].between(1, 6_000).all()
    assert bank.interactions["product_id"].between(1, 12).all()


def test_vocabularies(bank: Bank) -> None:
    c, t = bank.customers, bank.transactions
    assert set(c["gender"]) == {"F", "M"}
    assert 6 <= c["region"].nunique() <= 8
    assert set(t["direction"]) == {"debit", "credit"}
    assert set(t["channel"]) == {"mobile", "online", "branch", "atm", "pos"}
    assert set(t["category"]) == {
        "groceries",
        "dining",
        "travel",
        "shopping",
        "utilities",
        "entertainment",
        "health",
        "transport",
        "salary",
        "transfer",
    }
    assert set(bank.loans["purpose"]) == {
        "car",
        "home_improvement",
        "debt_consolidation",
        "education",
        "business",
        "personal",
    }
    assert set(bank.loans["term_months"]) == {12, 24, 36, 48, 60}
    assert set(bank.interactions["event"]) == {"view", "click", "apply", "purchase"}


def test_timestamps_inside_window_and_after_signup(bank: Bank) -> None:
    signup = bank.customers.set_index("customer_id")["signup_date"]
    for table, col in (("transactions", "ts"), ("loans", "issued_at"), ("interactions", "ts")):
        df = bank.table(table)
        assert df[col].min() >= WINDOW_START and df[col].max() < WINDOW_END, table
        assert (df[col].to_numpy() >= signup.loc[df["customer_id"]].to_numpy()).all(), (
            f"{table} before signup"
        )


def test_signup_date_matches_tenure(bank: Bank) -> None:
    days = (WINDOW_END - bank.customers["signup_date"]).dt.days
    assert (np.floor(days / 30.4375).astype("int64") == bank.customers["tenure_months"]).all()
    assert (bank.customers["signup_date"] <= WINDOW_END - pd.Timedelta(days=1)).all()
    assert (bank.customers["tenure_months"] <= (bank.customers["age"] - 18) * 12 + 1).all()


def test_customer_marginals(bank: Bank) -> None:
    c = bank.customers
    assert c["credit_score"].between(300, 850).all()
    assert 650 <= c["credit_score"].mean() <= 710
    assert 30_000 <= c["income"].median() <= 50_000
    assert c["income"].skew() > 0.5
    assert (c["income"] > 0).all()
    assert c["age"].between(18, 95).all()


def test_transaction_marginals(bank: Bank) -> None:
    t = bank.transactions
    assert 25 <= len(t) / bank.n_customers <= 35
    assert (t["amount"] > 0).all()
    assert (t.loc[t["category"] == "salary", "direction"] == "credit").all()
    assert (t.loc[~t["category"].isin(["salary", "transfer"]), "direction"] == "debit").all()
    transfers = t.loc[t["category"] == "transfer", "direction"]
    assert 0.2 < (transfers == "credit").mean() < 0.5


def test_december_peak_and_weekend_pattern(bank: Bank) -> None:
    spend = bank.transactions.loc[bank.transactions["category"] != "salary", "ts"]
    per_month = spend.dt.month.value_counts()
    assert per_month[12] > per_month.median() * 1.15
    assert per_month.idxmax() == 12
    per_weekday = spend.dt.dayofweek.value_counts()
    assert per_weekday[5] > per_weekday[6]  # Saturday busier than Sunday


def test_salary_credits_are_monthly(bank: Bank) -> None:
    salary = bank.transactions.loc[bank.transactions["category"] == "salary"]
    per_customer_month = salary.groupby(["customer_id", salary["ts"].dt.month]).size()
    assert per_customer_month.max() == 1
    assert salary["customer_id"].value_counts().max() == 12


def test_loan_marginals(bank: Bank) -> None:
    loans = bank.loans
    assert 0.6 <= len(loans) / bank.n_customers <= 1.0
    assert 0.05 <= loans["defaulted"].mean() <= 0.15
    assert set(loans["defaulted"]) == {0, 1}
    assert (
        (loans["amount"] > 0).all()
        and (loans["dti"] >= 0).all()
        and (loans["prior_delinquencies"] >= 0).all()
    )
    per_customer = loans["customer_id"].value_counts()
    assert (per_customer >= 2).any()
    assert loans["customer_id"].nunique() < bank.n_customers  # some customers have no loan
    low = loans["interest_rate"][
        bank.customers.set_index("customer_id").loc[loans["customer_id"], "credit_score"].to_numpy() < 600
    ]
    high = loans["interest_rate"][
        bank.customers.set_index("customer_id").loc[loans["customer_id"], "credit_score"].to_numpy() > 750
    ]
    assert low.mean() > high.mean() + 3


def test_products_catalogue(bank: Bank) -> None:
    p = bank.products
    assert len(p) == 12
    assert set(p["family"]) == {"deposit", "card", "loan", "investment", "insurance"}
    credit = set(p.loc[p["family"].isin(CREDIT_FAMILIES), "name"])
    assert {"Credit card", "Personal loan", "Car loan", "Mortgage"} <= credit
    assert "Savings account" not in credit


def test_funnel_shape_and_order(bank: Bank) -> None:
    i = bank.interactions
    counts = i["event"].value_counts()
    assert counts["view"] > counts["click"] > counts["apply"] >= counts["purchase"]
    first = i.pivot_table(index=["customer_id", "product_id"], columns="event", values="ts", aggfunc="min")
    bought = first.dropna(subset=["purchase"])
    assert bought[["view", "click", "apply"]].notna().all().all()
    assert (bought["view"] <= bought["click"]).all()
    assert (bought["click"] <= bought["apply"]).all()
    assert (bought["apply"] <= bought["purchase"]).all()
    assert 2.0 <= len(bank.held_products()) / bank.n_customers <= 4.0


def test_oracle_auc_and_default_rate() -> None:
    b = generate_bank(20_000, seed=3)
    auc = roc_auc_score(b.loans["defaulted"], b.truth.loan_pd["true_pd"])
    assert 0.85 <= auc <= 0.93
    assert 0.07 <= b.truth.loan_pd["true_pd"].mean() <= 0.11
    assert 0.07 <= b.loans["defaulted"].mean() <= 0.11


def test_true_pd_falls_with_credit_score(bank: Bank) -> None:
    score = bank.customers.set_index("customer_id").loc[bank.loans["customer_id"], "credit_score"].to_numpy()
    by_band = (
        pd.Series(bank.truth.loan_pd["true_pd"].to_numpy()).groupby(pd.qcut(score, 4, labels=False)).mean()
    )
    assert by_band.is_monotonic_decreasing
    assert by_band.iloc[0] > 2 * by_band.iloc[-1]


def test_age_and_gender_have_no_direct_effect_on_true_pd() -> None:
    """What the documented terms leave of logit(PD) (the customer's noise) carries no age or gender effect."""
    b = generate_bank(8_000, seed=4)
    df = _loans_with_customers(b)
    residual = _logit(b) - _documented_log_odds(df) - df["persona"].map(_persona_effect()).to_numpy(float)
    x = np.column_stack([np.ones(len(df)), df["age"].to_numpy(float), (df["gender"] == "F").to_numpy(float)])
    coef, *_ = np.linalg.lstsq(x, residual, rcond=None)
    assert abs(coef[1]) < 0.003  # per year; the noise term alone leaves about +-0.002
    assert abs(coef[2]) < 0.05


def test_held_products_have_higher_true_affinity(bank: Bank) -> None:
    aff = bank.truth.affinity.merge(
        bank.held_products().assign(held=True), how="left", on=["customer_id", "product_id"]
    )
    held = aff["held"].fillna(False).astype(bool)
    assert aff.loc[held, "affinity"].mean() > aff.loc[~held, "affinity"].mean() + 0.3
    assert len(aff) == bank.n_customers * 12
    assert aff["affinity"].between(0, 1).all()


def test_personas_are_hidden_and_truth_never_leaks(bank: Bank) -> None:
    personas = bank.truth.personas
    assert 5 <= personas["persona"].nunique() <= 6
    assert personas["persona"].value_counts(normalize=True).max() < 0.4
    hidden = {"persona", "true_pd", "affinity"}
    persona_names = set(personas["persona"])
    for table in TABLES:
        df = bank.table(table)
        assert hidden.isdisjoint(df.columns), table
        for col in df.select_dtypes(include="str").columns:
            assert persona_names.isdisjoint(df[col].unique()), f"{table}.{col} carries persona names"
    assert len(bank.truth.loan_pd) == len(bank.loans)


def test_personas_drive_behaviour(bank: Bank) -> None:
    df = bank.customers.merge(bank.truth.personas, on="customer_id")
    income = df.groupby("persona")["income"].median()
    assert income["affluent_investor"] > 2 * income["struggling_borrower"]
    age = df.groupby("persona")["age"].mean()
    assert age["retired_saver"] > age["young_digital"] + 30
    mobile = bank.transactions.merge(bank.truth.personas, on="customer_id").groupby("persona")["channel"]
    share = mobile.apply(lambda s: (s == "mobile").mean())
    assert share["young_digital"] > 3 * share["retired_saver"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_customers": 0}, "n_customers"),
        ({"n_customers": "10"}, "n_customers"),
        ({"months": 0}, "months"),
        ({"seed": -1}, "seed"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        generate_bank(**kwargs)


def test_short_window_and_other_start() -> None:
    b = generate_bank(300, seed=1, months=3, start="2024-10-01")
    assert b.transactions["ts"].min() >= pd.Timestamp("2024-10-01")
    assert b.transactions["ts"].max() < pd.Timestamp("2025-01-01")
    assert 5 <= len(b.transactions) / 300 <= 12


def test_later_batch_continues_ids_and_dates(bank: Bank) -> None:
    batch = generate_later_batch(bank, n_customers=500, seed=99)
    assert batch.customers["customer_id"].min() == bank.customers["customer_id"].max() + 1
    assert batch.loans["loan_id"].min() == bank.loans["loan_id"].max() + 1
    assert set(batch.loans["customer_id"]) <= set(batch.customers["customer_id"])
    assert set(batch.truth.loan_pd["loan_id"]) == set(batch.loans["loan_id"])
    assert batch.transactions["ts"].min() >= WINDOW_END
    assert batch.transactions["ts"].max() < WINDOW_END + pd.DateOffset(months=1)


def test_later_batch_shift_drifts_population_and_outcomes(bank: Bank) -> None:
    same = generate_later_batch(bank, n_customers=4_000, seed=21, months=12)
    drifted = generate_later_batch(bank, n_customers=4_000, seed=21, months=12, shift=1.0)
    concept = generate_later_batch(bank, n_customers=4_000, seed=21, months=12, pd_shift=1.0)
    share = {
        name: (b.truth.personas["persona"] == "struggling_borrower").mean()
        for name, b in (("same", same), ("drifted", drifted))
    }
    assert share["drifted"] > 2 * share["same"]
    assert drifted.customers["credit_score"].mean() < same.customers["credit_score"].mean() - 10
    assert drifted.loans["defaulted"].mean() > same.loans["defaulted"].mean() + 0.03
    pd.testing.assert_frame_equal(concept.customers, same.customers)
    assert concept.truth.loan_pd["true_pd"].mean() > 1.5 * same.truth.loan_pd["true_pd"].mean()


def test_pack_keys_sorts_by_fields_and_round_trips() -> None:
    rng = np.random.default_rng(0)
    fields = (rng.integers(0, 1_000, 500), rng.integers(0, 2**25, 500), rng.integers(0, 16, 500))
    bits = (0, 25, 4)
    key = pack_keys(fields, bits)
    key.sort()
    back = unpack_keys(key, bits)
    expected = pd.DataFrame(dict(enumerate(fields))).sort_values([0, 1, 2]).to_numpy().T
    np.testing.assert_array_equal(np.vstack(back), expected)


def test_time_of_day_follows_spending_profile(bank: Bank) -> None:
    spend = bank.transactions.loc[bank.transactions["category"] != "salary", "ts"].dt.hour.value_counts()
    assert spend.get(18, 0) > 5 * spend.get(3, 0)


def test_too_large_a_bank_is_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        generate_bank(n_customers=2**40, months=120)


def test_tiny_bank_keeps_the_schema_even_without_loans() -> None:
    tiny = next(bank for seed in range(50) if (bank := generate_bank(2, seed=seed)).loans.empty)
    for table in TABLES:
        assert {c: str(t) for c, t in tiny.table(table).dtypes.items()} == SCHEMA[table]
    assert tiny.truth.loan_pd.empty and len(tiny.truth.affinity) == 24


def _loans_with_customers(b: Bank) -> pd.DataFrame:
    return b.loans.merge(b.customers, on="customer_id", suffixes=("", "_c")).merge(
        b.truth.personas, on="customer_id"
    )


def _logit(b: Bank) -> np.ndarray:
    true_pd = b.truth.loan_pd["true_pd"].to_numpy()
    return np.log(true_pd / (1 - true_pd))


def _persona_effect() -> dict[str, float]:
    return {p.name: p.pd_effect for p in PERSONAS}


def _documented_log_odds(df: pd.DataFrame) -> np.ndarray:
    """docs/demo-bank.md's formula, written out again from the published columns (without persona and noise)."""
    score, dti, term = df["credit_score"], df["dti"], df["term_months"]
    fragile = df["employment"].isin(["self_employed", "student", "unemployed"])
    overdrawn_effect = np.where(
        df["tenure_months"] >= L.KNOWN_AFTER, L.PD_OVERDRAWN_KNOWN, L.PD_OVERDRAWN_NEW
    )
    months_of_income = (12 * df["balance"] / df["income"]).clip(0, L.BUFFER_CAP)
    explained = (
        L.PD_INTERCEPT
        + L.PD_SCORE * (score.clip(L.SCORE_FLOOR, L.SCORE_CAP) - 680)
        + L.PD_SUBPRIME * (score < L.SUBPRIME_BELOW)
        + L.PD_DTI_CLIFF * (dti > L.DTI_CLIFF)
        + L.PD_DTI_SLOPE * (dti - L.DTI_CLIFF).clip(0, L.DTI_SATURATES)
        + L.PD_DELINQUENCY * (df["prior_delinquencies"] >= 1)
        + L.PD_INCOME * np.log(df["income"] / 40_000)
        + df["employment"].map(L.PD_EMPLOYMENT).astype(float)
        + L.PD_FRAGILE_DTI * fragile * (dti - L.FRAGILE_DTI_FROM).clip(lower=0)
        + df["purpose"].map(L.PD_PURPOSE).astype(float)
        + df["purpose"].map(L.PD_TERM).astype(float) * (term - 36)
        + (df["balance"] < 0) * overdrawn_effect
        + L.PD_BUFFER * months_of_income / L.BUFFER_CAP
    )
    return explained.to_numpy(float)


def test_true_pd_is_the_documented_formula_plus_one_noise_per_customer(bank: Bank) -> None:
    """logit(PD) minus the documented terms leaves only the customer's hidden noise, the same on all their loans."""
    df = _loans_with_customers(bank)
    explained = _documented_log_odds(df) + df["persona"].map(_persona_effect()).to_numpy(float)
    residual = pd.Series(_logit(bank) - explained)
    per_customer = residual.groupby(df["customer_id"].to_numpy())
    # the formula reads the published (rounded) columns, so what is left is the customer's noise to float precision
    assert per_customer.std().dropna().max() < 1e-9
    assert residual.std() == pytest.approx(L.PD_NOISE, rel=0.1)
    assert abs(residual.mean()) < 0.05


def test_observed_log_odds_is_the_documented_formula(bank: Bank) -> None:
    df = _loans_with_customers(bank)
    got = L.observed_log_odds(
        **{c: df[c].to_numpy() for c in NONLINEAR_INPUTS},
    )
    np.testing.assert_allclose(got, _documented_log_odds(df), rtol=0, atol=1e-12)


NONLINEAR_INPUTS = (
    "credit_score", "dti", "prior_delinquencies", "income", "employment", "term_months", "purpose",
    "tenure_months", "balance",
)  # fmt: skip
APPLICANT = dict(
    credit_score=680.0, dti=0.3, prior_delinquencies=0, income=40_000.0, employment="employed", term_months=36,
    purpose="car", tenure_months=60, balance=2_000.0,
)  # fmt: skip


def _odds(**change: object) -> float:
    """observed_log_odds of one applicant, APPLICANT with ``change``."""
    row = {**APPLICANT, **change}
    return float(L.observed_log_odds(**{k: np.array([v]) for k, v in row.items()})[0])


def test_true_pd_has_cliffs_saturation_and_interactions() -> None:
    """Holding everything else fixed, the shapes docs/demo-bank.md documents are there (and are not additive)."""
    # DTI cliff: crossing 0.43 by 0.002 jumps the log-odds; below the cliff DTI costs an employed applicant nothing
    assert _odds(dti=0.431) - _odds(dti=0.429) > 0.5
    assert _odds(dti=0.40) == _odds(dti=0.20)
    assert _odds(dti=1.5) == _odds(dti=2.5)  # saturated far above the cliff
    # the first delinquency is the signal; the fifth adds nothing
    assert _odds(prior_delinquencies=1) - _odds() == pytest.approx(L.PD_DELINQUENCY)
    assert _odds(prior_delinquencies=5) == _odds(prior_delinquencies=1)
    # credit score: a subprime step below 600, flat above 720
    assert _odds(credit_score=599) - _odds(credit_score=600) > 0.5
    assert _odds(credit_score=800) == _odds(credit_score=720) < _odds(credit_score=700)
    # income shock x DTI: the same DTI rise costs a fragile income far more
    employed = _odds(dti=0.42) - _odds(dti=0.32)
    fragile = _odds(dti=0.42, employment="self_employed") - _odds(dti=0.32, employment="self_employed")
    assert employed == 0 and fragile == pytest.approx(0.1 * L.PD_FRAGILE_DTI)
    # purpose x term: a longer term lowers a car loan's risk and raises a business loan's
    assert _odds(term_months=60) < _odds(term_months=24)
    assert _odds(purpose="business", term_months=60) > _odds(purpose="business", term_months=24)
    # tenure x balance: an overdraft weighs far more on a new customer than on a known one
    new = _odds(balance=-500.0, tenure_months=6) - _odds(balance=0.0, tenure_months=6)
    known = _odds(balance=-500.0, tenure_months=60) - _odds(balance=0.0, tenure_months=60)
    assert new > known + 1.0 and known > 0
    # a savings buffer helps, up to a month of income
    assert _odds(balance=1_000.0) < _odds(balance=0.0)
    assert _odds(balance=40_000.0) == _odds(balance=4_000.0) < _odds(balance=1_000.0)
    with pytest.raises(ValueError, match="unknown label"):
        _odds(purpose="yacht")


def test_observable_log_odds_are_far_from_linear_in_the_columns(bank: Bank) -> None:
    """A linear fit on the raw columns (what logistic regression sees) misses a good part of the observable PD."""
    df = _loans_with_customers(bank)
    observable = _documented_log_odds(df)
    numeric = df[["amount", "term_months", "interest_rate", "dti", "prior_delinquencies", "income",
                  "tenure_months", "credit_score", "balance"]].to_numpy(float)  # fmt: skip
    dummies = pd.get_dummies(df[["purpose", "region", "employment"]], drop_first=True, dtype=float).to_numpy()
    x = np.column_stack([np.ones(len(df)), numeric, dummies])
    coef, *_ = np.linalg.lstsq(x, observable, rcond=None)
    r2 = 1 - np.var(observable - x @ coef) / np.var(observable)
    assert 0.4 < r2 < 0.85  # the additive formula this replaced gave 0.998


def test_window_starting_mid_month_still_pays_that_months_salary() -> None:
    b = generate_bank(3_000, seed=2, months=2, start="2025-01-15")
    salary = b.transactions.loc[b.transactions["category"] == "salary", "ts"]
    assert salary.min() >= pd.Timestamp("2025-01-15")
    assert salary.max() < pd.Timestamp("2025-03-15")
    assert (salary.dt.month == 1).sum() > 500  # 24 January (the 25th is a Saturday)
    assert salary.dt.dayofweek.max() <= 4  # never paid at a weekend


def test_borrowers_hold_more_credit_products(bank: Bank) -> None:
    loans = bank.loans["customer_id"].value_counts().reindex(bank.customers["customer_id"], fill_value=0)
    held = bank.held_products().merge(bank.products, on="product_id")
    credit = held.loc[held["family"].isin(CREDIT_FAMILIES), "customer_id"].value_counts()
    credit = credit.reindex(bank.customers["customer_id"], fill_value=0)
    assert credit[loans.to_numpy() >= 2].mean() > credit[loans.to_numpy() == 0].mean() + 0.25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shift": float("nan")}, "shift"),
        ({"pd_shift": float("inf")}, "pd_shift"),
        ({"n_customers": 0}, "n_customers"),
    ],
)
def test_later_batch_bad_arguments_are_named(bank: Bank, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_later_batch(bank, **kwargs)


def test_later_batch_needs_a_bank() -> None:
    with pytest.raises(TypeError, match="Bank"):
        generate_later_batch({"customers": None})  # type: ignore[arg-type]
