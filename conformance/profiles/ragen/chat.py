"""Chat completions: request validation, the JSON answer, max_tokens, and the MAY points.

Operation: POST /v1/chat/completions in spec/openapi.yaml.
"""

from __future__ import annotations

import uuid
from typing import Any

from ragen_spec import judge

from conformance.context import Context, brief
from conformance.errors import Failure
from conformance.exchange import Exchange
from conformance.profiles.ragen.calls import assistant_id, chat_body
from conformance.profiles.ragen.registry import check

INVALID = "invalid_request_error"


@check("CHAT-REQ-1", "ERR-PARAM-1", group="chat", needs=("assistant_id",), cost={"chat": 4})
def chat_rejects_missing_fields(ctx: Context) -> None:
    """Missing assistant_id or messages, or 0 / 101 messages, get 400 invalid_request_error."""
    body = chat_body(ctx)
    cases = [
        ("without assistant_id", {"messages": body["messages"]}, "assistant_id"),
        ("without messages", {"assistant_id": assistant_id(ctx)}, "messages"),
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
        body = chat_body(ctx)
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
        body = chat_body(
            ctx, messages=[{"role": role, "content": "hello"}, {"role": "user", "content": "hi"}]
        )
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
        body = chat_body(ctx) if model is None else chat_body(ctx, model=model)
        exchange = ctx.chat(body)
        ctx.expect_status(
            exchange,
            {200},
            "CHAT-RESP-1" if model is None else "CHAT-REQ-4",
            f"a valid request (model {model!r})",
        )
    # The model comparison itself is the chat_completion_object response check.


def _json_answer(ctx: Context, requirement: str, **fields: Any) -> dict[str, Any]:
    exchange = ctx.chat(chat_body(ctx, "Explain your refund policy in detail, step by step.", **fields))
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or not body.get("choices"):
        raise Failure(
            requirement, f"a valid request got {exchange.status} {brief(exchange)}", exchange=exchange
        )
    return body


_LONG_QUESTION = "Explain your refund policy in detail, step by step."


def _judge_cut(
    ctx: Context, requirement: str, text: str, finish: Any, tokens: Any, exchange: Exchange | None
) -> None:
    """One answer to ``max_tokens: 1``, judged by itself: "length" is right; "stop" is right only
    for an answer that ended before the limit (fewer completion tokens, a single word at most)."""
    if finish == "length":
        ctx.passed(requirement)
    elif len(text.split()) > 1 or (isinstance(tokens, int) and tokens >= 1):
        ctx.fail(
            requirement,
            f"max_tokens: 1 was answered with {len(text.split())} word(s), {tokens} completion token(s) "
            f"and finish_reason {finish!r}: an answer that reached max_tokens ends with 'length'",
            exchange,
        )
    else:
        ctx.skip(requirement, f"the answer ended before max_tokens: 1 ({text!r}, finish_reason {finish!r})")


@check("CHAT-LEN-4", "CHAT-LEN-1", "CHAT-STREAM-8", group="chat", needs=("assistant_id",), cost={"chat": 2})
def chat_max_tokens_cuts_with_length(ctx: Context) -> None:
    """An answer cut by max_tokens ends with finish_reason "length", in JSON and in streams alike
    (each answer judged by itself: a real backend answers differently every time)."""
    cut = _json_answer(ctx, "CHAT-LEN-1", max_tokens=1)
    choice = cut["choices"][0]
    text = str((choice.get("message") or {}).get("content") or "")
    tokens = (cut.get("usage") or {}).get("completion_tokens")
    _judge_cut(ctx, "CHAT-LEN-4", text, choice.get("finish_reason"), tokens, ctx.client.last)
    ctx.check_time()
    stream = ctx.chat(
        chat_body(ctx, _LONG_QUESTION, max_tokens=1, stream=True, stream_options={"include_usage": True})
    )
    if stream.status != 200:
        raise Failure("CHAT-STREAM-8", f"streaming with max_tokens got {stream.status}", exchange=stream)
    reasons = [c.get("finish_reason") for c in _stream_choices(stream)]
    final = next((r for r in reversed(reasons) if r is not None), None)
    tokens = (_stream_usage(stream) or {}).get("completion_tokens")
    _judge_cut(ctx, "CHAT-LEN-4", stream_text(stream), final, tokens, stream)
    ctx.expect(
        not isinstance(tokens, int) or tokens <= 1,
        "CHAT-STREAM-8",
        f"a stream with max_tokens: 1 reports {tokens} completion tokens",
        stream,
    )


def _stream_choices(exchange: Exchange) -> list[dict[str, Any]]:
    return [c for chunk in judge.stream_chunks(exchange) for c in chunk["choices"] if isinstance(c, dict)]


def stream_text(exchange: Exchange) -> str:
    return "".join(str((c.get("delta") or {}).get("content") or "") for c in _stream_choices(exchange))


def _stream_usage(exchange: Exchange) -> dict[str, Any] | None:
    chunks = judge.stream_chunks(exchange)
    return next((dict(c["usage"]) for c in chunks if isinstance(c.get("usage"), dict)), None)


@check("CHAT-REQ-10", "CHAT-REQ-12", "ERR-PARAM-1", group="chat", needs=("assistant_id",), cost={"chat": 6})
def chat_rejects_malformed_messages_and_flags(ctx: Context) -> None:
    """A message that is not {role, string content}, or a wrongly typed stream / stream_options, gets 400."""
    user = {"role": "user", "content": "hi"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("a message that is a string", {"messages": ["hi"]}, "messages"),
        ("a message without role", {"messages": [{"content": "hi"}]}, "messages"),
        ("a message without content", {"messages": [{"role": "user"}]}, "messages"),
        ("content: 42", {"messages": [{"role": "user", "content": 42}]}, "messages"),  # CHAT-REQ-12
        ('stream: "yes"', {"messages": [user], "stream": "yes"}, "stream"),
        (
            'stream: true with stream_options: "yes"',
            {"messages": [user], "stream": True, "stream_options": "yes"},
            "stream_options",
        ),
    ]
    for what, fields, param in cases:
        ctx.check_time()
        body = {"assistant_id": assistant_id(ctx), **fields}
        # The document names no type for content: a number is refused by OpenAI's convention only.
        requirement = "CHAT-REQ-12" if what == "content: 42" else "CHAT-REQ-10"
        ctx.expect_error(ctx.chat(body), 400, INVALID, requirement, f"a request with {what}", param=param)


# Prompts of ~42k, ~170k and ~680k tokens (4 characters a token): past a 32k, a 128k and a 512k
# context. The probe grows the prompt until it is rejected or the body-size limit answers first.
_PROMPT_WORDS = (24_000, 97_000, 390_000)


# Cost: one request against a server whose context is under ~42k tokens; larger contexts cost more.
@check("CHAT-LEN-2", "CHAT-LEN-3", group="chat", needs=("assistant_id",), cost={"chat": 1})
def chat_long_prompt(ctx: Context) -> None:
    """A prompt rejected for its length gets 400 context_length_exceeded; report the threshold (MAY)."""
    for words in _PROMPT_WORDS:
        ctx.check_time()
        prompt = "refund " * words
        what = f"a ~{len(prompt) // 4 // 1000}k-token prompt ({len(prompt) // 1024} KiB)"
        ex = ctx.chat(chat_body(ctx, prompt))
        error = ex.error or {}
        if ex.status == 200:
            ctx.note("CHAT-LEN-3", f"answers {what}: its context is larger (any threshold conforms)")
            continue
        if ex.status == 413:
            ctx.note("CHAT-LEN-3", f"rejects {what} by its body size (413) before judging its length")
            ctx.skip("CHAT-LEN-2", f"the body-size limit answered {what} before its length was judged")
        elif (
            ex.status == 400
            and error.get("code") != "context_length_exceeded"
            and _size_rejected(ctx, ex, prompt)
        ):
            ctx.note("CHAT-LEN-3", f"rejects {what} by its body size (400 {error.get('code')!r}, ERR-SIZE-1)")
            ctx.skip("CHAT-LEN-2", f"the body-size limit answered {what} before its length was judged")
        elif ex.status == 400:
            ctx.note("CHAT-LEN-3", f"rejects {what} ({error.get('code')!r})")
            ctx.expect(
                error.get("type") == INVALID and error.get("code") == "context_length_exceeded",
                "CHAT-LEN-2",
                f"{what} got 400 with type {error.get('type')!r} and code {error.get('code')!r}, "
                "expected invalid_request_error / context_length_exceeded",
                ex,
            )
        else:
            ctx.note("CHAT-LEN-3", f"{what} got {ex.status}")
            ctx.fail(
                "CHAT-LEN-2",
                f"{what} got {ex.status} {brief(ex)}: a prompt rejected for its length gets 400 "
                "context_length_exceeded (or is answered)",
                ex,
            )
        return
    ctx.skip("CHAT-LEN-2", "no prompt was rejected for its length (the largest sent was answered)")


def _size_rejected(ctx: Context, rejected: Exchange, bulk: str) -> bool:
    """Whether a 400 was for the body's size (ERR-SIZE-1 allows 400), not the prompt's length: a body
    as large, with a short prompt and the bulk in ``model`` (accepted and ignored, CHAT-REQ-4), gets
    the same answer."""
    ctx.check_time()
    control = ctx.chat(chat_body(ctx, model=bulk))
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
    ex = ctx.chat(chat_body(ctx, frobnicate=True))
    ctx.choice("CHAT-REQ-6", ex, "an unknown body field")
    ctx.check_time()
    ex = ctx.chat(chat_body(ctx, stream_options={"include_usage": True}))
    if ex.status == 200 and ex.content_type != "application/json":
        ctx.note("CHAT-REQ-7", f"stream_options without stream: answered {ex.content_type!r}, not JSON", ex)
    else:
        ctx.choice("CHAT-REQ-7", ex, "stream_options without stream")
    ctx.check_time()
    ex = ctx.chat(chat_body(ctx, messages=[{"role": "system", "content": "Be brief."}]))
    ctx.choice("CHAT-REQ-8", ex, "no user message")
    ctx.check_time()
    if assistant_id(ctx).startswith("asst-"):
        ex = ctx.chat(chat_body(ctx, assistant_id=assistant_id(ctx).removeprefix("asst-")))
        ctx.choice("CHAT-REQ-9", ex, "bare project id")
    else:
        ctx.skip("CHAT-REQ-9", "the configured assistant id has no asst- prefix")
    ctx.check_time()
    parts = [{"role": "user", "content": [{"type": "text", "text": "What is our refund policy?"}]}]
    ex = ctx.chat(chat_body(ctx, messages=parts))
    ctx.choice("CHAT-REQ-11", ex, "content parts")
