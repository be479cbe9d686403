"""Response checks: run on every response of the run (probes, schemathesis, bursts alike)."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from ragen_spec import mandates
from ragen_spec.schemas import validator_for

from conformance.catalogue import response_check
from conformance.client import Exchange
from conformance.common import (
    expect_completion_identity,
    expect_request_id,
    expect_retry_after,
    expect_usage_adds_up,
    validation_problems,
)
from conformance.context import Context

__all__ = ["ERROR_TYPES", "chat_stream_problems", "schema_errors"]

# ERR-TYPE-1's table: the documented statuses (and 5xx). Any other status (405, 409, 413, 422, ...)
# needs only the envelope (ERR-ENV-1); whether it was the right status is the probing check's call.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}
CHAT = "POST /v1/chat/completions"


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return validator_for(f"#/components/schemas/{name}")


def schema_errors(instance: Any, name: str) -> list[str]:
    """Violations of ``#/components/schemas/<name>``, as short readable lines."""
    return validation_problems(_validator(name), instance)


def schema_errors_by_requirement(instance: Any, name: str, default: str) -> dict[str, list[str]]:
    """Violations of ``#/components/schemas/<name>``, grouped by the requirement each field's
    ``x-requirement`` names in the spec (``default`` for the rest)."""
    root = {"$ref": f"#/components/schemas/{name}"}
    out: dict[str, list[str]] = {}
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        where = "/".join(map(str, error.absolute_path)) or "<root>"
        rid = mandates.owning_requirement(root, error, default)
        out.setdefault(rid, []).append(f"{where}: {error.message[:200]}")
    return out


def _is_spec_operation(exchange: Exchange) -> bool:
    return exchange.operation.split(" ", 1)[1].startswith("/v1/")


@response_check("ERR-5XX-1")
def no_server_error(ctx: Context, exchange: Exchange) -> bool:
    """No request, however malformed, gets a 5xx."""
    ctx.expect(exchange.status < 500, "ERR-5XX-1", f"answered {exchange.status}", exchange)
    return True


@response_check("ERR-ENV-1")
def error_has_envelope(ctx: Context, exchange: Exchange) -> bool:
    """Every 4xx/5xx has the JSON error envelope."""
    if exchange.status < 400 or not _is_spec_operation(exchange):
        return False
    if not ctx.expect(
        exchange.content_type == "application/json",
        "ERR-ENV-1",
        f"{exchange.status} with content type {exchange.content_type or 'none'!r}, expected application/json",
        exchange,
    ):
        return True
    if not exchange.is_json:
        ctx.fail("ERR-ENV-1", f"{exchange.status} body is not JSON: {exchange.text[:120]!r}", exchange)
        return True
    problems = schema_errors(exchange.json(), "ErrorResponse")
    ctx.expect(
        not problems,
        "ERR-ENV-1",
        f"{exchange.status} body is not the envelope: {'; '.join(problems)}",
        exchange,
    )
    return True


@response_check("ERR-TYPE-1")
def error_type_follows_status(ctx: Context, exchange: Exchange) -> bool:
    """The error type follows the status, for the documented statuses (400, 401, 403, 404, 429, 5xx)."""
    if exchange.status < 400 or not _is_spec_operation(exchange):
        return False
    if exchange.status >= 500:
        expected = "api_error"
    elif exchange.status in ERROR_TYPES:
        expected = ERROR_TYPES[exchange.status]
    else:
        return False  # an undocumented status: out of ERR-TYPE-1's scope
    error = exchange.error
    if error is not None:
        ctx.expect(
            error.get("type") == expected,
            "ERR-TYPE-1",
            f"{exchange.status} with type {error.get('type')!r}, expected {expected!r}",
            exchange,
        )
    return True


@response_check("HDR-REQID-1")
def has_request_id(ctx: Context, exchange: Exchange) -> bool:
    """Every response carries a non-empty x-request-id."""
    if not _is_spec_operation(exchange):
        return False
    expect_request_id(ctx, exchange, "HDR-REQID-1")
    return True


