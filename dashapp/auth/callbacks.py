"""Every callback request checked against the callback the server registered, before any page code runs.

Dash finds the function to run from the request's ``output`` and then reads its arguments from ``inputs`` and
``state`` *by position*. A request whose ids, properties, order or count differ from the registered callback could
make the function run with values the page never sent (a renamed router input once opened any page), so
:func:`match_request` accepts only a request shaped exactly like the registered one: plain ids equal, pattern ids
matching their pattern (wildcards filled with plain values, one list per pattern, the same components everywhere),
properties equal, nothing missing and nothing extra. :func:`strict_loads` refuses what JSON should not carry
(NaN, Infinity, numbers too large for a float, nesting deeper than :data:`MAX_DEPTH`, strings longer than
:data:`MAX_STRING`).
"""

from __future__ import annotations

import builtins
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dash._utils import stringify_id

MAX_DEPTH = 40
MAX_STRING = 10_000
MAX_PATTERN_ITEMS = 2_000
MAX_BODY_BYTES = 2 << 20
WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")
REQUEST_KEYS = frozenset({"output", "outputs", "inputs", "state", "changedPropIds", "parsedChangedPropsIds"})
ITEM_KEYS = frozenset({"id", "property", "value"})


class RequestRefused(Exception):
    """A request the server will not run: ``status`` (400, 413, 415...) and a one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


# --- JSON ------------------------------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:30]} is not a finite number")
    return value


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` without NaN, Infinity or overflowing numbers; ``ValueError`` with the reason otherwise."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"the JSON is nested too deeply (more than {MAX_DEPTH} levels)") from None
    check_shape_limits(value)
    return value


def check_shape_limits(value: Any) -> None:
    """``ValueError`` when ``value`` nests deeper than :data:`MAX_DEPTH` or holds a string over :data:`MAX_STRING`."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"the JSON is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, str):
            if len(node) > MAX_STRING:
                raise ValueError(f"a text value has {len(node):,} characters (at most {MAX_STRING:,})")
        elif isinstance(node, dict):
            stack.extend((k, depth + 1) for k in node)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


# --- the registered callback -----------------------------------------------------------------------------------------


def clean_property(prop: str) -> str:
    """A property without Dash's ``@hash`` suffix of ``allow_duplicate`` outputs."""
    return prop.split("@", 1)[0]


@dataclass(frozen=True)
class Dependency:
    """One registered output, input or state: its id (a string, or a pattern dict) and its property."""

    id: str | dict[str, Any]
    property: str

    @classmethod
    def parse(cls, id_text: str, prop: str) -> Dependency:
        """From the id as Dash writes it (a pattern id is its JSON) and the property."""
        return cls(json.loads(id_text) if id_text.startswith("{") else id_text, clean_property(prop))

    @builtins.property  # to a type checker the field `property` above shadows the builtin
    def is_pattern(self) -> bool:
        """Whether the id is a pattern-matching dict."""
        return isinstance(self.id, dict)

    @builtins.property
    def is_multi(self) -> bool:
        """Whether the request carries a list of components for it (an ALL or ALLSMALLER wildcard)."""
        return isinstance(self.id, dict) and any(
            _wildcard(v) in ("ALL", "ALLSMALLER") for v in self.id.values()
        )

    @builtins.property
    def key(self) -> str:
        """The id as Dash stringifies it (pattern ids as sorted JSON)."""
        return stringify_id(self.id)


