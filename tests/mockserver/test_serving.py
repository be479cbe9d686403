"""``mockserver.serving``: remembered routes answer exactly as aiohttp's router would, over HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx2
import pytest
from aiohttp import web

from mockserver.background import BackgroundServer


class Seen:
    """What the handlers saw: the match-info objects (kept alive, so identity means something)."""

    def __init__(self) -> None:
        self.match_infos: list[web.UrlMappingMatchInfo] = []
        self.middleware_calls = 0


def _app(seen: Seen, *, with_middleware: bool = False) -> web.Application:
    @web.middleware
    async def counting(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        seen.middleware_calls += 1
        return await handler(request)

    app = web.Application(middlewares=[counting] if with_middleware else [])

    async def fixed(request: web.Request) -> web.Response:
        seen.match_infos.append(request.match_info)
        body = await request.read()
        return web.json_response(
            {
                "route": f"{request.match_info.route.method} {request.match_info.route.resource.canonical}",
                "same_app": request.app is app,
                "body": body.decode(),
            }
        )

    async def variable(request: web.Request) -> web.Response:
        seen.match_infos.append(request.match_info)
        return web.json_response({"item": request.match_info["item"]})

    app.router.add_get("/items", fixed)
    app.router.add_post("/items", fixed)
    app.router.add_get("/items/{item}", variable)
    return app


@pytest.fixture()
def seen() -> Seen:
    return Seen()


@pytest.fixture()
def client(seen: Seen) -> Iterator[httpx2.Client]:
    with BackgroundServer(lambda: _app(seen)) as server, httpx2.Client(base_url=server.url) as http:
        yield http


def test_a_fixed_path_is_resolved_once_per_method(client: httpx2.Client, seen: Seen) -> None:
    answers = [client.get("/items").json() for _ in range(3)] + [client.post("/items", content=b"x").json()]
    assert answers[:3] == [{"route": "GET /items", "same_app": True, "body": ""}] * 3
    assert answers[3] == {"route": "POST /items", "same_app": True, "body": "x"}
    gets = seen.match_infos[:3]
    assert gets[1] is gets[0] and gets[2] is gets[0]  # the router's answer, remembered
    assert seen.match_infos[3] is not gets[0]  # POST has its own route


def test_paths_with_variables_go_through_the_router_every_time(client: httpx2.Client, seen: Seen) -> None:
    assert [client.get(f"/items/{name}").json() for name in ("a", "b", "a")] == [
        {"item": "a"},
        {"item": "b"},
        {"item": "a"},
    ]
    first, _, third = seen.match_infos
    assert third is not first


def test_unknown_paths_and_methods_get_the_routers_answers(client: httpx2.Client) -> None:
    client.get("/items")  # remembered from here on
    assert client.head("/items").status_code == 200  # add_get's HEAD route
    refused = client.delete("/items")
    assert refused.status_code == 405
    assert set(refused.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}
    assert client.get("/items%2F").status_code == 404
    assert client.get("/nowhere").status_code == 404


def test_expect_100_continue_still_gets_its_interim_response(client: httpx2.Client) -> None:
    client.post("/items", content=b"warm")  # the route is remembered
    port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /items HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
            b"Connection: close\r\n\r\n"
        )
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"hello")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"body": "hello"' in reply


def test_an_app_with_middleware_runs_it_on_every_request(seen: Seen) -> None:
    with (
        BackgroundServer(lambda: _app(seen, with_middleware=True)) as server,
        httpx2.Client(base_url=server.url) as http,
    ):
        for _ in range(3):
            assert http.get("/items").status_code == 200
    assert seen.middleware_calls == 3