@response_check("HDR-RATE-1")
def has_ratelimit_headers(ctx: Context, exchange: Exchange) -> bool:
    """Tiered routes answer with x-ratelimit-{limit,remaining,reset}-requests, consistent with the tier."""
    if exchange.tier is None or exchange.status >= 500:
        return False
    if exchange.status == 404 and exchange.ours:
        return False  # our own endpoint is optional for other servers; its absence has no tier
    if exchange.status in (401, 403):
        return False  # a server may authenticate before it counts (AUTH-ORDER-1): no budget yet
    if not ctx.target.rate_limits:
        ctx.skip("HDR-RATE-1", "the target runs with rate limits off (rate_limits = false)")
        return True
    names = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests")
    missing = [n for n in names if not exchange.headers.get(n)]
    if missing:
        ctx.fail("HDR-RATE-1", f"missing {', '.join(missing)}", exchange)
        return True
    limit, remaining = exchange.headers[names[0]], exchange.headers[names[1]]
    if not (limit.isdigit() and remaining.isdigit()):
        ctx.fail("HDR-RATE-1", f"non-integer limit/remaining: {limit!r}/{remaining!r}", exchange)
        return True
    tier = ctx.target.tiers.get(exchange.tier)
    if tier is not None and int(limit) != tier.limit:
        ctx.fail("HDR-RATE-1", f"limit header {limit} but the {exchange.tier} tier is {tier}", exchange)
    ctx.expect(int(remaining) <= int(limit), "HDR-RATE-1", f"remaining {remaining} > limit {limit}", exchange)
    return True


@response_check("RATE-RETRY-1")
def retry_after_on_429(ctx: Context, exchange: Exchange) -> bool:
    """A 429 carries Retry-After in whole seconds."""
    if exchange.status != 429:
        return False
    expect_retry_after(ctx, exchange, "RATE-RETRY-1")
    return True


def _note_model(ctx: Context, model: Any, exchange: Exchange) -> None:
    """CHAT-REQ-13 (MAY): one deployment model in every response, or the model each request named."""
    if not isinstance(model, str):
        return
    first = ctx.facts.setdefault("model", (model, exchange))
    if first[0] != model:
        sent = exchange.request_json.get("model") if isinstance(exchange.request_json, dict) else None
        choice = "the model the request named" if sent == model else "models that differ between responses"
        ctx.note("CHAT-REQ-13", f"responses carry {choice} (e.g. {model!r} after {first[0]!r})", exchange)
    else:
        ctx.passed("CHAT-REQ-13")


def _check_usage(ctx: Context, usage: Any, request: dict[str, Any], exchange: Exchange) -> None:
    counts = expect_usage_adds_up(ctx, usage, "CHAT-USAGE-1", exchange)
    max_tokens = request.get("max_tokens")
    if counts is not None and isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
        c = counts[1]
        ctx.expect(
            c <= max_tokens, "CHAT-LEN-1", f"completion_tokens {c} > max_tokens {max_tokens}", exchange
        )


@response_check("CHAT-RESP-1", "CHAT-RESP-2", "CHAT-RESP-3", "CHAT-USAGE-1", "CHAT-LEN-1", "CHAT-REQ-13")
def chat_completion_object(ctx: Context, exchange: Exchange) -> bool:
    """A 200 to a non-streaming chat request is a valid chat.completion."""
    request = exchange.request_json
    if exchange.operation != CHAT or exchange.status != 200 or not isinstance(request, dict):
        return False
    if request.get("stream") is True:
        return False
    if not ctx.expect(
        exchange.content_type == "application/json",
        "CHAT-RESP-1",
        f"content type {exchange.content_type!r}, expected application/json",
        exchange,
    ):
        return True
    body = exchange.json()
    problems = schema_errors(body, "ChatCompletion")
    if problems:
        ctx.fail("CHAT-RESP-1", "not a chat.completion: " + "; ".join(problems), exchange)
        return True
    choice = body["choices"][0]
    ctx.expect(
        choice.get("index") == 0, "CHAT-RESP-1", f"first choice has index {choice.get('index')}", exchange
    )
    ctx.expect(
        isinstance(choice["message"].get("content"), str),
        "CHAT-RESP-1",
        "message.content is not a string",
        exchange,
    )
    for c in body["choices"]:
        if "logprobs" not in c or c["logprobs"] is not None or c["message"].get("refusal", 0) is not None:
            ctx.fail(
                "CHAT-RESP-3",
                f"choice {c.get('index')} lacks logprobs: null or message.refusal: null",
                exchange,
            )
            break
    expect_completion_identity(ctx, body, "CHAT-RESP-2", exchange)
    _check_usage(ctx, body.get("usage"), request, exchange)
    _note_model(ctx, body.get("model"), exchange)
    return True


