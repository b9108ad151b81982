"""The Segments page: its service (filtering, view, export, renaming) and figures, then the page in Chromium."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashapp.figures import segments as figs
from dashapp.services import clear_caches
from dashapp.services import segments as svc
from dashapp.services.served import NotTrained
from tests.app.conftest import own_checkpoints


@pytest.fixture(scope="module")
def segments_env(bank_env, tmp_path_factory):
    """``bank_env`` plus a quick-trained ``segments`` artifact in a checkpoints folder of this module's own."""
    import segmentation

    yield from own_checkpoints(bank_env, tmp_path_factory, segmentation.train_from_bank, "segments")


def test_without_an_artifact_the_service_says_not_trained(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "none"))
    with pytest.raises(NotTrained, match="no segments") as caught:
        svc.get_segmentation()
    assert caught.value.command == "ledgerlight segments train"
    with pytest.raises(NotTrained, match="no segments"):
        svc.published()


def test_page_without_an_artifact_says_how_to_train(monkeypatch, tmp_path, dash_app) -> None:
    import dash

    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "none"))
    page = next(p for p in dash.page_registry.values() if p["path"] == "/segments")
    assert page["order"] == 20
    html = str(page["layout"]())
    assert "ledgerlight segments train" in html and "not ready yet" in html


def test_filter_options_describe_the_bank(segments_env) -> None:
    bank_env, _ = segments_env
    opts = svc.filter_options()
    assert len(opts.segments) >= 2
    assert (
        opts.age[0] <= bank_env.bank.customers["age"].min()
        and opts.age[1] >= bank_env.bank.customers["age"].max()
    )
    assert set(opts.regions) == set(bank_env.bank.customers["region"].astype(str))
    assert set(opts.products) == set(bank_env.bank.products["name"])


def test_export_equals_the_filter(segments_env) -> None:
    import segmentation

    bank_env, artifact = segments_env
    bank = bank_env.bank
    flt = svc.SegmentFilter.from_inputs([0], [30, 55], None, ["Capital", "North"], ["Credit card"], None)
    out = svc.export_frame(flt)
    cust = bank.customers.set_index("customer_id")
    held = bank.held_products().merge(bank.products, on="product_id")
    card_holders = set(held.loc[held["name"] == "Credit card", "customer_id"])
    seg = segmentation.load_segmentation(artifact).customers.set_index("customer_id")["segment"]
    expected = {
        c
        for c in cust.index
        if seg[c] == 0
        and 30 <= cust.at[c, "age"] <= 55
        and cust.at[c, "region"] in {"Capital", "North"}
        and c in card_holders
    }
    assert 0 < len(expected) < len(cust)
    assert set(out["customer_id"]) == expected and len(out) == len(expected)
    assert (out["segment_name"] == svc.segment_names()[0]).all()
    view = svc.segment_view(flt)
    assert view.n_customers == len(expected)
    assert view.sizes.set_index("segment").at[0, "customers"] == len(expected)
    assert set(view.sample["customer_id"]) <= expected


def test_view_without_filters_covers_everyone_and_samples_the_scatter(segments_env, monkeypatch) -> None:
    bank_env, _ = segments_env
    monkeypatch.setattr(svc, "SCATTER_POINTS", 500)
    view = svc.segment_view(svc.SegmentFilter(), "income")
    assert view.n_customers == view.n_total == len(bank_env.bank.customers)
    assert view.sizes["customers"].sum() == view.n_total
    assert len(view.sample) == 500
    assert (view.boxes["q1"] <= view.boxes["median"]).all() and (
        view.boxes["median"] <= view.boxes["q3"]
    ).all()
    assert view.cards["share"].sum() == pytest.approx(1.0)
    assert list(view.z_means.index) == [view.names[s] for s in view.boxes["segment"]]


def test_bad_filters_give_clear_errors(segments_env) -> None:
    with pytest.raises(ValueError, match="age filter: low must not exceed high"):
        svc.SegmentFilter.from_inputs(age=[60, 20])
    with pytest.raises(ValueError, match="segment filter: must be a number"):
        svc.SegmentFilter.from_inputs(segments=["5 OR 1=1"])
    with pytest.raises(PermissionError, match="may not select customers by risk band"):
        svc.SegmentFilter.from_inputs(risk=["E"], role="marketing")
    assert svc.SegmentFilter.from_inputs(risk=[svc.EXCLUDE_INELIGIBLE], role="marketing").exclude_ineligible
    with pytest.raises(ValueError, match="unknown product"):
        svc.export_frame(svc.SegmentFilter(products=("Gold bars",)))
    with pytest.raises(ValueError, match="unknown feature"):
        svc.segment_view(svc.SegmentFilter(), "shoe_size")


