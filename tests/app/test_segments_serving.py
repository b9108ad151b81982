"""The Segments service answers from the published rows: every number equals a pandas reference of the same filter
on the test bank, on SQLite and (``DATABASE_URL_TEST``) PostgreSQL; the worker never reads the bank or the
artifact's per-customer files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import segmentation
from bankdata import engine_for, query, read_evidence
from dashapp.services import clear_caches, segment_sample
from dashapp.services import segments as svc
from dashapp.services.validation import InputError
from tests.app.conftest import own_checkpoints

CUSTOMER_FILES = ("assignments.parquet", "features.parquet", "attributes.parquet")
BANDS = ("A", "B", "C", "D", "E")
_fake_risk = sa.Table(
    "test_fake_risk_bands",
    sa.MetaData(),
    sa.Column("customer_id", sa.BigInteger),
    sa.Column("band", sa.String(2)),
)


@pytest.fixture(scope="module")
def trained(bank_env, tmp_path_factory) -> Iterator[tuple[Any, Any]]:
    """The test bank with a quick-trained, published segmentation in this module's own checkpoints."""
    yield from own_checkpoints(bank_env, tmp_path_factory, segmentation.train_from_bank, "segments")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request, trained) -> Iterator[dict[str, Any]]:
    """The published segmentation on SQLite (the test bank's database) or PostgreSQL, with the pandas reference:
    the artifact's own customer table (read here by the test, never by the service) and the published sample
    ranks."""
    bank_env, artifact = trained
    url = bank_env.database_url
    if request.param == "postgres":
        url = os.environ.get("DATABASE_URL_TEST")
        if not url:
            pytest.skip("DATABASE_URL_TEST is not set")
        segmentation.publish(artifact, bank_env.bank, url)
    full = segmentation.load_segmentation(artifact).customers
    t = segmentation.MEMBERS_TABLE
    ranks = query(
        sa.select(t.c.customer_id, t.c.sample_rank).where(t.c.model_version == artifact.version), url
    )
    full = full.merge(ranks, on="customer_id", validate="one_to_one")
    ids = full["customer_id"].to_numpy()
    fake = pd.DataFrame({"customer_id": ids[ids % 3 != 0], "band": np.asarray(BANDS)[ids[ids % 3 != 0] % 5]})
    with engine_for(url).begin() as conn:
        _fake_risk.drop(conn, checkfirst=True)
        _fake_risk.create(conn)
        conn.execute(_fake_risk.insert(), fake.to_dict(orient="records"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        clear_caches()
        yield {"url": url, "artifact": artifact, "full": full, "bands": fake, "bank": bank_env.bank}
    clear_caches()
    with engine_for(url).begin() as conn:
        _fake_risk.drop(conn, checkfirst=True)


@pytest.fixture()
def fake_risk(env, monkeypatch) -> pd.DataFrame:
    """A served risk model stand-in: ``customers_in_bands`` selects from a table of bands (a third of the customers
    have none, like customers without a loan)."""

    def customers_in_bands(bands):
        return sa.select(_fake_risk.c.customer_id).where(_fake_risk.c.band.in_(list(bands)))

    monkeypatch.setattr(svc.risk_service, "customers_in_bands", customers_in_bands)
    return env["bands"]


def reference(env: dict[str, Any], flt: svc.SegmentFilter) -> pd.DataFrame:
    """The rows of the artifact's customer table that match ``flt``, in pandas."""
    full, bands = env["full"], env["bands"].set_index("customer_id")["band"]
    keep = np.ones(len(full), dtype=bool)
    if flt.segments:
        keep &= full["segment"].isin(flt.segments).to_numpy()
    for col, rng in (("age", flt.age), ("income", flt.income)):
        if rng is not None:
            keep &= full[col].between(*rng).to_numpy()
    if flt.regions:
        keep &= full["region"].isin(flt.regions).to_numpy()
    if flt.products:
        held = full["products"].fillna("").str.split(";")
        keep &= held.apply(lambda names: bool(set(names) & set(flt.products))).to_numpy()
    band = full["customer_id"].map(bands)
    if flt.risk_bands:
        keep &= band.isin(flt.risk_bands).to_numpy()
    if flt.exclude_ineligible:
        keep &= ~band.isin(["E"]).to_numpy()
    return full[keep]


FILTERS = {
    "none": svc.SegmentFilter(),
    "segments": svc.SegmentFilter(segments=(0, 2)),
    "age": svc.SegmentFilter(age=(30.0, 45.0)),
    "income": svc.SegmentFilter(income=(20_000.0, 60_000.0)),
    "regions": svc.SegmentFilter(regions=("Capital", "North")),
    "products": svc.SegmentFilter(products=("Credit card", "Mortgage")),
    "risk bands": svc.SegmentFilter(risk_bands=("D", "E")),
    "exclude ineligible": svc.SegmentFilter(exclude_ineligible=True),
    "combined": svc.SegmentFilter(
        segments=(0, 1, 2),
        age=(25.0, 60.0),
        regions=("Capital", "North", "South"),
        products=("Current account",),
        exclude_ineligible=True,
    ),
}


def assert_view_equals_reference(
    env: dict[str, Any], flt: svc.SegmentFilter, box_feature: str, sample_size: int | None = None
) -> svc.SegmentView:
    """The view of ``flt`` against pandas on the rows of sample rank below ``sample_size`` (default: the
    service's sample, the whole test bank): counts and revenue scaled to the bank when the sample is smaller."""
    sample_size = sample_size or segment_sample.SAMPLE_CUSTOMERS
    view = svc.segment_view(flt, box_feature)
    ref = reference(env, flt)
    full = env["full"]
    features = list(svc.published().feature_names)
    whole_segments = flt == svc.SegmentFilter(segments=flt.segments)  # answered from the evidence, exactly
    sample = ref if whole_segments else ref[ref["sample_rank"] < sample_size]
    scale = 1.0 if whole_segments else len(full) / min(sample_size, len(full))
    groups = sample.groupby("segment")
    counts = np.rint(groups.size() * scale).astype(int)
    assert view.n_customers == int(counts.sum()) and view.n_total == len(full)
    assert view.estimated == (scale > 1)
    sizes = view.sizes.set_index("segment")
    assert sizes["customers"].to_dict() == counts.reindex(sizes.index, fill_value=0).to_dict()
    assert sizes["total"].to_dict() == full.groupby("segment").size().to_dict()
    np.testing.assert_allclose(
        sizes["revenue"], (groups["monetary"].sum() * scale).reindex(sizes.index, fill_value=0.0), rtol=1e-9
    )
    present = [s for s in view.names if s in groups.groups]
    base = full[features]
    means = groups[features].mean().reindex(present)
    z = ((means - base.mean()) / base.std(ddof=0).replace(0, np.nan)).fillna(0)
    z.index = [view.names[s] for s in present]
    pd.testing.assert_frame_equal(view.z_means, z, rtol=1e-7, atol=1e-9)
    assert view.sample_rows == min(len(sample), view.n_customers)
    assert view.sampled == (len(sample) < view.n_customers)
    q = groups[box_feature].quantile([0.25, 0.5, 0.75]).unstack().reindex(present)
    boxes = view.boxes.set_index("segment")
    assert list(boxes.index) == present
    np.testing.assert_allclose(boxes["q1"], q[0.25], rtol=1e-9)
    np.testing.assert_allclose(boxes["median"], q[0.5], rtol=1e-9)
    np.testing.assert_allclose(boxes["q3"], q[0.75], rtol=1e-9)
    np.testing.assert_allclose(boxes["mean"], means[box_feature], rtol=1e-9)
    iqr = q[0.75] - q[0.25]
    box_values = groups[box_feature]
    np.testing.assert_allclose(
        boxes["lower"], np.maximum(box_values.min().reindex(present), q[0.25] - 1.5 * iqr)
    )
    np.testing.assert_allclose(
        boxes["upper"], np.minimum(box_values.max().reindex(present), q[0.75] + 1.5 * iqr)
    )
    cards = view.cards.set_index("segment")
    medians = groups[list(svc.PROFILE_FEATURES)].median().reindex(present)
    pd.testing.assert_frame_equal(cards[list(svc.PROFILE_FEATURES)], medians, check_names=False, rtol=1e-9)
    np.testing.assert_allclose(cards["share"], counts.reindex(present) / max(view.n_customers, 1))
    scatter = ref[ref["sample_rank"] < sample_size].nsmallest(svc.SCATTER_POINTS, "sample_rank")
    assert set(view.sample["customer_id"]) == set(scatter["customer_id"])
    assert (
        view.sample.set_index("customer_id")["segment"]
        == full.set_index("customer_id")["segment"].reindex(view.sample["customer_id"])
    ).all()
    return view


@pytest.mark.parametrize("name", list(FILTERS))
def test_the_view_equals_a_pandas_reference(env, fake_risk, monkeypatch, name) -> None:
    monkeypatch.setattr(svc, "SCATTER_POINTS", 250)
    flt = FILTERS[name]
    assert 0 < len(reference(env, flt)) <= len(env["full"])
    view = assert_view_equals_reference(env, flt, "income" if name == "age" else "monetary")
    assert not view.estimated and not view.sampled  # the test bank fits in the sample: exact


@pytest.fixture()
def small_sample(env, monkeypatch) -> int:
    """A sample of 800 of the 2,000 customers: the test bank is served like a large one."""
    monkeypatch.setattr(segment_sample, "SAMPLE_CUSTOMERS", 800)
    monkeypatch.setattr(svc, "SCATTER_POINTS", 300)
    return 800


@pytest.mark.parametrize("name", ["none", "age", "regions", "products", "risk bands", "combined"])
def test_a_large_bank_is_estimated_from_the_sample(env, fake_risk, small_sample, name) -> None:
    flt = FILTERS[name]
    view = assert_view_equals_reference(env, flt, "monetary", sample_size=small_sample)
    truth = len(reference(env, flt))
    assert view.estimated == (name != "none")  # the whole base comes from the evidence
    assert abs(view.n_customers - truth) <= 0.2 * truth  # an estimate, within sampling error of the truth


def test_a_view_asks_the_database_nothing_once_the_sample_is_read(env, fake_risk, monkeypatch) -> None:
    calls = []
    clear_caches()
    svc.published()
    svc.member_sample()
    monkeypatch.setattr(segment_sample, "query", _counting(segment_sample.query, calls))
    monkeypatch.setattr(svc, "query", _counting(svc.query, calls))
    for name in ("none", "segments", "age", "income", "regions", "products"):
        svc.segment_view(FILTERS[name], "monetary")
    assert calls == []
    svc.segment_view(FILTERS["risk bands"], "monetary")
    svc.segment_view(FILTERS["risk bands"], "age")
    assert len(calls) == 1  # the sample's customers in those bands, once
    svc.segment_view(FILTERS["combined"], "monetary")
    svc.segment_view(FILTERS["exclude ineligible"], "monetary")
    assert len(calls) == 2  # and those in the blocked bands, once


def test_the_sample_is_read_in_bounded_chunks(env, monkeypatch) -> None:
    monkeypatch.setattr(segment_sample, "READ_CHUNK", 300)
    calls = []
    monkeypatch.setattr(segment_sample, "query", _counting(segment_sample.query, calls))
    pub = svc.published()
    columns = tuple((f, str(pub.features.at[f, "column"])) for f in pub.feature_names)
    sample = segment_sample.load_sample(pub.version, pub.n_customers, columns, env["url"], 1_000)
    assert sample.size == 1_000 and max(len(c) for c in calls) == 300 and len(calls) == 4
    ranks = env["full"].set_index("customer_id")["sample_rank"].reindex(sample.customer_id).to_numpy()
    assert (ranks == np.arange(1_000)).all()  # row i has rank i


def test_every_feature_is_a_box_feature(env) -> None:
    flt = svc.SegmentFilter(segments=(1,))
    for feature in svc.filter_options().box_features:
        assert_view_equals_reference(env, flt, feature)


@pytest.mark.parametrize("name", ["segments", "products", "combined", "risk bands"])
def test_export_rows_equal_the_reference(env, fake_risk, monkeypatch, name) -> None:
    monkeypatch.setattr(svc, "EXPORT_CHUNK_ROWS", 97)  # many pages of keyset paging
    flt = FILTERS[name]
    out = svc.export_frame(flt)
    ref = reference(env, flt).sort_values("customer_id").reset_index(drop=True)
    features = svc.published().feature_names
    assert list(out.columns) == [
        "customer_id",
        "segment",
        "segment_name",
        *features,
        "region",
        "gender",
        "employment",
        "products",
    ]
    assert out["customer_id"].tolist() == ref["customer_id"].tolist()
    assert out["segment"].tolist() == ref["segment"].tolist()
    assert out["segment_name"].tolist() == ref["segment"].map(svc.segment_names()).tolist()
    pd.testing.assert_frame_equal(out[features].astype(float), ref[features].astype(float), rtol=1e-12)
    for col in ("region", "gender", "employment"):
        assert out[col].tolist() == ref[col].astype(str).tolist()
    assert out["products"].tolist() == ref["products"].fillna("").tolist()
    assert svc.count_matching(flt) == len(ref)


def test_an_empty_filter_result_exports_the_header(env) -> None:
    out = svc.export_frame(svc.SegmentFilter(age=(500.0, 600.0)))
    assert out.empty and {"customer_id", "segment_name", "monetary", "region"} <= set(out.columns)
    view = svc.segment_view(svc.SegmentFilter(age=(500.0, 600.0)))
    assert view.n_customers == 0 and view.boxes.empty and view.cards.empty and view.sample.empty


def test_the_export_streams_in_chunks(env, monkeypatch) -> None:
    monkeypatch.setattr(svc, "query", _counting(svc.query, calls := []))
    chunks = list(svc.export_chunks(svc.SegmentFilter(), chunk_rows=400))
    assert [len(c) for c in chunks] == [400] * 5
    assert pd.concat(chunks)["customer_id"].is_monotonic_increasing
    assert max(len(frame) for frame in calls) <= 400


def _counting(real, calls: list):
    def wrapped(statement, url=None):
        frame = real(statement, url)
        calls.append(frame)
        return frame

    return wrapped


def test_the_risk_filter_without_a_served_risk_model(env, monkeypatch) -> None:
    monkeypatch.setattr(svc.risk_service, "customers_in_bands", lambda bands: None)
    assert svc.filter_options().risk_bands is None
    for flt in (FILTERS["risk bands"], FILTERS["exclude ineligible"]):
        with pytest.raises(ValueError, match="needs a trained risk model"):
            svc.segment_view(flt)


def test_risk_band_options_are_the_master_scale(env, fake_risk) -> None:
    assert svc.filter_options().risk_bands == list(BANDS)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"segments": ["5 OR 1=1"]}, "segment filter"),
        ({"segments": [[5]]}, "segment filter"),
        ({"segments": [1.5]}, "segment filter"),
        ({"age": ["x", 3]}, "age filter"),
        ({"age": [1e308, float("inf")]}, "age filter"),
        ({"income": {"$gt": 0}}, "income filter"),
        ({"regions": [{"$ne": ""}]}, "region filter"),
        ({"products": ["x" * 500]}, "product filter"),
        ({"risk": ["E' OR '1'='1"]}, "risk filter"),
    ],
)
def test_hostile_filter_values_are_refused(env, kwargs, field) -> None:
    with pytest.raises(InputError) as caught:
        flt = svc.SegmentFilter.from_inputs(**kwargs, role="admin")
        svc.segment_view(flt)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("flt", "field"),
    [
        (svc.SegmentFilter(regions=("Capital' OR '1'='1",)), "region filter"),
        (svc.SegmentFilter(products=("Credit card'); DROP TABLE segment_members; --",)), "product filter"),
        (svc.SegmentFilter(risk_bands=("Z",)), "risk filter"),
    ],
)
def test_values_outside_the_served_choices_are_refused(env, fake_risk, flt, field) -> None:
    for call in (svc.segment_view, svc.export_frame, svc.count_matching):
        with pytest.raises(InputError) as caught:
            call(flt)
        assert caught.value.field == field
    with pytest.raises(InputError, match="unknown feature"):
        svc.segment_view(svc.SegmentFilter(), "monetary; DROP TABLE segment_members")
    assert svc.count_matching(svc.SegmentFilter()) == len(env["full"])


