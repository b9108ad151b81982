"""Layout of the charts and widgets whose labels overlapped or were cut: asserted on the figure and component objects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import risk
from dashapp.components.recs_metrics import recs_metrics_table
from dashapp.components.sliders import PROBABILITY_MARKS, value_range_slider, value_slider
from dashapp.figures import bins
from dashapp.figures import governance as gov
from dashapp.figures import risk as risk_figs

#: interval labels as the risk package stores them with a published report
AMOUNT_BINS = ["(-inf, 4640]", "(4640, 6660]", "(1.055e+04, 1.289e+04]", "(3.658e+04, inf]"]


def _attribute(flagged: bool = False) -> dict:
    groups = [
        {
            "group": g,
            "approval_rate": 0.8,
            "tpr": 0.7,
            "fpr": 0.1,
            "di_ratio": 0.9,
            "n": 100,
            "flag": flagged and g == "<25",
        }
        for g in ("65+", "<25", "25-34")
    ]
    return {"reference": "65+", "groups": groups}


def test_the_fairness_title_and_legend_sit_above_the_bars_apart_from_each_other_and_the_x_labels() -> None:
    fig = gov.fairness_figure(_attribute(flagged=True))
    title, legend = fig.layout.title, fig.layout.legend
    assert title.text == "reference 65+; DI < 0.8: <25"
    assert (title.yref, title.y, title.yanchor) == ("container", 1, "top")  # in the top strip of the margin
    assert (
        legend.orientation == "h" and legend.yanchor == "bottom" and legend.y >= 1
    )  # above the plot, not under it
    assert fig.layout.margin.t >= 80  # room for the title strip and a legend row that may wrap on a phone
    assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin  # the house template's safety net
    assert [str(x) for x in fig.data[0].x] == ["<25", "25-34", "65+"]


def test_bin_labels_read_by_meaning_without_exponents() -> None:
    assert bins.feature_bin_labels(AMOUNT_BINS, "amount") == [
        "≤ 4,640",
        "4,640–6,660",
        "10,550–12,890",
        "> 36,580",
    ]
    assert bins.feature_bin_labels(["(-inf, 0]", "(0, 1]", "(1, 2]", "(2, inf]"], "prior_delinquencies") == [
        "≤ 0",
        "1",
        "2",
        "> 2",
    ]
    assert bins.feature_bin_labels(["(16, 25]"], "tenure_months") == ["17–25"]
    assert bins.feature_bin_labels(["(6.28, 7.44]"], "interest_rate") == ["6.28%–7.44%"]
    assert bins.feature_bin_labels(["(0.1403, 0.1942]"], "dti") == ["0.14–0.19"]
    assert bins.bin_label("(0.007312, 0.01014]", "probability") == "0.73%–1%"
    assert bins.feature_bin_labels(["West", "missing"], "region") == ["West", "missing"]
    assert bins.feature_bin_labels(["(1.055e+04, 1.289e+04]"], "a_column_of_your_own") == ["10,550–12,890"]
    for value in (2e-05, -3.2e-07, 0.25, 12_345.6, 1e9):
        assert "e" not in bins.plain_number(value).lower()


def _stability() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature": "amount",
            "bin": AMOUNT_BINS,
            "expected": 0.25,
            "actual": [0.2, 0.3, 0.25, 0.25],
            "points": [0.01, -0.004, 0.0, 0.002],
            "contribution": [-5e-4, -2e-4, 0.0, 4e-5],
        }
    )


def test_characteristic_stability_labels_its_bins_as_money_and_its_ticks_as_plain_numbers() -> None:
    fig = gov.stability_figure(_stability(), "amount")
    labels = list(fig.data[0].x)
    assert labels == ["≤ 4,640", "4,640–6,660", "10,550–12,890", "> 36,580"]
    assert not any("e+" in label or "e-" in label for label in labels)
    assert fig.layout.yaxis.tickformat == gov.PLAIN_TICKS  # 0.0002, not 200µ
    assert (
        "~r" in gov.PLAIN_TICKS and "s" not in gov.PLAIN_TICKS
    )  # rounded decimals, never the SI-prefix type
    assert fig.layout.xaxis.title.text == "Loan amount bin"  # the label map's words


def test_the_psi_and_score_charts_use_plain_ticks_and_readable_bins() -> None:
    features = pd.DataFrame(
        {"feature": ["income", "dti"], "psi": [0.0004, 0.3], "status": ["stable", "alert"]}
    )
    assert gov.psi_figure(features).layout.xaxis.tickformat == gov.PLAIN_TICKS
    score = pd.DataFrame(
        {
            "bin": ["(-inf, 0.007312]", "(0.007312, 0.01014]", "(0.2599, inf]"],
            "expected": [0.1, 0.1, 0.1],
            "actual": [0.1, 0.09, 0.11],
        }
    )
    fig = gov.score_bins_figure(score)
    assert list(fig.data[0].x) == ["≤ 0.73%", "0.73%–1%", "> 26%"]


def test_traffic_light_cells_break_their_label_onto_two_short_lines() -> None:
    from dashapp.figures.backtest import lights_figure

    rows = [
        {
            "month": "2026-01",
            "band": b,
            "light": "green",
            "realised": 0.009,
            "mean_pd": 0.011,
            "n": 40,
            "p_value": 0.5,
        }
        for b in "ABCDE"
    ]
    heat = lights_figure(rows).data[0]
    assert heat.text[0][0] == "0.9%<br>vs 1.1%"
    assert max(len(line) for cell in heat.text[0] for line in cell.split("<br>")) <= 8


def _explanation(deltas: list[float], base: float = 0.05) -> risk.Explanation:
    n = len(deltas)
    shap = np.asarray(deltas)
    return risk.Explanation(
        pd=base + float(shap.sum()),
        band="C",
        base_pd=base,
        base_logit=-2.9,
        features=[f"f{i}" for i in range(n)],
        values=[str(25985.99 + i) for i in range(n)],
        shap_logit=shap * 10,
        shap_pd=shap,
        reasons=[],
    )


@pytest.mark.parametrize(
    "deltas", [[0.08, 0.05, 0.02, 0.01], [-0.02, -0.015, -0.01, -0.004], [0.03, -0.049, 0.001]]
)
def test_the_waterfall_leaves_room_for_the_labels_right_of_its_bars(deltas: list[float]) -> None:
    fig = risk_figs.waterfall_figure(_explanation(deltas))
    bar, labels = fig.data
    assert (
        bar.textposition == "none" and bar.hovertemplate
    )  # the value shows in the hover and in the label trace
    right_ends = [max(b, b + x) for b, x in zip(bar.base, bar.x, strict=True)]
    assert labels.mode == "text" and labels.textposition == "middle right" and labels.cliponaxis is False
    lo, hi = fig.layout.xaxis.range
    gaps = np.asarray(labels.x) - np.asarray(right_ends)
    assert np.all(gaps > 0) and np.all(gaps < 0.05 * (hi - lo))  # just right of each bar
    assert list(labels.y) == list(bar.y) and list(labels.text) == list(bar.text)
    span = max(right_ends) - min(0.0, lo)
    assert (
        lo <= 0 and hi >= max(right_ends) + 0.2 * span
    )  # "+x.x%" beside the bar reaching furthest right fits
    assert fig.layout.margin.r >= 56


def test_waterfall_labels_are_two_short_lines_with_the_value_thousands_separated() -> None:
    fig = risk_figs.waterfall_figure(_explanation([0.01, -0.02]))
    labels = list(fig.data[0].y)
    assert labels[0] == "average applicant" and labels[-1] == "this applicant"
    assert all("<br>" in label for label in labels[1:-1])
    assert "25,986" in labels[1] or "25,987" in labels[1]


def test_the_two_importance_panels_have_two_line_axis_titles_that_do_not_meet() -> None:
    from dashapp.figures import explain

    spec = risk.FeatureSpec(numeric=["dti", "income"], categorical={}, fill={"dti": 0.3, "income": 4e4})
    perm = {"features": ["dti", "income"], "mean": [0.05, 0.01], "std": [0.01, 0.002]}
    fig = explain.importance_comparison_figure(spec, np.array([0.4, 0.1]), perm)
    assert "<br>" in fig.layout.xaxis.title.text and "<br>" in fig.layout.xaxis2.title.text
    assert fig.layout.xaxis.domain[1] < fig.layout.xaxis2.domain[0]


def test_sliders_show_their_tooltip_above_the_handle_only_while_it_is_used() -> None:
    for slider in (
        value_slider("s", 0, 1, 0.2, step=0.01, marks=PROBABILITY_MARKS),
        value_range_slider("r", 0, 1, [0, 1], step=0.01, marks=PROBABILITY_MARKS),
    ):
        assert slider.tooltip == {"placement": "top", "always_visible": False}
        assert slider.allow_direct_input is True  # the number box beside the track shows the value
    gaps = np.diff(sorted(PROBABILITY_MARKS))
    assert gaps.min() >= 0.2  # "0% 10% 20% 30%" ran together on a phone


def test_pages_build_their_sliders_through_the_shared_helper() -> None:
    from pathlib import Path

    pages = Path(__file__).resolve().parents[2] / "dashapp" / "pages"
    for name in ("monitoring.py", "risk_portfolio.py", "risk_applicant.py"):
        text = (pages / name).read_text()
        assert (
            "always_visible" not in text and "dcc.Slider(" not in text and "dcc.RangeSlider(" not in text
        ), name


def test_the_recommendation_metrics_table_is_short_responsive_and_leaves_timings_out() -> None:
    metrics = pd.DataFrame(
        {
            "model": ["EASE (item-item)", "oracle (true affinity)"],
            "coverage": [1.0, 0.5],
            "fit_seconds": [0.2, np.nan],
            "hit_rate@5": [0.957, 0.964],
            "map@5": [0.715, 0.754],
            "ndcg@5": [0.786, 0.818],
            "precision@5": [0.317, 0.323],
            "recall@5": [0.912, 0.928],
            "recommend_seconds": [0.02, np.nan],
        }
    )
    holder = recs_metrics_table(metrics, 5)
    table = holder.children[0]
    assert table.id == "recs-metrics" and table.responsive
    head = [th.children for th in table.children[0].children.children]
    assert head == ["model", "nDCG", "Prec.", "Recall", "MAP", "Hit rate", "Cov."]
    first = [td.children for td in table.children[1].children[0].children]
    assert first == ["EASE (item-item)", "0.786", "0.317", "0.912", "0.715", "0.957", "100%"]
    assert "ll-metrics-table" in table.class_name


def test_customer_tables_use_the_page_font_and_keep_dates_on_one_line(dash_app) -> None:
    from dashapp.pages import customer

    table = customer._table(
        pd.DataFrame({"loan_id": [10], "issued_at": ["2025-03-15"], "amount": [31080]}), "t"
    )
    assert (
        table.style_cell["fontFamily"] == "var(--bs-body-font-family)"
    )  # DataTable's own default is monospace
    assert table.style_cell_conditional == [{"if": {"column_id": "issued_at"}, "whiteSpace": "nowrap"}]
