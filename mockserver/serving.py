"""Serving an app: aiohttp's runner, with the router's answers for fixed paths remembered.

aiohttp resolves every request through the app's router: a walk up the path's prefixes, a
coroutine per candidate resource, a new match-info object, then the handler. For the API's
fixed paths (``/v1/chat/completions``, ``/v1/assistants`` …) the answer never changes, and
finding it cost about 13,000 instructions of the ≈330,000 a chat completion took (measured with
valgrind; ``bench/bench_mock.py``). ``RouteMemo`` asks the router once per method and fixed
path, then hands later requests straight to the handler it found, with the same match info, so
handlers, ``request.match_info`` and the response-prepare signals see no difference. Everything
else (paths with variables, static files, 404/405, ``Expect: 100-continue``) goes through the
router every time. Apps with middlewares or sub-apps are served unchanged: their handlers are
composed per request.

The runner also bounds what connections may cost (``Settings``; ``RequestBounds``,
``MockServer``): a request whose header names and values exceed ``max_header_bytes`` gets 431
with the envelope (measured once here and handed to the journal); a connection that has not sent
a complete request head within ``idle_timeout`` of opening (or of its last response) is closed,
which also ends slow-header clients; a body still arriving ``read_timeout`` after its head gets
408 (with the envelope, journaled like any answer); past ``max_connections`` open connections
the oldest idle one is closed. aiohttp's own protocol errors (a malformed request line, too many
headers) are answered with the envelope and logged as one line, not a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, LineTooLong
from aiohttp.streams import StreamReader
from aiohttp.typedefs import Handler
from aiohttp.web_urldispatcher import PlainResource, PrefixedSubAppResource, UrlMappingMatchInfo

from mockserver import jsonio
from mockserver.errors import InvalidRequestError, envelope
from mockserver.journal import header_bytes
from mockserver.keys import HEAD_BYTES

try:
    import resource
except ImportError:  # pragma: no cover - Windows: no descriptor limits to mind
    resource = None  # type: ignore[assignment]

__all__ = ["Limits", "MockRunner", "RequestBounds", "RouteMemo", "StartupError", "serve"]

log = logging.getLogger("ragen_mock")

RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
# aiohttp's parser refuses a header line (name and value) longer than this, so a request with
# n headers holds at most n * FIELD_LIMIT bytes of them: few headers need no counting.
FIELD_LIMIT = 8190
BACKLOG = 128  # aiohttp's listen backlog: asyncio accepts up to this many in one go
# Descriptors kept free of connections: the process's own (state file, logs, the listener) and
# one accept burst, accepted before the oldest idle connections can be closed to make room.
FD_RESERVE = 64 + BACKLOG
CAP_WARN_EVERY_S = 10.0


class StartupError(Exception):
    """The mock cannot start (a busy port): one line for the user, exit code 2."""


@dataclass(frozen=True)
class Limits:
    """What a connection may cost; from the app's settings (``Limits.of``)."""

    max_header_bytes: int = 65536
    idle_timeout: float = 60.0
    max_connections: int = 4096
    read_timeout: float = 60.0

    @classmethod
    def of(cls, app: web.Application) -> Limits:
        from mockserver.context import STATE  # the mock's apps carry their settings here

        state = app.get(STATE)
        if state is None:
            return cls()
        settings = state.settings
        return cls(
            settings.max_header_bytes,
            settings.idle_timeout,
            settings.max_connections,
            settings.read_timeout,
        )


def _error(status: int, message: str, code: str) -> web.Response:
    return web.Response(
        body=jsonio.dumps(envelope(message, InvalidRequestError.type, code)),
        status=status,
        content_type="application/json",
    )


class RequestTimeoutError(InvalidRequestError, TimeoutError):
    """408: the body did not arrive in time. A ``TimeoutError`` too, so that aiohttp, reading
    what is left of the body after the response, ends the connection quietly."""

    status = 408


def _expire(payload: StreamReader, seconds: float) -> None:
    """Still arriving after ``seconds``: whoever reads the body gets 408 (and the envelope)."""
    if not payload.is_eof():
        payload.set_exception(
            RequestTimeoutError(
                f"The request body did not arrive within {seconds:g} s (ragen-mock --read-timeout).",
                code="request_timeout",
            )
        )


