"""Response checks of the openai-proxy profile: run on every response of a proxy run.

Operations: POST /v1/chat/completions and GET /v1/models in spec/openai-proxy.yaml.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator
from ragen_spec import error_types, openai_stream
from ragen_spec.judge import usage_problems
from ragen_spec.schemas import media_schema, operations, validator_for

from conformance.common import (
    expect_completion_identity,
    expect_request_id,
    expect_retry_after,
    expect_usage_adds_up,
    validation_problems,
)
from conformance.context import Context
from conformance.exchange import Exchange
from conformance.profiles.openai_proxy.registry import SPEC, response_check

__all__ = ["ERROR_TYPES", "PROXY_STREAM", "allowed_error_types", "stream_problems"]

# The proxy document's error table (400: PROXY-ERR-TYPE-2, OpenAI's too; the rest PROXY-ERR-TYPE-1,
# its own), as its documented error responses pin it: the table's type of each status.
ERROR_TYPES = {status: types[0] for status, types in error_types(SPEC).items()}
FINISH_REASONS = ("stop", "length", "content_filter")


def allowed_error_types(status: int, error: dict[str, Any]) -> set[str] | None:
    """The types the table allows for ``status`` (None: the table says nothing about it)."""
    expected = ERROR_TYPES.get(status)
    if expected is None:
        return None
    if status == 404 and error.get("code") == "model_not_found":
        return set(error_types(SPEC)[status])  # PROXY-MODEL-2: the table's type or the document's example's
    return {expected}


@functools.cache
def _validator(operation_id: str, status: str, media_type: str) -> Draft202012Validator:
    op = next(o for _p, _m, o in operations(document=SPEC) if o["operationId"] == operation_id)
    _key, schema = media_schema(op, status, media_type, document=SPEC)
    return validator_for(schema, document=SPEC)


@functools.cache
def _schema_validator(ref: str) -> Draft202012Validator:
    return validator_for(ref, document=SPEC)


def _is_api(exchange: Exchange) -> bool:
    return exchange.url_path.startswith("/v1/")


def _is_chat(exchange: Exchange) -> bool:
    return exchange.method == "POST" and exchange.url_path == "/v1/chat/completions"


def _request(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request_json
    return request if isinstance(request, dict) else {}


def _valid_request(exchange: Exchange) -> bool:
    """Answers to requests the spec calls invalid are judged by the PROXY-REQ probes, not as answers."""
    validator = _schema_validator("#/components/schemas/CreateChatCompletionRequest")
    return bool(validator.is_valid(exchange.request_json))


@response_check("PROXY-5XX-1")
def proxy_no_server_error(ctx: Context, exchange: Exchange) -> bool:
    """No request of the run (none asks a failing provider) gets a 5xx."""
    if not _is_api(exchange):
        return False
    ctx.expect(exchange.status < 500, "PROXY-5XX-1", f"answered {exchange.status}", exchange)
    return True


@response_check("PROXY-ERR-ENV-1", "PROXY-ERR-TYPE-1", "PROXY-ERR-TYPE-2")
def proxy_error_envelope(ctx: Context, exchange: Exchange) -> bool:
    """Every 4xx/5xx has the JSON envelope, its type per the document's error table."""
    if exchange.status < 400 or not _is_api(exchange):
        return False
    if not ctx.expect(
        exchange.content_type == "application/json",
        "PROXY-ERR-ENV-1",
        f"{exchange.status} with content type {exchange.content_type or 'none'!r}: {exchange.text[:80]!r}",
        exchange,
    ):
        return True
    body = exchange.json()
    problems = validation_problems(_schema_validator("openapi.yaml#/components/schemas/ErrorResponse"), body)
    if problems:
        ctx.fail(
            "PROXY-ERR-ENV-1", f"{exchange.status} body is not the envelope: {'; '.join(problems)}", exchange
        )
    error = exchange.error
    allowed = allowed_error_types(exchange.status, error) if error is not None else None
    if error is not None and allowed is not None:
        ctx.expect(
            error.get("type") in allowed,
            "PROXY-ERR-TYPE-2" if exchange.status == 400 else "PROXY-ERR-TYPE-1",
            f"{exchange.status} with type {error.get('type')!r}, expected "
            f"{' or '.join(sorted(map(repr, allowed)))}",
            exchange,
        )
    return True


@response_check("PROXY-HDR-REQID-1")
def proxy_request_id(ctx: Context, exchange: Exchange) -> bool:
    """Every response carries a non-empty x-request-id."""
    if not _is_api(exchange):
        return False
    expect_request_id(ctx, exchange, "PROXY-HDR-REQID-1")
    return True


@response_check("PROXY-RATE-1")
def proxy_retry_after(ctx: Context, exchange: Exchange) -> bool:
    """A 429 or 503 carries Retry-After in whole seconds."""
    if exchange.status not in (429, 503) or not _is_api(exchange):
        return False
    expect_retry_after(ctx, exchange, "PROXY-RATE-1")
    return True


