"""Campaigns in the database: what was offered to whom, who was held out, and who took the product up.

Three tables, written by :func:`create_campaign` and :func:`record_responses` only:

- ``campaigns``: one row per campaign: name, product, the audience that produced it (the filter or the ranked list
  and the model version, as JSON), the control share and seed of its holdout, its size, who created it and when,
  and the response window in days.
- ``campaign_members``: one row per customer of a campaign: its stratum (the segment the holdout was stratified by),
  its arm (``treated`` or ``control``) and the score it was ranked by (none for an unranked audience).
- ``campaign_responses``: one row per member who took the product up within the window: when, and where the
  response came from (``file``, ``holdings`` or ``simulated``). A customer responds once; recording a response
  again keeps the earliest and counts as a duplicate, so loading a file twice never double-counts.

Customer ids are the bank's internal ids (the external ids of a text-id bank are translated by the caller).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bankdata._db import BANK_TABLES, _connect, insert_rows, metadata, read_app_rows

ARMS = ("treated", "control")
RESPONSE_SOURCES = ("file", "holdings", "simulated")
CAMPAIGN_SOURCES = ("segments", "recommendations", "cli")
DEFAULT_WINDOW_DAYS = 90
MAX_NAME = 120
MAX_MEMBERS = 2_000_000

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

campaigns_table = sa.Table(
    "campaigns",
    metadata,
    sa.Column("campaign_id", _ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("product_id", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("audience", sa.Text, nullable=False),  # JSON: the filter or ranked list, and the model version
    sa.Column("control_share", sa.Double, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("n_treated", sa.BigInteger, nullable=False),
    sa.Column("n_control", sa.BigInteger, nullable=False),
    sa.Column("window_days", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(120), nullable=False),
)
campaign_members_table = sa.Table(
    "campaign_members",
    metadata,
    sa.Column("campaign_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("stratum", sa.String(120), nullable=False),
    sa.Column(
        "arm",
        sa.String(10),
        sa.CheckConstraint("arm IN ('treated', 'control')", name="ck_members_arm"),
        nullable=False,
    ),  # fmt: skip
    sa.Column("score", sa.Double, nullable=True),
)
campaign_responses_table = sa.Table(
    "campaign_responses",
    metadata,
    sa.Column("campaign_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("responded_at", sa.DateTime, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)
CAMPAIGN_TABLES = (campaigns_table, campaign_members_table, campaign_responses_table)
_C, _M, _R = CAMPAIGN_TABLES


@dataclass(frozen=True)
class Campaign:
    """One stored campaign (a row of ``campaigns``)."""

    campaign_id: int
    name: str
    product_id: int
    source: str
    audience: dict[str, Any]
    control_share: float
    seed: int
    n_treated: int
    n_control: int
    window_days: int
    created_at: datetime
    created_by: str

    @property
    def window_ends_at(self) -> datetime:
        """The last moment a take-up counts as a response."""
        return self.created_at + timedelta(days=self.window_days)


@dataclass(frozen=True)
class ResponsesRecorded:
    """What :func:`record_responses` did with the rows it was given."""

    recorded: int
    duplicates: int  # already recorded for that customer (the earliest is kept)
    not_members: int  # customers who are not in the campaign (skipped)
    outside_window: int  # take-ups before the campaign or after its window (skipped)

    def describe(self) -> str:
        """One line for a person."""
        parts = [f"{self.recorded:,} response(s) recorded"]
        for n, what in ((self.duplicates, "already recorded"), (self.not_members, "not in the campaign"),
                        (self.outside_window, "outside the response window")):  # fmt: skip
            if n:
                parts.append(f"{n:,} {what} (skipped)")
        return "; ".join(parts)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _check_new(name: str, product_id: int, source: str, control_share: float, window_days: int) -> str:
    name = str(name).strip()
    if not name:
        raise ValueError("a campaign needs a name")
    if len(name) > MAX_NAME:
        raise ValueError(f"a campaign name has at most {MAX_NAME} characters, got {len(name)}")
    if source not in CAMPAIGN_SOURCES:
        raise ValueError(f"unknown campaign source {source!r}; expected one of {', '.join(CAMPAIGN_SOURCES)}")
    if not 0.0 < float(control_share) < 1.0:
        raise ValueError(f"control share must be strictly between 0 and 1, got {control_share!r}")
    if not 1 <= int(window_days) <= 3660:
        raise ValueError(f"the response window must be 1 to 3,660 days, got {window_days!r}")
    if int(product_id) < 1:
        raise ValueError(f"not a product id: {product_id!r}")
    return name


def _check_members(members: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "stratum", "arm") if c not in members.columns]
    if missing:
        raise ValueError(f"campaign members need column(s) {', '.join(missing)}")
    if members.empty:
        raise ValueError("a campaign needs at least one customer")
    if len(members) > MAX_MEMBERS:
        raise ValueError(f"a campaign has at most {MAX_MEMBERS:,} customers, got {len(members):,}")
    out = pd.DataFrame({
        "customer_id": members["customer_id"].to_numpy(dtype=np.int64),
        "stratum": members["stratum"].astype(object).where(members["stratum"].notna(), "(missing)").astype(str),
        "arm": members["arm"].astype(str),
        "score": (members["score"].astype(float) if "score" in members.columns else np.nan),
    })  # fmt: skip
    if out["customer_id"].duplicated().any():
        raise ValueError("a customer appears twice in the campaign's members")
    bad = sorted(set(out["arm"]) - set(ARMS))
    if bad:
        raise ValueError(f"unknown arm(s) {', '.join(map(repr, bad))}; expected treated or control")
    if not (out["arm"] == "treated").any():
        raise ValueError("a campaign needs at least one treated customer")
    return out


def create_campaign(
    *, name: str, product_id: int, source: str, audience: dict[str, Any], control_share: float, seed: int,
    members: pd.DataFrame, created_by: str, window_days: int = DEFAULT_WINDOW_DAYS, url: str | None = None,
) -> Campaign:  # fmt: skip
    """Store a campaign and its members in one transaction; returns the stored campaign.

    Parameters
    ----------
    members : DataFrame
        ``customer_id``, ``stratum``, ``arm`` (treated/control) and optionally ``score`` (the ranking used).
    audience : dict
        What produced the audience (JSON-serialisable): the filter or list and the model version.

    Raises
    ------
    ValueError
        A missing name, a share outside (0, 1), no treated customer, duplicate customers, unknown arms.
    DatabaseError
        The database does not answer.
    """
    name = _check_new(name, product_id, source, control_share, window_days)
    rows = _check_members(members)
    audience_json = json.dumps(audience, sort_keys=True, default=str)
    now = _now()
    values: dict[str, Any] = {
        "name": name, "product_id": int(product_id), "source": source, "audience": audience_json,
        "control_share": float(control_share), "seed": int(seed), "n_treated": int((rows["arm"] == "treated").sum()),
        "n_control": int((rows["arm"] == "control").sum()), "window_days": int(window_days), "created_at": now,
        "created_by": str(created_by),
    }  # fmt: skip
    with _connect(url, write=True) as conn:
        metadata.create_all(conn, tables=list(CAMPAIGN_TABLES))
        campaign_id = int(
            conn.execute(sa.insert(_C).values(**values).returning(_C.c.campaign_id)).scalar_one()
        )
        score = rows["score"].astype(object).where(rows["score"].notna(), None)
        tuples = list(zip([campaign_id] * len(rows), rows["customer_id"].tolist(), rows["stratum"].tolist(),
                          rows["arm"].tolist(), score.tolist(), strict=True))  # fmt: skip
        for start in range(0, len(tuples), 50_000):
            insert_rows(conn, _M, [c.name for c in _M.columns], tuples[start : start + 50_000])
    return Campaign(campaign_id=campaign_id, **{**values, "audience": audience})


def _campaign(row: sa.Row) -> Campaign:
    m = dict(row._mapping)
    m["audience"] = json.loads(m["audience"])
    return Campaign(**{k: m[k] for k in Campaign.__dataclass_fields__})


def read_campaign(campaign_id: int, url: str | None = None) -> Campaign | None:
    """The campaign ``campaign_id``, or None when there is none."""
    rows = read_app_rows(sa.select(_C).where(_C.c.campaign_id == int(campaign_id)), url, what="the campaigns")
    return _campaign(rows[0]) if rows else None


def read_campaigns(
    url: str | None = None, *, limit: int = 200, product_id: int | None = None
) -> list[Campaign]:
    """The latest ``limit`` campaigns, newest first (of one product with ``product_id``)."""
    statement = sa.select(_C).order_by(_C.c.campaign_id.desc()).limit(max(int(limit), 0))
    if product_id is not None:
        statement = statement.where(_C.c.product_id == int(product_id))
    return [_campaign(r) for r in read_app_rows(statement, url, what="the campaigns")]


def response_counts(url: str | None = None) -> dict[int, int]:
    """Recorded responses per campaign, ``{campaign_id: n}`` (campaigns without responses left out)."""
    statement = sa.select(_R.c.campaign_id, sa.func.count().label("n")).group_by(_R.c.campaign_id)
    return {int(c): int(n) for c, n in read_app_rows(statement, url, what="the campaign responses")}


def campaign_outcomes(campaign_id: int, url: str | None = None) -> pd.DataFrame:
    """Every member of a campaign with its outcome: ``customer_id``, ``stratum``, ``arm``, ``score``,
    ``treated`` (bool), ``responded`` (bool) and ``responded_at`` (NaT when not), in customer order."""
    statement = (
        sa.select(_M.c.customer_id, _M.c.stratum, _M.c.arm, _M.c.score, _R.c.responded_at)
        .select_from(_M.outerjoin(_R, sa.and_(_R.c.campaign_id == _M.c.campaign_id,
                                              _R.c.customer_id == _M.c.customer_id)))
        .where(_M.c.campaign_id == int(campaign_id))
        .order_by(_M.c.customer_id)
    )  # fmt: skip
    rows = read_app_rows(statement, url, what="the campaign's members")
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["customer_id", "stratum", "arm", "score", "responded_at"]
    )
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    frame["responded_at"] = pd.to_datetime(frame["responded_at"])
    frame["treated"] = frame["arm"].to_numpy() == "treated"
    frame["responded"] = frame["responded_at"].notna().to_numpy()
    return frame


def treated_customers(campaign_id: int, url: str | None = None) -> pd.DataFrame:
    """The treated members (whom to contact) in rank order (best score first, then customer id):
    ``customer_id``, ``stratum``, ``score``."""
    order = [sa.case((_M.c.score.is_(None), 1), else_=0), _M.c.score.desc(), _M.c.customer_id]
    statement = (sa.select(_M.c.customer_id, _M.c.stratum, _M.c.score)
                 .where(_M.c.campaign_id == int(campaign_id), _M.c.arm == "treated").order_by(*order))  # fmt: skip
    rows = read_app_rows(statement, url, what="the campaign's members")
    return pd.DataFrame([tuple(r) for r in rows], columns=["customer_id", "stratum", "score"])


def _existing(conn: Connection, campaign_id: int, customers: Sequence[int], table: sa.Table) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(customers), 20_000):
        chunk = list(customers[start : start + 20_000])
        found.update(conn.execute(sa.select(table.c.customer_id).where(
            table.c.campaign_id == campaign_id, table.c.customer_id.in_(chunk))).scalars())  # fmt: skip
    return found


def record_responses(campaign_id: int, responses: pd.DataFrame, *, source: str, url: str | None = None
                     ) -> ResponsesRecorded:  # fmt: skip
    """Record take-ups of the campaign's product: ``customer_id`` and ``responded_at`` per row.

    Rows of customers who are not members, and take-ups before the campaign was created or after its window, are
    skipped and counted; a customer's earliest take-up is kept, and one already recorded counts as a duplicate, so
    recording the same file twice changes nothing. All rows are recorded in one transaction.

    Raises
    ------
    ValueError
        No such campaign, an unknown source, missing columns or unreadable dates.
    DatabaseError
        The database does not answer.
    """
    if source not in RESPONSE_SOURCES:
        raise ValueError(f"unknown response source {source!r}; expected one of {', '.join(RESPONSE_SOURCES)}")
    campaign = read_campaign(campaign_id, url)
    if campaign is None:
        raise ValueError(f"no campaign {campaign_id}: `ledgerlight campaigns list` shows the stored ones")
    missing = [c for c in ("customer_id", "responded_at") if c not in responses.columns]
    if missing:
        raise ValueError(f"responses need column(s) {', '.join(missing)}")
    frame = pd.DataFrame({"customer_id": responses["customer_id"].to_numpy(dtype=np.int64),
                          "responded_at": pd.to_datetime(responses["responded_at"])})  # fmt: skip
    if frame["responded_at"].isna().any():
        raise ValueError("every response needs the date the product was taken up (responded_at)")
    in_window = (frame["responded_at"] >= campaign.created_at) & (
        frame["responded_at"] <= campaign.window_ends_at
    )
    outside = int((~in_window).sum())
    frame = frame[in_window].sort_values(["customer_id", "responded_at"])
    repeated = int(frame["customer_id"].duplicated().sum())
    frame = frame.drop_duplicates("customer_id")
    now = _now()
    with _connect(url, write=True) as conn:
        metadata.create_all(conn, tables=list(CAMPAIGN_TABLES))
        ids = frame["customer_id"].tolist()
        members = _existing(conn, campaign.campaign_id, ids, _M)
        done = _existing(conn, campaign.campaign_id, ids, _R)
        is_member = frame["customer_id"].isin(members)
        new = frame[is_member & ~frame["customer_id"].isin(done)]
        rows = [(campaign.campaign_id, int(c), t.to_pydatetime(), source, now)
                for c, t in zip(new["customer_id"], new["responded_at"], strict=True)]  # fmt: skip
        if rows:
            conn.execute(
                sa.insert(_R), [dict(zip([c.name for c in _R.columns], r, strict=True)) for r in rows]
            )
    return ResponsesRecorded(recorded=len(rows), duplicates=repeated + int((is_member & frame["customer_id"].isin(done)).sum()),
                             not_members=int((~is_member).sum()), outside_window=outside)  # fmt: skip


def holdings_responses(campaign_id: int, url: str | None = None) -> pd.DataFrame:
    """Take-ups of the campaign's product by its members found in the bank's interactions (``purchase`` events
    within the window): ``customer_id``, ``responded_at`` (the earliest), for :func:`record_responses`."""
    campaign = read_campaign(campaign_id, url)
    if campaign is None:
        raise ValueError(f"no campaign {campaign_id}")
    it = BANK_TABLES["interactions"]
    statement = (
        sa.select(it.c.customer_id, sa.func.min(it.c.ts).label("responded_at"))
        .join(_M, sa.and_(_M.c.customer_id == it.c.customer_id, _M.c.campaign_id == campaign.campaign_id))
        .where(it.c.product_id == campaign.product_id, it.c.event == "purchase",
               it.c.ts >= campaign.created_at, it.c.ts <= campaign.window_ends_at)
        .group_by(it.c.customer_id)
    )  # fmt: skip
    rows = read_app_rows(statement, url, what="the interactions")
    return pd.DataFrame([tuple(r) for r in rows], columns=["customer_id", "responded_at"])


def simulated_responses(campaign_id: int, bank: Any, *, seed: int | None = None, url: str | None = None
                        ) -> pd.DataFrame:  # fmt: skip
    """Draw a demo campaign's responses from the bank's ground truth (:func:`bankdata.true_uplift`): members held
    out take the product up with their baseline probability, treated ones with baseline + true uplift, on a day
    drawn uniformly within the window. Returns ``customer_id``, ``responded_at`` of the responders.

    Parameters
    ----------
    bank : Bank
        The demo bank the campaign was made on, with its ground truth.
    seed : int, optional
        Seed of the draws (default: the campaign's id, so one campaign always gets the same responses).
    """
    from bankdata._gen_campaigns import simulate_campaign, true_uplift  # the demo bank's story, not storage

    campaign = read_campaign(campaign_id, url)
    if campaign is None:
        raise ValueError(f"no campaign {campaign_id}")
    names = dict(zip(bank.products["product_id"].astype(int), bank.products["name"].astype(str), strict=True))
    if campaign.product_id not in names:
        raise ValueError(
            f"campaign {campaign_id}: product {campaign.product_id} is not in the demo catalogue"
        )
    months = max(1, min(12, round(campaign.window_days / 30.4)))
    truth = true_uplift(bank, names[campaign.product_id], months=months)
    members = campaign_outcomes(campaign_id, url)[["customer_id", "treated"]]
    joined = members.merge(truth, on="customer_id", how="left")
    if joined["baseline"].isna().any():
        raise ValueError(f"campaign {campaign_id}: {int(joined['baseline'].isna().sum()):,} member(s) are not in "
                         "the demo bank's ground truth (was it regenerated?)")  # fmt: skip
    draw_seed = campaign.campaign_id if seed is None else int(seed)
    drawn = simulate_campaign(joined, joined["treated"].to_numpy(dtype=bool), seed=draw_seed)
    responders = drawn.loc[drawn["responded"], "customer_id"].to_numpy()
    rng = np.random.default_rng(np.random.SeedSequence([draw_seed, 31]))
    seconds = rng.uniform(60.0, campaign.window_days * 86_400.0 - 60.0, size=len(responders))
    when = pd.Timestamp(campaign.created_at) + pd.to_timedelta(np.sort(seconds).round(), unit="s")
    return pd.DataFrame({"customer_id": responders.astype(np.int64), "responded_at": when})


def drop_campaign_tables(conn: Connection) -> None:
    """Drop the campaign tables (their members are customers of a bank that is being replaced or removed)."""
    metadata.drop_all(conn, tables=list(reversed(CAMPAIGN_TABLES)))