def test_the_product_bitmask_matches_on_this_database(env) -> None:
    t = segmentation.MEMBERS_TABLE
    version = svc.published().version
    catalogue = read_evidence("segments", version, "products", env["url"])
    full = env["full"].set_index("customer_id")
    for bit, name in enumerate(catalogue):
        stmt = sa.select(t.c.customer_id).where(
            t.c.model_version == version, t.c.products_mask.op("&")(sa.literal(1 << bit, sa.BigInteger)) != 0
        )
        got = set(query(stmt, env["url"])["customer_id"])
        expected = {c for c, held in full["products"].fillna("").items() if name in held.split(";")}
        assert got == expected, name


def test_customer_segment_is_one_lookup(env, monkeypatch) -> None:
    full = env["full"].set_index("customer_id")
    cid = int(full.index[17])
    calls = []
    monkeypatch.setattr(svc, "query_records", _counting(svc.query_records, calls))
    svc.published()
    calls.clear()
    part = svc.customer_segment(cid)
    assert len(calls) == 1 and len(calls[0]) == 1
    segment = int(full.at[cid, "segment"])
    members = full[full["segment"] == segment]
    assert part["segment"] == segment and part["name"] == svc.segment_names()[segment]
    assert part["customers"] == len(members) and part["share"] == pytest.approx(len(members) / len(full))
    for feature in svc.PROFILE_FEATURES:
        assert part[feature] == pytest.approx(members[feature].median()), feature
    assert part["distinctive"]
    assert svc.customer_segment(10**9) is None


