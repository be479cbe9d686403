"""Fabricated exchanges, streams and contexts for the gate's unit tests (no server needed)."""

from __future__ import annotations

import json
from typing import Any

from requests.structures import CaseInsensitiveDict

from conformance.config import RunConfig, Target
from conformance.context import Context, Evidence
from conformance.exchange import Exchange
from conformance.results import Kind


def exchange(
    status: int = 200,
    body: bytes | str = b"",
    *,
    content_type: str = "application/json",
    request: Any = None,
    method: str = "POST",
    path: str = "/v1/chat/completions",
    headers: dict[str, str] | None = None,
) -> Exchange:
    raw = body.encode() if isinstance(body, str) else body
    return Exchange(
        method=method,
        url=f"http://127.0.0.1:1{path}",
        request_headers={"Authorization": "Bearer sk-secret", "Content-Type": "application/json"},
        request_body=json.dumps(request).encode() if request is not None else None,
        status=status,
        headers=CaseInsensitiveDict({"content-type": content_type, **(headers or {})}),
        body=raw,
        elapsed=0.01,
        secrets={"sk-secret": "RAGEN_API_KEY"},
    )


def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
    data = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
    }
    data.update(extra)
    return "data: " + json.dumps(data) + "\n\n"


def choice(delta: dict[str, Any], reason: str | None = None) -> list[dict[str, Any]]:
    return [{"index": 0, "delta": delta, "finish_reason": reason}]


GOOD = (
    chunk(choice({"role": "assistant"}))
    + chunk(choice({"content": "Hi"}))
    + chunk(choice({}, "stop"))
    + "data: [DONE]\n\n"
)


def stream(body: str, request: dict[str, Any] | None = None) -> Exchange:
    return exchange(200, body, content_type="text/event-stream", request=request or {"stream": True})


def ids(problems: list[tuple[str, str]]) -> set[str]:
    return {rid for rid, _ in problems}


def context(target: Target | None = None) -> Context:
    target = target or Target("http://127.0.0.1:1", "sk-secret")
    return Context(RunConfig(target=target), None, Evidence())  # type: ignore[arg-type]


class FakeClient:
    def __init__(self, target: Target) -> None:
        self.target = target


def run_response_check(func: Any, ex: Exchange) -> list[tuple[str, Kind]]:
    target = Target("http://127.0.0.1:1", "sk-secret")
    ctx = Context(RunConfig(target=target), FakeClient(target), Evidence())  # type: ignore[arg-type]
    func(ctx, ex)
    return [(f.requirement, f.kind) for f in ctx.evidence.findings]