def test_an_empty_selection_draws_a_message(segments_env) -> None:
    view = svc.segment_view(svc.SegmentFilter(age=(500.0, 600.0)))
    assert view.n_customers == 0
    f = figs.view_figures(view)
    assert f.scatter.layout.annotations[0].text == figs.NO_MATCH


def test_figures_carry_the_data(segments_env) -> None:
    view = svc.segment_view(svc.SegmentFilter())
    f = figs.view_figures(view)
    assert all(t.type == "scatter" for t in f.scatter.data)  # SVG: the CSP allows no eval, so no WebGL
    assert sum(len(t.x) for t in f.scatter.data) == len(view.sample)
    assert list(f.sizes.data[1].x) == view.sizes["customers"].tolist()
    assert np.asarray(f.heatmap.data[0].z).shape == view.z_means.T.shape
    assert [b.x[0] for b in f.boxes.data] == view.boxes["name"].tolist()
    assert len(f.boxes.data) == len(view.boxes)
    assert "PC1 (" in f.scatter.layout.xaxis.title.text


def test_the_k_evidence_shows_the_gap_and_older_evidence_still_renders(segments_env, dash_app) -> None:
    from dataclasses import replace

    from dashapp.pages import segments as page

    pub = svc.published()
    assert pub.stable_ari == 0.75
    assert all("gap" in row and "gap_se" in row for row in pub.selection["table"])
    html = str(page._evidence(pub))
    assert "Elbow (diagnostic, not used to choose k)" in html
    assert (
        f"k = {pub.selection['k']} " in html
        and "gap statistic" in html
        and "bootstrap ARI at least 0.75" in html
    )
    for rule, words in (
        (
            "the smallest k whose gap statistic is within one standard error of the next k's",
            "is the smallest stable (bootstrap ARI at least 0.75) k whose gap",
        ),
        ("the largest gap statistic (the gap rose over the whole range)", "has the largest gap"),
    ):
        assert words in page._rule_text({"rule": f"among k with ..., {rule}"}, 7, 0.75, True)
    assert "segments-k-scores" in html  # silhouette and Davies-Bouldin stay on the page, secondary
    # a version published before the threshold and the gap were stored: the rule's words, and the silhouette
    older = [{k: v for k, v in row.items() if k not in ("gap", "gap_se")} for row in pub.selection["table"]]
    rule = (
        "among k with bootstrap stability (ARI) >= 0.75, the best mean rank of silhouette and Davies-Bouldin"
    )
    old = replace(pub, selection={"table": older, "k": pub.selection["k"], "elbow_k": 3, "rule": rule})
    assert old.stable_ari == 0.75
    html = str(page._evidence(old))
    assert f"Rule: {rule}" in html and "Silhouette (no gap in this version)" in html
    assert (
        replace(pub, selection={"table": [], "k": 4, "rule": "k fixed at 4 by the user"}).stable_ari is None
    )


