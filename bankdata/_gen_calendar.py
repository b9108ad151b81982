"""The generation window: seasonal day weights and timestamp arithmetic (whole seconds from the window start)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400
# Month-of-year activity factors (January first): a December holiday peak, a January lull.
_MONTH_FACTOR = np.array([0.90, 0.90, 0.97, 0.98, 1.00, 1.01, 1.03, 1.02, 0.97, 0.99, 1.08, 1.35])
_TRAVEL_MONTH = np.array([0.8, 0.8, 0.9, 1.0, 1.0, 1.3, 1.6, 1.6, 1.0, 0.9, 0.8, 1.2])
# Day-of-week factors (Monday first): a Friday/Saturday peak, a quiet Sunday.
_WEEKDAY_FACTOR = np.array([0.93, 0.95, 0.96, 0.98, 1.12, 1.18, 0.82])
# Hour-of-day weights for card spending and transfers.
_HOUR_WEIGHT = np.array(
    [
        0.3,
        0.15,
        0.1,
        0.1,
        0.1,
        0.2,
        0.5,
        1.0,
        1.6,
        1.9,
        2.0,
        2.2,
        2.8,
        2.5,
        2.1,
        2.0,
        2.3,
        2.8,
        3.0,
        2.6,
        2.0,
        1.5,
        1.0,
        0.6,
    ]
)

# The hour of each of 4,096 equally likely slots: sampling an hour is a table lookup, not a search.
_HOUR_TABLE = np.searchsorted(
    np.cumsum(_HOUR_WEIGHT) / _HOUR_WEIGHT.sum(), (np.arange(4096) + 0.5) / 4096, side="right"
).astype(np.int64)


@dataclass(frozen=True)
class Window:
    """The months covered by the generated activity.

    Parameters
    ----------
    start : Timestamp
        First day (midnight) of the window.
    days : DatetimeIndex
        Every day of the window.
    """

    start: pd.Timestamp
    days: pd.DatetimeIndex

    @classmethod
    def from_months(cls, start: str, months: int) -> Window:
        """Build the window of ``months`` calendar months beginning at ``start``."""
        first = pd.Timestamp(start).normalize()
        end = first + pd.DateOffset(months=months)
        return cls(first, pd.date_range(first, end - pd.Timedelta(days=1), freq="D"))

    @property
    def n_days(self) -> int:
        """Number of days in the window."""
        return len(self.days)

    @property
    def second_bits(self) -> int:
        """Bits needed to store a second of the window (for packed sort keys)."""
        return int(self.n_seconds - 1).bit_length()

    @property
    def n_seconds(self) -> int:
        """Length of the window in seconds."""
        return self.n_days * SECONDS_PER_DAY

    def month_starts(self) -> np.ndarray:
        """Day offsets (from the window start) of the first day of every month the window touches.

        The first is negative when the window starts mid-month.
        """
        first = self.start.to_period("M").to_timestamp()
        starts = pd.date_range(first, self.days[-1], freq="MS")
        return ((starts - self.start) // pd.Timedelta(days=1)).to_numpy().astype(np.int64)

    def day_weights(self, profile: str) -> np.ndarray:
        """Relative activity of each day for a spending ``profile``: 'essential', 'discretionary' or 'travel'."""
        month = self.days.month.to_numpy() - 1
        weekday = self.days.dayofweek.to_numpy()
        if profile == "essential":
            w = 1.0 + 0.35 * (_MONTH_FACTOR[month] - 1.0)
        elif profile == "discretionary":
            w = _MONTH_FACTOR[month] ** 1.6 * self._holiday_boost()
        elif profile == "travel":
            w = _TRAVEL_MONTH[month]
        else:
            raise ValueError(f"unknown day profile {profile!r}; expected essential, discretionary or travel")
        return w * _WEEKDAY_FACTOR[weekday]

    def _holiday_boost(self) -> np.ndarray:
        month, day, weekday = (
            self.days.month.to_numpy(),
            self.days.day.to_numpy(),
            self.days.dayofweek.to_numpy(),
        )
        boost = np.ones(self.n_days)
        boost[(month == 11) & (weekday == 4) & (day >= 22) & (day <= 28)] = 2.0  # Black Friday
        boost[(month == 12) & (day >= 12) & (day <= 23)] = 1.4
        boost[(month == 12) & (day == 24)] = 1.2
        boost[(month == 12) & (day == 25)] = 0.35
        boost[(month == 12) & (day == 26)] = 1.3
        return boost

    def sample_seconds(
        self, rng: np.random.Generator, weights: np.ndarray, first_day: np.ndarray
    ) -> np.ndarray:
        """Draw a timestamp per row from the day ``weights``, on or after each row's ``first_day``.

        Returns whole seconds from the window start (int64); times of day follow a daily spending profile.
        """
        cdf = np.concatenate([[0.0], np.cumsum(weights) / np.sum(weights)])
        lo = cdf[first_day]
        u = lo + rng.random(len(first_day)) * (1.0 - lo)
        day = np.clip(np.searchsorted(cdf, u, side="right") - 1, first_day, self.n_days - 1)
        return day * SECONDS_PER_DAY + self.sample_time_of_day(rng, len(day))

    @staticmethod
    def sample_time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
        """Seconds after midnight drawn from the daily spending profile."""
        draw = rng.integers(0, len(_HOUR_TABLE) * 3600, n)  # a table slot and a second within the hour
        slot, second = np.divmod(draw, 3600)
        return _HOUR_TABLE[slot] * 3600 + second

    def active_share(self, first_day: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Share of the window's (weighted) activity that falls on or after each ``first_day``."""
        w = np.ones(self.n_days) if weights is None else weights
        cdf = np.concatenate([[0.0], np.cumsum(w) / np.sum(w)])
        return 1.0 - cdf[first_day]

    def to_datetime(self, seconds: np.ndarray) -> np.ndarray:
        """Seconds from the window start as ``datetime64[ns]``."""
        start_ns = self.start.as_unit("ns").value
        return (np.asarray(seconds, dtype=np.int64) * 1_000_000_000 + start_ns).view("datetime64[ns]")
