"""One block of rows for a dash-ag-grid infinite row model: the grid's ``getRowsRequest`` checked, the rows fetched
from a service, the ``getRowsResponse`` shaped. Every server-paged grid answers through :func:`rows_block`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dashapp.services import validation

#: ``fetch(start_row, end_row, sort_model, filter_model) -> (rows, row_count)``; the service checks the models
RowFetcher = Callable[[int, int, list, dict], tuple[list[dict], int]]

#: what a grid shows when there is nothing to page (no model yet, or the database did not answer)
EMPTY_BLOCK: dict[str, Any] = {"rowData": [], "rowCount": 0}


def rows_block(request: Any, fetch: RowFetcher) -> dict[str, Any]:
    """The grid's answer to ``request`` (a hostile body: a record with ``startRow`` and ``endRow``).

    Raises
    ------
    InputError
        The request is not a rows request (the service refuses bad sorts, filters and ranges the same way).
    """
    request = validation.record(request, "rows request", ["startRow", "endRow"])
    rows, count = fetch(
        request["startRow"],
        request["endRow"],
        request.get("sortModel") or [],
        request.get("filterModel") or {},
    )
    return {"rowData": rows, "rowCount": count}
