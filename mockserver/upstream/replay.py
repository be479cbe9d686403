"""``--replay DIR``: ``/v1/`` answered from recordings (``mockserver.recording``), no upstream;
streams paced as recorded, scaled by ``--replay-speed``."""

from __future__ import annotations

import asyncio

from aiohttp import web

from mockserver.errors import NotFoundError
from mockserver.journal import Entry, entry_of
from mockserver.recording import Recording, Replayer
from mockserver.settings import Settings, SettingsError
from mockserver.upstream.events import shown
from mockserver.upstream.journaling import caller_key

__all__ = ["Replay"]


class Replay:
    """The replaying side: answers from a directory of recordings, paced as they were recorded."""

    def __init__(self, settings: Settings) -> None:
        assert settings.replay is not None
        try:
            self.recordings = Replayer(settings.replay)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # no directory, a broken file
            raise SettingsError(f"replay: {exc}") from None
        self.speed = settings.replay_speed

    async def handle(self, request: web.Request) -> web.StreamResponse:
        entry = entry_of(request)
        caller_key(request, entry)
        body = await request.read()
        entry.req_body = body or None
        found = self.recordings.find(request.method, request.path, request.query_string, body)
        if found is None:
            closest = self.recordings.closest(request.method, request.path, request.query_string, body)
            hint = f" The closest is {closest[0]}: {closest[1]}." if closest else " The directory is empty."
            raise NotFoundError(
                f"No recording matches {request.method} {request.path} with this body.{hint}",
                code="no_recording",
            )
        if found.events is None:
            response: web.StreamResponse = web.Response(
                body=found.raw_body, status=found.status, headers=_served_headers(found)
            )
            entry.violations = found.violations
            return response
        return await self._stream(request, entry, found)

    async def _stream(self, request: web.Request, entry: Entry, found: Recording) -> web.StreamResponse:
        response = web.StreamResponse(status=found.status, headers=_served_headers(found))
        entry.stamp(request, response)
        await response.prepare(request)
        previous = 0.0
        assert found.events is not None
        try:
            for event in found.events:
                t_ms = float(event.get("t_ms", previous))
                if self.speed > 0 and t_ms > previous:
                    await asyncio.sleep((t_ms - previous) / 1000 / self.speed)
                previous = max(previous, t_ms)
                raw = str(event["text"]).encode()
                await response.write(raw)
                text = shown(raw)
                if text is not None:
                    entry.add_chunk(text)
        except ConnectionError:
            return response  # the client left
        if found.ended == "cut":
            transport = request.transport
            if transport is not None:
                transport.abort()
        else:
            await response.write_eof()
        entry.violations = found.violations
        return response


def _served_headers(found: Recording) -> dict[str, str]:
    """The recorded headers, but a replayed answer is a new exchange: it gets its own
    ``x-request-id`` (the journal's), so two replays of one recording stay apart."""
    return {k: v for k, v in found.headers.items() if k.lower() != "x-request-id"}