class RequestBounds:
    """The checks around ``handle``: 431 with the envelope past ``limit`` bytes of headers (the
    size is left on the request, ``HEAD_BYTES``, for the journal's accounting), and a 408 for
    whoever reads a body that has not arrived within ``read_timeout`` seconds."""

    def __init__(self, handle: RequestHandler, limit: int, read_timeout: float = 60.0) -> None:
        self._handle = handle
        self.limit = limit
        self.read_timeout = read_timeout
        self._few = limit // FIELD_LIMIT  # up to this many headers cannot exceed the limit

    def too_large(self, request: web.BaseRequest) -> web.Response | None:
        raw = request.raw_headers
        if len(raw) <= self._few:
            return None
        size = request[HEAD_BYTES] = header_bytes(raw)
        if size <= self.limit:
            return None
        return _error(
            431,
            f"The request's header fields hold {size} bytes; the limit is {self.limit} "
            "(ragen-mock --max-header-bytes).",
            "request_header_fields_too_large",
        )

    async def with_read_timeout(self, handle: RequestHandler, request: web.BaseRequest) -> web.StreamResponse:
        """``handle(request)`` for a request whose body is still arriving (a clock runs out
        ``read_timeout`` later; most bodies arrive with their head and need none)."""
        payload = request.content
        timer = asyncio.get_running_loop().call_later(self.read_timeout, _expire, payload, self.read_timeout)
        try:
            return await handle(request)
        finally:
            timer.cancel()

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        refused = self.too_large(request)
        if refused is not None:
            return refused
        if not request.content.is_eof():
            return await self.with_read_timeout(self._handle, request)
        return await self._handle(request)


class RouteMemo:
    """``app``'s request handler (``resolve_and_handle``: the router, then the route's handler)
    with what the router found for fixed paths remembered, per (method, path); behind the
    header-size check (``RequestBounds``, in the same call: one coroutine less per request)."""

    def __init__(
        self, resolve_and_handle: RequestHandler, header_limit: int = 65536, read_timeout: float = 60.0
    ) -> None:
        self._resolve_and_handle = resolve_and_handle
        self._known: dict[tuple[str, str], tuple[Handler, UrlMappingMatchInfo]] = {}
        self._limit = RequestBounds(resolve_and_handle, header_limit, read_timeout)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        assert isinstance(request, web.Request)  # the app's request factory makes them
        refused = self._limit.too_large(request)
        if refused is not None:
            return refused
        if not request.content.is_eof():
            return await self._limit.with_read_timeout(self._dispatch, request)
        # What _dispatch does, inline: the usual request is spared one coroutine.
        known = self._known.get((request.method, request.rel_url.path_safe))
        if known is None or hdrs.EXPECT in request.headers:
            response = await self._resolve_and_handle(request)
            self._remember(request)
            return response
        handler, match_info = known
        request._match_info = match_info  # what the router would have set (Application._handle)
        return await handler(request)

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        assert isinstance(request, web.Request)
        known = self._known.get((request.method, request.rel_url.path_safe))
        if known is None or hdrs.EXPECT in request.headers:
            response = await self._resolve_and_handle(request)
            self._remember(request)
            return response
        handler, match_info = known
        request._match_info = match_info  # what the router would have set (Application._handle)
        return await handler(request)

    def _remember(self, request: web.Request) -> None:
        """Keep the router's answer if it is a fixed path's route: the same for every request
        with this method and path. (So the memo holds at most one entry per such route.)"""
        match_info = request.match_info
        route = match_info.route
        if isinstance(route.resource, PlainResource) and not match_info:
            self._known[(request.method, request.rel_url.path_safe)] = (route.handler, match_info)


def memo_applies(app: web.Application) -> bool:
    """Whether a route's handler alone answers its requests: no middleware, no sub-app."""
    return not app.middlewares and not any(
        isinstance(resource, PrefixedSubAppResource) for resource in app.router.resources()
    )


class MockRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, with its protocol errors answered as the mock answers."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        # Never the offending bytes themselves (nor aiohttp's message quoting them): they may hold a key.
        status, code = 400, "malformed_request"
        text = f"Malformed HTTP request ({type(exc).__name__})."
        if isinstance(exc, LineTooLong):
            code, text = "line_too_long", f"A request line or header is longer than {exc.args[1]} bytes."
        elif isinstance(exc, BadHttpMessage) and "Too many headers" in exc.message:
            status, code = 431, "request_header_fields_too_large"
            text = "The request has too many header fields."
        log.warning("rejected a malformed request from %s: %s", request.remote, text)
        response = _error(status, text, code)
        response.force_close()
        return response


