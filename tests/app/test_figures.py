"""The one figure constructor: validated under test, the same figure unvalidated when serving."""

from __future__ import annotations

import pandas as pd
import pytest

from dashapp.figures import segments as segment_figures
from dashapp.figures import theme


def _sizes() -> pd.DataFrame:
    return pd.DataFrame({"segment": [0, 1], "name": ["Savers", "Spenders"], "customers": [40, 7], "total": [90, 60]})


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
