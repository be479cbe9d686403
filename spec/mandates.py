"""Which invalid requests a requirement demands be rejected, as the spec's annotations declare it.

A request schema node (or a query parameter) may carry:

- ``x-invalid-rejected-by: <id>`` — a value breaking *this node's own* constraints must be rejected
  under requirement ``<id>`` (problems deeper down are the deeper nodes' business);
- ``x-required-rejected-by: <id>`` — on an object: a missing required property must be rejected;
- ``x-reject-statuses: [...]`` — the statuses that count as that rejection (default 400 and 413);
- ``x-rejected-keywords: [...]`` — only these JSON Schema keywords of the node are mandated (the
  others, such as an OpenAI length limit, are the server's choice);
- ``x-may-accept: {type: <json type>, requirement: <id>}`` — a value of that JSON type is invalid
  under the schema, but accepting it is conformant (a MAY point).

A response schema node may carry ``x-requirement: <id>``: the rule a problem of that field breaks
(otherwise the rule of the whole object).

An invalid request no annotation names (unknown fields, edge values the documents never discuss)
may be accepted or rejected: the gate reports the server's choice instead of failing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError
from ragen_spec.schemas import resolve

__all__ = ["DEFAULT_STATUSES", "Mandate", "body_mandate", "owning_requirement", "parameter_mandate"]

DEFAULT_STATUSES = frozenset({400, 413})
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


@dataclass(frozen=True)
class Mandate:
    """``requirement`` demands the rejection of this problem with one of ``statuses``."""

    requirement: str
    statuses: frozenset[int] = DEFAULT_STATUSES


def _json_type(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _JSON_TYPES[type(value)]
    if isinstance(value, int | float):
        return "number"
    return _JSON_TYPES.get(type(value), "object")


def _statuses(node: dict[str, Any]) -> frozenset[int]:
    return frozenset(node.get("x-reject-statuses", DEFAULT_STATUSES))


def _branches(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [resolve(b) for b in node.get("oneOf", node.get("anyOf", []))]
    return found or [node]


def _step(node: dict[str, Any], part: str | int) -> dict[str, Any] | None:
    """The schema node of ``part`` (a property name or an array index) below ``node``."""
    for branch in _branches(node):
        if isinstance(part, int) and isinstance(branch.get("items"), dict):
            return resolve(branch["items"])
        if isinstance(part, str) and part in branch.get("properties", {}):
            return resolve(branch["properties"][part])
    return None


def _node_at(root: dict[str, Any], path: list[str | int]) -> dict[str, Any] | None:
    node: dict[str, Any] | None = resolve(root)
    for part in path:
        if node is None:
            return None
        node = _step(node, part)
    return node


def _innermost(error: ValidationError) -> ValidationError:
    """For a oneOf/anyOf failure, the problem inside the branch the value's type matches (so a
    wrongly typed field *inside* an object is not mistaken for the object having the wrong type)."""
    while error.context:
        inner = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        if not inner:
            return error
        error = max(inner, key=lambda e: len(e.absolute_path))
    return error


def body_mandate(root: dict[str, Any] | None, error: ValidationError) -> Mandate | None:
    """The requirement demanding that a request body with ``error`` be rejected (None: nobody)."""
    if root is None or error.validator == "additionalProperties":
        return None
    error = _innermost(error)
    path = list(error.absolute_path)
    node = _node_at(root, path)
    if node is None:
        return None
    may = node.get("x-may-accept")
    if isinstance(may, dict) and may.get("type") == _json_type(error.instance):
        return None
    keywords = node.get("x-rejected-keywords")
    if keywords is not None and error.validator not in keywords:
        return None  # a constraint of this node that no document states (e.g. OpenAI's maxLength)
    key = "x-required-rejected-by" if error.validator == "required" else "x-invalid-rejected-by"
    if key == "x-required-rejected-by" and key not in node:
        key = "x-invalid-rejected-by" if path else key
    requirement = node.get(key)
    return Mandate(requirement, _statuses(node)) if requirement else None


def may_accept(root: dict[str, Any] | None, error: ValidationError) -> str | None:
    """The MAY requirement under which accepting this invalid value is conformant, if any."""
    if root is None:
        return None
    error = _innermost(error)
    node = _node_at(root, list(error.absolute_path))
    may = (node or {}).get("x-may-accept")
    if isinstance(may, dict) and may.get("type") == _json_type(error.instance):
        return str(may["requirement"])
    return None


def parameter_mandate(parameter: dict[str, Any]) -> Mandate | None:
    """The requirement demanding the rejection of an invalid value of a query parameter."""
    requirement = parameter.get("x-invalid-rejected-by")
    return Mandate(requirement, _statuses(parameter)) if requirement else None


def owning_requirement(root: dict[str, Any], error: ValidationError, default: str) -> str:
    """The requirement a response-body problem breaks: the deepest ``x-requirement`` on the path to
    the offending field (a missing required field included), else ``default``."""
    error = _innermost(error)
    path: list[str | int] = list(error.absolute_path)
    if error.validator == "required":
        missing = re.match(r"^'(.+)' is a required property$", error.message)
        if missing:
            path.append(missing.group(1))
    owner, node = default, resolve(root)
    for part in path:
        step = _step(node, part)
        if step is None:
            break
        node = step
        owner = node.get("x-requirement", owner)
    return str(owner)


def annotated(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (annotation, requirement id) the document declares (for consistency tests)."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in ("x-invalid-rejected-by", "x-required-rejected-by"):
                if isinstance(node.get(key), str):
                    yield key, node[key]
            if isinstance(node.get("x-may-accept"), dict):
                yield "x-may-accept", node["x-may-accept"]["requirement"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
