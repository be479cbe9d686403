"""JSON Schema validation against the spec's components (JSON Schema 2020-12, as OpenAPI 3.1+ uses).

One place that resolves ``#/components/...`` references, so the mock, the conformance suite and
the tests validate with exactly the schemas in spec/openapi.yaml. ``document=`` selects another
document shipped beside it (the ``openai-proxy`` profile), whose relative external refs such as
``openapi.yaml#/components/schemas/ErrorResponse`` resolve to the file next to it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ragen_spec.document import SPEC_PATH, load_spec
from ragen_spec.operations import operations as _operations
from ragen_spec.refs import (
    DOCUMENT_URI,
    _absolute_refs,
    _base,
    document_at,
    media_schema,
    resolve,
    resolve_in,
)
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "DOCUMENT_URI",
    "ValidationError",
    "media_schema",
    "operations",
    "resolve",
    "sse_event_errors",
    "validator_for",
]


def _retrieve(uri: str) -> Resource:
    """Load a sibling document (``file:`` URI) the first time a ref points into it."""
    if not uri.startswith("file:"):
        raise NoSuchResource(uri)
    return Resource.from_contents(load_spec(document_at(uri, None)), DRAFT202012)


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    registry: Registry = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    return registry.with_resources([(DOCUMENT_URI, resource), (SPEC_PATH.resolve().as_uri(), resource)])


def validator_for(
    schema_or_ref: dict[str, Any] | str, *, document: Path | None = None
) -> Draft202012Validator:
    """A validator for a schema fragment of the spec, or a ref such as ``#/components/schemas/Error``."""
    schema = {"$ref": schema_or_ref} if isinstance(schema_or_ref, str) else schema_or_ref
    return Draft202012Validator(_absolute_refs(schema, _base(document)), registry=_registry())


def operations(*, document: Path | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, METHOD, operation object) of the spec (or of ``document``), each a fresh copy.

    The tuple form of ``ragen_spec.operations.operations()``, which new code should use.
    """
    for op in _operations(document):
        yield op.path, op.method, copy.deepcopy(dict(op.raw))


_resolve = resolve  # the name older callers import


def sse_event_errors(
    event: dict[str, Any], item_schema: dict[str, Any], *, document: Path | None = None
) -> list[str]:
    """Validate one parsed SSE event, including its JSON ``data`` against ``contentSchema``.

    jsonschema treats ``contentSchema`` as an annotation only; streams need it enforced.
    """
    errors = [e.message for e in validator_for(item_schema, document=document).iter_errors(event)]
    if errors:
        return errors
    resolved, found_in = resolve_in(item_schema, document)
    data_schema = resolved.get("properties", {}).get("data", {})
    branches = data_schema.get("anyOf", [data_schema])
    if any(b.get("const") == event.get("data") for b in branches if "const" in b):
        return []
    content = next((b["contentSchema"] for b in branches if "contentSchema" in b), None)
    if content is None:
        return []
    try:
        payload = json.loads(event["data"])
    except (TypeError, ValueError) as exc:
        return [f"data is not JSON: {exc}"]
    validator = validator_for(content, document=found_in)
    return [f"data{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
