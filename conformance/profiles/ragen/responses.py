"""Response checks: run on every response of the run (probes, schemathesis, bursts alike).

The rules themselves live in ``ragen_spec.judge`` (shared with the mock's validating proxy, one
copy); each check here scopes one of them to the run and turns its problems into evidence.
"""

from __future__ import annotations

from typing import Any

from ragen_spec import judge
from ragen_spec.judge import CHAT, ERROR_TYPES, STREAM_IDS, Problem, chat_stream_problems, schema_errors

from conformance.context import Context
from conformance.exchange import Exchange
from conformance.profiles.ragen.registry import response_check

__all__ = ["CHAT", "ERROR_TYPES", "STREAM_IDS", "chat_stream_problems", "schema_errors"]


def _report(ctx: Context, exchange: Exchange, problems: list[Problem] | None) -> bool:
    """Fail each problem; whether the exchange was in the rule's scope."""
    if problems is None:
        return False
    for requirement, message in problems:
        ctx.fail(requirement, message, exchange)
    return True


@response_check("ERR-5XX-1")
def no_server_error(ctx: Context, exchange: Exchange) -> bool:
    """No request, however malformed, gets a 5xx."""
    return _report(ctx, exchange, judge.server_error(exchange))


@response_check("ERR-ENV-1")
def error_has_envelope(ctx: Context, exchange: Exchange) -> bool:
    """Every 4xx/5xx has the JSON error envelope."""
    return _report(ctx, exchange, judge.error_envelope(exchange))


@response_check("ERR-TYPE-1")
def error_type_follows_status(ctx: Context, exchange: Exchange) -> bool:
    """The error type follows the status, for the documented statuses (400, 401, 403, 404, 429, 5xx)."""
    return _report(ctx, exchange, judge.error_type(exchange))


@response_check("HDR-REQID-1")
def has_request_id(ctx: Context, exchange: Exchange) -> bool:
    """Every response carries a non-empty x-request-id."""
    return _report(ctx, exchange, judge.request_id(exchange))


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
        ctx.skip("HDR-RATE-1", "the target runs with rate limits off (rate_limits = false)", deliberate=True)
        return True
    tier = ctx.target.tiers.get(exchange.tier)
    promised = None if tier is None else (tier.limit, f"the {exchange.tier} tier is {tier}")
    return _report(ctx, exchange, judge.ratelimit_headers(exchange, promised))


@response_check("RATE-RETRY-1")
def retry_after_on_429(ctx: Context, exchange: Exchange) -> bool:
    """A 429 carries Retry-After in whole seconds."""
    return _report(ctx, exchange, judge.retry_after(exchange))


def _note_model(ctx: Context, model: Any, exchange: Exchange) -> None:
    """CHAT-REQ-13 (MAY): one deployment model in every response, or the model each request named.

    The one observation here that looks across responses: the model is a fact of the deployment,
    not content of an answer, and either choice conforms."""
    if not isinstance(model, str):
        return
    first = ctx.facts.setdefault("model", (model, exchange))
    if first[0] != model:
        sent = exchange.request_json.get("model") if isinstance(exchange.request_json, dict) else None
        choice = "the model the request named" if sent == model else "models that differ between responses"
        ctx.note("CHAT-REQ-13", f"responses carry {choice} (e.g. {model!r} after {first[0]!r})", exchange)
    else:
        ctx.passed("CHAT-REQ-13")


@response_check("CHAT-RESP-1", "CHAT-RESP-2", "CHAT-RESP-3", "CHAT-USAGE-1", "CHAT-LEN-1", "CHAT-REQ-13")
def chat_completion_object(ctx: Context, exchange: Exchange) -> bool:
    """A 200 to a non-streaming chat request is a valid chat.completion."""
    if not _report(ctx, exchange, judge.chat_completion(exchange)):
        return False
    body = exchange.json()
    if exchange.content_type == "application/json" and not schema_errors(body, "ChatCompletion"):
        _note_model(ctx, body.get("model"), exchange)
    return True


_CHAT_STREAM_IDS = (*STREAM_IDS, "CHAT-STREAM-8", "CHAT-USAGE-1", "CHAT-LEN-1")


@response_check(*_CHAT_STREAM_IDS)
def chat_stream(ctx: Context, exchange: Exchange) -> bool:
    """A 200 to a streaming chat request is a well-formed chat.completion.chunk stream."""
    problems = judge.chat_stream(exchange)
    if not _report(ctx, exchange, problems):
        return False
    if exchange.content_type != "text/event-stream":
        # Nothing about chunks was observed: no stream rule may pass on this answer.
        for rid in _CHAT_STREAM_IDS:
            if rid not in ctx.touched:
                ctx.skip(rid, "stream: true was not answered with a stream")
        return True
    if not judge.include_usage(exchange.request_json):
        ctx.skip("CHAT-USAGE-STREAM-2", "not exercised by this response (no include_usage)")
        ctx.skip("CHAT-USAGE-STREAM-3", "not exercised by this response (no include_usage)")
    else:
        ctx.skip("CHAT-USAGE-STREAM-1", "not exercised by this response (include_usage)")
    if not any(rid == "CHAT-STREAM-7" for rid, _ in problems or []) and not judge.has_error_event(exchange):
        ctx.skip("CHAT-STREAM-7", "no failure happened after a stream started")
    for payload in judge.stream_chunks(exchange):
        _note_model(ctx, payload.get("model"), exchange)
    return True


@response_check("ASST-OBJ-1", "ASST-OBJ-3", "ASST-LIST-1", "ASST-LIST-6", "ASST-DEL-1")
def assistant_objects(ctx: Context, exchange: Exchange) -> bool:
    """2xx Assistants responses are assistant / list / assistant.deleted objects."""
    return _report(ctx, exchange, judge.assistant_object(exchange))


@response_check("NATIVE-1", "NATIVE-2")
def native_chat_shape(ctx: Context, exchange: Exchange) -> bool:
    """/v1/chat answers a ragen.chat object, or delta events and one done event (our shape; informational)."""
    return _report(ctx, exchange, judge.native_chat(exchange))