def _wildcard(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 1 and value[0] in WILDCARDS:
        return value[0]
    return None


@dataclass(frozen=True)
class RegisteredCallback:
    """A server-side callback as the server registered it."""

    key: str
    entry: Mapping[str, Any]
    outputs: tuple[Dependency, ...]
    inputs: tuple[Dependency, ...]
    state: tuple[Dependency, ...]

    @property
    def multi_output(self) -> bool:
        """Whether the request's ``outputs`` is a list with one entry per output."""
        return self.key.startswith("..")

    @property
    def function(self) -> Any:
        """The Python function Dash runs."""
        return self.entry["callback"]

    def input_position(self, component: str, prop: str) -> int | None:
        """Where the input ``component.prop`` sits in the request's ``inputs`` (Dash reads them by position)."""
        for i, dep in enumerate(self.inputs):
            if dep.id == component and dep.property == prop:
                return i
        return None


def _split_output(key: str) -> list[tuple[str, str]]:
    parts = key[2:-2].split("...") if key.startswith("..") and key.endswith("..") else [key]
    return [tuple(p.rsplit(".", 1)) for p in parts]  # type: ignore[misc]


def registered_callback(body: Mapping[str, Any], callback_map: Mapping[str, Any]) -> RegisteredCallback:
    """The server-side callback that the request's ``output`` names; :class:`RequestRefused` (400) otherwise."""
    output = body.get("output")
    if not isinstance(output, str):
        raise RequestRefused(400, "the request names no callback output")
    entry = callback_map.get(output)
    if entry is None:
        raise RequestRefused(400, f"no callback has the output {output[:120]!r}")
    if entry.get("callback") is None:
        raise RequestRefused(400, f"{output[:120]!r} runs in the browser, not on the server")
    deps = [Dependency.parse(i, p) for i, p in _split_output(output)]
    inputs = tuple(Dependency.parse(d["id"], d["property"]) for d in entry.get("inputs", []))
    state = tuple(Dependency.parse(d["id"], d["property"]) for d in entry.get("state", []))
    return RegisteredCallback(output, entry, tuple(deps), inputs, state)


# --- matching a request ----------------------------------------------------------------------------------------------


def _concrete_id_matches(pattern: dict[str, Any], concrete: Any) -> bool:
    if not isinstance(concrete, dict) or set(concrete) != set(pattern):
        return False
    for key, want in pattern.items():
        got = concrete[key]
        if _wildcard(want) is not None:
            if (
                isinstance(got, bool)
                or not isinstance(got, str | int | float)
                or (isinstance(got, str) and len(got) > 200)
            ):
                return False
        elif type(got) is not type(want) or got != want:
            return False
    return True


def _item(item: Any, dep: Dependency, where: str, *, with_value: bool) -> dict[str, Any]:
    allowed = ITEM_KEYS if with_value else ITEM_KEYS - {"value"}
    if not isinstance(item, dict) or not set(item) <= allowed or "id" not in item or "property" not in item:
        raise RequestRefused(
            400, f"{where} is not an {{id, property{', value' if with_value else ''}}} object"
        )
    prop = item["property"]
    if not isinstance(prop, str) or clean_property(prop) != dep.property:
        raise RequestRefused(400, f"{where} does not match the registered callback (property)")
    if dep.is_pattern:
        if not _concrete_id_matches(dep.id, item["id"]):  # type: ignore[arg-type]
            raise RequestRefused(400, f"{where} does not match the registered callback (id pattern)")
    elif type(item["id"]) is not str or item["id"] != dep.id:
        raise RequestRefused(400, f"{where} does not match the registered callback (id)")
    if dep.property == "id" and with_value and item.get("value") != item["id"]:
        raise RequestRefused(400, f"{where}: the value of an id property must be the id itself")
    return item


def _entry(value: Any, dep: Dependency, where: str, *, with_value: bool) -> list[dict[str, Any]]:
    """The component items that one registered dependency receives (a list for ALL patterns)."""
    if dep.is_multi:
        if not isinstance(value, list) or len(value) > MAX_PATTERN_ITEMS:
            raise RequestRefused(400, f"{where} must be a list of at most {MAX_PATTERN_ITEMS} components")
        items = [_item(v, dep, f"{where}[{i}]", with_value=with_value) for i, v in enumerate(value)]
        keys = [stringify_id(i["id"]) for i in items]
        if len(set(keys)) != len(keys):
            raise RequestRefused(400, f"{where} names a component twice")
        return items
    return [_item(value, dep, where, with_value=with_value)]


def _section(
    body: Mapping[str, Any], name: str, deps: tuple[Dependency, ...], *, with_value: bool
) -> Iterator[tuple[Dependency, list[dict[str, Any]]]]:
    value = body.get(name)
    if value is None and not deps and name == "state":
        return
    if not isinstance(value, list) or len(value) != len(deps):
        raise RequestRefused(
            400, f"{name} does not match the registered callback (expected {len(deps)} entries)"
        )
    for i, (v, dep) in enumerate(zip(value, deps, strict=True)):
        yield dep, _entry(v, dep, f"{name}[{i}]", with_value=with_value)


def _outputs(
    body: Mapping[str, Any], callback: RegisteredCallback
) -> Iterator[tuple[Dependency, list[dict[str, Any]]]]:
    value = body.get("outputs")
    if callback.multi_output:
        if not isinstance(value, list) or len(value) != len(callback.outputs):
            raise RequestRefused(
                400,
                f"outputs does not match the registered callback (expected {len(callback.outputs)} entries)",
            )
        for i, (v, dep) in enumerate(zip(value, callback.outputs, strict=True)):
            yield dep, _entry(v, dep, f"outputs[{i}]", with_value=False)
    else:
        yield callback.outputs[0], _entry(value, callback.outputs[0], "outputs", with_value=False)


def _check_patterns_agree(resolved: list[tuple[Dependency, list[dict[str, Any]]]]) -> None:
    """Every list of one pattern names the same components, and MATCH wildcards take one value."""
    lists: dict[str, list[str]] = {}
    matched: dict[str, Any] = {}
    for dep, items in resolved:
        if not dep.is_pattern:
            continue
        keys = [stringify_id(i["id"]) for i in items]
        if dep.is_multi and lists.setdefault(dep.key, keys) != keys:
            raise RequestRefused(
                400, "the components of one id pattern differ between outputs, inputs and state"
            )
        for key, want in dep.id.items():  # type: ignore[union-attr]
            if _wildcard(want) == "MATCH":
                for item in items:
                    if matched.setdefault(key, item["id"][key]) != item["id"][key]:
                        raise RequestRefused(400, f"the MATCH wildcard {key!r} takes different values")


def match_request(body: Any, callback_map: Mapping[str, Any]) -> RegisteredCallback:
    """The registered callback this request is, when it is shaped exactly like it; :class:`RequestRefused` (400)
    naming the first difference otherwise.
    """
    if not isinstance(body, dict):
        raise RequestRefused(400, "the callback request is not a JSON object")
    extra = set(body) - REQUEST_KEYS
    if extra:
        raise RequestRefused(
            400, f"unexpected field(s) in the request: {', '.join(sorted(map(str, extra)))[:120]}"
        )
    callback = registered_callback(body, callback_map)
    inputs = list(_section(body, "inputs", callback.inputs, with_value=True))
    _check_patterns_agree(
        [*_outputs(body, callback), *inputs, *_section(body, "state", callback.state, with_value=True)]
    )
    input_props = {f"{stringify_id(i['id'])}.{i['property']}" for _dep, items in inputs for i in items}
    changed = body.get("changedPropIds")
    if not isinstance(changed, list) or not all(isinstance(c, str) and c in input_props for c in changed):
        raise RequestRefused(400, "changedPropIds must list inputs of the registered callback")
    parsed = body.get(
        "parsedChangedPropsIds"
    )  # the renderer's parsed copy (pattern ids as objects); Dash ignores it
    if parsed is not None and (
        not isinstance(parsed, list)
        or len(parsed) != len(changed)
        or not all(isinstance(p, str | dict) for p in parsed)
    ):
        raise RequestRefused(400, "parsedChangedPropsIds must match changedPropIds")
    return callback


def input_value(body: Mapping[str, Any], position: int) -> Any:
    """The value of the plain input at ``position`` of a request :func:`match_request` accepted."""
    return body["inputs"][position].get("value")
