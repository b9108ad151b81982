"""Recourse: the cheapest actionable changes bring a declined applicant under the cut-off, never touching history."""

from __future__ import annotations

import time

import numpy as np
import pytest

import risk
from bankdata import ArtifactStore
from risk.recourse import ACTIONABLE, candidate_values, find_recourse


@pytest.fixture(scope="module")
def model_and_declined(small_bank, tmp_path_factory):
    store = ArtifactStore(tmp_path_factory.mktemp("recourse"))
    model = risk.RiskModel.load(risk.train_from_bank(small_bank, store, quick=True))
    loans = risk.latest_loans(small_bank)
    pd_ = model.predict_pd(loans)
    threshold = float(np.quantile(pd_, 0.8))
    return model, loans[pd_ >= threshold].reset_index(drop=True), threshold


def test_candidates_respect_the_direction() -> None:
    assert (candidate_values(10_000, "decrease", 5_000) < 10_000).all()
    assert (candidate_values(10_000, "decrease", 5_000) >= 0).all()
    assert (candidate_values(0.0, "increase", 2_000) > 0).all()
    assert 36.0 not in candidate_values(36.0, "any", 36.0)
    with pytest.raises(ValueError, match="direction"):
        candidate_values(1, "sideways", 1)


def test_recourse_brings_declined_applicants_under_the_cutoff(model_and_declined) -> None:
    model, declined, threshold = model_and_declined
    found, timings = 0, []
    for i in range(20):
        row = declined.iloc[[i]]
        start = time.perf_counter()
        r = find_recourse(model, row, threshold)
        timings.append(time.perf_counter() - start)
        assert r.pd_before >= threshold and not r.approved_already
        assert {c.feature for c in r.changes} <= set(ACTIONABLE)
        if r.feasible:
            found += 1
            assert r.changes and r.pd_after < threshold
            edited = row.copy()
            for c in r.changes:
                edited[c.feature] = c.after
            assert model.predict_pd(edited)[0] == pytest.approx(r.pd_after)  # the model agrees
            for c in r.changes:
                if ACTIONABLE[c.feature] == "decrease":
                    assert c.after < c.before
                if ACTIONABLE[c.feature] == "increase":
                    assert c.after > c.before
    assert found >= 3
    assert np.median(timings) < 0.2  # interactive budget (loose: shared CI machine)


def test_single_change_is_preferred_when_enough(model_and_declined) -> None:
    model, declined, threshold = model_and_declined
    one = two = None
    for i in range(len(declined)):
        two = find_recourse(model, declined.iloc[[i]], threshold, max_changes=2)
        if two.feasible:
            one = find_recourse(model, declined.iloc[[i]], threshold, max_changes=1)
            break
    assert two is not None and two.feasible
    assert len(two.changes) <= 2
    if one.feasible:
        assert two.cost <= one.cost + 1e-12  # more freedom never costs more


def test_approved_applicant_needs_nothing(model_and_declined) -> None:
    model, declined, _ = model_and_declined
    r = find_recourse(model, declined.iloc[[0]], 1.0)
    assert r.approved_already and r.changes == [] and r.feasible


def test_history_and_protected_attributes_are_refused(model_and_declined) -> None:
    model, declined, threshold = model_and_declined
    for bad in ("prior_delinquencies", "age", "credit_score", "purpose"):
        with pytest.raises(ValueError, match="not actionable"):
            find_recourse(model, declined.iloc[[0]], threshold, actionable={bad: "decrease"})
    with pytest.raises(ValueError, match="max_changes"):
        find_recourse(model, declined.iloc[[0]], threshold, max_changes=5)