def test_the_service_never_reads_the_bank_or_the_customer_files(env, fake_risk, monkeypatch) -> None:
    import bankdata
    import segmentation.artifact
    from dashapp.services import bank as bank_service

    def refuse(*_args, **_kwargs):
        raise AssertionError("the Segments service read the whole bank")

    real_read_parquet = pd.read_parquet

    def read_parquet(path, *args, **kwargs):
        if str(path).endswith(CUSTOMER_FILES):
            raise AssertionError(f"the Segments service read {path}")
        return real_read_parquet(path, *args, **kwargs)

    monkeypatch.setattr(bankdata, "read_bank", refuse)
    monkeypatch.setattr(bank_service, "get_bank", refuse, raising=False)
    monkeypatch.setattr(bank_service, "read_bank", refuse, raising=False)
    monkeypatch.setattr(pd, "read_parquet", read_parquet)
    monkeypatch.setattr(segmentation.artifact.pd, "read_parquet", read_parquet)
    clear_caches()
    try:
        assert svc.get_segmentation().customers is None
        svc.filter_options()
        for flt in FILTERS.values():
            svc.segment_view(flt)
            svc.count_matching(flt)
        assert len(svc.export_frame(FILTERS["combined"])) > 0
        assert svc.customer_segment(int(env["full"]["customer_id"].iloc[0])) is not None
        svc.rename_segment(0, "Renamed without the bank", "tester")
        assert svc.segment_view(FILTERS["segments"]).names[0] == "Renamed without the bank"
    finally:
        clear_caches()


