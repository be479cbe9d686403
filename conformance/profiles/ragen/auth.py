"""Authentication and authorization (AUTH-1..5, AUTH-ORDER-1).

Every operation of spec/openapi.yaml declares bearerAuth; both tiers are probed.
"""

from __future__ import annotations

import uuid

from conformance.context import Context
from conformance.profiles.ragen.registry import check

_ENDPOINTS = (("GET", "/v1/assistants", None), ("POST", "/v1/chat/completions", "chat"))


def _probe(
    ctx: Context,
    requirement: str,
    what: str,
    status: int,
    error_type: str,
    *,
    chat: bool = True,
    **kwargs: object,
) -> None:
    """Probe both tiers' endpoints (the chat one only when ``chat``: its budget is the scarce one)."""
    for method, path, kind in _ENDPOINTS if chat or ctx.config.thorough else _ENDPOINTS[:1]:
        ctx.check_time()
        body = None
        if kind == "chat":
            aid = ctx.target.assistant_id or "asst-conformance-probe"
            body = {"assistant_id": aid, "messages": [{"role": "user", "content": "hi"}]}
        extra: dict[str, object] = dict(kwargs)
        if body is not None:
            extra["json_body"] = body
        ex = ctx.request(method, path, **extra)
        ctx.expect_error(ex, status, error_type, requirement, f"{method} {path} {what}")


@check("AUTH-1", group="auth", cost={"assistants": 1, "chat": 1})
def missing_key_is_401(ctx: Context) -> None:
    """No Authorization header gets 401 authentication_error."""
    _probe(ctx, "AUTH-1", "without Authorization", 401, "authentication_error", key=None)


@check("AUTH-2", "AUTH-6", group="auth", cost={"assistants": 2})
def malformed_authorization_is_401(ctx: Context) -> None:
    """A header without a key (AUTH-2), or with the key not as `Bearer <key>` (AUTH-6), gets 401."""
    key = ctx.target.api_key
    # The essential run sends the first two: one without a key (AUTH-2, MUST), one with the key in
    # another form (AUTH-6, SHOULD).
    headers = ("Bearer", f"Basic {key}", key, "Bearer ")
    for header in headers if ctx.config.thorough else headers[:2]:
        _probe(
            ctx,
            "AUTH-6" if header in (f"Basic {key}", key) else "AUTH-2",
            f"with Authorization {header.replace(key, '<key>')!r}",
            401,
            "authentication_error",
            chat=False,
            key=None,
            headers={"Authorization": header},
        )


@check("AUTH-3", group="auth", cost={"assistants": 1})
def unknown_key_is_401(ctx: Context) -> None:
    """An unknown API key gets 401 authentication_error."""
    _probe(
        ctx,
        "AUTH-3",
        "with an unknown key",
        401,
        "authentication_error",
        chat=False,
        key=f"rg-unknown-{uuid.uuid4().hex}",
    )


@check("AUTH-4", group="auth", needs=("deactivated_key",), cost={"assistants": 1})
def deactivated_key_is_403(ctx: Context) -> None:
    """A deactivated key gets 403 permission_error."""
    _probe(
        ctx,
        "AUTH-4",
        "with the deactivated key",
        403,
        "permission_error",
        chat=False,
        key=ctx.target.deactivated_key,
    )


@check("AUTH-5", group="auth", needs=("chat_only_key",), cost={"assistants": 1})
def missing_scope_is_403(ctx: Context) -> None:
    """A key without the assistants scope gets 403 permission_error on the Assistants API."""
    endpoints = (("GET", "/v1/assistants"), ("POST", "/v1/assistants"))
    for method, path in endpoints if ctx.config.thorough else endpoints[:1]:
        ctx.check_time()
        extra = {"json_body": {"name": "conformance probe"}} if method == "POST" else {}
        ex = ctx.request(method, path, key=ctx.target.chat_only_key, **extra)
        if ex.status in (200, 201) and method == "POST" and isinstance(ex.json(), dict):
            ctx.created.append(str(ex.json().get("id")))
        ctx.expect_error(ex, 403, "permission_error", "AUTH-5", f"{method} {path} with a chat-only key")


@check("AUTH-ORDER-1", group="auth", cost={"assistants": 1}, extra=True)
def auth_order(ctx: Context) -> None:
    """Report which check comes first for a request that is both unauthenticated and invalid."""
    ex = ctx.request("POST", "/v1/assistants", key=None, json_body={"temperature": 9})
    error = ex.error or {}
    if ex.status == 401:
        ctx.note("AUTH-ORDER-1", "authentication before validation (401 for a keyless invalid body)")
    elif ex.status == 400:
        ctx.note("AUTH-ORDER-1", "validation before authentication (400 for a keyless invalid body)")
    else:
        ctx.note("AUTH-ORDER-1", f"a keyless invalid body got {ex.status} {error.get('type')}", ex)
