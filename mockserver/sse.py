"""The one Server-Sent Events writer: headers, ``data:`` framing, pacing, the terminator, faults.

Handlers pass it payload strings; it owns everything on the wire (CHAT-STREAM-1/5/7), records
each event with its time in the journal, applies the stream faults, and stops quietly when the
client goes away (the handler then returns; no task outlives the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web

from mockserver.errors import ServerError, envelope
from mockserver.faults import STREAM_KINDS, Fault, Faults
from mockserver.journal import Entry, entry_of
from mockserver.keys import STREAM_FAULT

__all__ = ["ClientGone", "EventStream"]

DONE = "[DONE]"
log = logging.getLogger("ragen_mock")


class ClientGone(Exception):
    """The client closed the connection, or an injected fault cut it."""


class EventStream:
    def __init__(
        self,
        request: web.Request,
        *,
        delay_s: float = 0.0,
        faults: Faults | None = None,
        named_events: bool = False,
    ) -> None:
        self.request = request
        self.named = named_events  # native streams name every event, errors included
        self.delay_s = delay_s
        self.entry: Entry = entry_of(request)
        self.fault: Fault | None = request.get(STREAM_FAULT)
        if self.fault is None and faults is not None and faults.armed:
            self.fault = faults.take(STREAM_KINDS, request.method, request.path, self.entry.req_body)
        self.response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            },
        )
        self.sent = 0  # events written, the terminator excluded
        self.closed = False

    async def __aenter__(self) -> EventStream:
        self.entry.stamp(self.request, self.response)
        await self.response.prepare(self.request)
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> bool:
        if exc is None or isinstance(exc, ClientGone):
            await self._finish()
            return True
        if isinstance(exc, (ConnectionError, asyncio.CancelledError)):
            return False
        # A failure after the stream started: one error event, then close (CHAT-STREAM-7). The
        # headers are gone, so the pipeline's errors stage could not answer any more: handled here.
        log.error(
            "stream of %s failed", self.request.path, exc_info=exc if isinstance(exc, BaseException) else None
        )
        body = json.dumps(envelope("The mock failed mid-stream.", ServerError.type, "internal_error"))
        with contextlib.suppress(ClientGone):
            await self._write_raw("error" if self.named else None, body)
        await self._finish()
        return True

    async def _finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        transport = self.request.transport
        if transport is None or transport.is_closing():
            return
        with contextlib.suppress(ConnectionError):
            await self.response.write_eof()

    async def _write_raw(self, event: str | None, data: str) -> None:
        transport = self.request.transport
        if self.closed or transport is None or transport.is_closing():
            raise ClientGone
        frame = f"data: {data}\n\n" if event is None else f"event: {event}\ndata: {data}\n\n"
        try:
            await self.response.write(frame.encode())
        except ConnectionError:
            raise ClientGone from None
        self.entry.add_chunk(data if event is None else f"event: {event}\n{data}")

    async def send(self, data: str, *, event: str | None = None, paced: bool = True) -> None:
        """One event; ``paced`` events wait the per-chunk delay first."""
        if paced and self.delay_s > 0:
            await asyncio.sleep(self.delay_s)
        fault = self.fault
        if fault is not None and self.sent >= fault.after_chunks:
            await self._fire(fault, event, data)
        await self._write_raw(event, data)
        self.sent += 1

    async def _fire(self, fault: Fault, event: str | None, data: str) -> None:
        self.fault = None
        if fault.kind == "malformed_chunk":
            # Half a payload and a stray brace: not JSON, whatever the payload was.
            await self._write_raw(event, data[: max(len(data) // 2, 1)] + "\x7b")
            return
        if fault.kind == "error_event":
            body = json.dumps(
                envelope("upstream model failed (injected fault)", ServerError.type, "upstream_error")
            )
            await self._write_raw("error" if self.named else None, body)
            await self._finish()
            raise ClientGone
        # cut_stream: drop the connection without a terminator.
        self.closed = True
        self.entry.add_chunk("<connection cut by fault>")
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        raise ClientGone

    async def close(self) -> None:
        """End the stream; a stream fault not yet fired fires now (the stream was too short)."""
        if self.fault is not None and self.fault.kind != "malformed_chunk":
            await self._fire(self.fault, None, "")
        await self._finish()

    async def done(self) -> None:
        """The terminator (CHAT-STREAM-5); nothing follows it."""
        if self.fault is not None and self.fault.kind != "malformed_chunk":
            await self._fire(self.fault, None, "")
        await self._write_raw(None, DONE)
        await self._finish()
