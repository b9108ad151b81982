"""A stored campaign's report: the same figures as the measurement functions, the Qini only for a ranked audience."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from campaigns import campaign_report, measure, qini
from campaigns.report import CURVE_POINTS


def _outcomes(n: int = 4_000, ranked: bool = True, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    treated = rng.random(n) < 0.8
    responded = rng.random(n) < 0.05 + np.where(treated, 0.1 * score, 0.0)  # the score finds the persuadable
    return pd.DataFrame({"treated": treated, "responded": responded, "score": score if ranked else np.nan,
                         "stratum": np.where(np.arange(n) < 60, "tiny", "main")})  # fmt: skip


def test_the_report_agrees_with_the_measurement_functions() -> None:
    out = _outcomes()
    report = campaign_report(out, cost_per_contact=2.0, margin=50.0)
    m = measure(out["treated"].to_numpy(), out["responded"].to_numpy())
    assert report["overall"]["uplift"] == pytest.approx(m.uplift)
    assert report["qini"] == pytest.approx(qini(out["score"].to_numpy(), out["treated"].to_numpy(),
                                                out["responded"].to_numpy()))  # fmt: skip
    assert report["qini"] > 0  # the score ranks the persuadable first
    curve = report["qini_curve"]
    assert len(curve["share_targeted"]) <= CURVE_POINTS and curve["share_targeted"][0] == 0.0
    assert curve["share_targeted"][-1] == pytest.approx(1.0)
    small = {s["segment"]: s["small"] for s in report["segments"]}
    assert small == {"tiny": True, "main": False}
    assert report["economics"]["cost"] == pytest.approx(2.0 * out["treated"].sum())
    assert report["uplift_top_10"] > report["overall"]["uplift"]


def test_an_unranked_audience_or_a_campaign_without_controls_has_no_qini() -> None:
    assert "qini" not in campaign_report(_outcomes(ranked=False))
    no_controls = _outcomes().assign(treated=True)
    report = campaign_report(no_controls)
    assert "qini" not in report and report["overall"]["n_control"] == 0
