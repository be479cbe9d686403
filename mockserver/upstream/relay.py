"""One request relayed to the upstream and its answer back, unchanged and unbuffered.

The answer goes back as it arrives, chunk by chunk, with the upstream's status and headers (less
the hop-by-hop ones); the proxy adds ``x-request-id`` only when the upstream sent none (and the
CORS headers for a browser, as the mock does). What passed is kept for the journal, the verdict
and the recording, up to ``KEPT_BYTES``. A stream fault armed on the mock (``cut_stream``,
``malformed_chunk``, ``error_event``) fires between the upstream's events.

Failures before the answer started are the proxy's own errors in the envelope: 502 when the
upstream is unreachable or answers something that is not HTTP, 504 when it does not answer in
time. After the answer started, the client sees what the upstream did: a cut stays a cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from mockserver.errors import ServerError, envelope
from mockserver.faults import FAULT_HEADER, STREAM_KINDS, Fault, Faults
from mockserver.journal import Entry
from mockserver.keys import STREAM_FAULT
from mockserver.upstream.events import EventSplitter, shown

__all__ = ["HOP_BY_HOP", "KEPT_BYTES", "Passed", "Relay", "until_client_leaves"]

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", FAULT_HEADER}
# Headers aiohttp's client would add on its own: the upstream gets only what the client sent.
_SKIP_AUTO = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
KEPT_BYTES = 8 * 1024 * 1024


@dataclass
class Passed:
    """What went through, for the journal, the verdict and the recording."""

    status: int = 0
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    body: bytearray = field(default_factory=bytearray)
    events: list[tuple[float, bytes]] = field(default_factory=list)  # (ms since the request, raw event)
    streamed: bool = False  # text/event-stream
    kept_all: bool = True  # False: more than KEPT_BYTES passed
    dropped: bool = False  # the upstream cut the answer short
    stalled: bool = False  # the upstream stopped sending (timeout)
    client_left: bool = False
    fault: str | None = None  # the stream fault that fired, if one did


class Relay:
    def __init__(
        self,
        request: web.Request,
        entry: Entry,
        session: aiohttp.ClientSession,
        url: str,
        body: bytes,
        faults: Faults,
    ) -> None:
        self.request = request
        self.entry = entry
        self.session = session
        self.url = url
        self.body = body
        self.faults = faults
        self.passed = Passed()
        self.response: web.StreamResponse | None = None
        self._splitter: EventSplitter | None = None
        self._fault: Fault | None = None
        self._sent_events = 0

    def _outgoing_headers(self) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in self.request.headers.items():
            if name.lower() not in _NOT_FORWARDED:
                headers.add(name, value)
        return headers

    async def run(self) -> web.StreamResponse:
        try:
            upstream = await self.session.request(
                self.request.method,
                self.url,
                headers=self._outgoing_headers(),
                data=self.body or None,
                allow_redirects=False,
                skip_auto_headers=_SKIP_AUTO,
            )
        except TimeoutError:
            raise ServerError(
                "The upstream did not answer in time (--upstream-timeout).",
                status=504,
                code="upstream_timeout",
            ) from None
        except aiohttp.ClientResponseError as exc:
            raise _bad_gateway(f"The upstream answered something that is not HTTP: {exc.message}") from None
        except aiohttp.ClientError as exc:
            raise _bad_gateway(f"The upstream is unreachable: {exc}") from None
        try:
            response = await self._start(upstream)
            await self._pass_body(upstream)
        finally:
            # Read to the end: the connection goes back to the pool. Otherwise (the client left,
            # a fault ended the stream, the task was cancelled) it is closed, which is what tells
            # the upstream to stop.
            if upstream.content.at_eof():
                upstream.release()
            else:
                upstream.close()
        if self.passed.dropped or self.passed.stalled:
            _abort(self.request)
        elif not self.passed.client_left:
            with contextlib.suppress(ConnectionError):
                await response.write_eof()
        return response

    async def _start(self, upstream: aiohttp.ClientResponse) -> web.StreamResponse:
        passed = self.passed
        passed.status = upstream.status
        passed.headers = CIMultiDict(upstream.headers)
        response = self.response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        for name, value in upstream.headers.items():
            if name.lower() not in HOP_BY_HOP:
                response.headers.add(name, value)
        request_id = upstream.headers.get("x-request-id", "").strip()
        if request_id:
            self.entry.id = request_id  # the journal is searched by the id the client saw
        else:
            response.headers["x-request-id"] = self.entry.id
        if self.entry.decorate is not None:
            self.entry.decorate(self.request, response)  # CORS for a browser, as the mock does
        passed.streamed = upstream.content_type == "text/event-stream"
        if passed.streamed:
            self._splitter = EventSplitter()
            self._fault = self.request.get(STREAM_FAULT) or (
                self.faults.take(STREAM_KINDS, self.request.method, self.request.path, self.body)
                if self.faults.armed
                else None
            )
            if self._fault is not None:
                response.headers.popall("Content-Length", None)  # the fault changes the length
        await response.prepare(self.request)
        return response

    async def _pass_body(self, upstream: aiohttp.ClientResponse) -> None:
        passed = self.passed
        try:
            async for chunk in upstream.content.iter_any():
                if not await self._pass(chunk):
                    return
        except TimeoutError:
            passed.stalled = True
        except aiohttp.ClientError:
            passed.dropped = True
        if self._splitter is not None:
            rest = self._splitter.rest()
            if rest:
                self._note_event(rest)
        if passed.dropped or passed.stalled:
            self.entry.add_chunk("<the upstream cut the answer short>")

    async def _pass(self, chunk: bytes) -> bool:
        """Forward one chunk; False once the client left or a fault ended the stream."""
        passed = self.passed
        if len(passed.body) + len(chunk) <= KEPT_BYTES:
            passed.body += chunk
        else:
            passed.kept_all = False
        if self._splitter is None:
            return await self._write(chunk)
        events = self._splitter.feed(chunk)
        if self._fault is None:  # the usual case: bytes out as they came in
            for event in events:
                self._note_event(event)
            return await self._write(chunk)
        for event in events:  # with a fault armed: event by event, so it fires between two
            self._note_event(event)
            fault = self._fault
            due = fault is not None and (
                self._sent_events >= fault.after_chunks or event.startswith(b"data: [DONE]")
            )
            if due and fault is not None and not await self._fire(fault, event):
                return False
            if not await self._write(event):
                return False
            self._sent_events += 1
        return True

    def _note_event(self, event: bytes) -> None:
        self.passed.events.append((self.entry.elapsed_ms(), event))
        text = shown(event)
        if text is not None:
            self.entry.add_chunk(text)

    async def _write(self, data: bytes) -> bool:
        assert self.response is not None
        try:
            await self.response.write(data)
        except ConnectionError:
            self.passed.client_left = True
            return False
        return True

    async def _fire(self, fault: Fault, event: bytes) -> bool:
        """The armed stream fault, before ``event``; False when it ended the stream."""
        self._fault = None
        self.passed.fault = fault.kind
        if fault.kind == "malformed_chunk":
            text = event.decode("utf-8", "replace").strip()
            return await self._write((text[: max(len(text) // 2, 7)] + "\x7b\n\n").encode())
        if fault.kind == "error_event":
            failure = envelope("upstream model failed (injected fault)", ServerError.type, "upstream_error")
            body = json.dumps(failure)
            await self._write(f"data: {body}\n\n".encode())
            self.entry.add_chunk(body)
            return False
        self.entry.add_chunk("<connection cut by fault>")
        _abort(self.request)
        self.passed.client_left = True
        return False


def _bad_gateway(message: str) -> ServerError:
    return ServerError(message, status=502, code="bad_gateway")


def _abort(request: web.BaseRequest) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def until_client_leaves(request: web.BaseRequest, task: asyncio.Task[web.StreamResponse]) -> bool:
    """Wait for ``task``; cancel it (and so the upstream request) if the client goes away first.
    True when the client left."""
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.2)
        if done:
            return False
        transport = request.transport
        if transport is None or transport.is_closing():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            return True
