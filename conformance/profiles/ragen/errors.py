"""Malformed bodies, content types and the size limit (ERR-BODY-1/2, ERR-SIZE-1)."""

from __future__ import annotations

import json

from conformance.context import Context, brief
from conformance.profiles.ragen.registry import check

INVALID = "invalid_request_error"


@check("ERR-BODY-1", group="errors", cost={"assistants": 2})
def malformed_bodies_are_400(ctx: Context) -> None:
    """Bodies that are not JSON or not a JSON object get 400 invalid_request_error."""
    cases = [
        ("invalid JSON", b'{"name": ', "application/json"),
        ("a JSON array", b"[]", "application/json"),
        ("a JSON string", b'"name"', "application/json"),
        ("an empty body", b"", "application/json"),
    ]
    # By default the first two (the chat budget is the scarce one; --thorough sends all).
    for what, data, content_type in cases if ctx.config.thorough else cases[:2]:
        ctx.check_time()
        ex = ctx.request("POST", "/v1/assistants", data=data, headers={"Content-Type": content_type})
        if ex.status in (200, 201) and isinstance(ex.json(), dict):
            ctx.created.append(str(ex.json().get("id")))
        ctx.expect_error(ex, 400, INVALID, "ERR-BODY-1", f"create with {what}")
    if ctx.target.assistant_id and ctx.config.thorough:  # the chat budget is the scarce one
        ex = ctx.request(
            "POST",
            "/v1/chat/completions",
            data=b'{"messages": [',
            headers={"Content-Type": "application/json"},
        )
        ctx.expect_error(ex, 400, INVALID, "ERR-BODY-1", "a chat request with invalid JSON")


@check("ERR-BODY-2", group="errors", cost={"assistants": 1}, extra=True)
def json_under_another_content_type(ctx: Context) -> None:
    """Report how the server treats a JSON body sent as text/plain (rejecting or parsing it both conform)."""
    valid = json.dumps({"name": "conformance probe"}).encode()
    ex = ctx.request("POST", "/v1/assistants", data=valid, headers={"Content-Type": "text/plain"})
    error = ex.error
    if ex.status in (200, 201) and isinstance(ex.json(), dict):
        ctx.created.append(str(ex.json().get("id")))
        ctx.note("ERR-BODY-2", f"parses a JSON body sent as text/plain ({ex.status})")
    elif ex.status in (400, 415) and error is not None:
        ctx.note("ERR-BODY-2", f"rejects a JSON body sent as text/plain: {ex.status} {error.get('type')}")
    else:
        ctx.note(
            "ERR-BODY-2",
            f"a JSON body sent as text/plain got {ex.status} {brief(ex)}: none of the conformant choices",
            ex,
        )


@check("ERR-SIZE-1", group="errors", cost={"assistants": 1}, extra=True)
def oversized_body(ctx: Context) -> None:
    """Report how the server treats a 1.5 MiB body (413 or 400 with the envelope are conformant)."""
    body = json.dumps({"name": "conformance probe", "instructions": "x" * (1536 * 1024)}).encode()
    ex = ctx.request("POST", "/v1/assistants", data=body, headers={"Content-Type": "application/json"})
    error = ex.error
    if ex.status in (200, 201):
        created = ex.json()
        if isinstance(created, dict) and created.get("id"):
            ctx.created.append(str(created["id"]))
        ctx.note("ERR-SIZE-1", f"accepts a 1.5 MiB body ({ex.status}): its limit is larger")
    elif ex.status in (413, 400) and error is not None:
        ctx.note(
            "ERR-SIZE-1", f"rejects a 1.5 MiB body with {ex.status} {error.get('type')} {error.get('code')!r}"
        )
    else:
        ctx.note(
            "ERR-SIZE-1", f"a 1.5 MiB body got {ex.status} {brief(ex)}: none of the conformant choices", ex
        )


# Valid JSON that is awkward to handle: lone UTF-16 surrogate escapes (not encodable as UTF-8), a
# huge integer, deep nesting. The mock once answered the first with a 500 (found by the fuzzer).
_AWKWARD_JSON = [
    ("a lone surrogate in the name", b'{"name": "\\ud800"}'),
    ("a lone surrogate as a field name", b'{"name": "probe", "\\udc00": 1}'),
    ("a 400-digit number", b'{"name": "probe", "temperature": 1' + b"0" * 400 + b"}"),
    ("deeply nested metadata", b'{"name": "probe", "metadata": ' + b'{"a": ' * 200 + b"1" + b"}" * 201),
]


@check("ERR-5XX-1", group="errors", cost={"assistants": 1})
def awkward_json_is_not_a_server_error(ctx: Context) -> None:
    """Valid but awkward JSON is answered (or rejected) without a 5xx; every response is checked for that."""
    for what, data in _AWKWARD_JSON if ctx.config.thorough else _AWKWARD_JSON[:1]:
        ctx.check_time()
        ex = ctx.request("POST", "/v1/assistants", data=data, headers={"Content-Type": "application/json"})
        created = ex.json() if ex.status in (200, 201) else None
        if isinstance(created, dict) and created.get("id"):
            ctx.created.append(str(created["id"]))
        ctx.expect(ex.status < 500, "ERR-5XX-1", f"create with {what}: answered {ex.status}", ex)
    if ctx.target.assistant_id and ctx.config.thorough:  # the chat budget is the scarce one
        ex = ctx.request(
            "POST",
            "/v1/chat/completions",
            data=b'{"assistant_id": "\\ud800", "messages": [{"role": "user", "content": "hi"}]}',
            headers={"Content-Type": "application/json"},
        )
        ctx.expect(
            ex.status < 500, "ERR-5XX-1", f"a chat request naming assistant '\\ud800': {ex.status}", ex
        )
