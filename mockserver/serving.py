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
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from aiohttp.web_urldispatcher import PlainResource, PrefixedSubAppResource, UrlMappingMatchInfo

__all__ = ["MockRunner", "RouteMemo", "serve"]

RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class RouteMemo:
    """``app``'s request handler (``resolve_and_handle``: the router, then the route's handler)
    with what the router found for fixed paths remembered, per (method, path)."""

    def __init__(self, resolve_and_handle: RequestHandler) -> None:
        self._resolve_and_handle = resolve_and_handle
        self._known: dict[tuple[str, str], tuple[Handler, UrlMappingMatchInfo]] = {}

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        assert isinstance(request, web.Request)  # the app's request factory makes them
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


class MockRunner(web.AppRunner):
    """``web.AppRunner`` whose server remembers the router's answers (``RouteMemo``)."""

    __slots__ = ()

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        if memo_applies(self.app):
            server.request_handler = RouteMemo(server.request_handler)
        return server


def serve(app: web.Application, *, host: str, port: int, shutdown_timeout: float = 5.0) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut down gracefully: open responses (streams)
    get ``shutdown_timeout`` seconds to finish, then the app's shutdown and cleanup hooks run."""
    asyncio.run(_serve(app, host=host, port=port, shutdown_timeout=shutdown_timeout))


async def _serve(app: web.Application, *, host: str, port: int, shutdown_timeout: float) -> None:
    runner = MockRunner(app, access_log=None, shutdown_timeout=shutdown_timeout, handle_signals=False)
    await runner.setup()
    # Everything built so far (modules, the spec, its validators) lives as long as the process:
    # out of the collector's sight, so its full passes walk only what requests leave behind.
    gc.collect()
    gc.freeze()
    try:
        await web.TCPSite(runner, host, port).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
