"""Serve an aiohttp application on a loopback port from a background thread.

Used by tests, benchmarks and ``ragen-conformance --against-mock``: the caller gets a real
HTTP server on 127.0.0.1 (port 0 = a free one) without owning an event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from mockserver.serving import MockRunner

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """``with BackgroundServer(app) as server: httpx.get(server.url + "/healthz")``.

    ``app`` may be an Application or a zero-argument factory; a factory runs inside the server's
    loop, which matters for apps that create loop-bound objects at construction.
    """

    def __init__(
        self,
        app: web.Application | Callable[[], web.Application],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 2.0,
    ) -> None:
        self._app = app
        self.host = host
        self.port = port
        self._shutdown_timeout = shutdown_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ragen-server", daemon=True)
        self._runner: MockRunner | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        self.app = self._app if isinstance(self._app, web.Application) else self._app()
        self._runner = MockRunner(self.app, shutdown_timeout=self._shutdown_timeout, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None)  # an asyncio.Server once start() returned
        assert sockets
        self.port = sockets[0].getsockname()[1]

    def call(self, coro_factory: Callable[[], object]) -> object:
        """Run a coroutine on the server's loop (e.g. to poke app state) and return its result."""

        async def _run() -> object:
            result = coro_factory()
            if asyncio.iscoroutine(result):
                return await result
            return result

        return asyncio.run_coroutine_threadsafe(_run(), self._loop).result(timeout=30)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
            self._runner = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
