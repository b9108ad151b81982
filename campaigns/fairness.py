"""Fair offers: the adverse-impact ratio of a campaign's audience by protected group.

The selection rate of a group is the share of the bank's customers in that group whom the audience picked; its
adverse-impact ratio is that rate over the most favoured group's (the highest rate among groups of at least
``min_reference`` customers). A ratio below ``flag`` (0.8, the "four-fifths rule", as Monitoring flags the
approval rates of the risk model) is flagged. The counts come in aggregated (the caller counts in SQL), so this
module never sees a customer.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

DI_FLAG = 0.8
MIN_REFERENCE = 30
COLUMNS = ("group", "customers", "selected", "rate", "ratio", "small", "flag")


def adverse_impact(selected: Mapping[str, int], population: Mapping[str, int], *, min_reference: int = MIN_REFERENCE,
                   flag: float = DI_FLAG) -> tuple[pd.DataFrame, str | None]:  # fmt: skip
    """Selection rate and adverse-impact ratio of each group.

    Parameters
    ----------
    selected : mapping
        Group -> customers of the group in the audience.
    population : mapping
        Group -> the bank's customers in the group (every group of ``selected`` must be here).
    min_reference : int
        Smallest group (customers of the bank) that may be the reference; groups below it are ``small``.
    flag : float
        Ratios below it are flagged.

    Returns
    -------
    (DataFrame, str or None)
        Columns :data:`COLUMNS`, one row per group of ``population`` (largest first), and the reference group
        (None when no group is large enough).

    Raises
    ------
    ValueError
        Negative counts, more selected than customers, or a selected group the population lacks.
    """
    unknown = sorted(set(selected) - set(population))
    if unknown:
        raise ValueError(f"selected group(s) {', '.join(map(str, unknown))} are not in the population")
    groups = sorted(population, key=lambda g: (-int(population[g]), str(g)))
    customers = np.array([int(population[g]) for g in groups], dtype=np.int64)
    chosen = np.array([int(selected.get(g, 0)) for g in groups], dtype=np.int64)
    if (customers < 0).any() or (chosen < 0).any():
        raise ValueError("counts must not be negative")
    if (chosen > customers).any():
        raise ValueError("a group cannot have more customers selected than it has")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(customers > 0, chosen / np.maximum(customers, 1), np.nan)
    table = pd.DataFrame({"group": [str(g) for g in groups], "customers": customers, "selected": chosen,
                          "rate": rate, "small": customers < int(min_reference)})  # fmt: skip
    big = table[~table["small"] & table["rate"].notna()]
    if big.empty:
        table["ratio"], table["flag"] = np.nan, False
        return table.loc[:, list(COLUMNS)], None
    reference = str(big.loc[big["rate"].idxmax(), "group"])
    best = float(big["rate"].max())
    table["ratio"] = table["rate"] / best if best > 0 else np.nan
    table["flag"] = (table["ratio"] < float(flag)).fillna(False).astype(bool)
    return table.loc[:, list(COLUMNS)], reference
