"""Following ``$ref`` chains through the spec, also into sibling documents (``openapi.yaml#/...``).

Kept apart from ``ragen_spec.schemas`` (validators) so readers of plain facts (the operation view,
tiers, error types) do not pay for importing jsonschema.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag
from urllib.request import url2pathname

from ragen_spec import SPEC_PATH, _load

__all__ = ["DOCUMENT_URI", "document_at", "resolve", "resolve_in", "resolve_local"]

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
