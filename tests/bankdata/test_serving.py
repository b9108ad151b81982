"""Serving tables, evidence, the bank's summary and the customer_id indexes, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from bankdata import (
    BANK_TABLES,
    engine_for,
    ensure_bank_indexes,
    published_rows,
    query,
    query_records,
    read_evidence,
    read_summary,
    served_table,
    summarise_bank,
    write_bank,
    write_evidence,
    write_served,
)

SCORES = served_table(
    "test_scores",
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("pd", sa.Float),
    sa.Column("band", sa.String(8)),
    indexes=[("customer_id",), ("pd",)],
)
BANDS = served_table(
    "test_bands",
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("band", sa.String(8)),
    indexes=[("customer_id",), ("band", "customer_id")],
)


def _frame(n: int, offset: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    return pd.DataFrame(
        {"customer_id": np.arange(n), "pd": rng.random(n) + offset, "band": rng.choice(["A", "B", "C"], n)}
    )


def test_a_version_is_published_and_read_back_exactly(url: str) -> None:
    frame = _frame(120_001)  # more than one insert chunk
    assert write_served(SCORES, "v1", frame, url) == len(frame)
    back = query(
        sa.select(SCORES.c.customer_id, SCORES.c.pd, SCORES.c.band)
        .where(SCORES.c.model_version == "v1")
        .order_by(SCORES.c.customer_id),
        url,
    )
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert published_rows(SCORES, "v1", url) == len(frame)
    assert published_rows(SCORES, "never", url) is None


def test_republishing_replaces_the_version_and_old_versions_are_dropped(url: str) -> None:
    for i, version in enumerate(["v1", "v2", "v3", "v4"]):
        write_served(SCORES, version, _frame(50, offset=i), url)
    write_served(SCORES, "v4", _frame(10, offset=9), url)
    counts = query(
        sa.select(SCORES.c.model_version, sa.func.count().label("n")).group_by(SCORES.c.model_version), url
    )
    assert dict(zip(counts["model_version"], counts["n"], strict=True)) == {"v2": 50, "v3": 50, "v4": 10}
    assert published_rows(SCORES, "v1", url) is None and published_rows(SCORES, "v4", url) == 10


def test_the_served_version_is_never_dropped(url: str, tmp_path, monkeypatch) -> None:
    from bankdata import ArtifactStore

    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "ckpt"))
    (tmp_path / "ckpt" / "demo").mkdir(parents=True)
    (tmp_path / "ckpt" / "demo" / "LATEST").write_text("v1", encoding="utf-8")
    assert ArtifactStore(tmp_path / "ckpt").latest("demo") == "v1"
    for version in ["v1", "v2", "v3", "v4", "v5"]:
        write_served(SCORES, version, _frame(5), url)
    assert published_rows(SCORES, "v1", url) == 5  # LATEST: kept although older than the newest three
    assert published_rows(SCORES, "v2", url) is None and published_rows(SCORES, "v5", url) == 5


def test_missing_values_are_stored_as_null(url: str) -> None:
    frame = pd.DataFrame({"customer_id": [1, 2], "pd": [0.5, np.nan], "band": ["A", None]})
    write_served(SCORES, "v1", frame, url)
    back = query(sa.select(SCORES.c.pd, SCORES.c.band).where(SCORES.c.customer_id == 2), url)
    assert back["pd"].isna().all() and back["band"].isna().all()


def test_a_frame_that_does_not_fit_the_table_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unknown column"):
        write_served(SCORES, "v1", _frame(3).assign(extra=1), url)
    assert published_rows(SCORES, "v1", url) is None


def test_evidence_round_trips_per_model_version_and_kind(url: str) -> None:
    write_evidence("risk", "v1", {"fairness": {"gap": np.float64(0.25), "groups": np.arange(3)}}, url)
    write_evidence("risk", "v1", {"fairness": {"gap": 0.5}}, url)
    assert read_evidence("risk", "v1", "fairness", url) == {"gap": 0.5}
    assert read_evidence("risk", "v2", "fairness", url) is None
    assert read_evidence("segments", "v1", "fairness", url) is None


def test_write_bank_stores_the_summary_and_indexes_customer_rows(url: str, small_bank) -> None:
    write_bank(small_bank, url)
    assert read_summary(url) == summarise_bank(small_bank)
    inspector = sa.inspect(engine_for(url))
    for table in ("transactions", "loans", "interactions"):
        assert any(ix["column_names"] == ["customer_id"] for ix in inspector.get_indexes(table)), table
    assert ensure_bank_indexes(url) == []


def test_indexes_missing_from_an_older_database_are_created(url: str, small_bank) -> None:
    write_bank(small_bank, url)
    with engine_for(url).begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_loans_customer_id"))
    assert ensure_bank_indexes(url) == ["ix_loans_customer_id"]
    assert any(
        ix["name"] == "ix_loans_customer_id" for ix in sa.inspect(engine_for(url)).get_indexes("loans")
    )


def test_replacing_the_bank_drops_its_serving_rows(url: str, small_bank) -> None:
    write_bank(small_bank, url)
    write_served(SCORES, "v1", _frame(5), url)
    write_bank(small_bank, url)
    assert published_rows(SCORES, "v1", url) is None
    assert not sa.inspect(engine_for(url)).has_table(SCORES.name)
    assert BANK_TABLES["customers"].name in sa.inspect(engine_for(url)).get_table_names()


def test_publishing_refreshes_the_planner_statistics(url: str) -> None:
    """After a bulk publish the planner knows the customer index is selective: a key look-up must not scan a
    covering index of the whole version (what SQLite did without statistics)."""
    write_served(BANDS, "v1", _frame(20_000).drop(columns=["pd"]), url)
    with engine_for(url).connect() as conn:
        if conn.dialect.name == "sqlite":
            assert (
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'test_bands'").scalar()
                > 0
            )
            plan = " ".join(
                str(r[-1])
                for r in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT band FROM test_bands WHERE model_version = 'v1' AND customer_id = 17"
                )
            )
            assert "customer_id=?" in plan, plan
        else:
            analysed = conn.exec_driver_sql(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'test_bands'"
            ).scalar()
            assert analysed is not None


def test_query_records_returns_plain_rows(url: str) -> None:
    write_served(SCORES, "v9", _frame(50), url)
    rows = query_records(
        sa.select(SCORES.c.customer_id, SCORES.c.band).where(
            SCORES.c.model_version == "v9", SCORES.c.customer_id == 7
        ),
        url,
    )
    assert rows == [{"customer_id": 7, "band": _frame(50).at[7, "band"]}]
