"""Chat completions: request validation, the JSON answer, max_tokens, and the MAY points.

Operation: POST /v1/chat/completions in spec/openapi.yaml.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from conformance.catalogue import check
from conformance.client import Exchange
from conformance.context import Context, brief
from conformance.errors import Failure, Skip

INVALID = "invalid_request_error"


@check("CHAT-REQ-1", "ERR-PARAM-1", group="chat", needs=("assistant_id",), cost={"chat": 4})
def chat_rejects_missing_fields(ctx: Context) -> None:
    """Missing assistant_id or messages, or 0 / 101 messages, get 400 invalid_request_error."""
    body = ctx.chat_body()
    cases = [
        ("without assistant_id", {"messages": body["messages"]}, "assistant_id"),
        ("without messages", {"assistant_id": ctx.assistant_id}, "messages"),
        ("with messages: []", {**body, "messages": []}, "messages"),
        ("with 101 messages", {**body, "messages": [{"role": "user", "content": "hi"}] * 101}, "messages"),
    ]
    for what, payload, param in cases:
        ctx.check_time()
        ctx.expect_error(ctx.chat(payload), 400, INVALID, "CHAT-REQ-1", f"a request {what}", param=param)


@check("CHAT-REQ-2", "ERR-PARAM-1", group="chat", needs=("assistant_id",), cost={"chat": 4})
def chat_rejects_out_of_range(ctx: Context) -> None:
    """temperature outside 0–2 and max_tokens outside 1–32000 get 400 invalid_request_error."""
    for field, value in (
        ("temperature", 2.5),
        ("temperature", -0.5),
        ("max_tokens", 0),
        ("max_tokens", 32001),
    ):
        ctx.check_time()
        body = ctx.chat_body()
        body[field] = value
        ctx.expect_error(
            ctx.chat(body),
            400,
            INVALID,
            "CHAT-REQ-2",
            f"{field}: {value}",
            param=field,
        )


@check("CHAT-REQ-3", group="chat", needs=("assistant_id",), cost={"chat": 2})
def chat_rejects_unknown_roles(ctx: Context) -> None:
    """A message role other than user/assistant/system gets 400 invalid_request_error."""
    for role in ("tool", "developer"):
        ctx.check_time()
        body = ctx.chat_body(messages=[{"role": role, "content": "hello"}, {"role": "user", "content": "hi"}])
        ctx.expect_error(ctx.chat(body), 400, INVALID, "CHAT-REQ-3", f"role {role!r}")


@check("CHAT-REQ-5", group="chat", cost={"chat": 1})
def chat_unknown_assistant_is_404(ctx: Context) -> None:
    """An assistant_id unknown to the key's organization gets 404 not_found_error."""
    body = {"assistant_id": f"asst-{uuid.uuid4()}", "messages": [{"role": "user", "content": "hi"}]}
    ctx.expect_error(ctx.chat(body), 404, "not_found_error", "CHAT-REQ-5", "an unknown assistant_id")


@check("CHAT-RESP-1", "CHAT-REQ-4", group="chat", needs=("assistant_id",), cost={"chat": 3})
def chat_answers_whatever_the_model(ctx: Context) -> None:
    """A valid request gets a chat.completion; the response model is the same whatever model was sent."""
    for model in (None, "gpt-4o", "no-such-model-xyz"):
        ctx.check_time()
        body = ctx.chat_body() if model is None else ctx.chat_body(model=model)
        exchange = ctx.chat(body)
        ctx.expect_status(
            exchange,
            {200},
            "CHAT-RESP-1" if model is None else "CHAT-REQ-4",
            f"a valid request (model {model!r})",
        )
    # The model comparison itself is the chat_completion_object response check.


def _json_answer(ctx: Context, requirement: str, **fields: Any) -> dict[str, Any]:
    exchange = ctx.chat(ctx.chat_body("Explain your refund policy in detail, step by step.", **fields))
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or not body.get("choices"):
        raise Failure(
            requirement, f"a valid request got {exchange.status} {brief(exchange)}", exchange=exchange
        )
    return body