def _is_json_or_done(line: str) -> bool:
    if line == "[DONE]":
        return True
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _is_empty_delta(delta: Any) -> bool:
    return isinstance(delta, dict) and all(v in (None, "") for v in delta.values()) and "role" not in delta


def chat_stream_problems(exchange: Exchange) -> list[tuple[str, str]]:
    """(requirement id, message) for everything wrong with a streamed chat completion."""
    problems: list[tuple[str, str]] = []
    request = exchange.request_json if isinstance(exchange.request_json, dict) else {}
    include_usage = (
        isinstance(request.get("stream_options"), dict)
        and request["stream_options"].get("include_usage") is True
    )
    if exchange.content_type != "text/event-stream":
        return [("CHAT-STREAM-1", f"stream: true answered with content type {exchange.content_type!r}")]
    parsed = exchange.stream
    for line in parsed.stray_lines[:2]:
        problems.append(("CHAT-STREAM-1", f"not SSE framing (no `data:` field): {line[:100]!r}"))
    if parsed.unterminated.strip() and not exchange.truncated and not exchange.dropped:
        problems.append(
            ("CHAT-STREAM-1", f"last event not terminated by a blank line: {parsed.unterminated[:100]!r}")
        )
    chunks: list[dict[str, Any]] = []
    done_at: int | None = None
    error_event = False
    for i, event in enumerate(parsed.events):
        if done_at is not None:
            problems.append(("CHAT-STREAM-5", f"event after [DONE]: {event.data[:100]!r}"))
            break
        if event.data == "[DONE]":
            done_at = i
            continue
        try:
            payload = json.loads(event.data)
        except ValueError:
            if "\n" in event.data and all(_is_json_or_done(line) for line in event.data.split("\n")):
                problems.append(
                    (
                        "CHAT-STREAM-1",
                        f"events not separated by blank lines (event {i} holds "
                        f"{event.data.count(chr(10)) + 1} payloads)",
                    )
                )
                break
            problems.append(("CHAT-STREAM-2", f"event {i} is not JSON: {event.data[:100]!r}"))
            continue
        if isinstance(payload, dict) and "error" in payload and "choices" not in payload:
            error_event = True
            if schema_errors(payload, "ErrorResponse"):
                problems.append(("CHAT-STREAM-7", f"error event without the envelope: {event.data[:100]!r}"))
            continue
        errors = schema_errors(payload, "ChatCompletionChunk")
        if errors:
            problems.append(
                ("CHAT-STREAM-2", f"event {i} is not a chat.completion.chunk: {'; '.join(errors)}")
            )
            continue
        chunks.append(payload)
    if error_event:
        if done_at is not None:
            problems.append(("CHAT-STREAM-7", "[DONE] sent after an error event"))
        return problems
    if done_at is None and exchange.dropped:
        problems.append(("CHAT-STREAM-5", "the server dropped the connection before data: [DONE]"))
    elif done_at is None and not exchange.truncated:
        problems.append(("CHAT-STREAM-5", "the stream did not end with data: [DONE]"))
    if not chunks:
        problems.append(("CHAT-STREAM-2", "no chat.completion.chunk events"))
        return problems
    first = chunks[0]
    for key in ("id", "created", "model"):
        values = {json.dumps(c.get(key)) for c in chunks}
        if len(values) > 1:
            problems.append(("CHAT-STREAM-2", f"chunks disagree on {key}: {sorted(values)[:3]}"))
    first_choices = first.get("choices") or [{}]
    if (first_choices[0].get("delta") or {}).get("role") != "assistant":
        problems.append(
            ("CHAT-STREAM-3", f"first chunk has no delta.role 'assistant': {json.dumps(first)[:160]}")
        )
    with_choices = [i for i, c in enumerate(chunks) if c.get("choices")]
    usage_chunks = [i for i, c in enumerate(chunks) if c.get("usage") is not None]
    for i, c in enumerate(chunks):
        for choice in c.get("choices") or []:
            if i > 0 and (choice.get("delta") or {}).get("role") not in (None, "assistant"):
                problems.append(("CHAT-STREAM-4", f"chunk {i} delta has role {choice['delta']['role']!r}"))
    if with_choices:
        last = chunks[with_choices[-1]]["choices"][0]
        if last.get("finish_reason") is None:
            problems.append(("CHAT-STREAM-4", "the last chunk with choices has no finish_reason"))
        if not _is_empty_delta(last.get("delta")) and len(with_choices) > 1:
            problems.append(
                (
                    "CHAT-STREAM-4",
                    f"the finishing chunk's delta is not empty: {json.dumps(last.get('delta'))}",
                )
            )
        for i in with_choices[:-1]:
            if chunks[i]["choices"][0].get("finish_reason") is not None:
                problems.append(("CHAT-STREAM-6", f"chunk {i} has finish_reason before the finishing chunk"))
                break
    else:
        problems.append(("CHAT-STREAM-4", "no chunk carries choices"))
    if not include_usage:
        if usage_chunks:
            problems.append(
                ("CHAT-USAGE-STREAM-1", f"usage sent without include_usage (chunk {usage_chunks[0]})")
            )
    else:
        if len(usage_chunks) != 1:
            problems.append(
                ("CHAT-USAGE-STREAM-2", f"{len(usage_chunks)} chunks carry usage, expected exactly one")
            )
        else:
            u = usage_chunks[0]
            if chunks[u].get("choices") != []:
                problems.append(("CHAT-USAGE-STREAM-2", "the usage chunk does not have choices: []"))
            if u != len(chunks) - 1:
                problems.append(("CHAT-USAGE-STREAM-2", "the usage chunk is not the last before [DONE]"))
            if with_choices and u < with_choices[-1]:
                problems.append(("CHAT-USAGE-STREAM-2", "the usage chunk comes before the finishing chunk"))
        missing_null = [i for i, c in enumerate(chunks) if i not in usage_chunks and "usage" not in c]
        if missing_null:
            problems.append(("CHAT-USAGE-STREAM-3", f'chunk {missing_null[0]} lacks "usage": null'))
    return problems


