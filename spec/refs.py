"""Following ``$ref`` chains through the spec, also into sibling documents (``openapi.yaml#/...``).

Kept apart from ``ragen_spec.schemas`` (validators) so readers of plain facts (the operation view,
tiers, error types) do not pay for importing jsonschema.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin
from urllib.request import url2pathname

from ragen_spec.document import SPEC_PATH, _load

__all__ = ["DOCUMENT_URI", "document_at", "media_schema", "resolve", "resolve_in", "resolve_local"]

DOCUMENT_URI = "urn:ragen:openapi"


def document_at(file: str, current: Path | None) -> Path | None:
    """The document a ref's URI part names: an absolute ``file:`` URI, our URN, or a sibling's name."""
    if file.startswith("file:"):
        return Path(url2pathname(file.removeprefix("file://")))
    if file == DOCUMENT_URI:
        return None
    return (current or SPEC_PATH).parent / file


def resolve_in(node: dict[str, Any], document: Path | None) -> tuple[dict[str, Any], Path | None]:
    """Follow refs (also into sibling files); the target and the document it lives in."""
    while "$ref" in node:
        file, pointer = urldefrag(node["$ref"])
        if file:
            document = document_at(file, document)
        target: Any = _load(document or SPEC_PATH)  # read only: no copy
        for part in pointer.removeprefix("/").split("/"):
            target = target[part]
        node = target
    return node, document


def resolve(node: dict[str, Any], document: Path | None = None) -> dict[str, Any]:
    """``node`` with its ``$ref`` chain followed (also into sibling documents). Do not mutate."""
    return resolve_in(node, document)[0]


def resolve_local(document: Mapping[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its local (``#/...``) ref chain followed inside an in-memory ``document``
    (a bundled profile, or a copy the caller holds). Do not mutate."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _base(document: Path | None) -> str:
    return DOCUMENT_URI if document is None else document.resolve().as_uri()


def _absolute_refs(node: Any, base: str = DOCUMENT_URI) -> Any:
    """Point the refs of a fragment at the whole document (``#/...``) or its sibling files."""
    if isinstance(node, dict):
        return {
            k: _absolute_ref(v, base) if k == "$ref" and isinstance(v, str) else _absolute_refs(v, base)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(v, base) for v in node]
    return node


def _absolute_ref(ref: str, base: str) -> str:
    if ref.startswith("#"):
        return base + ref
    return urljoin(base, ref) if base.startswith("file:") else ref


def media_schema(
    operation: dict[str, Any], status: str, media_type: str, *, document: Path | None = None
) -> tuple[str, dict[str, Any]]:
    """(``schema`` or ``itemSchema``, the schema) documented for a response of an operation.

    With ``document``, a schema found behind an external ref is returned as an absolute ref, so
    ``validator_for(schema, document=document)`` still resolves it.
    """
    response, found_in = resolve_in(operation["responses"][status], document)
    media = response["content"][media_type]
    key = "itemSchema" if "itemSchema" in media else "schema"
    schema = media[key]
    if found_in != document:
        schema = _absolute_refs(schema, _base(found_in))
    return key, schema
