"""The proxy's operations: ``POST /v1/chat/completions`` (JSON and per-choice SSE), ``GET /v1/models``.

Authentication, body parsing and validation against spec/openai-proxy.yaml happen before these
handlers (``mockserver.operations.bind``); they only resolve the model and answer.
"""

from __future__ import annotations

import os
import time
from typing import Any

from aiohttp import web

from mockserver.context import MockState
from mockserver.errors import NotFoundError
from mockserver.jsonio import dumps, dumps_str
from mockserver.operations import Call
from mockserver.proxy.completions import Completion, complete
from mockserver.proxy.config import ProxyConfig

__all__ = ["CONFIG", "HANDLERS", "complete"]

CONFIG = web.AppKey("proxy_config", ProxyConfig)


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(body=dumps(payload), content_type="application/json")


async def create_chat_completion(request: web.Request, call: Call) -> web.StreamResponse:
    config = request.app[CONFIG]
    body = call.body
    model = config.resolve(body["model"])
    if model is None:  # PROXY-MODEL-1/2
        raise NotFoundError(
            f"The model '{body['model']}' does not exist", code="model_not_found", param="model"
        )
    completion = complete(
        model.id,
        body["messages"],
        # JSON Schema's integers include 16.0; Python's range() does not.
        n=int(body.get("n") or 1),
        stop=body.get("stop"),
        max_tokens=None if body.get("max_tokens") is None else int(body["max_tokens"]),
        blocked_words=config.blocked_words,
    )
    head = {"id": "chatcmpl-" + os.urandom(12).hex(), "created": int(time.time()), "model": model.id}
    if not body.get("stream"):
        return _json(
            {
                **head,
                "object": "chat.completion",
                "system_fingerprint": None,
                "choices": [
                    {
                        "index": c.index,
                        "message": {"role": "assistant", "content": c.content, "refusal": None},
                        "finish_reason": c.finish_reason,
                        "logprobs": None,
                    }
                    for c in completion.choices
                ],
                "usage": completion.usage,
            }
        )
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    return await _stream(request, call, completion, head, include_usage)


def _chunk(
    head: dict[str, Any], choices: list[dict[str, Any]], include_usage: bool, usage: Any = None
) -> str:
    chunk = {**head, "object": "chat.completion.chunk", "system_fingerprint": None, "choices": choices}
    if include_usage:
        chunk["usage"] = usage  # null on every chunk but the last (OpenAI convention)
    return dumps_str(chunk)


def _delta(index: int, delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
    return [{"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}]


async def _stream(
    request: web.Request, call: Call, completion: Completion, head: dict[str, Any], include_usage: bool
) -> web.StreamResponse:
    """One choice per chunk, choices interleaved piece by piece as OpenAI streams ``n`` > 1."""
    state: MockState = call.state
    async with state.streaming(request) as stream:
        for choice in completion.choices:
            role = {"role": "assistant", "content": ""}
            await stream.send(_chunk(head, _delta(choice.index, role), include_usage), paced=False)
        longest = max((len(c.parts) for c in completion.choices), default=0)
        for position in range(longest):
            for choice in completion.choices:
                if position < len(choice.parts):
                    delta = {"content": choice.parts[position]}
                    await stream.send(_chunk(head, _delta(choice.index, delta), include_usage))
        for choice in completion.choices:
            finish = _delta(choice.index, {}, choice.finish_reason)
            await stream.send(_chunk(head, finish, include_usage), paced=False)
        if include_usage:
            await stream.send(_chunk(head, [], True, completion.usage), paced=False)
        await stream.done()
    return stream.response


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    return _json({"object": "list", "data": request.app[CONFIG].listing()})


HANDLERS = {"createChatCompletion": create_chat_completion, "listModels": list_models}