def test_rename_reaches_the_view_the_export_and_the_customer_card(env) -> None:
    svc.rename_segment(2, "Weekend travellers", "tester")
    assert svc.segment_view(FILTERS["none"]).names[2] == "Weekend travellers"
    assert (
        svc.segment_view(FILTERS["segments"]).sizes.set_index("segment").at[2, "name"] == "Weekend travellers"
    )
    assert set(svc.export_frame(svc.SegmentFilter(segments=(2,)))["segment_name"]) == {"Weekend travellers"}
    member = int(env["full"].loc[env["full"]["segment"] == 2, "customer_id"].iloc[0])
    assert svc.customer_segment(member)["name"] == "Weekend travellers"


def test_a_trained_but_unpublished_version_says_so(env, monkeypatch) -> None:
    from dashapp.services.served import NotTrained

    monkeypatch.setattr(svc, "read_evidence", lambda *args, **kwargs: None)
    clear_caches()
    try:
        with pytest.raises(NotTrained, match="not in the database"):
            svc.segment_view(svc.SegmentFilter())
    finally:
        clear_caches()


def test_sliders_left_at_their_ends_are_no_filter(env, small_sample) -> None:
    """The page sends the full age and income ranges when nobody touched the sliders: that is the whole base,
    exact from the evidence even on a large bank, and the export counts the same customers."""
    bounds = svc.published().bounds
    untouched = svc.SegmentFilter(
        age=tuple(map(float, bounds["age"])), income=tuple(map(float, bounds["income"]))
    )
    view = svc.segment_view(untouched)
    assert not view.estimated and view.n_customers == len(env["full"])
    assert (
        view.sizes["customers"].tolist() == svc.segment_view(svc.SegmentFilter()).sizes["customers"].tolist()
    )
    assert svc.count_matching(untouched) == len(env["full"])
    narrower = svc.SegmentFilter(age=(float(bounds["age"][0]) + 1, float(bounds["age"][1])))
    assert svc.segment_view(narrower).estimated  # a real filter of a large bank is still an estimate