class MockServer(web.Server):
    """aiohttp's server with ``MockRequestHandler`` connections, at most ``max_connections``."""

    def __init__(self, *args: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections
        self._warned_at = -CAP_WARN_EVERY_S

    def __call__(self) -> web.RequestHandler:
        return MockRequestHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: web.RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        if len(self._connections) > self.max_connections:
            self._make_room(handler)

    def _make_room(self, newcomer: web.RequestHandler) -> None:
        """Close the oldest connection with no request in progress (a slow or idle client),
        else the newcomer: a flood of idle connections cannot lock out a real client.
        (Closed connections stay listed until their task ends: they are not counted.)"""
        live = [h for h in self._connections if not h._force_close]
        if len(live) <= self.max_connections:
            return
        victim = next((h for h in live if h is not newcomer and not h._request_in_progress), newcomer)
        now = time.monotonic()
        if now - self._warned_at >= CAP_WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "%d connections open (--max-connections %d): closing the oldest idle ones",
                len(live),
                self.max_connections,
            )
        victim.force_close()


def connection_cap(wanted: int) -> int:
    """``wanted``, kept below the process's descriptor limit (accept() failing is worse: asyncio
    then stops accepting for a second and logs a traceback each time)."""
    if resource is None:
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


def raise_descriptor_limit() -> None:
    """The soft descriptor limit up to the hard one (a server's usual first step)."""
    if resource is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class MockRunner(web.AppRunner):
    """``web.AppRunner`` whose server remembers the router's answers (``RouteMemo``) and keeps
    the connection bounds (``Limits``)."""

    __slots__ = ()

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        limits = Limits.of(self.app)
        kwargs = dict(server._kwargs)
        kwargs.setdefault("keepalive_timeout", limits.idle_timeout)
        handle = server.request_handler
        mock = MockServer(
            RouteMemo(handle, limits.max_header_bytes, limits.read_timeout)
            if memo_applies(self.app)
            else RequestBounds(handle, limits.max_header_bytes, limits.read_timeout),
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            max_connections=connection_cap(limits.max_connections),
            **kwargs,
        )
        return mock


def serve(
    app: web.Application,
    *,
    host: str,
    port: int,
    shutdown_timeout: float = 5.0,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut down gracefully: open responses (streams)
    get ``shutdown_timeout`` seconds to finish, then the app's shutdown and cleanup hooks run.
    ``on_ready(port)`` runs once listening, with the bound port (the real one for port 0).
    A port that cannot be bound raises ``StartupError``."""
    raise_descriptor_limit()
    asyncio.run(_serve(app, host=host, port=port, shutdown_timeout=shutdown_timeout, on_ready=on_ready))


async def _serve(
    app: web.Application,
    *,
    host: str,
    port: int,
    shutdown_timeout: float,
    on_ready: Callable[[int], None] | None,
) -> None:
    asyncio.get_running_loop().set_exception_handler(_AcceptErrors())
    runner = MockRunner(app, access_log=None, shutdown_timeout=shutdown_timeout, handle_signals=False)
    await runner.setup()
    # Everything built so far (modules, the spec, its validators) lives as long as the process:
    # out of the collector's sight, so its full passes walk only what requests leave behind.
    gc.collect()
    gc.freeze()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        if on_ready is not None:
            on_ready(bound_port(site, port))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


class _AcceptErrors:
    """The loop's exception handler: a failed ``accept()`` (out of descriptors) is one warning
    line at most every ``CAP_WARN_EVERY_S`` seconds, not a traceback per attempt."""

    def __init__(self) -> None:
        self._warned_at = -CAP_WARN_EVERY_S

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and "accept" in str(context.get("message", "")):
            now = time.monotonic()
            if now - self._warned_at >= CAP_WARN_EVERY_S:
                self._warned_at = now
                log.warning(
                    "cannot accept connections: %s (raise ulimit -n, or lower --max-connections)",
                    exc.strerror,
                )
            return
        loop.default_exception_handler(context)


def bound_port(site: web.TCPSite, fallback: int) -> int:
    """The port ``site`` listens on (``fallback`` if it cannot tell)."""
    server = site._server
    for sock in getattr(server, "sockets", None) or ():
        return int(sock.getsockname()[1])
    return fallback
