"""Who may open which page and call which callback: one rule table, checked on the server for every request.

A page may declare ``allowed_roles=[...]`` in its ``dash.register_page`` call (Dash keeps extra keys in
``dash.page_registry``); otherwise :data:`PAGE_ROLES` decides by path. A page listed nowhere is admin-only, so a new
page is closed until someone opens it. ``admin`` may open everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ROLES: tuple[str, ...] = ("risk", "marketing", "admin")
EVERYONE = frozenset(ROLES)
ADMIN_ONLY = frozenset({"admin"})

#: page path -> roles that may open it (and call its callbacks)
PAGE_ROLES: dict[str, frozenset[str]] = {
    "/": EVERYONE,
    "/help": EVERYONE,
    "/404": EVERYONE,
    "/risk": EVERYONE,  # the aggregated portfolio: no applicant's score or SHAP
    "/risk/applicant": frozenset({"risk", "admin"}),
    "/segments": frozenset({"marketing", "admin"}),
    "/recommendations": frozenset({"marketing", "admin"}),
    "/admin": ADMIN_ONLY,
}

#: the Dash Pages router: its callback lays out the page named by this input
ROUTER_MODULE = "dash.dash"
ROUTER_PATH_INPUT = ("_pages_location", "pathname")


def normalise_path(path: str) -> str:
    """``/risk/applicant/`` -> ``/risk/applicant``; ``""`` -> ``/``."""
    path = "/" + str(path or "").strip().strip("/")
    return path


def page_roles(page: Mapping[str, Any]) -> frozenset[str]:
    """The roles that may open one ``dash.page_registry`` entry (``admin`` always may)."""
    declared = page.get("allowed_roles")
    roles = frozenset(declared) if declared else PAGE_ROLES.get(normalise_path(page.get("path", "")), ADMIN_ONLY)
    return roles | ADMIN_ONLY


def page_at(path: str, registry: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The registry entry whose path is ``path`` (after normalising), or None (Dash shows its 404 page then)."""
    wanted = normalise_path(path)
    for page in registry:
        if normalise_path(page.get("path", "")) == wanted:
            return page
    return None


def may_open(role: str | None, path: str, registry: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a user with ``role`` may open the page at ``path``; an unknown path is allowed (it shows the 404 page)."""
    if role not in ROLES:
        return False
    page = page_at(path, registry)
    return page is None or role in page_roles(page)


def visible_pages(role: str | None, pages: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pages (already ordered for the navbar) that ``role`` may open."""
    return [p for p in pages if role in ROLES and role in page_roles(p)]


def callback_module(callback_map: Mapping[str, Any], output: str) -> str | None:
    """The module that defined the callback Dash runs for ``output`` (its key in ``app.callback_map``), or None."""
    entry = callback_map.get(output)
    if entry is None:
        return None
    func = entry.get("callback")
    return getattr(func, "__module__", None) if func is not None else "clientside"


def _input_value(body: Mapping[str, Any], component: str, prop: str) -> Any:
    for item in body.get("inputs", []) or []:
        if isinstance(item, Mapping) and item.get("id") == component and item.get("property") == prop:
            return item.get("value")
    return None


def check_callback(role: str | None, body: Mapping[str, Any], callback_map: Mapping[str, Any],
                   registry: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why a callback POST (``/_dash-update-component`` body) is refused for ``role``, or None when it is allowed.

    The callback Dash would run is found from ``body["output"]`` exactly as Dash finds it; the page that owns it is
    the page module that defined it. The Dash Pages router is checked against the path it would lay out.
    """
    if role not in ROLES:
        return f"unknown role {role!r}"
    output = body.get("output")
    if not isinstance(output, str):
        return "the request names no callback output"
    module = callback_module(callback_map, output)
    if module is None:
        return f"no callback has the output {output[:120]!r}"
    if module == ROUTER_MODULE:
        path = _input_value(body, *ROUTER_PATH_INPUT)
        if path is not None and not may_open(role, str(path), registry.values()):
            return f"role {role!r} may not open {normalise_path(str(path))}"
        return None
    page = registry.get(module)
    if page is not None and role not in page_roles(page):
        return f"role {role!r} may not use the {page.get('path')} page"
    return None
