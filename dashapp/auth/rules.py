"""Who may open which page and run which callback, decided on the server from what the server registered.

A page's roles come from :data:`dashapp.policy.PAGE_ROLES` by its registered path. A callback belongs to the page
whose module defined it, or to the page named by :func:`owned_by` (for callbacks that a shared component registers
on a page's behalf); a callback that belongs to no page is refused. The Dash Pages router belongs to the page it
would lay out, found with Dash's own path resolution from the path at the position Dash reads. Query parameters a
page declares (``query_params={"name": parser}`` in ``dash.register_page``) are parsed before the page is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs

import dash
from dash import _pages
from dash.exceptions import UnsupportedRelativePath

from dashapp.auth.callbacks import RegisteredCallback, RequestRefused, input_value
from dashapp.policy import ROLES, may_open_page
from dashapp.services.validation import InputError

#: the Dash Pages router: module of its function, and the input holding the requested path and query
ROUTER_MODULE = "dash.dash"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
ROUTER_PATH_INPUT = ("_pages_location", "pathname")
ROUTER_SEARCH_INPUT = ("_pages_location", "search")
OWNER_ATTRIBUTE = "__ledgerlight_page__"
MAX_PATH = 2_000
MAX_QUERY = 8_000

F = TypeVar("F", bound=Callable[..., Any])


def owned_by(page_module: str) -> Callable[[F], F]:
    """Mark a callback function as belonging to the page module ``page_module`` (its ``__name__``)."""

    def mark(func: F) -> F:
        setattr(func, OWNER_ATTRIBUTE, page_module)
        return func

    return mark


def page_for_path(app: dash.Dash, pathname: Any) -> Mapping[str, Any] | None:
    """The registered page Dash lays out for ``pathname`` (None: Dash shows the not-found page).

    Raises
    ------
    RequestRefused
        The path is not text, too long, or not under the app's prefix.
    """
    if pathname is None:
        return None
    if not isinstance(pathname, str) or len(pathname) > MAX_PATH:
        raise RequestRefused(400, "the requested path must be text of at most 2,000 characters")
    try:
        stripped = app.strip_relative_path(pathname)
    except UnsupportedRelativePath:
        raise RequestRefused(400, "the requested path is not an address of this app") from None
    page, _ = _pages._path_to_page(stripped)
    return page or None


def may_open(role: str | None, page: Mapping[str, Any] | None) -> bool:
    """Whether ``role`` may open ``page`` (a registry entry; None, the not-found page, is open to every role)."""
    if role not in ROLES:
        return False
    return page is None or may_open_page(role, str(page.get("path", "")))


def visible_pages(role: str | None, pages: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pages (already ordered for the navbar) that ``role`` may open."""
    return [p for p in pages if may_open(role, p)]


def check_query(page: Mapping[str, Any] | None, params: Mapping[str, list[str]]) -> dict[str, Any]:
    """The page's declared query parameters parsed; :class:`RequestRefused` (400) naming a bad or repeated one."""
    declared: Mapping[str, Callable[[str], Any]] = (page or {}).get("query_params") or {}
    parsed: dict[str, Any] = {}
    for name, parse in declared.items():
        values = params.get(name, [])
        if len(values) > 1:
            raise RequestRefused(400, f"{name}: given {len(values)} times; give it once")
        if values:
            try:
                parsed[name] = parse(values[0])
            except InputError as exc:
                raise RequestRefused(400, f"{name}: {exc.reason}") from None
    return parsed


def parse_search(search: Any) -> dict[str, list[str]]:
    """A query string (``?a=1&b=2``, as the router receives it) as Dash parses it, every value kept."""
    if search is None or search == "":
        return {}
    if not isinstance(search, str) or len(search) > MAX_QUERY:
        raise RequestRefused(400, f"the query string must be text of at most {MAX_QUERY:,} characters")
    return parse_qs(search[1:], keep_blank_values=True) if search.startswith("?") else {}


def callback_page(
    callback: RegisteredCallback, registry: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The page a (non-router) callback belongs to, or None when it belongs to none."""
    func = callback.function
    module = getattr(func, OWNER_ATTRIBUTE, None) or getattr(func, "__module__", None)
    return registry.get(module) if module else None


def is_router(callback: RegisteredCallback) -> bool:
    """Whether this is the Dash Pages router callback."""
    return callback.key == ROUTER_OUTPUT and getattr(callback.function, "__module__", None) == ROUTER_MODULE


def router_page(
    app: dash.Dash, callback: RegisteredCallback, body: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The page the router request would lay out, read from the input position Dash reads, its query checked."""
    path_at = callback.input_position(*ROUTER_PATH_INPUT)
    search_at = callback.input_position(*ROUTER_SEARCH_INPUT)
    if path_at is None or search_at is None:
        raise RequestRefused(400, "the page router is not registered as expected")
    page = page_for_path(app, input_value(body, path_at))
    check_query(page, parse_search(input_value(body, search_at)))
    return page


def refusal_for_callback(
    role: str | None, app: dash.Dash, callback: RegisteredCallback, body: Mapping[str, Any]
) -> str | None:
    """Why ``role`` may not run this (already matched) callback request, or None when it may."""
    if role not in ROLES:
        return f"unknown role {role!r}"
    if is_router(callback):
        page = router_page(app, callback, body)
        if not may_open(role, page):
            return f"role {role!r} may not open {page.get('path') if page else 'this page'}"
        return None
    page = callback_page(callback, dash.page_registry)
    if page is None:
        return f"the callback {callback.key[:80]!r} belongs to no page"
    if not may_open(role, page):
        return f"role {role!r} may not use the {page.get('path')} page"
    return None
