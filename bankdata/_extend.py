"""Later months of the demo bank: new loans with their outcomes and true PD, drawn from the same ground truth.

``extend_demo_bank`` appends ``months`` calendar months after the bank's last activity (loans and
transactions): a cohort of new customers (the generator keeps each customer's hidden creditworthiness only
while it draws them, so later loans come from new customers), their transactions, interactions, loans,
outcomes and ground truth. The bank keeps its identity, so models trained on it stay promotable and can be
back-tested on the new loans. Running it again appends the months after those.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from bankdata._db import BANK_TABLES, TRUTH_DB_TABLES, _connect, append_bank, describe_url
from bankdata._generator import generate_cohort, next_month_start
from bankdata._identity import read_identity

MAX_EXTEND_MONTHS = 36
#: by default the new months carry this share of the bank's average loans per month ...
COHORT_SHARE = 0.5
#: ... from new customers, who take about this many loans a year (the generator's mean over personas)
LOANS_PER_CUSTOMER_YEAR = 0.8
MIN_COHORT = 100


@dataclass(frozen=True)
class Extension:
    """What :func:`extend_demo_bank` appended."""

    start: str
    months: int
    customers: int
    loans: int
    defaults: int
    seed: int
    written: dict[str, int]

    @property
    def end(self) -> str:
        """The last day of the months appended."""
        return (
            pd.Timestamp(self.start) + pd.offsets.MonthBegin(self.months) - pd.Timedelta(days=1)
        ).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class _State:
    loans_per_month: float
    last_customer: int
    last_loan: int
    last_activity: pd.Timestamp


def _check_months(months: object) -> int:
    if isinstance(months, bool) or not isinstance(months, int):
        raise ValueError(f"--months must be a whole number between 1 and {MAX_EXTEND_MONTHS}, got {months!r}")
    if not 1 <= months <= MAX_EXTEND_MONTHS:
        raise ValueError(f"--months must lie between 1 and {MAX_EXTEND_MONTHS}, got {months}")
    return months


def _state(url: str | None) -> _State:
    """Loans a month, largest ids and last activity of the demo bank; ``ValueError`` when there is none."""
    customers, loans = BANK_TABLES["customers"], BANK_TABLES["loans"]
    transactions, personas = BANK_TABLES["transactions"], TRUTH_DB_TABLES["personas"]
    with _connect(url, write=False) as conn:
        where = describe_url(conn.engine.url)
        inspector = sa.inspect(conn)
        if not inspector.has_table(customers.name) or not inspector.has_table(loans.name):
            raise ValueError(f"the {where} holds no bank: run `ledgerlight demo generate` first")
        identity = read_identity(conn)
        if identity is not None and not identity.is_demo and identity.kind != "legacy":
            raise ValueError(
                f"the {where} holds a bank loaded from your files (kind {identity.kind}): only the demo "
                "bank can be extended; load your later loans with `ledgerlight load loans FILE`"
            )
        truth = (
            conn.execute(sa.select(sa.func.count()).select_from(personas)).scalar_one()
            if inspector.has_table(personas.name)
            else 0
        )
        if not truth:
            raise ValueError(
                f"the {where} holds a bank without the demo bank's ground truth: only the demo bank can "
                "be extended; load your later loans with `ledgerlight load loans FILE`"
            )
        n, last_customer = conn.execute(
            sa.select(sa.func.count(), sa.func.max(customers.c.customer_id))
        ).one()
        n_loans, last_loan, first_issued, last_issued = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(loans.c.loan_id),
                sa.func.min(loans.c.issued_at),
                sa.func.max(loans.c.issued_at),
            )
        ).one()
        last_ts = (
            conn.execute(sa.select(sa.func.max(transactions.c.ts))).scalar()
            if inspector.has_table(transactions.name)
            else None
        )
    moments = [pd.Timestamp(v) for v in (last_issued, last_ts) if v is not None]
    if not n or not moments:
        raise ValueError(
            f"the {where} holds no customers or loans to extend: run `ledgerlight demo generate`"
        )
    months = 1
    if first_issued is not None:
        first, last = pd.Timestamp(first_issued).to_period("M"), pd.Timestamp(last_issued).to_period("M")
        months = (last.year - first.year) * 12 + last.month - first.month + 1
    return _State(int(n_loans) / months, int(last_customer or 0), int(last_loan or 0), max(moments))


def default_cohort(loans_per_month: float) -> int:
    """New customers of an extension by default: enough for :data:`COHORT_SHARE` of the bank's average loans a
    month (at least 100). It does not compound: each extension lowers the average a little."""
    return max(MIN_COHORT, round(COHORT_SHARE * loans_per_month * 12 / LOANS_PER_CUSTOMER_YEAR))


def extend_demo_bank(
    months: int, *, customers: int | None = None, seed: int | None = None, url: str | None = None
) -> Extension:
    """Append ``months`` later months (new customers, their loans with outcomes and true PD) to the demo bank.

    Parameters
    ----------
    months : int
        Calendar months to append (1 to 36), starting the month after the bank's last loan or transaction.
    customers : int, optional
        New customers (default :func:`default_cohort`).
    seed : int, optional
        Seed of the cohort (default: derived from its first month, so each extension draws afresh).
    url : str, optional
        SQLAlchemy URL; default ``get_settings().database_url``.

    Raises
    ------
    ValueError
        ``months`` or ``customers`` out of range, or the database holds no demo bank (your own data, or none).
    """
    months = _check_months(months)
    state = _state(url)
    n = default_cohort(state.loans_per_month) if customers is None else customers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"--customers must be a whole number of at least 1, got {n!r}")
    start = next_month_start(state.last_activity)
    seed = int(pd.Timestamp(start).strftime("%Y%m")) if seed is None else seed
    cohort = generate_cohort(
        state.last_activity,
        n_customers=n,
        seed=seed,
        months=months,
        customer_offset=state.last_customer,
        loan_offset=state.last_loan,
    )
    written = append_bank(cohort, url)
    return Extension(
        start=start,
        months=months,
        customers=n,
        loans=len(cohort.loans),
        defaults=int(cohort.loans["defaulted"].sum()),
        seed=seed,
        written=written,
    )
