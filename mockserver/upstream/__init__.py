"""The mock in front of the real thing: ``ragen-mock --upstream URL`` (and ``--replay DIR``).

Every ``/v1/...`` request goes to the upstream with the client's own ``Authorization`` and its
answer comes back unchanged (``relay``); the exchange is then judged by the rules the gate uses
(``verdict``, ``ragen_spec.judge``), journaled with its violations, and recorded with
``--record DIR`` (``mockserver.recording``). ``--replay DIR`` answers from recordings instead,
with no upstream. The mock's own stages stay around the route: journal, CORS, fault injection
(a 503 or a cut stream injected into real traffic) and the error envelope; the rate limit and
the mock's handlers do not (the upstream has its own).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web
from ragen_spec.exchange import Observation
from yarl import URL

from mockserver.auth import mask
from mockserver.context import STATE
from mockserver.errors import NotFoundError
from mockserver.journal import Entry, entry_of
from mockserver.pipeline import Wrap
from mockserver.recording import Recorder, Recording, Replayer
from mockserver.settings import Settings, SettingsError
from mockserver.upstream.events import shown
from mockserver.upstream.relay import HOP_BY_HOP, Passed, Relay, until_client_leaves
from mockserver.upstream.verdict import decoded, violations

__all__ = ["add_proxy_routes"]

log = logging.getLogger("ragen_mock")
API_ROUTE = "/v1/{tail:.*}"


def _caller_key(request: web.BaseRequest, entry: Entry) -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer" and key.strip():
        entry.key = mask(key.strip())


class Proxy:
    """The forwarding side: one client session to the upstream, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        assert settings.upstream is not None
        self.base = settings.upstream.rstrip("/")
        self.timeout = settings.upstream_timeout
        self.recorder = Recorder(settings.record) if settings.record else None
        self.tiers = (
            {"chat": settings.chat_limit, "assistants": settings.assistants_limit}
            if settings.rate_limits
            else None
        )
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout, sock_read=self.timeout),
                auto_decompress=False,  # the bytes go back as they came
                cookie_jar=aiohttp.DummyCookieJar(),  # one client's cookies are not another's
            )
        return self._session

    async def close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        entry = entry_of(request)
        _caller_key(request, entry)
        body = await request.read()
        entry.req_body = body or None
        url = URL(self.base + request.rel_url.raw_path_qs, encoded=True)
        relay = Relay(request, entry, self.session(), str(url), body, request.app[STATE].faults)
        task = asyncio.ensure_future(relay.run())
        if await until_client_leaves(request, task):
            relay.passed.client_left = True
            response = relay.response or web.Response(status=499)  # nginx's "client closed request"
        else:
            response = task.result()
        self._conclude(request, entry, body, relay.passed)
        return response

    def _conclude(self, request: web.Request, entry: Entry, body: bytes, passed: Passed) -> None:
        """Judge what passed; record it when asked (an answer a fault changed is not recorded)."""
        if passed.status == 0:
            return  # the upstream never answered: the proxy's own error, nothing to judge
        readable = decoded(bytes(passed.body), passed.headers.get("Content-Encoding"))
        if readable is None:
            entry.violations = []
            return
        observed = Observation(
            method=request.method,
            path=request.path,
            request_body=body or None,
            status=passed.status,
            headers=passed.headers,
            body=readable,
            truncated=passed.client_left or passed.stalled or not passed.kept_all or passed.fault is not None,
            dropped=passed.dropped,
            request_headers=request.headers,
        )
        if passed.fault is None:  # a stream the mock's fault changed shows the fault, not the upstream
            entry.violations = violations(observed, request.query_string, tiers=self.tiers)
        else:
            entry.violations = []
        entry.resp_body = readable if not passed.streamed else None
        if self.recorder is not None and passed.fault is None and not passed.client_left and passed.kept_all:
            recording = Recording.of(
                method=request.method,
                path=request.path,
                query=request.query_string,
                request_headers=request.headers,
                request_body=body or None,
                status=passed.status,
                headers={k: v for k, v in passed.headers.items() if k.lower() not in HOP_BY_HOP},
                body=readable,
                events=passed.events if passed.streamed else None,
                cut=passed.dropped or passed.stalled,
                violations=entry.violations,
            )
            self.recorder.write(recording)


class Replay:
    """The replaying side: answers from a directory of recordings, paced as they were recorded."""

    def __init__(self, settings: Settings) -> None:
        assert settings.replay is not None
        try:
            self.recordings = Replayer(settings.replay)
        except (OSError, ValueError) as exc:  # a missing directory, a file that is not JSON
            raise SettingsError(f"replay: {exc}") from None
        self.speed = settings.replay_speed
        self.tiers = (
            {"chat": settings.chat_limit, "assistants": settings.assistants_limit}
            if settings.rate_limits
            else None
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        entry = entry_of(request)
        _caller_key(request, entry)
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
        recorded_id = found.headers.get("x-request-id") or found.headers.get("X-Request-Id")
        if recorded_id:
            entry.id = recorded_id
        if found.events is None:
            response: web.StreamResponse = web.Response(
                body=found.raw_body, status=found.status, headers=found.headers
            )
            entry.violations = found.violations
            return response
        return await self._stream(request, entry, found)

    async def _stream(self, request: web.Request, entry: Entry, found: Recording) -> web.StreamResponse:
        response = web.StreamResponse(status=found.status, headers=found.headers)
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


def add_proxy_routes(app: web.Application, wrap: Wrap, settings: Settings) -> None:
    """Route every ``/v1/...`` request, any method, to the upstream or to the recordings."""
    if settings.replay is not None:
        handler: Any = Replay(settings).handle
    else:
        proxy = Proxy(settings)
        app.on_cleanup.append(proxy.close)
        handler = proxy.handle
    app.router.add_route("*", API_ROUTE, wrap(handler))
