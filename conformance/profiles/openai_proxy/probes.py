"""Probe checks of the openai-proxy profile: each sends its own requests.

Operations: POST /v1/chat/completions and GET /v1/models in spec/openai-proxy.yaml. The shape of
every answer is judged by the response checks; probes judge what a shape cannot say (statuses,
``n``, stop sequences, ``max_tokens``, the model table).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from conformance.context import Context, brief
from conformance.errors import Failure, Skip
from conformance.exchange import Exchange
from conformance.profiles.openai_proxy.registry import body, check, model
from conformance.profiles.openai_proxy.responses import stream_problems

INVALID = {"invalid_request_error"}
LONG_QUESTION = "Write a detailed story of at least one hundred words about a robot who learns to paint."


def _answer(ctx: Context, requirement: str, **fields: Any) -> tuple[dict[str, Any], Exchange]:
    exchange = ctx.chat(body(ctx, LONG_QUESTION, **fields))
    payload = exchange.json()
    if (
        exchange.status != 200
        or not isinstance(payload, dict)
        or not isinstance(payload.get("choices"), list)
    ):
        raise Failure(
            requirement,
            f"a valid request ({_fields(fields)}) got {exchange.status} {brief(exchange)}",
            exchange=exchange,
        )
    return payload, exchange


def _fields(fields: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {json.dumps(v)}" for k, v in fields.items()) or "no options"


def _content(choice: Any) -> str:
    message = choice.get("message") if isinstance(choice, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _stream_texts(exchange: Exchange) -> dict[int, str]:
    """Choice index -> the concatenated delta.content of a stream."""
    texts: dict[int, str] = {}
    for event in exchange.stream.events:
        try:
            payload = json.loads(event.data)
        except ValueError:
            continue
        for choice in payload.get("choices") or [] if isinstance(payload, dict) else []:
            if isinstance(choice, dict) and isinstance(choice.get("index"), int):
                delta: dict[str, Any] = choice["delta"] if isinstance(choice.get("delta"), dict) else {}
                texts[choice["index"]] = texts.get(choice["index"], "") + str(delta.get("content") or "")
    return texts


# -- models ------------------------------------------------------------------------------------------


@check("PROXY-MODELS-1", "PROXY-AUTH-3", group="models")
def proxy_lists_models(ctx: Context) -> None:
    """GET /v1/models answers an OpenAI list of model objects."""
    exchange = ctx.request("GET", "/v1/models")
    listing = exchange.json()
    if exchange.status != 200 or not isinstance(listing, dict):
        raise Failure(
            "PROXY-MODELS-1", f"GET /v1/models got {exchange.status} {brief(exchange)}", exchange=exchange
        )
    ctx.expect(
        listing.get("object") == "list" and isinstance(listing.get("data"), list),
        "PROXY-MODELS-1",
        "not a list object: expected object 'list' and a data array",
        exchange,
    )
    for entry in listing.get("data") or []:
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("id"), str)
            and entry.get("object") == "model"
            and isinstance(entry.get("created"), int)
            and isinstance(entry.get("owned_by"), str)
        )
        if not ctx.expect(ok, "PROXY-MODELS-1", f"not a model object: {json.dumps(entry)[:160]}", exchange):
            break
    anonymous = ctx.request("GET", "/v1/models", key=None)
    ctx.note("PROXY-AUTH-3", f"GET /v1/models without a key answers {anonymous.status}", anonymous)


@check("PROXY-MODELS-2", group="models")
def proxy_listed_models_answer(ctx: Context) -> None:
    """Every id GET /v1/models lists (up to 8) is accepted as a model."""
    listed: list[str] = ctx.facts.get("proxy_models") or []
    if not listed:
        raise Skip("GET /v1/models listed no model")
    for name in listed[:8]:
        ctx.check_time()
        exchange = ctx.chat({"model": name, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5})
        ctx.expect(
            exchange.status == 200,
            "PROXY-MODELS-2",
            f"listed model {name!r} got {exchange.status} {brief(exchange)}",
            exchange,
        )


@check("PROXY-MODEL-1", "PROXY-MODEL-2", "PROXY-MODEL-4", group="models")
def proxy_unknown_model_is_404(ctx: Context) -> None:
    """A model that is neither configured nor an alias gets 404 model_not_found with param model."""
    unknown = f"no-such-model-{uuid.uuid4().hex[:8]}"
    # A comma is still just an unknown name (some proxies fan a list of models out instead).
    for name in (unknown, f"{unknown},{unknown}-b"):
        ctx.check_time()
        exchange = ctx.chat({"model": name, "messages": [{"role": "user", "content": "Hi"}]})
        what = f"an unknown model {name!r}"
        types = {"not_found_error", "invalid_request_error"}
        if not ctx.expect_error(exchange, 404, types, "PROXY-MODEL-1", what):
            continue
        error = exchange.error or {}
        ctx.expect(  # the document's example; OpenAI answers param null
            error.get("param") == "model",
            "PROXY-MODEL-4",
            f"{what}: param {error.get('param')!r}, expected 'model'",
            exchange,
        )
        ctx.expect(
            error.get("code") == "model_not_found",
            "PROXY-MODEL-1",
            f"{what}: code {error.get('code')!r}, expected 'model_not_found'",
            exchange,
        )
        if name == unknown:
            ctx.note("PROXY-MODEL-2", f"an unknown model gets type {error.get('type')!r}", exchange)


@check("PROXY-MODEL-3", group="models")
def proxy_response_model(ctx: Context) -> None:
    """What `model` a response carries (the name sent, or the model it routes to)."""
    payload, exchange = _answer(ctx, "PROXY-RESP-1", max_tokens=5)
    ctx.note("PROXY-MODEL-3", f"asked {model(ctx)!r}, the response says {payload.get('model')!r}", exchange)


# -- chat --------------------------------------------------------------------------------------------


@check("PROXY-REQ-1", "PROXY-ERR-PARAM-1", group="chat")
def proxy_rejects_missing_fields(ctx: Context) -> None:
    """A request without model or without messages gets 400 invalid_request_error."""
    full = body(ctx)
    for what, payload, param in (
        ("without model", {"messages": full["messages"]}, "model"),
        ("without messages", {"model": full["model"]}, "messages"),
    ):
        ctx.check_time()
        ctx.expect_error(ctx.chat(payload), 400, INVALID, "PROXY-REQ-1", f"a request {what}", param=param)


@check("PROXY-REQ-2", "PROXY-ERR-PARAM-1", group="chat")
def proxy_rejects_out_of_range(ctx: Context) -> None:
    """temperature outside 0–2, penalties outside -2…2 and wrongly typed parameters get 400."""
    cases: list[tuple[str, Any]] = [
        ("temperature", 2.5),
        ("temperature", -0.5),
        ("frequency_penalty", 2.5),
        ("presence_penalty", -2.5),
        ("temperature", "hot"),
        ("max_tokens", "many"),
        ("n", "two"),
        ("stream", "yes"),
        ("stop", 7),
    ]
    for field, value in cases:
        ctx.check_time()
        ctx.expect_error(
            ctx.chat(body(ctx, **{field: value})),
            400,
            INVALID,
            "PROXY-REQ-2",
            f"{field}: {json.dumps(value)}",
            param=field,
        )


@check("PROXY-REQ-3", group="chat")
def proxy_rejects_openai_invalid(ctx: Context) -> None:
    """Empty messages, max_tokens or n below 1, top_p above 1, a bad or missing role get 400 (OpenAI)."""
    cases: list[tuple[str, dict[str, Any]]] = [
        ("messages: []", {"messages": []}),
        ("max_tokens: 0", {"max_tokens": 0}),
        ("n: 0", {"n": 0}),
        ("top_p: 1.5", {"top_p": 1.5}),
        ("role 'robot'", {"messages": [{"role": "robot", "content": "Hi"}]}),
        ("a message without role", {"messages": [{"content": "Hi"}]}),
    ]
    for what, fields in cases:
        ctx.check_time()
        ctx.expect_error(ctx.chat(body(ctx, **fields)), 400, INVALID, "PROXY-REQ-3", what)


@check("PROXY-REQ-4", "PROXY-REQ-5", "PROXY-USER-1", group="chat")
def proxy_accepts_documented_parameters(ctx: Context) -> None:
    """The document's complete request, user, stop as string and array, n: 1, and an unknown field get 200."""
    complete = {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Explain quantum computing in simple terms."},
        ],
        "temperature": 0.7,
        "max_tokens": 150,
        "top_p": 1.0,
        "frequency_penalty": 0.0,
        "presence_penalty": 0.0,
        "stop": None,
        "stream": False,
    }
    for what, fields in (
        ("the complete example", complete),
        ("user", {"user": "user-1234"}),
        ("stop as a string", {"stop": "\n\n"}),
        ("stop as an array", {"stop": ["\n\n", "10."]}),
        ("n: 1", {"n": 1}),
    ):
        ctx.check_time()
        exchange = ctx.chat(body(ctx, **fields))
        ctx.expect(
            exchange.status == 200, "PROXY-REQ-4", f"{what} got {exchange.status} {brief(exchange)}", exchange
        )
    unknown = ctx.chat(body(ctx, max_tokens=5, conformance_unknown_field=True))
    ctx.note("PROXY-REQ-5", f"an unknown body field gets {unknown.status}", unknown)
    ctx.note("PROXY-USER-1", "`user` is accepted; what it changes is not observable", None)