STREAM_IDS = (
    "CHAT-STREAM-1",
    "CHAT-STREAM-2",
    "CHAT-STREAM-3",
    "CHAT-STREAM-4",
    "CHAT-STREAM-5",
    "CHAT-STREAM-6",
    "CHAT-STREAM-7",
    "CHAT-USAGE-STREAM-1",
    "CHAT-USAGE-STREAM-2",
    "CHAT-USAGE-STREAM-3",
)


_CHAT_STREAM_IDS = (*STREAM_IDS, "CHAT-USAGE-1", "CHAT-LEN-1")


@response_check(*_CHAT_STREAM_IDS)
def chat_stream(ctx: Context, exchange: Exchange) -> bool:
    """A 200 to a streaming chat request is a well-formed chat.completion.chunk stream."""
    request = exchange.request_json
    if exchange.operation != CHAT or exchange.status != 200 or not isinstance(request, dict):
        return False
    if request.get("stream") is not True:
        return False
    problems = chat_stream_problems(exchange)
    for rid, message in problems:
        ctx.fail(rid, message, exchange)
    if exchange.content_type != "text/event-stream":
        # Nothing about chunks was observed: no stream rule may pass on this answer.
        for rid in _CHAT_STREAM_IDS:
            if rid not in ctx.touched:
                ctx.skip(rid, "stream: true was not answered with a stream")
        return True
    include_usage = (
        isinstance(request.get("stream_options"), dict)
        and request["stream_options"].get("include_usage") is True
    )
    if not include_usage:
        ctx.skip("CHAT-USAGE-STREAM-2", "not exercised by this response (no include_usage)")
        ctx.skip("CHAT-USAGE-STREAM-3", "not exercised by this response (no include_usage)")
    else:
        ctx.skip("CHAT-USAGE-STREAM-1", "not exercised by this response (include_usage)")
    if not any(rid == "CHAT-STREAM-7" for rid, _ in problems) and not _has_error_event(exchange):
        ctx.skip("CHAT-STREAM-7", "no failure happened after a stream started")
    if exchange.content_type == "text/event-stream":
        for event in exchange.stream.events:
            try:
                payload = json.loads(event.data)
            except ValueError:
                continue
            if isinstance(payload, dict) and isinstance(payload.get("choices"), list):
                _check_usage(ctx, payload.get("usage"), request, exchange)
                _note_model(ctx, payload.get("model"), exchange)
    return True


