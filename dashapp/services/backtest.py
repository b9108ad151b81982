"""Monitoring page data: the back-test of the served risk version on real outcomes (loans issued after its
training data), as ``ledgerlight risk backtest`` stored it in the version's evidence. Nothing is scored on a
request.

The document is read fresh (one primary-key look-up): ``demo extend``, ``load loans`` and ``risk backtest``
rewrite it for the same version, so it is never cached by version; the page cache keys on :func:`stamp`
instead.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import risk
from bankdata import DatabaseError, evidence_written_at, get_settings, read_evidence
from dashapp.services.bank import DataUnavailable, check_database
from dashapp.services.served import NotTrained, served_version

#: what to run when no back-test is stored (the page's empty state names both steps)
HOW_TO = (
    "No back-test is stored for the served risk model yet. It needs loans issued after the model's training "
    "data, with their outcomes: on the demo bank run `ledgerlight demo extend --months 12` (it refreshes the "
    "back-test); with your own data load them with `ledgerlight load loans FILE`, or run "
    "`ledgerlight risk backtest`."
)


def backtest() -> dict[str, Any] | None:
    """The stored back-test of the served risk version (``risk.backtest_version``'s report), None when none
    is.

    Raises ``NotTrained`` (no served risk model) or ``DataUnavailable`` (no database).
    """
    version = served_version(risk.MODEL_NAME)
    url = check_database(get_settings().database_url)
    try:
        return read_evidence(risk.MODEL_NAME, version, risk.BACKTEST_KIND, url)
    except DatabaseError as exc:
        raise DataUnavailable(str(exc)) from exc


def stamp() -> Hashable:
    """When the served version's back-test was last written (None: never, or nothing to read): the page cache
    key."""
    try:
        version = served_version(risk.MODEL_NAME)
        url = check_database(get_settings().database_url)
        return evidence_written_at(risk.MODEL_NAME, version, risk.BACKTEST_KIND, url)
    except (NotTrained, DataUnavailable, DatabaseError):
        return None


__all__ = ["HOW_TO", "backtest", "stamp"]
