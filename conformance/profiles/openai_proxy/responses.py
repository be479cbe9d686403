"""Response checks of the openai-proxy profile: run on every response of a proxy run.

Operations: POST /v1/chat/completions and GET /v1/models in spec/openai-proxy.yaml.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator
from ragen_spec import error_types
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

__all__ = ["ERROR_TYPES", "allowed_error_types", "stream_problems"]

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
    finish: list[tuple[str, str]] = []
    problems = validation_problems(
        _validator("createChatCompletion", "200", "application/json"), _known_finish(body, finish)
    )
    for requirement, message in finish[:1]:
        ctx.fail(requirement, message, exchange)
    if problems:
        ctx.fail("PROXY-RESP-1", "not a chat.completion: " + "; ".join(problems), exchange)
        return True
    expect_completion_identity(ctx, body, "PROXY-RESP-2", exchange)
    expect_usage_adds_up(ctx, body.get("usage"), "PROXY-USAGE-1", exchange)
    return True


def _chunks(exchange: Exchange) -> tuple[list[Any], list[str]]:
    """(the JSON payloads before the terminator, the raw data of every event)."""
    data = [e.data for e in exchange.stream.events]
    payloads = []
    for raw in data:
        if raw == "[DONE]":
            break
        try:
            payloads.append(json.loads(raw))
        except ValueError:
            payloads.append(raw)
    return payloads, data


def stream_problems(exchange: Exchange) -> list[tuple[str, str]]:
    """(requirement id, message) for everything wrong with a streamed chat completion."""
    if exchange.content_type != "text/event-stream":
        return [("PROXY-STREAM-1", f"stream: true answered with content type {exchange.content_type!r}")]
    problems: list[tuple[str, str]] = []
    parsed = exchange.stream
    for line in parsed.stray_lines[:2]:
        problems.append(("PROXY-STREAM-1", f"not SSE framing (no `data:` field): {line[:100]!r}"))
    payloads, data = _chunks(exchange)
    failed = [p for p in payloads if isinstance(p, dict) and "error" in p]
    if failed:
        return problems  # a failure after the start: PROXY-STREAM-5's business
    if not exchange.truncated:
        if "[DONE]" not in data:
            problems.append(("PROXY-STREAM-1", "the stream did not end with data: [DONE]"))
        elif data.index("[DONE]") != len(data) - 1:
            problems.append(
                ("PROXY-STREAM-1", f"{len(data) - 1 - data.index('[DONE]')} event(s) after [DONE]")
            )
    validator = _schema_validator("openapi.yaml#/components/schemas/ChatCompletionChunk")
    for payload in payloads:
        errors = validation_problems(validator, _known_finish(payload, problems))
        if errors:
            problems.append(
                (
                    "PROXY-STREAM-2",
                    f"not a chat.completion.chunk: {'; '.join(errors)} in {json.dumps(payload)[:160]}",
                )
            )
            return problems
    if len({p["id"] for p in payloads}) > 1:
        problems.append(("PROXY-STREAM-2", f"chunks carry {len({p['id'] for p in payloads})} different ids"))
    problems += _per_choice_problems(payloads)
    problems += _usage_problems(exchange, payloads)
    return problems


def _known_finish(payload: Any, problems: list[tuple[str, str]]) -> Any:
    """The chunk with an undocumented finish_reason filed as PROXY-FINISH-1 and blanked for the schema."""
    if not isinstance(payload, dict) or not isinstance(payload.get("choices"), list):
        return payload
    choices = []
    for choice in payload["choices"]:
        reason = choice.get("finish_reason") if isinstance(choice, dict) else None
        if reason is not None and reason not in FINISH_REASONS:
            problems.append(("PROXY-FINISH-1", f"finish_reason {reason!r} is not one of {FINISH_REASONS}"))
            choice = {**choice, "finish_reason": None}
        choices.append(choice)
    return {**payload, "choices": choices}


def _per_choice_problems(payloads: list[dict[str, Any]]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: dict[int, list[dict[str, Any]]] = {}
    for payload in payloads:
        if payload.get("usage") is not None:
            continue  # the usage chunk is PROXY-STREAM-4's, whatever its choices say
        for choice in payload["choices"]:
            seen.setdefault(choice["index"], []).append(choice)
    for index, choices in sorted(seen.items()):
        if choices[0]["delta"].get("role") != "assistant":
            problems.append(
                ("PROXY-STREAM-3", f"the first chunk of choice {index} has no delta.role 'assistant'")
            )
        finished = [i for i, c in enumerate(choices) if c.get("finish_reason") is not None]
        if len(finished) != 1:
            problems.append(
                (
                    "PROXY-STREAM-3",
                    f"choice {index} got {len(finished)} non-null finish_reason(s), expected exactly one",
                )
            )
        elif finished[0] != len(choices) - 1:
            problems.append(("PROXY-STREAM-3", f"choice {index} streamed on after its finish_reason"))
    return problems


def _usage_problems(exchange: Exchange, payloads: list[dict[str, Any]]) -> list[tuple[str, str]]:
    options = _request(exchange).get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    with_usage = [i for i, p in enumerate(payloads) if p.get("usage") is not None]
    if not include_usage:
        if with_usage:
            return [("PROXY-STREAM-4", f"{len(with_usage)} chunk(s) carry usage without include_usage")]
        return []
    if len(with_usage) != 1:
        return [
            ("PROXY-STREAM-4", f"include_usage: {len(with_usage)} chunks carry usage, expected exactly one")
        ]
    problems = []
    last = payloads[with_usage[0]]
    if with_usage[0] != len(payloads) - 1:
        problems.append(("PROXY-STREAM-4", "the usage chunk is not the last before [DONE]"))
    if last["choices"] != []:
        problems.append(
            (
                "PROXY-STREAM-4",
                f"the usage chunk has choices {json.dumps(last['choices'])[:100]}, expected []",
            )
        )
    usage = last["usage"]
    counts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    if all(isinstance(v, int) for v in counts) and counts[2] != counts[0] + counts[1]:
        problems.append(("PROXY-USAGE-1", f"stream usage {usage} does not add up"))
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
    payloads, data = _chunks(exchange)
    failed = [p for p in payloads if isinstance(p, dict) and "error" in p]
    if not failed:
        return False
    problems = validation_problems(
        _schema_validator("openapi.yaml#/components/schemas/ErrorResponse"), failed[0]
    )
    ctx.expect(
        not problems,
        "PROXY-STREAM-5",
        f"the error event is not the envelope: {'; '.join(problems)}",
        exchange,
    )
    ctx.expect("[DONE]" not in data, "PROXY-STREAM-5", "[DONE] after an error event", exchange)
    return True
