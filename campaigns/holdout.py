"""A random holdout stratified by segment: the control group every campaign is measured against."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DEFAULT_CONTROL_SHARE = 0.10


def check_control_share(control_share: float) -> float:
    """Return ``control_share`` as a float, or raise ``ValueError`` unless it is a number strictly between 0 and 1."""
    if isinstance(control_share, bool) or not isinstance(
        control_share, int | float | np.floating | np.integer
    ):
        raise ValueError(f"control share must be a number between 0 and 1, got {control_share!r}")
    share = float(control_share)
    if not math.isfinite(share) or not 0.0 < share < 1.0:
        raise ValueError(
            f"control share must be strictly between 0 and 1 (e.g. 0.1 for 10%), got {control_share!r}"
        )
    return share


def assign_holdout(
    segments: pd.Series | np.ndarray, control_share: float = DEFAULT_CONTROL_SHARE, seed: int = 0
) -> np.ndarray:
    """Choose the control group at random within each segment.

    Each segment of ``n`` customers gets ``round(control_share * n)`` controls (at least one where it has two or
    more customers), drawn without replacement, so every segment is held out at the same share.

    Parameters
    ----------
    segments : Series or array
        The segment of each customer (any hashable labels; missing labels form their own segment).
    control_share : float
        Share held out, strictly between 0 and 1 (default 10%).
    seed : int
        Seed of the draw.

    Returns
    -------
    ndarray of bool
        True for customers to contact (treated), False for the holdout (control), in the order of ``segments``.
    """
    share = check_control_share(control_share)
    labels = pd.Series(np.asarray(segments, dtype=object)).fillna("(missing)")
    codes, _ = pd.factorize(labels, sort=True)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 29]))
    treated = np.ones(len(labels), dtype=bool)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for members in np.split(order, bounds):
        n = len(members)
        n_control = int(np.floor(share * n + 0.5))
        if n >= 2:
            n_control = min(max(n_control, 1), n - 1)
        treated[rng.choice(members, size=n_control, replace=False)] = False
    return treated
