"""Judging one exchange against the contract: every rule a single request and its response can show.

The rules are pure functions over one ``ragen_spec.exchange.Exchange``, shared by the gate
(``conformance.profiles.ragen.responses`` wraps them in its evidence plumbing) and the mock's validating
proxy (``mockserver.upstream`` journals what they find): one copy of each rule. A rule returns
the problems it sees as ``(requirement id, message)`` pairs, or None when the exchange is outside
its scope. A problem's level is its requirement's level in ``x-requirements`` (``level_of``).

Nothing here compares two exchanges (a real backend is an LLM: answers differ from call to call),
keeps state between calls or sends anything.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from ragen_spec import mandates, openai_stream
from ragen_spec.document import requirements
from ragen_spec.exchange import Exchange, tier_of
from ragen_spec.facts import error_types
from ragen_spec.openai_stream import include_usage
from ragen_spec.schemas import validator_for
from ragen_spec.validity import quick_check

__all__ = [
    "CHAT",
    "ERROR_TYPES",
    "RAGEN_STREAM",
    "RULES",
    "STREAM_IDS",
    "Exchange",
    "Problem",
    "assistant_object",
    "chat_completion",
    "chat_stream",
    "chat_stream_problems",
    "completion_identity_problems",
    "error_envelope",
    "error_type",
    "has_error_event",
    "include_usage",
    "judge",
    "level_of",
    "native_chat",
    "ratelimit_headers",
    "request_id",
    "request_id_problems",
    "retry_after",
    "retry_after_problems",
    "schema_errors",
    "server_error",
    "stream_chunks",
    "text_of",
    "usage_problems",
    "validation_problems",
]

Problem = tuple[str, str]

# ERR-TYPE-1's table, as the spec's documented error responses pin it: 400, 401, 403, 404, 429 and
# 500..599. Any other status (405, 409, 413, 422, ...) needs only the envelope (ERR-ENV-1); whether
# it was the right status is the probing check's call.
ERROR_TYPES = {status: types[0] for status, types in error_types().items()}
CHAT = "POST /v1/chat/completions"
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


# --- small shared judgements (both profiles, parameterized by the requirement id) ---------------------
def validation_problems(validator: Draft202012Validator, instance: Any) -> list[str]:
    """The first three violations of ``validator`` by ``instance``, as short readable lines."""
    found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in found[:3]]


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return validator_for(f"#/components/schemas/{name}")


def schema_errors(instance: Any, name: str) -> list[str]:
    """Violations of ``#/components/schemas/<name>``, as short readable lines."""
    if quick_check(f"#/components/schemas/{name}", instance):
        return []
    return validation_problems(_validator(name), instance)


def schema_errors_by_requirement(instance: Any, name: str, default: str) -> dict[str, list[str]]:
    """Violations of ``#/components/schemas/<name>``, grouped by the requirement each field's
    ``x-requirement`` names in the spec (``default`` for the rest)."""
    root = {"$ref": f"#/components/schemas/{name}"}
    out: dict[str, list[str]] = {}
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        where = "/".join(map(str, error.absolute_path)) or "<root>"
        owner = mandates.owning_requirement(root, error, default)
        out.setdefault(owner, []).append(f"{where}: {error.message[:200]}")
    return out


def request_id_problems(headers: Mapping[str, str], requirement: str) -> list[Problem]:
    """The response carries a non-empty x-request-id."""
    return [] if headers.get("x-request-id", "").strip() else [(requirement, "no x-request-id header")]


def retry_after_problems(status: int, headers: Mapping[str, str], requirement: str) -> list[Problem]:
    """The response carries Retry-After in whole seconds."""
    value = headers.get("retry-after")
    if value is not None and value.strip().isdigit():
        return []
    return [(requirement, f"{status} with Retry-After {value!r}, expected whole seconds")]


def completion_identity_problems(body: dict[str, Any], requirement: str) -> list[Problem]:
    """A chat.completion's id starts with chatcmpl- and its created is within a day of now."""
    problems = []
    if not str(body["id"]).startswith("chatcmpl-"):
        problems.append((requirement, f"id {body['id']!r} lacks chatcmpl-"))
    if not abs(body["created"] - time.time()) < 86400:
        problems.append((requirement, f"created {body['created']} is not within a day of now"))
    return problems