@check("CHAT-LEN-1", "CHAT-STREAM-8", group="chat", needs=("assistant_id",), cost={"chat": 3})
def chat_max_tokens_cuts_with_length(ctx: Context) -> None:
    """An answer cut by max_tokens ends with finish_reason "length", in JSON and in streams alike."""
    full = _json_answer(ctx, "CHAT-LEN-1")
    usage = full.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not isinstance(tokens, int) or tokens < 2:
        raise Skip(f"the answer is too short to cut ({tokens} completion tokens)")
    cut = _json_answer(ctx, "CHAT-LEN-1", max_tokens=1)
    choice = cut["choices"][0]
    ctx.expect(
        choice.get("finish_reason") == "length",
        "CHAT-LEN-1",
        f"max_tokens: 1 cut a {tokens}-token answer but finish_reason is {choice.get('finish_reason')!r}",
        ctx.client.last,
    )
    stream = ctx.chat(
        ctx.chat_body("Explain your refund policy in detail, step by step.", max_tokens=1, stream=True)
    )
    if stream.status != 200:
        raise Failure("CHAT-STREAM-8", f"streaming with max_tokens got {stream.status}", exchange=stream)
    reasons = [c.get("finish_reason") for c in _stream_choices(stream)]
    final = next((r for r in reversed(reasons) if r is not None), None)
    ctx.expect(
        final == "length",
        "CHAT-STREAM-8",
        f"a stream cut by max_tokens: 1 ends with finish_reason {final!r}, expected 'length'",
        stream,
    )


def _stream_choices(exchange: Exchange) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in exchange.stream.events:
        try:
            payload = json.loads(event.data)
        except ValueError:
            continue
        if isinstance(payload, dict):
            out.extend(c for c in payload.get("choices") or [] if isinstance(c, dict))
    return out


def stream_text(exchange: Exchange) -> str:
    return "".join(str((c.get("delta") or {}).get("content") or "") for c in _stream_choices(exchange))


@check("CHAT-STREAM-8", group="chat", needs=("assistant_id",), cost={"chat": 3}, extra=True)
def chat_stream_matches_json(ctx: Context) -> None:
    """The streamed content, concatenated, is the whole answer (checked when the server is deterministic)."""
    first = _json_answer(ctx, "CHAT-STREAM-8", temperature=0)
    second = _json_answer(ctx, "CHAT-STREAM-8", temperature=0)
    text = first["choices"][0]["message"]["content"]
    if text != second["choices"][0]["message"]["content"]:
        raise Skip("the server is not deterministic (two identical requests got different answers)")
    stream = ctx.chat(
        ctx.chat_body("Explain your refund policy in detail, step by step.", temperature=0, stream=True)
    )
    if stream.status != 200:
        raise Failure("CHAT-STREAM-8", f"streaming got {stream.status}", exchange=stream)
    streamed = stream_text(stream)
    ctx.expect(
        streamed == text,
        "CHAT-STREAM-8",
        f"streamed content ({len(streamed)} chars) differs from the JSON answer ({len(text)} chars): "
        f"{streamed[:60]!r} vs {text[:60]!r}",
        stream,
    )


def _choice(ctx: Context, requirement: str, ex: Exchange, accepted: dict[str, str], what: str) -> None:
    """Note which conformant choice the server made (a MAY point never fails)."""
    error = ex.error
    key = str(ex.status) if error is None else f"{ex.status} {error.get('type')}"
    for pattern, meaning in accepted.items():
        if key.startswith(pattern):
            ctx.note(requirement, f"{what}: {meaning} ({key})")
            return
    ctx.note(requirement, f"{what}: answered {key} {brief(ex)} — none of the conformant choices", ex)


@check("CHAT-REQ-10", "ERR-PARAM-1", group="chat", needs=("assistant_id",), cost={"chat": 6})
def chat_rejects_malformed_messages_and_flags(ctx: Context) -> None:
    """A message that is not {role, string content}, or a wrongly typed stream / stream_options, gets 400."""
    user = {"role": "user", "content": "hi"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("a message that is a string", {"messages": ["hi"]}, "messages"),
        ("a message without role", {"messages": [{"content": "hi"}]}, "messages"),
        ("a message without content", {"messages": [{"role": "user"}]}, "messages"),
        ("content: 42", {"messages": [{"role": "user", "content": 42}]}, "messages"),
        ('stream: "yes"', {"messages": [user], "stream": "yes"}, "stream"),
        (
            'stream: true with stream_options: "yes"',
            {"messages": [user], "stream": True, "stream_options": "yes"},
            "stream_options",
        ),
    ]
    for what, fields, param in cases:
        ctx.check_time()
        body = {"assistant_id": ctx.assistant_id, **fields}
        ctx.expect_error(ctx.chat(body), 400, INVALID, "CHAT-REQ-10", f"a request with {what}", param=param)


# ~168k characters, ~42k tokens at 4 characters a token: past the mock's 32000-token context.
_LONG_PROMPT = "refund " * 24000


