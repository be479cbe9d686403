"""Servers for the proxy's tests: an upstream (never the mock) and ``ragen-mock --upstream`` in front."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from aiohttp import web

from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings


class Servers:
    """Starts servers on loopback; all stopped when the test ends."""

    def __init__(self) -> None:
        self._started: list[BackgroundServer] = []

    def start(self, factory: Callable[[], web.Application]) -> BackgroundServer:
        server = BackgroundServer(factory).start()
        self._started.append(server)
        return server

    def proxy(self, upstream: str | None = None, **settings: object) -> BackgroundServer:
        """``ragen-mock --upstream upstream`` (or ``--replay``), tiers as the alt server's defaults."""
        chosen = Settings(upstream=upstream, **settings)  # type: ignore[arg-type]
        return self.start(lambda: create_app(chosen))

    def stop(self, server: BackgroundServer) -> None:
        server.stop()
        self._started.remove(server)

    def close(self) -> None:
        for server in reversed(self._started):
            server.stop()


@pytest.fixture
def servers() -> Iterator[Servers]:
    started = Servers()
    yield started
    started.close()
