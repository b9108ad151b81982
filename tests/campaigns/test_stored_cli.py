"""Stored campaigns from the command line: create from served segments or a ranked list, export, simulate, load
responses, show, learn and train-uplift, on a small demo bank with trained models; and their messages for bad
input (nothing stored)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import campaigns
from bankdata import (
    BANK_TABLES,
    ArtifactStore,
    Bank,
    campaign_outcomes,
    create_campaign,
    published_rows,
    query,
    read_audit,
    read_bank,
    read_campaign,
    read_campaigns,
    write_bank,
)
from dashapp.services import clear_caches
from dashapp.services.publishing import train_and_publish
from ledgerlight.cli import main
from tests.text_id_bank import LOAD_ORDER, customer_text, write_text_id_files

CARD = "Credit card"


@pytest.fixture(scope="module")
def trained(small_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of the small demo bank with risk, segments and recsys trained (quick) and published, built once:
    each test gets a copy."""
    root = tmp_path_factory.mktemp("trained")
    url = f"sqlite:///{root / 'bank.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("LEDGERLIGHT_CHECKPOINTS", str(root / "checkpoints"))
        mp.setenv("LEDGERLIGHT_DATA_DIR", str(root / "data"))
        write_bank(small_bank, url)
        bank = read_bank(url, with_truth=True)
        store = ArtifactStore()
        for model in ("risk", "segments", "recsys"):
            train_and_publish(model, bank, url, quick=True, store=store)
        clear_caches()
    return root