@check("PROXY-N-1", "PROXY-N-2", group="chat")
def proxy_n_gives_n_choices(ctx: Context) -> None:
    """n: 3 gives exactly three choices with the indexes 0, 1, 2 (JSON and streaming)."""
    payload, exchange = _answer(ctx, "PROXY-N-1", n=3, max_tokens=20)
    indexes = [c.get("index") for c in payload["choices"] if isinstance(c, dict)]
    ctx.expect(indexes == [0, 1, 2], "PROXY-N-1", f"n: 3 gave choices with indexes {indexes}", exchange)
    distinct = len({_content(c) for c in payload["choices"]})
    ctx.note("PROXY-N-2", f"n: 3 gave {distinct} distinct answer(s)", exchange)
    stream = ctx.chat(body(ctx, LONG_QUESTION, n=2, max_tokens=20, stream=True))
    if stream.status != 200:
        raise Failure(
            "PROXY-N-1", f"streaming with n: 2 got {stream.status} {brief(stream)}", exchange=stream
        )
    seen = sorted(_stream_texts(stream))
    ctx.expect(seen == [0, 1], "PROXY-N-1", f"a stream with n: 2 carried choice indexes {seen}", stream)


def _stop_word(text: str) -> str | None:
    """A word from the middle of ``text`` (its first occurrence is where a stop must cut)."""
    words = [w for w in re.findall(r"[A-Za-z]{4,}", text)]
    return words[len(words) // 2] if len(words) >= 3 else None


def _past_stop(text: str, word: str) -> bool:
    """Whether ``text`` goes on past ``word`` (ending with it is PROXY-STOP-2's business)."""
    return word in text and not text.rstrip().endswith(word)


@check("PROXY-STOP-1", "PROXY-STOP-2", group="chat")
def proxy_stop_cuts_the_answer(ctx: Context) -> None:
    """Nothing follows a stop sequence from the answer; as with OpenAI, it is left out and ends "stop"."""
    full, _ = _answer(ctx, "PROXY-STOP-1", max_tokens=60)
    text = _content(full["choices"][0])
    word = _stop_word(text)
    if word is None:
        raise Skip(f"the answer is too short to pick a stop sequence from: {text[:80]!r}")
    for stop in (word, ["zzzz-never-there", word]):
        ctx.check_time()
        payload, exchange = _answer(ctx, "PROXY-STOP-1", max_tokens=60, stop=stop)
        choice = payload["choices"][0] if payload["choices"] else {}
        content = _content(choice)
        if not ctx.expect(
            not _past_stop(content, word),
            "PROXY-STOP-1",
            f"stop {json.dumps(stop)}: the content goes on past {word!r}: {content[:120]!r}",
            exchange,
        ):
            continue
        ctx.expect(
            word not in content,
            "PROXY-STOP-2",
            f"stop {json.dumps(stop)}: the content ends with the stop sequence {word!r}",
            exchange,
        )
    stream = ctx.chat(body(ctx, LONG_QUESTION, max_tokens=60, stop=word, stream=True))
    if stream.status == 200:
        streamed = _stream_texts(stream).get(0, "")
        ctx.expect(
            not _past_stop(streamed, word),
            "PROXY-STOP-1",
            f"streaming with stop {word!r}: the text goes on past it: {streamed[:120]!r}",
            stream,
        )


@check("PROXY-LEN-1", group="chat")
def proxy_max_tokens_cuts_with_length(ctx: Context) -> None:
    """max_tokens: 2 (n: 2) cuts each choice with "length", at most 2 tokens per choice; each choice
    judged by itself (a multi-word "stop" under a 2-token limit is no answer that fit)."""
    cut, exchange = _answer(ctx, "PROXY-LEN-1", max_tokens=2, n=2)
    for choice in (c for c in cut["choices"] if isinstance(c, dict)):
        reason, words = choice.get("finish_reason"), len(_content(choice).split())
        if reason == "length":
            ctx.passed("PROXY-LEN-1")
        elif words > 2:
            ctx.fail(
                "PROXY-LEN-1",
                f"max_tokens: 2 was answered with {words} words and finish_reason {reason!r}",
                exchange,
            )
    tokens = (cut.get("usage") or {}).get("completion_tokens")
    ctx.expect(
        not isinstance(tokens, int) or tokens <= 2 * 2,
        "PROXY-LEN-1",
        f"max_tokens: 2, n: 2 but completion_tokens is {tokens}",
        exchange,
    )


# -- streaming ---------------------------------------------------------------------------------------


@check("PROXY-STREAM-1", "PROXY-STREAM-2", "PROXY-STREAM-3", "PROXY-STREAM-4", group="streaming")
def proxy_streams(ctx: Context) -> None:
    """Streams with and without include_usage, and with n: 2, are well-formed (see the response check)."""
    for fields in (
        {},
        {"stream_options": {"include_usage": True}},
        {"n": 2, "stream_options": {"include_usage": True}},
    ):
        ctx.check_time()
        exchange = ctx.chat(body(ctx, LONG_QUESTION, max_tokens=30, stream=True, **fields))
        if exchange.status != 200:
            raise Failure(
                "PROXY-STREAM-1",
                f"stream: true ({_fields(fields)}) got {exchange.status} {brief(exchange)}",
                exchange=exchange,
            )
        # The response check proxy_stream_events judges the events; here only that it ran.
        if not exchange.stream.events:
            ctx.fail("PROXY-STREAM-1", f"stream: true ({_fields(fields)}) sent no event", exchange)


@check("PROXY-STREAM-2", group="streaming")
def proxy_stream_is_the_whole_answer(ctx: Context) -> None:
    """A finished stream's concatenated content is an answer: non-empty when it ends with "stop" or
    when its own usage counts completion tokens (judged within the one stream)."""
    stream = ctx.chat(
        body(ctx, LONG_QUESTION, max_tokens=30, stream=True, stream_options={"include_usage": True})
    )
    if stream.status != 200 or stream_problems(stream):
        return  # proxy_stream_events reports a broken stream
    text = _stream_texts(stream).get(0, "")
    payloads = [p for p in (_json(e.data) for e in stream.stream.events) if isinstance(p, dict)]
    choices = [c for p in payloads for c in p.get("choices") or [] if isinstance(c, dict)]
    reasons = [c.get("finish_reason") for c in choices]
    usage: dict[str, Any] = next((p["usage"] for p in payloads if isinstance(p.get("usage"), dict)), {})
    if "stop" in reasons or (usage.get("completion_tokens") or 0) > 0:
        ctx.expect(
            bool(text.strip()),
            "PROXY-STREAM-2",
            f"a finished stream carried no content (finish_reason {reasons[-1:]}, usage {usage})",
            stream,
        )


def _json(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


# -- errors and auth ---------------------------------------------------------------------------------


@check("PROXY-BODY-1", "PROXY-5XX-1", group="errors")
def proxy_malformed_bodies_are_400(ctx: Context) -> None:
    """Invalid JSON, a JSON array, a JSON string and an empty body get 400 invalid_request_error."""
    for what, data in (
        ("invalid JSON", b'{"model": '),
        ("a JSON array", b"[1, 2]"),
        ("a JSON string", b'"hi"'),
        ("an empty body", b""),
    ):
        ctx.check_time()
        # Connection: close, so a server that crashes on the body cannot poison the next request's connection.
        headers = {"Content-Type": "application/json", "Connection": "close"}
        exchange = ctx.request("POST", "/v1/chat/completions", data=data, headers=headers)
        ctx.expect_error(exchange, 400, INVALID, "PROXY-BODY-1", f"a body that is {what}")


def _expect_401(ctx: Context, exchange: Exchange, requirement: str, what: str) -> None:
    # The type is the document's own name (PROXY-ERR-TYPE-1, checked on every response): OpenAI's
    # 401 says invalid_request_error, and that is not this rule's business.
    got = f"{exchange.status} {brief(exchange)}"
    ctx.expect(exchange.status == 401, requirement, f"{what}: expected 401, got {got}", exchange)


@check("PROXY-AUTH-1", group="auth")
def proxy_missing_key_is_401(ctx: Context) -> None:
    """A request without Authorization gets 401."""
    _expect_401(ctx, ctx.chat(body(ctx, "Hi"), key=None), "PROXY-AUTH-1", "no Authorization header")


@check("PROXY-AUTH-2", group="auth")
def proxy_unknown_key_is_401(ctx: Context) -> None:
    """An unknown key gets 401."""
    unknown = ctx.chat(body(ctx, "Hi"), key=f"sk-conformance-{uuid.uuid4().hex}")
    _expect_401(ctx, unknown, "PROXY-AUTH-2", "an unknown key")


@check("PROXY-AUTH-4", group="auth")
def proxy_non_bearer_is_401(ctx: Context) -> None:
    """The valid key sent as Authorization: Basic gets 401 authentication_error."""
    basic = ctx.request(
        "POST",
        "/v1/chat/completions",
        json_body=body(ctx, "Hi"),
        key=None,
        headers={"Authorization": f"Basic {ctx.target.api_key}"},
    )
    ctx.expect_error(
        basic, 401, {"authentication_error"}, "PROXY-AUTH-4", "the valid key as Authorization: Basic"
    )
