"""Services: what callbacks call. Each area's module loads its data and artifacts lazily, once per worker.

Convention: a service module caches with ``functools.cache`` (never a mutable module global) and returns plain data
(DataFrames, dataclasses, dicts). ``clear_caches()`` empties every such cache, e.g. after tests change the database.
"""

from __future__ import annotations

import sys


def clear_caches() -> int:
    """Clear the ``functools.cache`` of every function in every loaded ``dashapp.services`` module.

    Returns
    -------
    int
        How many caches were cleared.
    """
    cleared = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == __name__ or name.startswith(__name__ + ".")):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name:
                value.cache_clear()
                cleared += 1
    from dashapp.pagecache import clear_pages  # the pages built from what these caches held

    return cleared + clear_pages()
