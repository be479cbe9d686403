"""What the client gets through the proxy: the upstream's answer byte for byte, the proxy's own errors
in the envelope when the upstream fails, and the mock's features (faults, journal, CORS) on top."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from mockserver.auth import mask
from tests.mockserver.conftest import CONTROL_HEADERS
from tests.upstream import servers as ups
from tests.upstream.conftest import Servers


def raw(method: str, url: str, **kwargs: Any) -> tuple[requests.Response, bytes]:
    """The response and its body exactly as sent on the wire (no decompression)."""
    response = requests.request(method, url, stream=True, timeout=10, **kwargs)
    body = response.raw.read(decode_content=False)
    return response, body


def journal(proxy: str) -> list[dict[str, Any]]:
    return requests.get(proxy + "/__mock/journal", timeout=5).json()["data"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "path", "sent"),
    [
        ("POST", "/v1/fixed", ups.JSON_BODY),
        ("POST", "/v1/chat/completions", ups.STREAM_BODY),
        ("GET", "/v1/assistants", ups.GZIP_BODY),
    ],
)
def test_bytes_through_the_proxy_equal_the_upstreams(
    servers: Servers, method: str, path: str, sent: bytes
) -> None:
    upstream = servers.start(ups.fixed_app)
    proxy = servers.proxy(upstream.url)
    direct, direct_body = raw(method, upstream.url + path, json={"stream": True})
    through, through_body = raw(method, proxy.url + path, json={"stream": True})
    assert through_body == direct_body == sent
    assert through.status_code == direct.status_code
    for name in ("Content-Type", "Content-Encoding", "X-Custom"):
        assert through.headers.get(name) == direct.headers.get(name), name
    added = through.headers["X-Request-Id"]  # the upstream's, or one the proxy added
    assert added == direct.headers.get("X-Request-Id", added)
    assert through.raw.headers.getlist("Set-Cookie") == direct.raw.headers.getlist("Set-Cookie")


def test_stream_events_are_journaled_with_their_times(servers: Servers) -> None:
    upstream = servers.start(ups.fixed_app)
    proxy = servers.proxy(upstream.url)
    raw("POST", proxy.url + "/v1/chat/completions", json={"stream": True})
    stream = journal(proxy.url)[0]["response"]["stream"]
    assert [s["data"][:10] for s in stream] == ['{"id": "ch', '{"id": "ch', "[DONE]"]
    assert stream[0]["t_ms"] <= stream[1]["t_ms"] <= stream[2]["t_ms"]


def test_the_request_id_is_added_only_when_absent(servers: Servers) -> None:
    upstream = servers.start(ups.fixed_app)
    proxy = servers.proxy(upstream.url)
    answer, _ = raw("GET", proxy.url + "/v1/no-id")
    added = answer.headers["x-request-id"]
    assert added.startswith("req_")
    assert journal(proxy.url)[0]["id"] == added
    kept, _ = raw("POST", proxy.url + "/v1/fixed")
    assert kept.headers["x-request-id"] == "req-upstream-1"
    assert requests.get(proxy.url + "/__mock/journal/req-upstream-1", timeout=5).json()["status"] == 201


def test_the_clients_key_and_body_reach_the_upstream_but_no_mock_header(servers: Servers) -> None:
    seen: list[dict[str, Any]] = []

    def echo_app() -> Any:
        from aiohttp import web

        async def echo(request: web.Request) -> web.Response:
            seen.append({"headers": dict(request.headers), "body": await request.read()})
            return web.json_response({"ok": True}, headers={"x-request-id": "r1"})

        app = web.Application()
        app.router.add_route("*", "/v1/{tail:.*}", echo)
        return app

    upstream = servers.start(echo_app)
    proxy = servers.proxy(upstream.url)
    requests.post(
        proxy.url + "/v1/assistants?x=1",
        data=b'{"name":"n"}',
        headers={
            "Authorization": "Bearer real-key-123456",
            "Content-Type": "application/json",
            "x-mock-fault": "kind=delay; delay_ms=1",
        },
        timeout=10,
    )
    assert seen[0]["headers"]["Authorization"] == "Bearer real-key-123456"
    assert seen[0]["body"] == b'{"name":"n"}'
    assert "x-mock-fault" not in {k.lower() for k in seen[0]["headers"]}
    assert journal(proxy.url)[0]["key"] == mask("real-key-123456")  # masked, never in clear


def _expect_envelope(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == "api_error" and error["code"] == code, error
    assert response.headers["x-request-id"]


def test_an_unreachable_upstream_is_a_502_envelope(servers: Servers) -> None:
    proxy = servers.proxy(ups.closed_port())
    response = requests.get(proxy.url + "/v1/assistants", timeout=10)
    _expect_envelope(response, 502, "bad_gateway")
    assert "unreachable" in response.json()["error"]["message"]
    assert journal(proxy.url)[0]["status"] == 502


def test_an_upstream_answering_garbage_is_a_502_envelope(servers: Servers) -> None:
    with ups.garbage_server() as url:
        proxy = servers.proxy(url)
        response = requests.get(proxy.url + "/v1/assistants", timeout=10)
    _expect_envelope(response, 502, "bad_gateway")


def test_an_upstream_too_slow_is_a_504_envelope(servers: Servers) -> None:
    upstream = servers.start(lambda: ups.slow_app(5.0))
    proxy = servers.proxy(upstream.url, upstream_timeout=0.5)
    response = requests.get(proxy.url + "/v1/assistants", timeout=10)
    _expect_envelope(response, 504, "upstream_timeout")
    assert journal(proxy.url)[0]["status"] == 504


def test_a_client_leaving_cancels_the_upstream_request(servers: Servers) -> None:
    endless = ups.Endless()
    upstream = servers.start(endless.app)
    proxy = servers.proxy(upstream.url)
    with requests.post(proxy.url + "/v1/chat/completions", json={}, stream=True, timeout=10) as response:
        assert next(response.iter_lines())
        assert endless.active == 1
    deadline = time.monotonic() + 20
    while endless.active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert endless.active == 0 and endless.ended_by_client == 1
    entry = journal(proxy.url)[0]
    assert entry["status"] == 200 and entry["response"]["stream"]


def test_an_injected_503_never_reaches_the_upstream(servers: Servers) -> None:
    endless = ups.Endless()
    upstream = servers.start(endless.app)
    proxy = servers.proxy(upstream.url)
    fault = {"kind": "status", "status": 503, "match": {"path": "/v1/chat/completions"}}
    armed = requests.post(proxy.url + "/__mock/faults", json=fault, headers=CONTROL_HEADERS, timeout=5)
    armed.raise_for_status()
    response = requests.post(proxy.url + "/v1/chat/completions", json={}, timeout=10)
    assert response.status_code == 503 and response.json()["error"]["type"] == "api_error"
    assert endless.started == 0
    assert journal(proxy.url)[0]["violations"] == []  # the mock's own answer, not the upstream's


def test_an_injected_cut_stream_cuts_real_traffic(servers: Servers) -> None:
    upstream = servers.start(ups.fixed_app)
    proxy = servers.proxy(upstream.url)
    fault = {"kind": "cut_stream", "after_chunks": 1}
    armed = requests.post(proxy.url + "/__mock/faults", json=fault, headers=CONTROL_HEADERS, timeout=5)
    armed.raise_for_status()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(proxy.url + "/v1/chat/completions", json={"stream": True}, timeout=10).content  # noqa: B018
    entry = journal(proxy.url)[0]
    assert entry["response"]["stream"][-1]["data"] == "<connection cut by fault>"
    assert entry["violations"] == []  # the cut is the fault's, not the upstream's
    # The next stream is the upstream's own again, whole.
    _, body = raw("POST", proxy.url + "/v1/chat/completions", json={"stream": True})
    assert body == ups.STREAM_BODY


def test_an_injected_error_event_by_header(servers: Servers) -> None:
    upstream = servers.start(ups.fixed_app)
    proxy = servers.proxy(upstream.url)
    headers = {"x-mock-fault": "kind=error_event; after_chunks=1"}
    _, body = raw("POST", proxy.url + "/v1/chat/completions", json={"stream": True}, headers=headers)
    assert b'"upstream_error"' in body and b"[DONE]" not in body


def test_cors_works_in_proxy_mode(servers: Servers) -> None:
    upstream = servers.start(ups.fixed_app)
    proxy = servers.proxy(upstream.url, cors_origins=("http://localhost:3000",))
    origin = {"Origin": "http://localhost:3000"}
    preflight = requests.options(
        proxy.url + "/v1/chat/completions",
        headers={**origin, "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert preflight.status_code == 204
    answer, body = raw("POST", proxy.url + "/v1/chat/completions", json={"stream": True}, headers=origin)
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert body == ups.STREAM_BODY