def test_formula_injection_is_neutralised() -> None:
    df = pd.DataFrame(
        {"name": ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\ry", "ok", None], "n": [-1, 2, 3, 4, 5, 6, 7, 8]}
    )
    out = svc.neutralise_formulas(df)
    assert out["name"].tolist()[:7] == ["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "'\tx", "'\ry", "ok"]
    assert pd.isna(out["name"].iloc[7])
    assert out["n"].tolist() == df["n"].tolist()  # numbers are left alone


def test_renaming_is_stored_in_the_database(segments_env) -> None:
    names = svc.rename_segment(1, "  Weekend travellers ", "tester")
    assert names[1] == "Weekend travellers"
    clear_caches()
    assert svc.segment_names()[1] == "Weekend travellers"
    assert svc.export_frame(svc.SegmentFilter(segments=(1,)))["segment_name"].eq("Weekend travellers").all()
    with pytest.raises(ValueError, match="segment: 99 is not one of"):
        svc.rename_segment(99, "x", "tester")
    with pytest.raises(ValueError, match="1 to 60 characters"):
        svc.rename_segment(1, "   ", "tester")


def test_names_fall_back_to_automatic_ones_when_the_database_is_down(segments_env, monkeypatch) -> None:
    from bankdata import DatabaseError

    def down(version: str) -> dict:
        raise DatabaseError("connection refused")

    monkeypatch.setattr(svc, "stored_segment_names", down)
    seg = svc.get_segmentation()
    assert svc.segment_names() == dict(zip(seg.segments["segment"], seg.segments["name"], strict=True))
    assert svc.segment_view(svc.SegmentFilter(segments=(0,))).names == svc.segment_names()


def test_risk_filter_falls_back_when_no_risk_model(segments_env, monkeypatch) -> None:
    monkeypatch.setattr(svc.risk_service, "customers_in_bands", lambda bands: None, raising=False)
    assert svc.filter_options().risk_bands is None
    with pytest.raises(ValueError, match="needs a trained risk model"):
        svc.segment_view(svc.SegmentFilter(risk_bands=("E",)))
    with pytest.raises(ValueError, match="needs a trained risk model"):
        svc.export_frame(svc.SegmentFilter(exclude_ineligible=True))


def test_an_export_too_large_for_one_download_says_so(segments_env, monkeypatch) -> None:
    monkeypatch.setattr(svc, "EXPORT_MAX_ROWS", 100)
    with pytest.raises(svc.ExportTooLarge, match="2,000 customers match; a download holds at most 100"):
        svc.export_frame(svc.SegmentFilter())
    small = svc.SegmentFilter(age=(18.0, 20.0))
    n = svc.count_matching(small)
    assert 0 < n <= 100 and len(svc.export_frame(small)) == n


def _export_request(age=None) -> dict:
    from tests.app.helpers import single

    return single(
        "segments-download.data",
        [("segments-export", "n_clicks", 1)],
        [
            ("segments-filter-segment", "value", None),
            ("segments-filter-age", "value", age),
            ("segments-filter-income", "value", None),
            ("segments-filter-region", "value", None),
            ("segments-filter-product", "value", None),
            ("segments-filter-risk", "value", None),
        ],
    )


def test_the_export_button_says_when_a_download_would_be_too_large(
    segments_env, dash_app, monkeypatch
) -> None:
    import base64

    from tests.app.conftest import signed_in_client
    from tests.app.helpers import CALLBACK

    monkeypatch.setattr(svc, "EXPORT_MAX_ROWS", 100)
    client = signed_in_client(dash_app, monkeypatch, "marketing")
    client.get("/")
    body = client.post(CALLBACK, json=_export_request()).get_json()
    assert "segments-download" not in body.get("response", {})
    assert "at most 100" in str(body["sideUpdate"]["segments-export-feedback"]["children"])
    body = client.post(CALLBACK, json=_export_request([18, 20])).get_json()
    sent = body["response"]["segments-download"]["data"]
    content = base64.b64decode(sent["content"]).decode() if sent.get("base64") else sent["content"]
    exported = pd.read_csv(io.StringIO(content))
    assert len(exported) == svc.count_matching(svc.SegmentFilter(age=(18.0, 20.0))) > 0
    assert exported["Age"].between(18, 20).all()  # the export's headers are in words (the label map)
    assert "age" not in exported.columns and "Customer id" in exported.columns
    assert body["sideUpdate"]["segments-export-feedback"]["children"] == ""


def test_the_count_says_when_a_large_bank_is_estimated(segments_env, monkeypatch) -> None:
    from dashapp.pages import segments as page
    from dashapp.services import segment_sample

    monkeypatch.setattr(segment_sample, "SAMPLE_CUSTOMERS", 500)
    estimated = svc.segment_view(svc.SegmentFilter(age=(25.0, 60.0)))
    assert estimated.estimated and estimated.sampled
    text = page._count_text(estimated)
    assert (
        text.startswith(f"About {estimated.n_customers:,} of") and "estimated from a uniform sample" in text
    )
    assert "export is exact" in text
    assert "sample" not in page._count_text(svc.segment_view(svc.SegmentFilter()))


# ---------------------------------------------------------------- in the browser


def _wait_for_file(folder: Path, timeout: float = 20) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [p for p in folder.glob("*.csv")]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no CSV downloaded into {folder}")


@pytest.mark.browser
def test_filter_and_export_in_the_browser(segments_env, served) -> None:
    duo = served
    duo.wait_for_page(duo.server_url + "/segments")
    duo.wait_for_contains_text("#segments-count", "of 2,000 customers match", timeout=30)
    duo.wait_for_element("#segments-scatter .js-plotly-plot .main-svg", timeout=20)
    assert "2,000 of 2,000" in duo.find_element("#segments-count").text

    duo.select_dcc_dropdown("#segments-filter-segment", index=0)  # keep only the first segment
    expected = len(svc.export_frame(svc.SegmentFilter(segments=(0,))))
    duo.wait_for_text_to_equal("#segments-count", f"{expected:,} of 2,000 customers match", timeout=20)
    assert len(duo.find_elements(".segments-card")) == 1

    duo.find_element("#segments-export").click()
    csv = pd.read_csv(io.StringIO(_wait_for_file(Path(duo.download_path)).read_text()))
    assert len(csv) == expected
    assert (csv["Segment"] == 0).all()
    assert duo.get_logs() == [], "severe errors in the browser console"


def test_a_rename_belongs_to_the_model_version_it_was_made_for(segments_env) -> None:
    from bankdata import segment_names as stored_names

    version = svc.published().version
    svc.rename_segment(0, "Loyal savers", "ana")
    assert stored_names(version)[0] == "Loyal savers"
    assert stored_names("an-older-version") == {}
