"""``--upstream URL``: each ``/v1/`` request relayed to the upstream (``relay``), then judged
(``verdict``) and, with ``--record DIR``, recorded (``mockserver.recording``)."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from ragen_spec.exchange import Observation
from yarl import URL

from mockserver.context import STATE
from mockserver.journal import Entry, entry_of
from mockserver.recording import Recorder, Recording
from mockserver.settings import Settings
from mockserver.upstream.journaling import caller_key, judged_tiers
from mockserver.upstream.relay import HOP_BY_HOP, Passed, Relay, until_client_leaves
from mockserver.upstream.verdict import decoded, violations

__all__ = ["Proxy"]


class Proxy:
    """The forwarding side: one client session to the upstream, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        assert settings.upstream is not None
        self.base = settings.upstream.rstrip("/")
        self.timeout = settings.upstream_timeout
        self.recorder = Recorder(settings.record) if settings.record else None
        self.tiers = judged_tiers(settings)
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
        caller_key(request, entry)
        body = await request.read()
        entry.req_body = body or None
        url = URL(self.base + request.rel_url.raw_path_qs, encoded=True)
        relay = Relay(request, entry, self.session(), str(url), body, request.app[STATE].faults)
        task = asyncio.ensure_future(relay.run())
        left = await until_client_leaves(request, task)
        if not left:
            try:
                response = task.result()  # the proxy's own 502/504 propagate: the envelope
            except ConnectionError:  # the client went away while the answer was starting
                left = True
        if left:
            relay.passed.client_left = True
            response = relay.response or web.Response(status=499)  # nginx's "client closed request"
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
