"""Browsers on another origin (CORS), and clients that leave mid-stream."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import aiohttp
import httpx2

from mockserver import demo
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings
from tests.mockserver.conftest import chat_body

ORIGIN = "http://localhost:5173"


def test_preflight_is_answered(server: BackgroundServer) -> None:
    response = httpx2.options(
        server.url + "/v1/chat/completions",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert response.headers["x-request-id"]


def test_streaming_response_carries_cors_headers(server: BackgroundServer) -> None:
    response = httpx2.post(
        server.url + "/v1/chat/completions",
        json=chat_body(stream=True),
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {demo.KEY}"},
    )
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = response.headers["access-control-expose-headers"]
    assert "x-request-id" in exposed and "x-ratelimit-remaining-requests" in exposed
    assert response.text.endswith("data: [DONE]\n\n")
    error = httpx2.post(server.url + "/v1/chat/completions", json={}, headers={"Origin": ORIGIN})
    assert error.status_code == 401 and error.headers["access-control-allow-origin"] == ORIGIN


def test_allowed_origins_are_configurable() -> None:
    with BackgroundServer(lambda: create_app(Settings(cors_origins=(ORIGIN,)))) as strict:
        preflight = {"Access-Control-Request-Method": "POST"}
        good = httpx2.options(strict.url + "/v1/chat", headers={"Origin": ORIGIN, **preflight})
        evil = httpx2.options(strict.url + "/v1/chat", headers={"Origin": "http://evil.example", **preflight})
        assert good.status_code == 204
        assert evil.status_code == 403 and evil.json()["error"]["type"] == "permission_error"
        plain = httpx2.get(strict.url + "/healthz", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in plain.headers


def test_client_disconnect_mid_stream_leaves_no_task() -> None:
    """Twenty slow streams (30 chunks, 200 ms apart) abandoned after two chunks: their handlers end
    within a chunk's delay, long before the 6 s the streams would have taken, and leave no task."""

    with BackgroundServer(lambda: create_app(Settings(stream_delay_ms=200, rate_limits=False))) as slow:

        async def abandon() -> None:
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {demo.KEY}"}) as session:

                async def one() -> None:
                    async with session.post(
                        slow.url + "/v1/chat/completions", json=chat_body(stream=True)
                    ) as response:
                        await response.content.readline()
                        await response.content.readline()
                        response.close()

                await asyncio.gather(*(one() for _ in range(20)))

        # A thread of its own: the test must not depend on the main thread having no running loop.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, abandon()).result(timeout=30)
        deadline = time.monotonic() + 1.5
        while httpx2.get(slow.url + "/__mock/stats").json()["active_streams"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx2.get(slow.url + "/__mock/stats").json()["active_streams"] == 0

        def pending() -> int:
            current = asyncio.current_task()
            return len([t for t in asyncio.all_tasks() if t is not current and not t.done()])

        # No task outlives its connection (the last keep-alive connection may take a moment to close).
        deadline = time.monotonic() + 2
        while slow.call(pending) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.call(pending) == 0
        entries = httpx2.get(slow.url + "/__mock/journal").json()["data"]
        assert len(entries) == 20 and all(len(e["response"]["stream"]) < 10 for e in entries)
