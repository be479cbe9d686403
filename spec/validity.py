"""A quick yes/no before the precise reading: is an instance valid under a schema of the spec?

The rules (``ragen_spec.judge``, ``ragen_spec.request_rules``) need readable messages only for
what is invalid, which is rare; ``jsonschema_rs`` (compiled) answers the common "valid" in
microseconds, where ``jsonschema`` takes a fraction of a millisecond per chunk of a stream. A
"no" (or no ``jsonschema_rs``) falls through to ``jsonschema`` for the errors, so both always agree
on what is reported: the fast path can only skip work, never add a finding.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from ragen_spec.document import load_spec
from ragen_spec.schemas import DOCUMENT_URI

__all__ = ["quick_check"]


@functools.cache
def _registry() -> Any:
    import jsonschema_rs

    return jsonschema_rs.Registry([(DOCUMENT_URI, load_spec())])


def _absolute(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: DOCUMENT_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _absolute(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute(v) for v in node]
    return node


@functools.cache
def _compiled(key: str) -> Callable[[Any], bool] | None:
    """``key``: a ref such as ``#/components/schemas/Error``, or a schema fragment as JSON."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    schema = {"$ref": key} if key.startswith("#") else json.loads(key)
    validator = jsonschema_rs.Draft202012Validator(_absolute(schema), registry=_registry())

    def is_valid(instance: Any) -> bool:
        try:
            return bool(validator.is_valid(instance))
        except (UnicodeEncodeError, ValueError, OverflowError):
            return False  # what the Rust side cannot take (a lone surrogate, a huge int): ask jsonschema

    return is_valid


def quick_check(schema: str | dict[str, Any], instance: Any) -> bool:
    """True when ``instance`` is surely valid under ``schema`` (a ref, or a fragment of the spec);
    False means "ask jsonschema" (invalid, or not known quickly)."""
    key = schema if isinstance(schema, str) else json.dumps(schema, sort_keys=True)
    check = _compiled(key)
    return check is not None and check(instance)
