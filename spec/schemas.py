"""JSON Schema validation against the spec's components (JSON Schema 2020-12, as OpenAPI 3.1+ uses).

One place that resolves ``#/components/...`` references, so the mock, the conformance suite and
the tests validate with exactly the schemas in spec/openapi.yaml.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ragen_spec import load_spec

__all__ = [
    "DOCUMENT_URI",
    "ValidationError",
    "media_schema",
    "operations",
    "sse_event_errors",
    "validator_for",
]

DOCUMENT_URI = "urn:ragen:openapi"


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


def _absolute_refs(node: Any) -> Any:
    """Point local ``#/...`` refs of a fragment at the whole spec document."""
    if isinstance(node, dict):
        return {
            k: DOCUMENT_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _absolute_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


def validator_for(schema_or_ref: dict[str, Any] | str) -> Draft202012Validator:
    """A validator for a schema fragment of the spec, or a ref such as ``#/components/schemas/Error``."""
    schema = {"$ref": schema_or_ref} if isinstance(schema_or_ref, str) else schema_or_ref
    return Draft202012Validator(_absolute_refs(schema), registry=_registry())


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, METHOD, operation object) of the spec."""
    for path, item in load_spec()["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method.upper(), operation


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    spec = load_spec()
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def media_schema(operation: dict[str, Any], status: str, media_type: str) -> tuple[str, dict[str, Any]]:
    """(``schema`` or ``itemSchema``, the schema) documented for a response of an operation."""
    response = _resolve(operation["responses"][status])
    media = response["content"][media_type]
    key = "itemSchema" if "itemSchema" in media else "schema"
    return key, media[key]


def sse_event_errors(event: dict[str, Any], item_schema: dict[str, Any]) -> list[str]:
    """Validate one parsed SSE event, including its JSON ``data`` against ``contentSchema``.

    jsonschema treats ``contentSchema`` as an annotation only; streams need it enforced.
    """
    errors = [e.message for e in validator_for(item_schema).iter_errors(event)]
    if errors:
        return errors
    data_schema = _resolve(item_schema).get("properties", {}).get("data", {})
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
    return [f"data{list(e.absolute_path)}: {e.message}" for e in validator_for(content).iter_errors(payload)]
