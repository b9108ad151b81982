"""Per-worker cache of page layouts that change only when the data or a served model does.

A page such as the Overview or Risk draws the same figures for every visitor until the bank is reloaded or a model
version is promoted, and building Plotly figures is most of its cost (100-170 ms a view). :func:`cached_page`
keeps the built layout, its figures already turned into plain JSON-ready dicts, under a key of the page, the
signed-in role and :func:`served_stamp` (the bank summary's refresh time and every model's served version), so
a reload or a promotion is picked up by the next request without a restart.

Only the bare page is cached (a request with query arguments is built afresh), the cache is small and bounded, and
a "not ready", "no data" or error card is never cached: the card functions call :func:`not_cacheable`, since the
fix (training, publishing, loading) may not change the stamp.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import plotly.graph_objects as go
from dash.development.base_component import Component

#: every model whose served version a cached page may show
STAMPED_MODELS = ("risk", "segments", "recsys")
#: most layouts one page keeps (one per role and stamp; older stamps fall out)
PAGE_ENTRIES = 8

_CACHES: list[OrderedDict] = []  # every cached page's entries, for :func:`clear_pages`
_UNCACHEABLE: contextvars.ContextVar[bool] = contextvars.ContextVar("ledgerlight_uncacheable", default=False)


def not_cacheable() -> None:
    """Mark the layout being built as one that must not be cached (a state card: its fix may keep the stamp)."""
    _UNCACHEABLE.set(True)


def clear_pages() -> int:
    """Empty every page cache; how many there are."""
    for entries in _CACHES:
        entries.clear()
    return len(_CACHES)


def served_stamp() -> Hashable:
    """What a cached page depends on: the bank summary's refresh time and each model's served version."""
    from dashapp.services.overview import summary_stamp
    from dashapp.services.served import NotTrained, served_version

    versions: list[str | None] = []
    for model in STAMPED_MODELS:
        try:
            versions.append(served_version(model))
        except NotTrained:
            versions.append(None)
    return summary_stamp(), tuple(versions)


def freeze(component: Any) -> Any:
    """``component`` with every Plotly figure in its tree replaced by the figure's JSON-ready dict (done once, so
    serving the cached layout does not convert the figures again). Mutates and returns the tree."""
    if isinstance(component, list | tuple):
        for item in component:
            freeze(item)
    elif isinstance(component, Component):
        for name in component._prop_names:  # noqa: SLF001 - Dash's own list of a component's properties
            value = getattr(component, name, None)
            if isinstance(value, go.Figure):
                setattr(component, name, value.to_plotly_json())
            elif isinstance(value, Component | list | tuple):
                freeze(value)
    return component


def cached_page(
    build: Callable[..., Any] | None = None, *, stamp: Callable[[], Hashable] | None = None
) -> Any:
    """Decorate a page's ``layout(**query)``: the bare page is built once per role and :func:`served_stamp`
    (and the page's own ``stamp``, e.g. the segment names users gave, which no served version reflects).

    Use as ``@cached_page`` or ``@cached_page(stamp=...)``.
    """
    if build is None:
        return functools.partial(cached_page, stamp=stamp)
    entries: OrderedDict[Hashable, Any] = OrderedDict()
    _CACHES.append(entries)
    lock = threading.Lock()

    @functools.wraps(build)
    def layout(**query: Any) -> Any:
        if query:
            return build(**query)
        from dashapp.auth import signed_in_role

        key = (signed_in_role(), served_stamp(), stamp() if stamp is not None else None)
        with lock:
            if key in entries:
                entries.move_to_end(key)
                return entries[key]
        token = _UNCACHEABLE.set(False)
        try:
            built = build()
            cacheable = not _UNCACHEABLE.get()
        finally:
            _UNCACHEABLE.reset(token)
        if not cacheable:
            return built
        frozen = freeze(built)
        with lock:
            entries[key] = frozen
            while len(entries) > PAGE_ENTRIES:
                entries.popitem(last=False)
        return frozen

    return layout
