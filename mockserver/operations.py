"""Routes derived from the spec: every operation (``ragen_spec.operations``) becomes a route whose
handler runs authentication and scope, then body and query validation, then the operation's own
handler.

The rate limit runs before all of it, as a pipeline stage keyed by the route (AUTH-ORDER-1:
``mockserver.pipeline``, ``ratelimit.admission``); the tier and the scope come from the
operation's ``x-rate-limit-tier``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from ragen_spec.operations import operations_of

from mockserver.auth import Caller
from mockserver.errors import RequestTooLargeError
from mockserver.journal import entry_of
from mockserver.validation import BodyValidator, QueryValidator, SchemaSource, parse_json_body

if TYPE_CHECKING:
    from mockserver.context import MockState

__all__ = ["Call", "Operation", "OperationHandler", "operations_from_spec"]


@dataclass(slots=True)
class Call:
    """What a handler needs: the caller, the validated body and query, the app's state."""

    caller: Caller
    body: dict[str, Any]
    query: dict[str, Any]
    state: MockState


OperationHandler = Callable[[web.Request, Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    tier: str | None
    body: BodyValidator | None
    body_required: bool
    query: QueryValidator | None
    responses: dict[str, Any]


def operations_from_spec(source: SchemaSource) -> list[Operation]:
    """Every operation of the source's document, its validators compiled once (at start-up)."""
    found: list[Operation] = []
    for op in operations_of(source.spec):
        body_schema = op.request_schema() if op.request_body is not None else None
        query = op.query_parameters()
        found.append(
            Operation(
                operation_id=op.operation_id,
                method=op.method,
                path=op.path,
                tier=op.tier,
                body=BodyValidator(body_schema, source) if body_schema is not None else None,
                body_required=op.body_required,
                query=QueryValidator(query, source) if query else None,
                responses=op.raw.get("responses", {}),
            )
        )
    return found


def bind(
    operation: Operation, handler: OperationHandler, state: Any
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    scope = operation.tier or "chat"
    keyring = state.keyring
    max_bytes = state.settings.max_body_bytes
    body_validator = operation.body
    query_validator = operation.query

    async def endpoint(request: web.Request) -> web.StreamResponse:
        caller = keyring.authenticate(request.headers.get("Authorization"), scope)
        entry = entry_of(request)
        entry.key = caller.masked
        entry.org_id = caller.org_id
        body: dict[str, Any] = {}
        if body_validator is not None:
            try:  # aiohttp stops reading past client_max_size (a little over max_bytes)
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise RequestTooLargeError(max_bytes) from None
            if len(raw) > max_bytes:
                raise RequestTooLargeError(max_bytes)
            entry.req_body = raw
            if raw or operation.body_required:
                # The usual header is exactly "application/json": no need to parse it.
                if request.headers.get("Content-Type") == "application/json":
                    content_type, charset = "application/json", None
                else:
                    content_type, charset = request.content_type, request.charset
                body = parse_json_body(raw, content_type, charset, max_bytes=max_bytes)
                body_validator.check(body)
        query = query_validator.parse(request.query) if query_validator is not None else {}
        return await handler(request, Call(caller, body, query, state))

    endpoint.__name__ = operation.operation_id
    return endpoint
