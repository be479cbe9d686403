"""Upstreams for the proxy's tests, none of them the mock.

- ``alt_app(faults)``: the independent alt server (``tests/conformance/altserver.py``), correct
  without faults, breaking one rule per planted fault; ``misnamed_list`` adds one it lacks.
- ``fixed_app()``: fixed bytes, odd but valid (CRLF event lines, comments, ``retry:``, a gzip
  body, repeated headers), so a test can compare what the proxy passes with what was sent.
- ``cutting_app()``: a stream the upstream cuts (no terminator, connection dropped).
- ``slow_app(delay)``: answers after ``delay`` seconds; ``endless_app()``: a stream that goes on
  until its client leaves, counting the streams it serves.
- ``garbage_server()``: a TCP server that answers something that is not HTTP.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from tests.conformance import altserver

EXTRA_FAULTS = {"misnamed_list": "the assistants list is called 'assistant.list'"}


def alt_app(faults: frozenset[str] = frozenset(), **options: Any) -> web.Application:
    app = altserver.create_app(altserver.Options(faults=faults - set(EXTRA_FAULTS), **options))
    if "misnamed_list" in faults:
        app.middlewares.append(_misname_list)
    return app


@web.middleware
async def _misname_list(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.path == "/v1/assistants" and request.method == "GET" and isinstance(response, web.Response):
        body = json.loads(response.body)  # type: ignore[arg-type]
        body["object"] = "assistant.list"
        response.body = json.dumps(body).encode()
    return response


JSON_BODY = b'{ "id" : "chatcmpl-fixed",\r\n  "note": "spacing kept" }'
STREAM_BODY = (
    b": a comment first\r\n\r\n"
    b"retry: 1500\r\n"
    b'data: {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "m",'
    b' "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"},'
    b' "finish_reason": null, "logprobs": null}]}\r\n\r\n'
    b'data: {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "m",'
    b' "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": null}]}\r\n\r\n'
    b"data: [DONE]\r\n\r\n"
)
GZIP_PLAIN = b'{"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false}'
GZIP_BODY = gzip.compress(GZIP_PLAIN, mtime=0)


def fixed_app() -> web.Application:
    async def fixed_json(request: web.Request) -> web.StreamResponse:
        headers = [("Content-Type", "application/json"), ("X-Request-Id", "req-upstream-1")]
        headers += [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Custom", "kept")]
        return web.Response(body=JSON_BODY, status=201, headers=CIMultiDict(headers))

    async def fixed_stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "X-Custom": "sse"})
        await response.prepare(request)
        for piece in STREAM_BODY.split(b"\r\n\r\n")[:-1]:
            await response.write(piece + b"\r\n\r\n")
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    async def fixed_gzip(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "x-request-id": "r-gz"}
        return web.Response(body=GZIP_BODY, headers=headers)

    async def no_request_id(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b'{"ok": true}', content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", fixed_stream)
    app.router.add_post("/v1/fixed", fixed_json)
    app.router.add_get("/v1/assistants", fixed_gzip)
    app.router.add_get("/v1/no-id", no_request_id)
    return app


def cutting_app() -> web.Application:
    """Streams two valid chunks, then drops the connection: no [DONE], no end of the body."""

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "x-request-id": "r-cut"})
        await response.prepare(request)
        first = STREAM_BODY.split(b"\r\n\r\n")[2]
        await response.write(first + b"\r\n\r\n")
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", cut)
    return app


def slow_app(delay: float) -> web.Application:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(delay)
        return web.json_response({"late": True})

    app = web.Application()
    app.router.add_route("*", "/v1/{tail:.*}", slow)
    return app


class Endless:
    """An upstream whose streams go on (a chunk every 50 ms, at most 60 s) until the client leaves."""

    def __init__(self) -> None:
        self.active = 0
        self.started = 0
        self.ended_by_client = 0

    def app(self) -> web.Application:
        async def endless(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            self.active += 1
            self.started += 1
            try:
                for i in range(1200):
                    chunk = {"id": "chatcmpl-e", "object": "chat.completion.chunk", "n": i}
                    await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    await asyncio.sleep(0.05)
            except (ConnectionError, asyncio.CancelledError):
                self.ended_by_client += 1
            finally:
                self.active -= 1
            return response

        app = web.Application()
        app.router.add_post("/v1/chat/completions", endless)
        return app


@contextmanager
def garbage_server() -> Iterator[str]:
    """A loopback TCP server answering every connection with bytes that are not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"this is not HTTP at all\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def closed_port() -> str:
    """A loopback URL nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
