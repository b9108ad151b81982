"""Every user's next-best items from models fitted on a whole interaction log, with the log's own ids."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys.base import Recommender
from recsys.interactions import InteractionMatrix, pad_id


def recommend_all(frame: pd.DataFrame, models: Mapping[str, Recommender], *, n: int = 10) -> pd.DataFrame:
    """Fit each model on all of ``frame`` and list every user's top ``n`` items they do not hold.

    Parameters
    ----------
    frame : DataFrame
        Standard long format (``user_id``, ``item_id``, ``weight``), integer or text ids.
    models : mapping of name -> Recommender
        Unfitted models (they are fitted here).
    n : int
        List length; a user holding nearly everything gets a shorter list.

    Returns
    -------
    DataFrame
        ``model``, ``user_id``, ``rank`` (from 1), ``item_id``, ``score``; ids as in ``frame``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    matrix = InteractionMatrix.from_frame(frame)
    parts = []
    for name, model in models.items():
        items, scores = model.fit(matrix).recommend(matrix.user_ids, n)
        keep = (items != pad_id(items)).ravel()
        parts.append(
            pd.DataFrame(
                {
                    "model": name,
                    "user_id": np.repeat(matrix.user_ids, n)[keep],
                    "rank": np.tile(np.arange(1, n + 1), len(matrix.user_ids))[keep],
                    "item_id": items.ravel()[keep],
                    "score": scores.ravel()[keep].astype(np.float64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
