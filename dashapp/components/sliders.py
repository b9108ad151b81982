"""The app's sliders, built in one place so every page shows their value the same way.

The value is always on screen in the slider's own number box (beside the track, where it can also be typed); the
tooltip appears above the handle only while it is hovered or dragged. An always-visible tooltip below the handle
covered the marks under the track (``10%``, ``20%`` read as ``1··%``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import dcc

#: above the handle, only on hover, focus or drag: the marks below the track stay readable
TOOLTIP: dict[str, object] = {"placement": "top", "always_visible": False}
#: marks of a 0-1 probability slider, far enough apart for a phone's width (0%, 10%, 20%, 30% ran together)
PROBABILITY_MARKS: dict[float, str] = {v: f"{v:.0%}" for v in (0, 0.25, 0.5, 0.75, 1)}


def value_slider(
    slider_id: str,
    low: float,
    high: float,
    value: float,
    *,
    step: float,
    marks: Mapping[float, str] | None = None,
) -> dcc.Slider:
    """A one-handle slider whose value shows in its number box (see the module's note on the tooltip).

    Parameters
    ----------
    slider_id : str
        Component id (the page's prefix, ``risk-threshold``).
    low, high, value : float
        Range and starting value.
    step : float
        Snap step.
    marks : mapping, optional
        Labels under the track, value to text.
    """
    return dcc.Slider(
        id=slider_id,
        min=low,
        max=high,
        step=step,
        value=value,
        marks=dict(marks) if marks is not None else None,
        tooltip=dict(TOOLTIP),
        allow_direct_input=True,
    )


def value_range_slider(
    slider_id: str,
    low: float,
    high: float,
    value: Sequence[float],
    *,
    step: float,
    marks: Mapping[float, str] | None = None,
) -> dcc.RangeSlider:
    """A two-handle slider with the same tooltip and number boxes as :func:`value_slider`."""
    return dcc.RangeSlider(
        id=slider_id,
        min=low,
        max=high,
        step=step,
        value=list(value),
        marks=dict(marks) if marks is not None else None,
        tooltip=dict(TOOLTIP),
        allow_direct_input=True,
    )