@response_check("PROXY-RESP-1", "PROXY-RESP-2", "PROXY-USAGE-1", "PROXY-FINISH-1")
def proxy_completion_object(ctx: Context, exchange: Exchange) -> bool:
    """A 200 to a non-streaming chat request is a valid chat.completion."""
    request = _request(exchange)
    if not _is_chat(exchange) or exchange.status != 200 or request.get("stream") is True:
        return False
    if not _valid_request(exchange):
        return False
    if not ctx.expect(
        exchange.content_type == "application/json",
        "PROXY-RESP-1",
        f"content type {exchange.content_type!r}, expected application/json",
        exchange,
    ):
        return True
    body = exchange.json()
    problems = validation_problems(
        _validator("createChatCompletion", "200", "application/json"), _with_known_finish(body)
    )
    for requirement, message in _unknown_finish(body)[:1]:
        ctx.fail(requirement, message, exchange)
    if problems:
        ctx.fail("PROXY-RESP-1", "not a chat.completion: " + "; ".join(problems), exchange)
        return True
    expect_completion_identity(ctx, body, "PROXY-RESP-2", exchange)
    expect_usage_adds_up(ctx, body.get("usage"), "PROXY-USAGE-1", exchange)
    return True


def _unknown_finish(payload: Any) -> list[tuple[str, str]]:
    """PROXY-FINISH-1: every finish_reason of a completion or chunk is one the document lists."""
    choices = payload.get("choices") if isinstance(payload, dict) else None
    reasons = [c.get("finish_reason") for c in choices or [] if isinstance(c, dict)]
    return [
        ("PROXY-FINISH-1", f"finish_reason {reason!r} is not one of {FINISH_REASONS}")
        for reason in reasons
        if reason is not None and reason not in FINISH_REASONS
    ]


def _with_known_finish(payload: Any) -> Any:
    """The payload with undocumented finish_reasons blanked: they are PROXY-FINISH-1's, not the schema's."""
    if not isinstance(payload, dict) or not isinstance(payload.get("choices"), list):
        return payload
    choices = [
        {**c, "finish_reason": None}
        if isinstance(c, dict) and c.get("finish_reason") not in (None, *FINISH_REASONS)
        else c
        for c in payload["choices"]
    ]
    return {**payload, "choices": choices}


def _chunk_errors(payload: Any) -> list[str]:
    validator = _schema_validator("openapi.yaml#/components/schemas/ChatCompletionChunk")
    errors: list[str] = validation_problems(validator, _with_known_finish(payload))
    return errors


def _envelope_errors(payload: Any) -> list[str]:
    validator = _schema_validator("openapi.yaml#/components/schemas/ErrorResponse")
    errors: list[str] = validation_problems(validator, payload)
    return errors


def _stream_finish(reading: openai_stream.StreamReading) -> list[tuple[str, str]]:
    return [problem for _i, payload in reading.payloads for problem in _unknown_finish(payload)]


def _stream_usage_adds_up(reading: openai_stream.StreamReading) -> list[tuple[str, str]]:
    """PROXY-USAGE-1 on the usage object of every chunk."""
    return [p for chunk in reading.chunks for p in usage_problems(chunk.get("usage"), "PROXY-USAGE-1")[0]]


# The proxy document's ids for the shared OpenAI stream rules: PROXY-STREAM-3 covers role and
# finish, it promises neither the finishing chunk's empty delta nor `"usage": null` on the other
# chunks, and its chunks agree on `id` only. The error event is its own check (PROXY-STREAM-5).
PROXY_STREAM = openai_stream.StreamIds(
    framing="PROXY-STREAM-1",
    done="PROXY-STREAM-1",
    chunks="PROXY-STREAM-2",
    identity="PROXY-STREAM-2",
    identity_keys=("id",),
    role_first="PROXY-STREAM-3",
    finished="PROXY-STREAM-3",
    finish_once="PROXY-STREAM-3",
    finishing_delta=None,
    usage_absent="PROXY-STREAM-4",
    usage_chunk="PROXY-STREAM-4",
    usage_null=None,
    error_event=None,
)


def stream_problems(exchange: Exchange) -> list[tuple[str, str]]:
    """(requirement id, message) for everything wrong with a streamed chat completion."""
    problems: list[tuple[str, str]] = openai_stream.stream_problems(
        exchange,
        PROXY_STREAM,
        chunk_errors=_chunk_errors,
        envelope_errors=_envelope_errors,
        profile_rules=(_stream_finish, _stream_usage_adds_up),
    )
    return problems


@response_check("PROXY-STREAM-1", "PROXY-STREAM-2", "PROXY-STREAM-3", "PROXY-STREAM-4")
def proxy_stream_events(ctx: Context, exchange: Exchange) -> bool:
    """A 200 to a streaming chat request is SSE of chunks, per choice, ended by [DONE]."""
    if not _is_chat(exchange) or exchange.status != 200 or _request(exchange).get("stream") is not True:
        return False
    if not _valid_request(exchange):
        return False
    for requirement, message in stream_problems(exchange):
        ctx.fail(requirement, message, exchange)
    return True


@response_check("PROXY-STREAM-5")
def proxy_stream_error_event(ctx: Context, exchange: Exchange) -> bool:
    """A mid-stream failure is one error event with the envelope, and no [DONE] follows."""
    if not _is_chat(exchange) or exchange.status != 200 or exchange.content_type != "text/event-stream":
        return False
    reading = openai_stream.read(exchange.stream.events, _chunk_errors)
    problems = openai_stream.error_event(reading, "PROXY-STREAM-5", _envelope_errors)
    if problems is None:
        return False  # no failure mid-stream: nothing PROXY-STREAM-5 judges
    for requirement, message in problems:
        ctx.fail(requirement, message, exchange)
    return True