@pytest.fixture()
def env(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with sqlite3.connect(trained / "bank.db") as source, sqlite3.connect(tmp_path / "bank.db") as copy:
        source.backup(copy)  # the pages still in the write-ahead log too
    shutil.copytree(trained / "checkpoints", tmp_path / "checkpoints")
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LEDGERLIGHT_ENV", raising=False)
    monkeypatch.chdir(tmp_path)
    clear_caches()
    yield {"url": url, "tmp": tmp_path}
    clear_caches()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _purchases(url: str, product_id: int) -> int:
    it = BANK_TABLES["interactions"]
    statement = sa.select(sa.func.count().label("n")).where(
        it.c.product_id == product_id, it.c.event == "purchase"
    )
    return int(query(statement, url)["n"].iloc[0])


def test_the_whole_loop_measures_the_uplift_and_a_reload_records_nothing(env: dict, capsys) -> None:
    url = env["url"]
    code, out, err = run(capsys, "campaigns", "create", "--name", "Cards Q1", "--product", CARD, "--top", "1000",
                         "--control-share", "0.5", "--seed", "3")  # fmt: skip
    assert code == 0, err
    campaign = read_campaigns(url)[0]
    assert (campaign.source, campaign.n_treated + campaign.n_control) == ("cli", 1000)
    assert abs(campaign.n_control - 500) <= 10  # half of every stratum
    assert campaign.audience["kind"] == "ranked" and campaign.audience["model_version"]
    members = campaign_outcomes(campaign.campaign_id, url)
    assert members["score"].notna().all() and members["stratum"].str.startswith("segment").all()

    assert run(capsys, "campaigns", "export", str(campaign.campaign_id), "--out", "contact.csv")[0] == 0
    exported = pd.read_csv(env["tmp"] / "contact.csv")
    treated = set(members.loc[members["treated"], "customer_id"])
    assert len(exported) == campaign.n_treated and set(exported["customer_id"]) == treated  # never a control
    assert exported["score"].is_monotonic_decreasing and exported["rank"].tolist() == list(
        range(1, len(exported) + 1)
    )

    code, out, err = run(capsys, "campaigns", "simulate", str(campaign.campaign_id), "--out", "responses.csv")
    assert code == 0, err
    drawn = pd.read_csv(env["tmp"] / "responses.csv")
    assert list(drawn.columns) == ["customer_id", "product", "responded_at"] and set(drawn["product"]) == {
        CARD
    }
    product_id = campaign.product_id
    before = _purchases(url, product_id)

    code, out, err = run(
        capsys, "load", "responses", "responses.csv", "--campaign", str(campaign.campaign_id)
    )
    assert code == 0, err
    assert f"{len(drawn):,} response(s) recorded" in out
    assert _purchases(url, product_id) == before + len(drawn)  # take-ups are purchases now
    code, out, _ = run(capsys, "load", "responses", "responses.csv", "--campaign", str(campaign.campaign_id))
    assert code == 0 and "0 response(s) recorded" in out and f"{len(drawn):,} already recorded" in out
    assert _purchases(url, product_id) == before + len(drawn)  # never twice

    code, out, _ = run(capsys, "campaigns", "show", str(campaign.campaign_id), "--json", "--cost", "2")
    report = json.loads(out)["report"]
    assert code == 0 and report["responses"] == len(drawn)
    overall = report["overall"]
    assert overall["uplift_low"] <= overall["uplift"] <= overall["uplift_high"]
    assert overall["uplift"] == pytest.approx(overall["takeup_treated"] - overall["takeup_control"])
    assert isinstance(report["qini"], float) and "economics" in report
    code, text, _ = run(capsys, "campaigns", "show", str(campaign.campaign_id))
    assert code == 0 and "uplift" in text and "95% CI" in text and "Qini" in text

    actions = set(read_audit(url, limit=50)["action"])
    assert {"create_campaign", "export_campaign", "load_responses"} <= actions

    code, out, err = run(capsys, "learn", "--campaign", str(campaign.campaign_id))
    assert code == 0, err
    newest = ArtifactStore().load("recsys", ArtifactStore().versions("recsys")[-1])
    inc = newest.metadata["extra"]["incremental"]
    assert inc["source"] == f"campaign {campaign.campaign_id}"
    assert inc["customers_updated"] == drawn["customer_id"].nunique()

    code, out, err = run(capsys, "campaigns", "train-uplift", "--product", CARD)
    assert code == 0, err
    art = ArtifactStore().load(campaigns.UPLIFT_MODEL)
    assert art.metadata["extra"]["campaigns"] == {str(product_id): [campaign.campaign_id]}
    assert set(art.metadata["files"]) >= {
        f"product_{product_id}/treated.txt",
        f"product_{product_id}/control.txt",
    }
    table = campaigns.UPLIFT_TABLE
    rows = query(sa.select(table).where(table.c.model_version == art.version).order_by(table.c.rank), url)
    assert published_rows(table, art.version, url) == len(rows) == len(read_bank(url).customers)
    assert rows["rank"].tolist() == list(range(1, len(rows) + 1)) and rows["uplift"].is_monotonic_decreasing
    assert rows["customer_id"].is_unique
    models = campaigns.load_uplift(art)
    assert list(models) == [product_id]

    # the next campaign ranks by the uplift model
    code, out, err = run(capsys, "campaigns", "create", "--name", "By uplift", "--product", CARD, "--top", "200",
                         "--model", "uplift", "--seed", "1")  # fmt: skip
    assert code == 0, err
    ranked = campaign_outcomes(read_campaigns(url)[0].campaign_id, url)
    held = set(query(campaigns.holders(product_id), url)["customer_id"].astype(int))
    assert held and not held & set(ranked["customer_id"])  # a customer is never offered what they hold
    eligible = rows[~rows["customer_id"].isin(held)]
    assert set(ranked["customer_id"]) <= set(
        eligible["customer_id"].head(400)
    )  # the top, credit-blocked passed over
    assert "uplift" in campaigns.ranking_models(url)


def test_a_segment_audience_is_every_member_stratified_by_segment(env: dict, capsys) -> None:
    url = env["url"]
    code, out, err = run(capsys, "campaigns", "create", "--name", "Savers", "--product", "Savings account",
                         "--segments", "0,1", "--control-share", "0.2", "--seed", "4")  # fmt: skip
    assert code == 0, err
    audience = campaigns.segment_audience([0, 1], url)
    out = campaign_outcomes(read_campaigns(url)[0].campaign_id, url)
    assert set(out["customer_id"]) == set(audience["customer_id"]) and out["score"].isna().all()
    for _, group in out.groupby("stratum"):
        assert (~group["treated"]).mean() == pytest.approx(0.2, abs=1.5 / len(group))
    code, text, _ = run(capsys, "campaigns", "show", str(read_campaigns(url)[0].campaign_id))
    assert code == 0 and "not ranked" in text
    code, listed, _ = run(capsys, "campaigns", "list", "--json")
    assert code == 0 and json.loads(listed)[0]["audience"]["segments"] == [0, 1]


def test_credit_offers_pass_over_the_blocked_risk_bands(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    url = env["url"]
    monkeypatch.setenv("LEDGERLIGHT_CREDIT_BLOCKED_BANDS", "C,D,E")
    product_id = campaigns.resolve_product(CARD, url)[0]
    blocked = set(query(campaigns.credit_blocked(product_id, url), url)["customer_id"])
    assert blocked  # the rule has someone to hold back
    ranked = campaigns.ranked_audience(product_id, 3000, "als", url)
    assert not set(ranked["customer_id"]) & blocked
    seg = campaigns.segment_audience([0, 1, 2], url, product_id=product_id)
    assert not set(seg["customer_id"]) & blocked and seg.attrs["audience"]["credit_blocked_left_out"] > 0
    savings = campaigns.resolve_product("Savings account", url)[0]
    assert campaigns.credit_blocked(savings, url) is None  # not a credit product


@pytest.mark.parametrize(("argv", "message"), [
    (["--segments", "0", "--control-share", "1.5"], "--control-share"),
    (["--segments", "0", "--control-share", "0"], "strictly between 0 and 1"),
    (["--segments", "77"], "unknown segment(s) 77"),
    (["--segments", "a,b"], "--segments takes segment numbers"),
    (["--top", "10", "--segments", "0"], "one of them"),
    ([], "one of them"),
    (["--top", "0"], "--top must be between 1"),
    (["--top", "10", "--model", "nope"], "unknown model 'nope'"),
    (["--top", "10", "--model", "uplift"], "ledgerlight campaigns train-uplift"),
    (["--segments", "0", "--model", "als"], "--model goes with --top"),
    (["--segments", "0", "--window-days", "0"], "--window-days"),
])  # fmt: skip
def test_bad_create_input_exits_2_and_stores_nothing(
    env: dict, capsys, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "campaigns", "create", "--name", "x", "--product", CARD, *argv)
    assert code == 2 and message in err
    assert read_campaigns(env["url"]) == []


def test_an_unknown_product_lists_the_catalogue(env: dict, capsys) -> None:
    code, _, err = run(capsys, "campaigns", "create", "--name", "x", "--product", "Yacht", "--top", "5")
    assert code == 2 and "unknown product 'Yacht'" in err and CARD in err


@pytest.mark.parametrize("argv", [
    ["campaigns", "show", "99"], ["campaigns", "export", "99", "--out", "x.csv"],
    ["campaigns", "simulate", "99", "--out", "x.csv"], ["campaigns", "record-holdings", "99"],
    ["load", "responses", "r.csv", "--campaign", "99"], ["learn", "--campaign", "99"],
])  # fmt: skip
def test_an_unknown_campaign_is_named(env: dict, capsys, argv: list[str]) -> None:
    pd.DataFrame({"customer_id": [1], "responded_at": ["2030-01-01"]}).to_csv(
        env["tmp"] / "r.csv", index=False
    )
    code, _, err = run(capsys, *argv)
    assert code == 2 and "no campaign 99" in err
    assert not (env["tmp"] / "x.csv").exists()


def _small_campaign(url: str, product: str = CARD) -> int:
    product_id = campaigns.resolve_product(product, url)[0]
    members = pd.DataFrame({"customer_id": np.arange(1, 41), "stratum": "all",
                            "arm": np.where(np.arange(40) % 4 == 0, "control", "treated")})  # fmt: skip
    return create_campaign(name="small", product_id=product_id, source="cli", audience={}, control_share=0.25,
                           seed=1, members=members, created_by="test", url=url).campaign_id  # fmt: skip


def test_a_responses_file_with_unknown_customers_or_another_product_is_refused_whole(
    env: dict, capsys
) -> None:
    url = env["url"]
    cid = _small_campaign(url)
    when = (read_campaign(cid, url).created_at + pd.Timedelta(days=2)).isoformat()
    pd.DataFrame({"customer_id": [1, 2, 999_999, 3, 888_888], "responded_at": when}).to_csv(
        "unknown.csv", index=False
    )
    code, _, err = run(capsys, "load", "responses", "unknown.csv", "--campaign", str(cid))
    assert code == 2 and "customers the bank does not hold" in err and "rows 3, 5" in err
    pd.DataFrame({"customer_id": [1, 2], "responded_at": when, "product": [CARD, "Mortgage"]}).to_csv(
        "product.csv", index=False)  # fmt: skip
    code, _, err = run(capsys, "load", "responses", "product.csv", "--campaign", str(cid))
    assert code == 2 and "another product" in err and "'Mortgage'" in err and "row 2" in err
    pd.DataFrame({"customer_id": [1], "when": when}).to_csv("nodate.csv", index=False)
    code, _, err = run(capsys, "load", "responses", "nodate.csv", "--campaign", str(cid))
    assert code == 2 and "responded_at" in err
    assert not campaign_outcomes(cid, url)["responded"].any()  # nothing recorded
    code, _, err = run(capsys, "load", "responses", "nodate.csv")
    assert code == 2 and "needs --campaign ID" in err


def test_date_only_responses_count_from_the_first_day_and_map_renames(env: dict, capsys) -> None:
    url = env["url"]
    cid = _small_campaign(url)
    day = read_campaign(cid, url).created_at.date().isoformat()
    pd.DataFrame({"Customer": [1, 2, 3], "Date": [day, day, "2001-01-01"], "product": ["credit card"] * 3}).to_csv(
        "dated.csv", index=False)  # fmt: skip
    code, out, err = run(capsys, "load", "responses", "dated.csv", "--campaign", str(cid), "--map",
                         "Customer=customer_id", "--map", "Date=responded_at")  # fmt: skip
    assert code == 0, err
    assert "2 response(s) recorded" in out and "1 outside the response window" in out


def test_record_holdings_reads_the_members_purchases(env: dict, capsys) -> None:
    url = env["url"]
    cid = _small_campaign(url)
    campaign = read_campaign(cid, url)
    events = pd.DataFrame(
        {
            "customer_id": [5, 6],
            "product_id": campaign.product_id,
            "ts": (campaign.created_at + pd.Timedelta(days=1)).isoformat(),
            "event": "purchase",
        }
    )
    events.to_csv("events.csv", index=False)
    assert run(capsys, "load", "interactions", "events.csv")[0] == 0
    code, out, _ = run(capsys, "campaigns", "record-holdings", str(cid))
    assert code == 0 and "2 response(s) recorded" in out
    assert set(campaign_outcomes(cid, url).query("responded")["customer_id"]) == {5, 6}


def test_train_uplift_refuses_too_few_responders_with_the_numbers(env: dict, capsys) -> None:
    url = env["url"]
    cid = _small_campaign(url)
    when = (read_campaign(cid, url).created_at + pd.Timedelta(days=2)).isoformat()
    pd.DataFrame({"customer_id": [1, 2, 3], "responded_at": when}).to_csv("few.csv", index=False)
    assert run(capsys, "load", "responses", "few.csv", "--campaign", str(cid))[0] == 0
    code, _, err = run(capsys, "campaigns", "train-uplift", "--product", CARD)
    assert code == 2 and "30 treated (at least 100 needed)" in err and "10 controls" in err
    assert ArtifactStore().latest(campaigns.UPLIFT_MODEL) is None
    code, _, err = run(capsys, "campaigns", "train-uplift", "--product", "Mortgage")
    assert code == 2 and "no campaign with responses" in err


def test_show_refuses_a_margin_without_a_cost(env: dict, capsys) -> None:
    cid = _small_campaign(env["url"])
    code, _, err = run(capsys, "campaigns", "show", str(cid), "--margin", "5")
    assert code == 2 and "--margin needs --cost" in err


def test_simulate_refuses_a_bank_without_ground_truth(
    small_bank: Bank, tmp_path: Path, monkeypatch, capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    write_bank(dataclasses.replace(small_bank, truth=None), url)
    cid = _small_campaign(url)
    code, _, err = run(capsys, "campaigns", "simulate", str(cid), "--out", str(tmp_path / "s.csv"))
    assert code == 2 and "ground truth" in err and "ledgerlight load responses" in err
    assert not (tmp_path / "s.csv").exists()


def test_a_text_id_bank_loads_and_exports_its_own_ids(tmp_path: Path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'text.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
    _, paths = write_text_id_files(tmp_path / "files", n_customers=200)
    for table in LOAD_ORDER:
        assert run(capsys, "load", table, str(paths[table]))[0] == 0
    internal = (
        query(sa.select(BANK_TABLES["customers"].c.customer_id), url)["customer_id"].head(40).to_numpy()
    )
    product_id = campaigns.resolve_product(CARD, url)[0]
    members = pd.DataFrame(
        {"customer_id": internal, "stratum": "=cmd()", "arm": ["treated"] * 30 + ["control"] * 10}
    )
    cid = create_campaign(name="text", product_id=product_id, source="cli", audience={}, control_share=0.25, seed=1,
                          members=members, created_by="test", url=url).campaign_id  # fmt: skip
    assert run(capsys, "campaigns", "export", str(cid), "--out", str(tmp_path / "out.csv"))[0] == 0
    exported = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert exported["customer_id"].str.startswith("C-").all() and (exported["stratum"] == "'=cmd()").all()
    when = (read_campaign(cid, url).created_at + pd.Timedelta(days=1)).isoformat()
    first = exported["customer_id"].head(3).tolist()
    pd.DataFrame({"customer_id": [*first, customer_text(99_999)], "responded_at": when}).to_csv(
        tmp_path / "r.csv", index=False)  # fmt: skip
    code, _, err = run(capsys, "load", "responses", str(tmp_path / "r.csv"), "--campaign", str(cid))
    assert code == 2 and "C-99999" in err and "row 4" in err
    pd.DataFrame({"customer_id": first, "responded_at": when}).to_csv(tmp_path / "r.csv", index=False)
    code, out, err = run(capsys, "load", "responses", str(tmp_path / "r.csv"), "--campaign", str(cid))
    assert code == 0 and "3 response(s) recorded" in out, err


def test_an_audience_needs_a_served_model_and_says_which_command_trains_it(
    small_bank: Bank, tmp_path: Path, monkeypatch, capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    write_bank(small_bank, url)
    code, _, err = run(capsys, "campaigns", "create", "--name", "x", "--product", CARD, "--segments", "0")
    assert code == 2 and "ledgerlight train segments" in err
    code, _, err = run(capsys, "campaigns", "create", "--name", "x", "--product", CARD, "--top", "10")
    assert code == 2 and "ledgerlight train recsys" in err
    cid = _small_campaign(url)
    code, _, err = run(capsys, "learn", "--campaign", str(cid))
    assert code == 2 and "recsys" in err  # nothing to update
    assert read_campaigns(url)[0].campaign_id == cid  # only the campaign made here


def test_learn_from_a_campaign_without_responses_is_refused(env: dict, capsys) -> None:
    cid = _small_campaign(env["url"])
    versions = ArtifactStore().versions("recsys")
    code, _, err = run(capsys, "learn", "--campaign", str(cid))
    assert code == 2 and "no recorded responses yet" in err
    code, _, err = run(capsys, "learn", "--campaign", str(cid), "--interactions", "x.csv")
    assert code == 2 and "one of them" in err
    assert ArtifactStore().versions("recsys") == versions  # nothing saved
