"""The one figure constructor: validated under test, the same figure unvalidated when serving."""

from __future__ import annotations

import pandas as pd
import pytest

from dashapp.figures import segments as segment_figures
from dashapp.figures import theme


def _sizes() -> pd.DataFrame:
    return pd.DataFrame(
        {"segment": [0, 1], "name": ["Savers", "Spenders"], "customers": [40, 7], "total": [90, 60]}
    )


def test_the_suite_validates_every_figure() -> None:
    assert theme.VALIDATE_FIGURES


def test_a_misspelt_property_fails_when_validating() -> None:
    with pytest.raises(ValueError, match="colr"):
        theme.figure([{"type": "bar", "x": [1], "y": [2], "marker": {"colr": "red"}}])
    with pytest.raises(ValueError, match="barmod"):
        theme.figure(barmod="overlay")


def test_serving_builds_the_same_figure_without_validating(monkeypatch: pytest.MonkeyPatch) -> None:
    validated = segment_figures.sizes_figure(_sizes()).to_plotly_json()
    monkeypatch.setattr(theme, "VALIDATE_FIGURES", False)
    served = segment_figures.sizes_figure(_sizes())
    assert served.to_plotly_json() == validated
    assert served.layout.template.layout.font.family == theme.FONT_FAMILY  # the house template still applies


def _k_table(*, gap: bool = True) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "k": [2, 3, 4, 5],
            "inertia": [900.0, 600.0, 450.0, 400.0],
            "silhouette": [0.31, 0.27, 0.22, 0.2],
            "davies_bouldin": [1.2, 1.4, 1.5, 1.6],
            "stability": [0.95, 0.6, 0.9, 0.8],
            "score": [1.0, 2.0, 3.0, 4.0],
        }
    )
    if gap:
        table["gap"], table["gap_se"] = [0.2, 0.3, 0.45, 0.46], [0.02, 0.03, 0.02, 0.04]
    return table


def test_the_k_evidence_plots_the_gap_with_its_standard_errors_and_marks_the_chosen_k() -> None:
    fig = segment_figures.k_evidence_figure(_k_table(), 4, stable_ari=0.75)
    gap = next(t for t in fig.data if t.name == "Gap statistic")
    assert list(gap.y) == [0.2, 0.3, 0.45, 0.46]
    assert gap.error_y.visible and list(gap.error_y.array) == [0.02, 0.03, 0.02, 0.04]
    chosen = next(t for t in fig.data if t.name == "chosen k = 4")
    assert list(chosen.x) == [4] and list(chosen.y) == [0.45]
    assert any(a.text == "<b>chosen k = 4</b>" for a in fig.layout.annotations)
    assert any(s.x0 == 4 and s.x1 == 4 for s in fig.layout.shapes)  # the vertical line at the chosen k
    greyed = [(s.x0, s.x1) for s in fig.layout.shapes if s.fillcolor == theme.SLATE]
    assert greyed == [(2.5, 3.5)]  # only k = 3 fails stability (0.6 < 0.75)
    assert any(s.y0 == 0.75 and s.y1 == 0.75 for s in fig.layout.shapes)  # the threshold line
    assert 0.75 in fig.layout.yaxis2.tickvals
    assert not any(t.showlegend for t in fig.data)  # axis titles name the panels: no legend to overlap them
    assert fig.layout.yaxis.title.text == "Gap statistic (±1 SE)"


def test_k_evidence_without_a_gap_falls_back_to_the_silhouette() -> None:
    fig = segment_figures.k_evidence_figure(_k_table(gap=False), 2)  # an older version: no gap, no threshold
    top = fig.data[0]
    assert top.name == "Silhouette" and list(top.y) == [0.31, 0.27, 0.22, 0.2]
    assert top.error_y.array is None
    assert "no gap" in fig.layout.yaxis.title.text
    assert not segment_figures.has_gap(_k_table(gap=False))
    assert segment_figures.has_gap(_k_table())
    nulls = _k_table().assign(gap=None, gap_se=None)  # n_references=0 stores nulls
    assert not segment_figures.has_gap(nulls)
    assert segment_figures.k_evidence_figure(nulls, 2).data[0].name == "Silhouette"
    assert (
        segment_figures.k_evidence_figure(pd.DataFrame(), 3).layout.annotations[0].text == "k was fixed at 3"
    )
    no_bootstrap = segment_figures.k_evidence_figure(_k_table().assign(stability=None), 3, stable_ari=0.75)
    assert [t.type for t in no_bootstrap.data] == ["scatter", "scatter"]  # no stability panel, nothing greyed
    assert not [s for s in no_bootstrap.layout.shapes if s.fillcolor == theme.SLATE]


def test_silhouette_and_davies_bouldin_stay_available_with_the_legend_below() -> None:
    fig = segment_figures.k_scores_figure(_k_table(), 4)
    assert [t.name for t in fig.data] == [
        "Silhouette (higher is better)",
        "Davies-Bouldin (lower is better, right axis)",
    ]
    assert (
        fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    )  # at the bottom, away from "chosen k"


def test_the_elbow_is_labelled_a_diagnostic() -> None:
    fig = segment_figures.elbow_figure(_k_table(), 3)
    assert fig.layout.annotations[0].text == "elbow k = 3 (diagnostic)"