@check("CHAT-LEN-2", "CHAT-LEN-3", group="chat", needs=("assistant_id",), cost={"chat": 1})
def chat_long_prompt(ctx: Context) -> None:
    """A prompt rejected for its length gets 400 context_length_exceeded; report the threshold (MAY)."""
    ex = ctx.chat(ctx.chat_body(_LONG_PROMPT))
    error = ex.error or {}
    if ex.status == 200:
        ctx.note("CHAT-LEN-3", "answers a ~42k-token prompt: its context is larger (any threshold conforms)")
    elif ex.status == 413:
        ctx.note("CHAT-LEN-3", "rejects the ~168 KB body by its size (413) before judging its length")
    elif ex.status == 400 and error.get("code") != "context_length_exceeded" and _size_rejected(ctx, ex):
        ctx.note(
            "CHAT-LEN-3", f"rejects the ~168 KB body by its size (400 {error.get('code')!r}, ERR-SIZE-1)"
        )
    elif ex.status == 400:
        ctx.note("CHAT-LEN-3", f"rejects a ~42k-token prompt ({error.get('code')!r})")
        ctx.expect(
            error.get("type") == INVALID and error.get("code") == "context_length_exceeded",
            "CHAT-LEN-2",
            f"a ~42k-token prompt got 400 with type {error.get('type')!r} and code {error.get('code')!r}, "
            "expected invalid_request_error / context_length_exceeded",
            ex,
        )
    else:
        ctx.note("CHAT-LEN-3", f"a ~42k-token prompt got {ex.status}")
        ctx.fail(
            "CHAT-LEN-2",
            f"a ~42k-token prompt got {ex.status} {brief(ex)}: a prompt rejected for its length gets 400 "
            "context_length_exceeded (or is answered)",
            ex,
        )


def _size_rejected(ctx: Context, rejected: Exchange) -> bool:
    """Whether a 400 was for the body's size (ERR-SIZE-1 allows 400), not the prompt's length: a body
    as large, with a short prompt and the bulk in ``model`` (accepted and ignored, CHAT-REQ-4), gets
    the same answer."""
    ctx.check_time()
    control = ctx.chat(ctx.chat_body(model=_LONG_PROMPT))
    same = (control.error or {}).get("code") == (rejected.error or {}).get("code")
    return control.status == 400 and same


@check(
    "CHAT-REQ-6",
    "CHAT-REQ-7",
    "CHAT-REQ-8",
    "CHAT-REQ-9",
    "CHAT-REQ-11",
    group="chat",
    needs=("assistant_id",),
    cost={"chat": 5},
    extra=True,
)
def chat_silent_points(ctx: Context) -> None:
    """Report the server's choices where the vendor documents are silent."""
    ignore_or_reject = {"200": "ignores it", f"400 {INVALID}": "rejects it"}
    ex = ctx.chat(ctx.chat_body(frobnicate=True))
    _choice(ctx, "CHAT-REQ-6", ex, ignore_or_reject, "an unknown body field")
    ctx.check_time()
    ex = ctx.chat(ctx.chat_body(stream_options={"include_usage": True}))
    if ex.status == 200 and ex.content_type != "application/json":
        ctx.note("CHAT-REQ-7", f"stream_options without stream: answered {ex.content_type!r}, not JSON", ex)
    else:
        _choice(ctx, "CHAT-REQ-7", ex, ignore_or_reject, "stream_options without stream")
    ctx.check_time()
    ex = ctx.chat(ctx.chat_body(messages=[{"role": "system", "content": "Be brief."}]))
    _choice(ctx, "CHAT-REQ-8", ex, {"200": "answers", f"400 {INVALID}": "rejects"}, "no user message")
    ctx.check_time()
    if ctx.assistant_id.startswith("asst-"):
        ex = ctx.chat(ctx.chat_body(assistant_id=ctx.assistant_id.removeprefix("asst-")))
        _choice(
            ctx,
            "CHAT-REQ-9",
            ex,
            {
                "200": "accepts the bare project id",
                "404 not_found_error": "accepts only the asst- form",
                f"400 {INVALID}": "accepts only the asst- form",
            },
            "bare project id",
        )
    else:
        ctx.skip("CHAT-REQ-9", "the configured assistant id has no asst- prefix")
    ctx.check_time()
    parts = [{"role": "user", "content": [{"type": "text", "text": "What is our refund policy?"}]}]
    ex = ctx.chat(ctx.chat_body(messages=parts))
    _choice(
        ctx, "CHAT-REQ-11", ex, {"200": "accepts them", f"400 {INVALID}": "rejects them"}, "content parts"
    )