def usage_problems(usage: Any, requirement: str) -> tuple[list[Problem], tuple[int, int, int] | None]:
    """total_tokens = prompt_tokens + completion_tokens; also the three counts when all are ints."""
    if not isinstance(usage, dict):
        return [], None
    p, c, t = (usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    if not (isinstance(p, int) and isinstance(c, int) and isinstance(t, int)):
        return [], None
    if t != p + c:
        return [(requirement, f"total_tokens {t} != prompt_tokens {p} + completion_tokens {c}")], (p, c, t)
    return [], (p, c, t)


# --- the Ragen rules of one exchange -----------------------------------------------------------------
def _is_spec_operation(exchange: Exchange) -> bool:
    return bool(exchange.operation.split(" ", 1)[1].startswith("/v1/"))


def server_error(exchange: Exchange) -> list[Problem] | None:
    """ERR-5XX-1: no request, however malformed, gets a 5xx."""
    return [("ERR-5XX-1", f"answered {exchange.status}")] if exchange.status >= 500 else []


def error_envelope(exchange: Exchange) -> list[Problem] | None:
    """ERR-ENV-1: every 4xx/5xx has the JSON error envelope."""
    if exchange.status < 400 or not _is_spec_operation(exchange):
        return None
    if exchange.content_type != "application/json":
        shown = exchange.content_type or "none"
        return [("ERR-ENV-1", f"{exchange.status} with content type {shown!r}, expected application/json")]
    if not exchange.is_json:
        return [("ERR-ENV-1", f"{exchange.status} body is not JSON: {exchange.text[:120]!r}")]
    problems = schema_errors(exchange.json(), "ErrorResponse")
    if problems:
        return [("ERR-ENV-1", f"{exchange.status} body is not the envelope: {'; '.join(problems)}")]
    return []


def error_type(exchange: Exchange) -> list[Problem] | None:
    """ERR-TYPE-1: the error type follows the status, for 400, 401, 403, 404, 429 and 5xx."""
    if exchange.status < 400 or not _is_spec_operation(exchange):
        return None
    expected = ERROR_TYPES.get(exchange.status)
    if expected is None:
        return None  # an undocumented status: out of ERR-TYPE-1's scope
    error = exchange.error
    if error is not None and error.get("type") != expected:
        return [("ERR-TYPE-1", f"{exchange.status} with type {error.get('type')!r}, expected {expected!r}")]
    return []


def request_id(exchange: Exchange) -> list[Problem] | None:
    """HDR-REQID-1: every response of the API carries a non-empty x-request-id."""
    if not _is_spec_operation(exchange):
        return None
    return request_id_problems(exchange.headers, "HDR-REQID-1")


RATE_HEADERS = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests")


def ratelimit_headers(exchange: Exchange, tier: tuple[int, str] | None) -> list[Problem]:
    """HDR-RATE-1 on a tiered route's response: the three headers, integers, consistent with the tier.

    ``tier``: (its limit, how to name it in a message), when the caller knows the tier promised.
    Scope (which responses, whether limits are on) is the caller's: it knows the route's tier.
    """
    headers = exchange.headers
    missing = [n for n in RATE_HEADERS if not headers.get(n)]
    if missing:
        return [("HDR-RATE-1", f"missing {', '.join(missing)}")]
    limit, remaining = headers[RATE_HEADERS[0]], headers[RATE_HEADERS[1]]
    if not (limit.isdigit() and remaining.isdigit()):
        return [("HDR-RATE-1", f"non-integer limit/remaining: {limit!r}/{remaining!r}")]
    problems = []
    if tier is not None and int(limit) != tier[0]:
        problems.append(("HDR-RATE-1", f"limit header {limit} but {tier[1]}"))
    if int(remaining) > int(limit):
        problems.append(("HDR-RATE-1", f"remaining {remaining} > limit {limit}"))
    return problems


def retry_after(exchange: Exchange) -> list[Problem] | None:
    """RATE-RETRY-1: a 429 carries Retry-After in whole seconds."""
    if exchange.status != 429:
        return None
    return retry_after_problems(exchange.status, exchange.headers, "RATE-RETRY-1")


def _usage_and_length(usage: Any, request: dict[str, Any]) -> list[Problem]:
    problems, counts = usage_problems(usage, "CHAT-USAGE-1")
    max_tokens = request.get("max_tokens")
    if counts is not None and isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
        c = counts[1]
        if c > max_tokens:
            problems.append(("CHAT-LEN-1", f"completion_tokens {c} > max_tokens {max_tokens}"))
    return problems


def _chat_request(exchange: Exchange, *, stream: bool) -> dict[str, Any] | None:
    """The request of a 200 chat completion, streamed or not as asked; None when out of scope."""
    request = exchange.request_json
    if exchange.operation != CHAT or exchange.status != 200 or not isinstance(request, dict):
        return None
    return request if (request.get("stream") is True) == stream else None


def chat_completion(exchange: Exchange) -> list[Problem] | None:
    """CHAT-RESP-1/2/3, CHAT-USAGE-1, CHAT-LEN-1: a 200 to a non-streaming chat request."""
    request = _chat_request(exchange, stream=False)
    if request is None:
        return None
    if exchange.content_type != "application/json":
        return [("CHAT-RESP-1", f"content type {exchange.content_type!r}, expected application/json")]
    body = exchange.json()
    errors = schema_errors(body, "ChatCompletion")
    if errors:
        return [("CHAT-RESP-1", "not a chat.completion: " + "; ".join(errors))]
    problems: list[Problem] = []
    choice = body["choices"][0]
    if choice.get("index") != 0:
        problems.append(("CHAT-RESP-1", f"first choice has index {choice.get('index')}"))
    if not isinstance(choice["message"].get("content"), str):
        problems.append(("CHAT-RESP-1", "message.content is not a string"))
    for c in body["choices"]:
        if "logprobs" not in c or c["logprobs"] is not None or c["message"].get("refusal", 0) is not None:
            problems.append(
                ("CHAT-RESP-3", f"choice {c.get('index')} lacks logprobs: null or message.refusal: null")
            )
            break
    problems += completion_identity_problems(body, "CHAT-RESP-2")
    problems += _usage_and_length(body.get("usage"), request)
    return problems


# Ragen's ids for the shared OpenAI stream rules (``ragen_spec.openai_stream``): every rule
# applies; the finishing chunk's empty delta (CHAT-STREAM-4) and `"usage": null` on the other
# chunks (CHAT-USAGE-STREAM-3) are Ragen's own promises.
RAGEN_STREAM = openai_stream.StreamIds(
    framing="CHAT-STREAM-1",
    chunks="CHAT-STREAM-2",
    identity="CHAT-STREAM-2",
    role_first="CHAT-STREAM-3",
    finished="CHAT-STREAM-4",
    finishing_delta="CHAT-STREAM-4",
    done="CHAT-STREAM-5",
    finish_once="CHAT-STREAM-6",
    error_event="CHAT-STREAM-7",
    usage_absent="CHAT-USAGE-STREAM-1",
    usage_chunk="CHAT-USAGE-STREAM-2",
    usage_null="CHAT-USAGE-STREAM-3",
)


def chat_stream_problems(exchange: Exchange) -> list[Problem]:
    """(requirement id, message) for everything wrong with a streamed chat completion."""
    problems: list[Problem] = openai_stream.stream_problems(
        exchange,
        RAGEN_STREAM,
        chunk_errors=lambda payload: schema_errors(payload, "ChatCompletionChunk"),
        envelope_errors=lambda payload: schema_errors(payload, "ErrorResponse"),
    )
    return problems


def stream_chunks(exchange: Exchange) -> Iterator[dict[str, Any]]:
    """The JSON chunks of a stream that carry a ``choices`` list (the usage chunk included)."""
    if exchange.content_type != "text/event-stream":
        return
    for event in exchange.stream.events:
        try:
            payload = json.loads(event.data)
        except ValueError:
            continue
        if isinstance(payload, dict) and isinstance(payload.get("choices"), list):
            yield payload


def chat_stream(exchange: Exchange) -> list[Problem] | None:
    """CHAT-STREAM-*, CHAT-USAGE-STREAM-*, and CHAT-USAGE-1 / CHAT-LEN-1 on every chunk's usage:
    a 200 to a streaming chat request."""
    request = _chat_request(exchange, stream=True)
    if request is None:
        return None
    problems = chat_stream_problems(exchange)
    chunks = list(stream_chunks(exchange))
    for payload in chunks:
        problems += _usage_and_length(payload.get("usage"), request)
    return problems + _whole_answer(exchange, chunks)


def _whole_answer(exchange: Exchange, chunks: list[dict[str, Any]]) -> list[Problem]:
    """CHAT-STREAM-8, judged within the one stream (never against another call): a stream that
    finished with "stop", or whose own usage counts completion tokens, carries its answer as
    ``delta.content``. ``chunks``: the stream's ``stream_chunks``."""
    choices = [c for chunk in chunks for c in chunk["choices"] if isinstance(c, dict)]
    text = "".join(str((c.get("delta") or {}).get("content") or "") for c in choices)
    reasons = [c.get("finish_reason") for c in choices if c.get("finish_reason") is not None]
    usage: dict[str, Any] = next((c["usage"] for c in chunks if isinstance(c.get("usage"), dict)), {})
    tokens = usage.get("completion_tokens")
    if text.strip() or has_error_event(exchange) or exchange.dropped:
        return []
    if reasons[-1:] == ["stop"]:
        return [("CHAT-STREAM-8", "a stream finished with 'stop' carried no delta.content")]
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0:
        return [("CHAT-STREAM-8", f"the stream's usage counts {tokens} completion tokens, no delta.content")]
    return []


def has_error_event(exchange: Exchange) -> bool:
    """Whether a stream carried a mid-stream failure (``data: {"error": ...}``)."""
    return any(e.data.startswith('{"error"') for e in exchange.stream.events)


def assistant_object(exchange: Exchange) -> list[Problem] | None:
    """ASST-OBJ-1, ASST-LIST-1, ASST-DEL-1: 2xx Assistants answers are assistant / list / deleted objects."""
    op = exchange.operation
    if not op.split(" ", 1)[1].startswith("/v1/assistants") or not 200 <= exchange.status < 300:
        return None
    method = op.split(" ", 1)[0]
    schema, rid = (
        ("ListAssistantsResponse", "ASST-LIST-1")
        if op == "GET /v1/assistants"
        else ("DeleteAssistantResponse", "ASST-DEL-1")
        if method == "DELETE"
        else ("Assistant", "ASST-OBJ-1")
    )
    if exchange.content_type != "application/json":
        return [(rid, f"content type {exchange.content_type!r}, expected application/json")]
    body = exchange.json() if exchange.is_json else exchange.text
    # Each field's problem under the rule the spec names for it (x-requirement), e.g. a missing
    # `object` is ASST-OBJ-3 (SHOULD), not the documented mapping's ASST-OBJ-1.
    return [
        (owner, f"not a valid {schema}: {'; '.join(problems[:3])}")
        for owner, problems in schema_errors_by_requirement(body, schema, rid).items()
    ]


_NATIVE_DELTA = re.compile(r"^\{")


def native_chat(exchange: Exchange) -> list[Problem] | None:
    """NATIVE-1/2 (our shape; informational): a ragen.chat object, or delta events and one done event."""
    request = exchange.request_json
    if exchange.operation != "POST /v1/chat" or exchange.status != 200 or not isinstance(request, dict):
        return None
    if request.get("stream") is not True:
        body = exchange.json() if exchange.is_json else exchange.text
        problems = schema_errors(body, "NativeChatResponse")
        return [("NATIVE-1", f"not a ragen.chat object: {'; '.join(problems)}")] if problems else []
    if exchange.content_type != "text/event-stream":
        return [("NATIVE-2", f"stream: true answered with {exchange.content_type!r}")]
    events = exchange.stream.events
    names = [e.event for e in events]
    if not names or names[-1] != "done" or any(n not in ("delta",) for n in names[:-1]):
        return [("NATIVE-2", f"events {names[:6]}… expected delta… then done")]
    try:
        final = json.loads(events[-1].data)
    except ValueError:
        return [("NATIVE-2", "the done event is not JSON")]
    problems = schema_errors(final, "NativeChatResponse")
    if problems:
        return [("NATIVE-2", f"done event: {'; '.join(problems)}")]
    deltas = "".join(
        json.loads(e.data).get("content", "") for e in events[:-1] if _NATIVE_DELTA.match(e.data)
    )
    if deltas != final["content"]:
        return [("NATIVE-2", "the deltas do not add up to the final content")]
    return []


# --- everything one exchange can show ------------------------------------------------------------------
Rule = Callable[[Exchange], "list[Problem] | None"]
RULES: tuple[Rule, ...] = (
    server_error,
    error_envelope,
    error_type,
    request_id,
    retry_after,
    chat_completion,
    chat_stream,
    assistant_object,
    native_chat,
)


def judge(exchange: Exchange, *, tiers: Mapping[str, int] | None = None) -> list[Problem]:
    """Every problem one exchange shows under the rules above, in order, without duplicates.

    ``tiers``: the limit each tier promises (``{"chat": 10, "assistants": 20}``) to check
    HDR-RATE-1 on tiered routes; None when the server runs without rate limits.
    """
    problems: list[Problem] = []
    for rule in RULES:
        problems += rule(exchange) or []
    tier = tier_of(exchange.operation)
    if (
        tiers is not None
        and tier is not None
        and exchange.status < 500
        and not (exchange.status == 404 and exchange.ours)
        and exchange.status not in (401, 403)  # a server may authenticate before it counts
    ):
        limit = tiers.get(tier)
        problems += ratelimit_headers(exchange, (limit, f"the {tier} tier is {limit}") if limit else None)
    return list(dict.fromkeys(problems))


@functools.cache
def _requirements() -> dict[str, tuple[str, str]]:
    return {rid: (str(req["level"]), str(req["text"])) for rid, req in requirements().items()}


def level_of(requirement: str) -> str:
    """The requirement's level in ``x-requirements`` (MUST, SHOULD, MAY, OURS)."""
    return _requirements().get(requirement, ("MUST", ""))[0]


def text_of(requirement: str) -> str:
    """The requirement's sentence in ``x-requirements``."""
    return _requirements().get(requirement, ("MUST", ""))[1]
