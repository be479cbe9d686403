"""``POST /v1/chat/completions`` (JSON and SSE) and the native ``POST /v1/chat``."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mockserver import jsonio
from mockserver.answers import compose
from mockserver.context import MockState
from mockserver.errors import InvalidRequestError
from mockserver.journal import entry_of
from mockserver.operations import Call
from mockserver.state import AssistantRecord, Thread

__all__ = ["HANDLERS"]

CONTEXT_TOKENS = 32000  # CHAT-LEN-2: the mock's context window, in estimated tokens


# Ids need to be unique, not secret: a random part per process and a counter. (A getrandom()
# call or a 96-bit random number per request cost a noticeable share of a request's budget.)
_UNIQUE = os.urandom(6).hex()
_serial = itertools.count(1)


def _id(prefix: str) -> str:
    return prefix + _UNIQUE + str(next(_serial))


@dataclass(slots=True)  # not a NamedTuple: see answers.Prompt
class Reply:
    """The answer to one request, computed once for JSON and SSE alike (CHAT-STREAM-8)."""

    parts: tuple[str, ...]
    content: str  # the parts joined
    finish_reason: str
    prompt_tokens: int
    instructions: str | None

    @property
    def usage(self) -> dict[str, int]:
        completion = len(self.parts)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def _reply(
    state: MockState,
    record: AssistantRecord,
    messages: list[dict[str, str]],
    *,
    max_tokens: int | None,
    extra_context: str | None = None,
) -> Reply:
    prompt = compose(record.instructions, messages, extra_context=extra_context)
    if prompt.tokens > CONTEXT_TOKENS:
        raise InvalidRequestError(
            f"This model's maximum context length is {CONTEXT_TOKENS} tokens; the prompt has about "
            f"{prompt.tokens}.",
            code="context_length_exceeded",
            param="messages",
        )
    answer, parts = state.knowledge(record).answer_pieces(prompt.question)
    if max_tokens is not None and len(parts) > max_tokens:
        parts = parts[:max_tokens]
        return Reply(parts, "".join(parts), "length", prompt.tokens, prompt.instructions)
    return Reply(parts, answer.text, "stop", prompt.tokens, prompt.instructions)


async def _save_thread(
    request: web.Request, call: Call, record: AssistantRecord, reply: Reply, messages: list[dict[str, str]]
) -> None:
    """DEBUG-1: a debug key's conversation becomes a thread of its assistant."""
    await call.state.store.add_thread(
        Thread(
            id=_id("thread_"),
            assistant_id=record.id,
            key=call.caller.masked,
            created_at=int(time.time()),
            request_id=entry_of(request).id,
            instructions=reply.instructions,
            messages=[{"role": m["role"], "content": m["content"]} for m in messages],
            answer=reply.content,
        )
    )


_REST_MEMO: dict[tuple[str, str, str, int, int], bytes] = {}


def _completion_rest(model: str, reply: Reply) -> bytes:
    """A chat.completion's JSON after ``created`` (model, choices, usage): the same for the same
    reply, so rendered once; only the id and the time differ per request. (The key leaves out
    the parts: hashing a tuple of them on every request would cost more than it saves.)"""
    key = (model, reply.content, reply.finish_reason, reply.prompt_tokens, len(reply.parts))
    rest = _REST_MEMO.get(key)
    if rest is None:
        if len(_REST_MEMO) >= 1024:
            _REST_MEMO.clear()
        rest = _REST_MEMO[key] = jsonio.dumps(
            {
                "model": model,
                "system_fingerprint": None,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content, "refusal": None},
                        "finish_reason": reply.finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": reply.usage,
            }
        )[1:]  # without its "{": it continues the object opened with the id
    return rest


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(body=jsonio.dumps(payload), content_type="application/json")


async def create_chat_completion(request: web.Request, call: Call) -> web.StreamResponse:
    state: MockState = call.state
    body = call.body
    record = state.assistant(call.caller, body["assistant_id"])
    messages: list[dict[str, str]] = body["messages"]
    # JSON Schema's "integer" admits 1.0; the spec validated it, so it is a whole number.
    max_tokens = None if body.get("max_tokens") is None else int(body["max_tokens"])
    reply = _reply(state, record, messages, max_tokens=max_tokens)
    if call.caller.debug:
        await _save_thread(request, call, record, reply, messages)
    model = state.store.model_of(record.org_id)  # CHAT-REQ-4: whatever `model` was sent
    completion_id = _id("chatcmpl-")
    created = int(time.time())
    if not body.get("stream"):
        body_bytes = b'{"id":"%s","object":"chat.completion","created":%d,%s' % (
            completion_id.encode(),
            created,
            _completion_rest(model, reply),
        )
        return web.Response(body=body_bytes, content_type="application/json")
    options = body.get("stream_options") or {}
    include_usage = bool(options.get("include_usage"))
    return await _stream_completion(request, state, reply, completion_id, created, model, include_usage)


async def _stream_completion(
    request: web.Request,
    state: MockState,
    reply: Reply,
    completion_id: str,
    created: int,
    model: str,
    include_usage: bool,
) -> web.StreamResponse:
    head = (
        f'{{"id":"{completion_id}","object":"chat.completion.chunk","created":{created},'
        f'"model":{jsonio.dumps_str(model)},"system_fingerprint":null,"choices":['
    )
    tail = '],"usage":null}' if include_usage else "]}"  # CHAT-USAGE-STREAM-1/3
    async with state.streaming(request) as stream:
        await stream.send(
            head
            + '{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"logprobs":null}'
            + tail,
            paced=False,
        )
        for part in reply.parts:
            await stream.send(
                head
                + '{"index":0,"delta":{"content":'
                + jsonio.dumps_str(part)
                + '},"finish_reason":null,"logprobs":null}'
                + tail
            )
        await stream.send(
            head
            + '{"index":0,"delta":{},"finish_reason":"'
            + reply.finish_reason
            + '","logprobs":null}'
            + tail,
            paced=False,
        )
        if include_usage:  # CHAT-USAGE-STREAM-2: choices empty, right before [DONE]
            await stream.send(head + '],"usage":' + jsonio.dumps_str(reply.usage) + "}", paced=False)
        await stream.done()
    return stream.response


async def create_native_chat(request: web.Request, call: Call) -> web.StreamResponse:
    state: MockState = call.state
    body = call.body
    raw_id = body.get("assistant_id") or call.caller.assistant_id
    if raw_id is None:
        raise InvalidRequestError(
            "This API key is not bound to an assistant; send 'assistant_id'.",
            code="missing_required_parameter",
            param="assistant_id",
        )
    record = state.assistant(call.caller, raw_id)
    context = body.get("context") or {}
    page = "\n".join(f"{k}: {context[k]}" for k in ("url", "title", "text") if context.get(k))
    messages = [{"role": "user", "content": body["content"]}]
    reply = _reply(
        state, record, messages, max_tokens=None, extra_context=f"Page context:\n{page}" if page else None
    )
    if call.caller.debug:
        await _save_thread(request, call, record, reply, messages)
    result = {
        "id": _id("chat-"),
        "object": "ragen.chat",
        "created": int(time.time()),
        "assistant_id": record.id,
        "content": reply.content,
    }
    if not body.get("stream"):
        return _json(result)
    async with state.streaming(request, named_events=True) as stream:
        for part in reply.parts:
            await stream.send(jsonio.dumps_str({"content": part}), event="delta")
        await stream.send(jsonio.dumps_str(result), event="done", paced=False)
        await stream.close()
    return stream.response


HANDLERS = {
    "createChatCompletion": create_chat_completion,
    "createNativeChat": create_native_chat,
}
