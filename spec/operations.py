"""The spec's operations as one read-only view: the one walk of ``paths`` every tool uses.

    ops = operations()                          # ragen_spec.SPEC_PATH; document= for another file
    op = ops.by_id("deleteAssistant")
    op.method, op.path, op.name                 # "DELETE", "/v1/assistants/{assistant_id}", "DELETE /v1/..."
    op.tier, op.requirement_ids, op.ours        # x-rate-limit-tier, x-requirement-ids, x-ragen-defined
    ops.shared_requirement_ids                  # the top-level x-requirement-ids: rules of every operation
    op.matches("/v1/assistants/asst-1")         # a concrete path against the template
    op.response(400)                            # the documented response (404 -> "4XX" -> "default")
    ops.match("GET", "/v1/assistants/asst-1")   # the operation a concrete request is for

Built once per document (cached); the view holds the parsed document itself, so callers must not
mutate what it returns. ``operations_of(spec)`` builds the same view over an in-memory document
(the mock's bundled proxy profile), whose refs are local.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ragen_spec.document import SPEC_PATH, _load
from ragen_spec.refs import media_schema, resolve_in, resolve_local

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "Operations",
    "operation_for",
    "operations",
    "operations_of",
    "status_keys",
    "template_matcher",
]

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
Resolver = Callable[[dict[str, Any]], dict[str, Any]]


def template_matcher(template: str) -> re.Pattern[str]:
    """``/v1/assistants/{assistant_id}`` as a regex for concrete paths (a parameter is one segment)."""
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def status_keys(status: int | str) -> tuple[str, ...]:
    """The ``responses`` keys that may document ``status``, most specific first (OpenAPI 3)."""
    code = str(status)
    return (code, f"{code[0]}XX", "default")


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, its refs (parameters, request body) already followed."""

    method: str  # upper case
    path: str  # the template, as in ``paths``
    operation_id: str
    raw: Mapping[str, Any] = field(repr=False)  # the operation object as written: do not mutate
    parameters: tuple[dict[str, Any], ...] = field(repr=False)  # path-level first, resolved
    request_body: dict[str, Any] | None = field(repr=False)  # resolved
    document: Path | None = field(repr=False)  # None: the Ragen spec (or an in-memory document)
    matcher: re.Pattern[str] = field(repr=False)
    _resolve: Resolver = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        """``"POST /v1/chat/completions"``: how reports and the rules name an operation."""
        return f"{self.method} {self.path}"

    @property
    def tier(self) -> str | None:
        tier: str | None = self.raw.get("x-rate-limit-tier")
        return tier

    @property
    def requirement_ids(self) -> tuple[str, ...]:
        return tuple(self.raw.get("x-requirement-ids", ()))

    @property
    def ours(self) -> bool:
        """This project defined the operation's shape itself (``x-ragen-defined``: no vendor source)."""
        return bool(self.raw.get("x-ragen-defined"))

    def matches(self, path: str) -> bool:
        return self.matcher.match(path) is not None

    def query_parameters(self) -> list[dict[str, Any]]:
        return [p for p in self.parameters if p.get("in") == "query"]

    def request_schema(self, media_type: str = "application/json") -> dict[str, Any] | None:
        media = (self.request_body or {}).get("content", {}).get(media_type)
        return media.get("schema") if media else None

    @property
    def body_required(self) -> bool:
        return bool((self.request_body or {}).get("required"))

    def response_key(self, status: int | str) -> str | None:
        """The ``responses`` key documenting ``status`` (``"404"``, ``"5XX"``, ``"default"``), or None."""
        responses = self.raw.get("responses", {})
        return next((k for k in status_keys(status) if k in responses), None)

    def response(self, status: int | str) -> dict[str, Any] | None:
        """The documented response object for ``status`` (refs followed), or None when undocumented."""
        key = self.response_key(status)
        return None if key is None else self._resolve(self.raw["responses"][key])

    def response_schema(
        self, status: int | str, media_type: str = "application/json"
    ) -> dict[str, Any] | None:
        media = ((self.response(status) or {}).get("content") or {}).get(media_type)
        if not media:
            return None
        schema: dict[str, Any] | None = media.get("itemSchema", media.get("schema"))
        return schema

    def media_schema(self, status: int | str, media_type: str) -> tuple[str, dict[str, Any]]:
        """(``"schema"`` or ``"itemSchema"``, the schema) for ``status`` and ``media_type``, ready for
        ``ragen_spec.schemas.validator_for(schema, document=op.document)``; KeyError when undocumented."""

        key = self.response_key(status)
        if key is None:
            raise KeyError(status)
        return media_schema(dict(self.raw), key, media_type, document=self.document)

    def example(self, status: int | str, name: str, media_type: str = "application/json") -> Any:
        """The value of the named example of the response documented for ``status``."""
        media = (self.response(status) or {})["content"][media_type]
        return self._resolve(media["examples"][name])["value"]


class Operations:
    """Every operation of one document, in document order, with lookups by id, name and request."""

    def __init__(self, items: list[Operation], shared_requirement_ids: tuple[str, ...] = ()) -> None:
        self._items = tuple(items)
        # The document's top-level ``x-requirement-ids``: rules every operation carries (errors, auth).
        self.shared_requirement_ids = shared_requirement_ids
        self._by_id = {op.operation_id: op for op in self._items}
        self._by_name = {op.name: op for op in self._items}

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def by_id(self, operation_id: str) -> Operation:
        return self._by_id[operation_id]

    def named(self, name: str) -> Operation | None:
        """The operation called ``"POST /v1/chat"`` (method and template), or None."""
        return self._by_name.get(name)

    def match(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request is for (query string ignored), or None."""
        method, path = method.upper(), urlsplit(path).path
        return next((op for op in self._items if op.method == method and op.matcher.match(path)), None)


def _build(spec: Mapping[str, Any], document: Path | None, resolver: Resolver) -> Operations:
    found: list[Operation] = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        matcher = template_matcher(path)
        for method, op in item.items():  # document order, as written
            if method not in HTTP_METHODS:
                continue
            params = tuple(resolver(p) for p in [*shared, *op.get("parameters", [])])
            body = resolver(op["requestBody"]) if "requestBody" in op else None
            found.append(
                Operation(
                    method.upper(), path, op["operationId"], op, params, body, document, matcher, resolver
                )
            )
    return Operations(found, tuple(spec.get("x-requirement-ids", ())))


@functools.cache
def operations(document: Path | None = None) -> Operations:
    """The operations of the Ragen spec, or of ``document`` (e.g. ``ragen_spec.PROXY_SPEC_PATH``)."""
    if document is not None and document.resolve() == SPEC_PATH.resolve():
        document = None

    def resolver(node: dict[str, Any]) -> dict[str, Any]:
        return resolve_in(node, document)[0]

    return _build(_load(document or SPEC_PATH), document, resolver)


def operations_of(spec: Mapping[str, Any]) -> Operations:
    """The same view over an in-memory document with local refs only (a bundled profile)."""

    def resolver(node: dict[str, Any]) -> dict[str, Any]:
        return resolve_local(spec, node)

    return _build(spec, None, resolver)


@functools.lru_cache(maxsize=4096)
def operation_for(method: str, path: str, document: Path | None = None) -> Operation | None:
    """The operation of the spec (or ``document``) a concrete request is for (cached per request line)."""
    return operations(document).match(method, path)
