"""Champion / challenger: a candidate next to the served version on the same held-out loans, before promotion.

The figures are recomputed here from the two versions' stored out-of-fold PDs, so a comparison that paired the
wrong loans, used another cut-off or another reference group fails.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import risk
from bankdata import ArtifactStore, Bank, generate_bank, population_of_bank, read_audit, read_bank
from dashapp.services.challenger import compare_with_served
from dashapp.services.validation import InputError
from ledgerlight.cli import main
from risk.bankbook import POSITIVE, TARGET
from risk.training import save_trained, train_loan_book


@pytest.fixture(scope="module")
def demo_bank() -> Bank:
    return generate_bank(1_500, seed=11, months=4)


def _challenger_without(column: str, url: str, store: ArtifactStore):
    """A candidate trained on the database's bank without one feature, saved as a risk version."""
    bank = read_bank(url)
    book = risk.prepare_loan_book(
        risk.loan_frame(bank), TARGET, POSITIVE, source="demo bank loans", drop=(column,)
    )
    return save_trained(
        train_loan_book(book, quick=True), store, risk.MODEL_NAME, population=population_of_bank(bank)
    )


def test_the_comparison_is_the_two_versions_on_the_same_loans(env: dict) -> None:
    store: ArtifactStore = env["store"]
    assert main(["train", "risk", "--quick"]) == 0
    served = store.load("risk")
    candidate = _challenger_without("credit_score", env["url"], store)
    report = compare_with_served("risk", candidate.version, store=store)

    old, new = risk.held_out_pds(served), risk.held_out_pds(candidate)
    both = old.merge(new, on="loan_id", suffixes=("_a", "_b"))
    assert report["rows"] == len(both) > 0
    assert (both["defaulted_a"] == both["defaulted_b"]).all()
    y = both["defaulted_a"].to_numpy()
    assert report["metrics"]["roc_auc"]["champion"] == pytest.approx(risk.roc_auc(y, both["pd_a"]))
    assert report["metrics"]["roc_auc"]["challenger"] == pytest.approx(risk.roc_auc(y, both["pd_b"]))
    assert report["metrics"]["brier"]["difference"] == pytest.approx(
        np.mean((both["pd_b"] - y) ** 2) - np.mean((both["pd_a"] - y) ** 2)
    )
    assert report["metrics"]["brier"]["better"] == (
        "challenger" if report["metrics"]["brier"]["difference"] < 0 else "champion"
    )
    assert report["score_psi"]["value"] == pytest.approx(
        risk.psi(both["pd_a"].to_numpy(), both["pd_b"].to_numpy())
    )

    cutoff = served.load_json("report.json")["threshold"]
    assert report["cutoff"] == pytest.approx(cutoff)
    was, now = both["pd_a"] >= cutoff, both["pd_b"] >= cutoff
    flips = report["flips"]
    assert flips["approve_to_decline"] == int((~was & now).sum())
    assert flips["decline_to_approve"] == int((was & ~now).sum())
    assert flips["unchanged"] + flips["approve_to_decline"] + flips["decline_to_approve"] == len(both)
    assert 0 < len(flips["sample"]) <= 10
    moved = [abs(r["challenger_pd"] - r["champion_pd"]) for r in flips["sample"]]
    assert moved == sorted(moved, reverse=True)
    for row in flips["sample"]:
        pair = both.loc[both["loan_id"] == row["loan_id"]].iloc[0]
        assert (row["champion_pd"], row["challenger_pd"]) == (
            pytest.approx(pair["pd_a"]),
            pytest.approx(pair["pd_b"]),
        )
        assert row["change"] == ("approve -> decline" if pair["pd_b"] >= cutoff else "decline -> approve")

    gender = report["fairness"]["gender"]
    approved = both.assign(ok_a=~was, ok_b=~now).groupby("group__gender_a")[["ok_a", "ok_b"]].mean()
    reference = gender["reference"]
    for group in gender["groups"]:  # one reference group for both versions: the champion's
        assert group["champion_di"] == pytest.approx(
            approved.loc[group["group"], "ok_a"] / approved.loc[reference, "ok_a"]
        )
        assert group["challenger_di"] == pytest.approx(
            approved.loc[group["group"], "ok_b"] / approved.loc[reference, "ok_b"]
        )
    assert "age_band" in report["fairness"]


def test_dry_run_prints_the_comparison_and_changes_nothing(env: dict, capsys) -> None:
    store: ArtifactStore = env["store"]
    assert main(["train", "risk", "--quick"]) == 0
    served = store.latest("risk")
    candidate = _challenger_without("dti", env["url"], store).version
    audit_rows = len(read_audit(env["url"]))
    capsys.readouterr()

    assert main(["promote", "risk", candidate, "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["champion"]["version"] == served and report["challenger"]["version"] == candidate
    assert set(report["metrics"]) >= {"roc_auc", "brier", "ks", "calibration_in_the_large"}
    assert report["promotable"] == {"ok": True, "problem": None}
    assert store.latest("risk") == served and len(read_audit(env["url"])) == audit_rows

    assert main(["promote", "risk", candidate, "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert f"challenger {candidate} against the served {served}" in text
    assert "would be declined" in text and "nothing changed (dry run)" in text
    assert store.latest("risk") == served


def test_dry_run_of_the_served_version_or_an_unknown_one_is_refused(env: dict, capsys) -> None:
    assert main(["train", "risk", "--quick"]) == 0
    served = env["store"].latest("risk")
    capsys.readouterr()
    assert main(["promote", "risk", served, "--dry-run"]) == 2
    assert "is the served version" in capsys.readouterr().err
    with pytest.raises(InputError, match="not a saved version"):
        compare_with_served("risk", "../../etc", store=env["store"])


def test_segments_versions_are_compared_on_their_saved_metrics(env: dict) -> None:
    store: ArtifactStore = env["store"]
    assert main(["train", "segments", "--quick"]) == 0
    assert (
        main(["train", "segments", "--quick"]) == 0
    )  # the same bank again: a candidate with the same figures
    served, candidate = store.latest("segments"), store.versions("segments")[-1]
    report = compare_with_served("segments", candidate, store=store)
    ours, theirs = (
        store.load("segments", served).metadata["metrics"],
        store.load("segments", candidate).metadata["metrics"],
    )
    assert report["metrics"], "no saved metric compared"
    for name, pair in report["metrics"].items():
        assert pair["champion"] == pytest.approx(ours[name]) and pair["challenger"] == pytest.approx(
            theirs[name]
        )
    assert {pair["better"] for pair in report["metrics"].values()} <= {"champion", "challenger", "tie"}


def test_a_difference_too_small_to_print_favours_neither_version() -> None:
    from dashapp.services.challenger import _better

    assert _better("roc_auc", {"champion": 0.80880, "challenger": 0.80882, "difference": 0.00002}) == "tie"
    assert _better("roc_auc", {"champion": 0.80, "challenger": 0.81, "difference": 0.01}) == "challenger"
    assert _better("brier", {"champion": 0.07, "challenger": 0.08, "difference": 0.01}) == "champion"
    assert (
        _better("calibration_in_the_large", {"champion": -0.02, "challenger": 0.01, "difference": 0.03})
        == "challenger"
    )
