"""Facts the tools act on, read from the spec instead of written again in each of them.

- ``tiers()``: the rate-limit tiers (top-level ``x-rate-limit-tiers``), ``{"chat": Tier(10, 60.0)}``.
- ``error_types()``: status -> the error ``type``s the documented error responses pin
  (``const``, or ``enum`` with the table's own name first), 5XX expanded to 500..599. A status no
  documented response pins (413, 405, ...) is absent: it needs only the envelope.
- ``self_delete_message()``: the documented self-delete refusal (deleteAssistant's 400 example).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

from ragen_spec.document import SPEC_PATH, _load
from ragen_spec.operations import operations

__all__ = ["Tier", "error_types", "pinned_types", "self_delete_message", "tiers"]


class Tier(NamedTuple):
    limit: int  # requests per window and client
    window: float  # seconds


@functools.cache
def tiers(document: Path | None = None) -> dict[str, Tier]:
    """The spec's rate-limit tiers by name (``x-rate-limit-tier`` of each operation names one)."""
    declared = _load(document or SPEC_PATH).get("x-rate-limit-tiers", {})
    return {name: Tier(int(t["limit"]), float(t["window"])) for name, t in declared.items()}


def pinned_types(schema: dict[str, Any]) -> tuple[str, ...]:
    """The ``error.type`` values a response schema allows (``allOf`` branch with const/enum), or ()."""
    for branch in schema.get("allOf", [schema]):
        pinned = branch.get("properties", {}).get("error", {}).get("properties", {}).get("type", {})
        if "const" in pinned:
            return (pinned["const"],)
        if "enum" in pinned:
            return tuple(pinned["enum"])
    return ()


def _statuses(key: str) -> range:
    """The statuses a ``responses`` key documents: ``"404"`` one, ``"5XX"`` a hundred."""
    if key.endswith("XX"):
        first = int(key[0]) * 100
        return range(first, first + 100)
    return range(int(key), int(key) + 1)


@functools.cache
def error_types(document: Path | None = None) -> dict[int, tuple[str, ...]]:
    """Status -> the error types the documented responses allow, the table's own name first.

    A range key (``5XX``) gives every status in it unless an exact key documents that status.
    Two operations pinning different types for one key is a contradiction in the spec.
    """
    by_key: dict[str, tuple[str, ...]] = {}
    for op in operations(document):
        for key in op.raw.get("responses", {}):
            if key == "default" or key[0] not in "45":
                continue
            schema = op.response_schema(key)
            types = pinned_types(schema) if schema else ()
            if types and by_key.setdefault(key, types) != types:
                raise ValueError(f"{op.name}: {key} pins {types}, another operation {by_key[key]}")
    ranges = sorted(by_key, key=lambda k: not k.endswith("XX"))  # ranges first: exact keys override
    table = {status: by_key[key] for key in ranges for status in _statuses(key)}
    return dict(sorted(table.items()))


@functools.cache
def self_delete_message() -> str:
    """The message of the documented refusal to delete the assistant the key is bound to (ASST-DEL-2)."""
    message: str = operations().by_id("deleteAssistant").example(400, "self_delete")["error"]["message"]
    return message
