"""Business rules applied after scoring: what may never be offered to whom.

- A held product is never recommended (done by ``Recommender.recommend(exclude_held=True)``).
- Credit products (families ``card`` and ``loan`` by default) are not offered to customers the risk model puts in
  a blocked band. The recommender never imports the risk package: the caller passes the customers' bands.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import numpy as np
import pandas as pd

from recsys.interactions import id_array

CREDIT_FAMILIES: tuple[str, ...] = ("card", "loan")


def customers_in_bands(bands: pd.DataFrame | Mapping[int, str], blocked_bands: Collection[str]) -> np.ndarray:
    """Ids of customers whose risk band is one of ``blocked_bands``.

    Parameters
    ----------
    bands : DataFrame with ``customer_id`` and ``band`` columns, or a mapping customer id -> band
    blocked_bands : collection of str
        e.g. ``{"E"}`` for the highest band of the risk master scale.
    """
    if isinstance(bands, pd.DataFrame):
        missing = {"customer_id", "band"} - set(bands.columns)
        if missing:
            raise ValueError(f"risk bands: missing column(s) {sorted(missing)}")
        ids, labels = bands["customer_id"].to_numpy(), bands["band"].astype("str").to_numpy()
    else:
        ids = id_array(list(bands.keys()))
        labels = np.array([str(v) for v in bands.values()], dtype=str)
    wanted = np.array(sorted(str(b) for b in blocked_bands), dtype=str)
    return np.unique(id_array(ids)[np.isin(labels, wanted)])


def blocked_mask(
    user_ids: Iterable[int | str],
    item_families: Iterable[str],
    blocked_customers: Iterable[int | str] | None,
    families: Collection[str] = CREDIT_FAMILIES,
) -> np.ndarray:
    """Boolean (n_users, n_items): True where the item's family is blocked for that customer."""
    users = np.atleast_1d(np.asarray(list(user_ids) if not isinstance(user_ids, np.ndarray) else user_ids))
    fams = np.asarray([str(f) for f in item_families])
    mask = np.zeros((len(users), len(fams)), dtype=bool)
    if blocked_customers is None:
        return mask
    blocked = np.asarray(
        list(blocked_customers) if not isinstance(blocked_customers, np.ndarray) else blocked_customers
    )
    if len(blocked) == 0:
        return mask
    users, blocked = id_array(users), id_array(blocked)
    if users.dtype.kind != blocked.dtype.kind:  # integer and text ids: compare as text
        users, blocked = users.astype(str), blocked.astype(str)
    rows = np.isin(users, blocked)
    cols = np.isin(fams, list(families))
    mask[np.ix_(rows, cols)] = True
    return mask