def _has_error_event(exchange: Exchange) -> bool:
    return any(e.data.startswith('{"error"') for e in exchange.stream.events)


@response_check("ASST-OBJ-1", "ASST-LIST-1", "ASST-DEL-1")
def assistant_objects(ctx: Context, exchange: Exchange) -> bool:
    """2xx Assistants responses are assistant / list / assistant.deleted objects."""
    op = exchange.operation
    if not op.split(" ", 1)[1].startswith("/v1/assistants") or not 200 <= exchange.status < 300:
        return False
    method = op.split(" ", 1)[0]
    schema, rid = (
        ("ListAssistantsResponse", "ASST-LIST-1")
        if op == "GET /v1/assistants"
        else ("DeleteAssistantResponse", "ASST-DEL-1")
        if method == "DELETE"
        else ("Assistant", "ASST-OBJ-1")
    )
    if not ctx.expect(
        exchange.content_type == "application/json",
        rid,
        f"content type {exchange.content_type!r}, expected application/json",
        exchange,
    ):
        return True
    body = exchange.json() if exchange.is_json else exchange.text
    by_requirement = schema_errors_by_requirement(body, schema, rid)
    for owner, problems in by_requirement.items():
        ctx.fail(owner, f"not a valid {schema}: {'; '.join(problems[:3])}", exchange)
    if rid not in by_requirement:
        ctx.passed(rid)
    return True


_NATIVE_DELTA = re.compile(r"^\{")


@response_check("NATIVE-1", "NATIVE-2")
def native_chat_shape(ctx: Context, exchange: Exchange) -> bool:
    """/v1/chat answers a ragen.chat object, or delta events and one done event (our shape; informational)."""
    request = exchange.request_json
    if exchange.operation != "POST /v1/chat" or exchange.status != 200 or not isinstance(request, dict):
        return False
    if request.get("stream") is True:
        if exchange.content_type != "text/event-stream":
            ctx.fail("NATIVE-2", f"stream: true answered with {exchange.content_type!r}", exchange)
            return True
        events = exchange.stream.events
        names = [e.event for e in events]
        if not names or names[-1] != "done" or any(n not in ("delta",) for n in names[:-1]):
            ctx.fail("NATIVE-2", f"events {names[:6]}… expected delta… then done", exchange)
            return True
        try:
            final = json.loads(events[-1].data)
        except ValueError:
            ctx.fail("NATIVE-2", "the done event is not JSON", exchange)
            return True
        problems = schema_errors(final, "NativeChatResponse")
        ctx.expect(not problems, "NATIVE-2", f"done event: {'; '.join(problems)}", exchange)
        deltas = "".join(
            json.loads(e.data).get("content", "") for e in events[:-1] if _NATIVE_DELTA.match(e.data)
        )
        if not problems:
            ctx.expect(
                deltas == final["content"],
                "NATIVE-2",
                "the deltas do not add up to the final content",
                exchange,
            )
        return True
    problems = schema_errors(exchange.json() if exchange.is_json else exchange.text, "NativeChatResponse")
    ctx.expect(not problems, "NATIVE-1", f"not a ragen.chat object: {'; '.join(problems)}", exchange)
    return True
