"""Events from the bank's other systems (the JSON API), stored as ``ledgerlight load`` would store them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from bankdata import EventsStored, append_events, get_settings

COLUMNS = ("event_id", "customer_id", "product_id", "ts", "event")


def store_interactions(events: Sequence[Mapping[str, Any]], source: str) -> EventsStored:
    """Validate a batch of interaction events and store the new ones, all or none (``bankdata.append_events``).

    Raises
    ------
    DataValidationError
        Every problem by column and row (numbered from 1 in the batch); nothing is stored.
    """
    frame = pd.DataFrame({c: pd.Series([e[c] for e in events], dtype=object) for c in COLUMNS})
    return append_events(frame, source, get_settings().database_url, file="events")
