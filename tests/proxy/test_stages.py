"""The proxy mock's stages as a client sees them, over real HTTP on loopback: what no route
handles, CORS, the control guard, faults, the dashboard's files and unexpected failures.

The proxy mock is composed like the Ragen mock (``mockserver.pipeline`` around every handler,
the guard around control routes, ``mockserver.fallback`` for the rest); these answers are what
that composition must give, in the proxy's error table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import requests
from aiohttp import web

from mockserver.background import BackgroundServer
from mockserver.proxy import PROXY_KEY, create_proxy_app
from mockserver.proxy.config import ProxyConfig
from mockserver.proxy.routes import CONFIG
from mockserver.routes.inspect import STATIC_DIR
from mockserver.serving import memo_applies
from mockserver.settings import Settings

AUTH = {"Authorization": f"Bearer {PROXY_KEY}"}
CONTROL = {"x-mock-control": "1"}
HI = [{"role": "user", "content": "Hi"}]
ORIGIN = "http://localhost:5173"
EVIL = "http://evil.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(lambda: create_proxy_app(Settings(max_body_bytes=4096))) as running:
        yield running


@pytest.fixture
def url(server: BackgroundServer) -> Iterator[str]:
    yield server.url
    requests.delete(server.url + "/__mock/faults", headers=CONTROL, timeout=5)


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    """The envelope of an error answer, after what every answer through the stages carries."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["x-request-id"].startswith("req_")
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert "Traceback" not in response.text
    return error


def journaled(url: str, response: requests.Response) -> dict[str, Any]:
    entry = requests.get(f"{url}/__mock/journal/{response.headers['x-request-id']}", timeout=5)
    assert entry.status_code == 200, entry.text
    found: dict[str, Any] = entry.json()
    return found


def chat(url: str, headers: dict[str, str] | None = None, **body: Any) -> requests.Response:
    payload = {"model": "gpt-4o-mini", "messages": HI, **body}
    return requests.post(url + "/v1/chat/completions", json=payload, headers=headers or AUTH, timeout=10)


# --- what no route handles --------------------------------------------------------------------------
def test_an_unrouted_path_is_a_journaled_404_envelope(url: str) -> None:
    response = requests.get(url + "/v1/nothing-here?x=1", headers=AUTH, timeout=5)
    error = error_of(response, 404)
    assert (error["type"], error["code"]) == ("not_found_error", "unknown_route")
    entry = journaled(url, response)
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == (
        "GET",
        "/v1/nothing-here",
        "x=1",
        404,
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/models", {"GET"}),
        ("GET", "/v1/chat/completions", {"POST"}),
        ("PUT", "/__mock/journal", {"DELETE", "GET", "HEAD"}),
    ],
)
def test_a_wrong_method_is_405_with_allow(url: str, method: str, path: str, allowed: set[str]) -> None:
    response = requests.request(method, url + path, headers={**AUTH, **CONTROL}, timeout=5)
    error = error_of(response, 405)
    assert (error["type"], error["code"]) == ("invalid_request_error", "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == allowed


def test_a_body_over_the_limit_is_413(url: str) -> None:
    response = chat(url, user="x" * 8000)
    error = error_of(response, 413)
    assert (error["type"], error["code"]) == ("invalid_request_error", "request_too_large")


# --- CORS ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/nothing-here"])
def test_preflights_are_answered_on_any_api_path(url: str, path: str) -> None:
    response = requests.options(url + path, headers=PREFLIGHT, timeout=5)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["x-request-id"]


def test_answers_and_errors_carry_cors_headers_streams_included(url: str) -> None:
    browser = {**AUTH, "Origin": ORIGIN}
    for response in (
        requests.get(url + "/v1/models", headers=browser, timeout=5),
        chat(url, {"Origin": ORIGIN}),  # no key: 401
        chat(url, browser, stream=True),
    ):
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN, response.status_code
        assert "x-request-id" in response.headers["Access-Control-Expose-Headers"]


def test_an_origin_not_allowed_gets_no_cors() -> None:
    settings = Settings(cors_origins=(ORIGIN,))
    with BackgroundServer(lambda: create_proxy_app(settings)) as running:
        refused = requests.options(
            running.url + "/v1/models",
            headers={**PREFLIGHT, "Origin": EVIL},
            timeout=5,
        )
        assert error_of(refused, 403)["code"] == "cors_origin_not_allowed"
        plain = requests.get(running.url + "/v1/models", headers={**AUTH, "Origin": EVIL}, timeout=5)
        assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain.headers


# --- the control guard ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/__mock/journal", "/__mock/no-such-route", "/__mock/static/dashboard.js"])
def test_a_control_request_from_a_foreign_origin_is_refused(url: str, path: str) -> None:
    response = requests.get(url + path, headers={"Origin": EVIL}, timeout=5)
    error = error_of(response, 403)
    assert (error["type"], error["code"]) == ("permission_error", "control_origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_control_preflight_is_refused_even_from_an_allowed_origin(url: str) -> None:
    response = requests.options(url + "/__mock/faults", headers=PREFLIGHT, timeout=5)
    assert error_of(response, 403)["code"] == "cors_origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_control_answers_are_hardened_and_not_journaled(url: str) -> None:
    response = requests.get(url + "/__mock/stats", timeout=5)
    assert response.status_code == 200 and response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["x-request-id"]
    listed = requests.get(url + "/__mock/journal", params={"limit": 1000}, timeout=5).json()["data"]
    assert all(not e["path"].startswith("/__mock") for e in listed)


def test_an_unrouted_control_path_is_404_for_this_machine(url: str) -> None:
    error = error_of(requests.get(url + "/__mock/no-such-route", timeout=5), 404)
    assert (error["type"], error["code"]) == ("not_found_error", "unknown_route")


# --- the dashboard's files ------------------------------------------------------------------------------
def test_static_files_are_served_behind_the_guard(url: str) -> None:
    name = next(p.name for p in sorted(STATIC_DIR.iterdir()) if p.is_file())
    got = requests.get(f"{url}/__mock/static/{name}", timeout=5)
    assert got.status_code == 200 and got.content == (STATIC_DIR / name).read_bytes()
    assert got.headers["X-Frame-Options"] == "DENY" and got.headers["x-request-id"]
    head = requests.head(f"{url}/__mock/static/{name}", timeout=5)
    assert head.status_code == 200 and head.content == b""
    for directory in ("/__mock/static", "/__mock/static/"):
        assert error_of(requests.get(url + directory, timeout=5), 403)["type"] == "invalid_request_error"
    escaped = requests.get(url + "/__mock/static/%2e%2e/app.py", timeout=5)
    assert error_of(escaped, 404)["type"] == "not_found_error"
    assert error_of(requests.get(url + "/__mock/static/nope.js", timeout=5), 404)["type"] == "not_found_error"


# --- faults -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (500, "internal_server_error", "upstream_error"),
        (502, "bad_gateway", "provider_error"),
        (503, "service_unavailable", "providers_unavailable"),
        (504, "gateway_timeout", "provider_timeout"),
    ],
)
def test_an_injected_status_takes_the_proxys_type_and_code(
    url: str, status: int, error_type: str, code: str
) -> None:
    response = chat(url, {**AUTH, "x-mock-fault": f"kind=status; status={status}"})
    error = error_of(response, status)
    assert (error["type"], error["code"]) == (error_type, code)
    assert ("Retry-After" in response.headers) == (status == 503)
    assert journaled(url, response)["status"] == status


def test_an_armed_rate_limit_is_rate_limit_exceeded_with_retry_after(url: str) -> None:
    fault: dict[str, Any] = {"kind": "rate_limit", "retry_after": 7, "match": {"path": "/v1/models"}}
    assert requests.post(url + "/__mock/faults", json=fault, headers=CONTROL, timeout=5).ok
    response = requests.get(url + "/v1/models", headers=AUTH, timeout=5)
    assert error_of(response, 429)["type"] == "rate_limit_exceeded"
    assert response.headers["Retry-After"] == "7"
    assert requests.get(url + "/v1/models", headers=AUTH, timeout=5).status_code == 200


def test_a_fault_comes_before_routing_and_auth(url: str) -> None:
    """Faults run before the handler (and before the key is checked), on any tracked path."""
    headers = {"x-mock-fault": "kind=status; status=502"}
    unrouted = requests.get(url + "/v1/nothing-here", headers=headers, timeout=5)
    assert error_of(unrouted, 502)["type"] == "bad_gateway"
    assert error_of(chat(url, headers), 502)["type"] == "bad_gateway"


def test_a_malformed_fault_header_is_400_naming_it(url: str) -> None:
    error = error_of(chat(url, {**AUTH, "x-mock-fault": "kind=explode"}), 400)
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "invalid_fault",
        "x-mock-fault",
    )


def test_the_journal_records_the_caller(url: str) -> None:
    response = chat(url)
    assert response.status_code == 200
    entry = journaled(url, response)
    assert entry["status"] == 200 and entry["org_id"] == "org-proxy"
    assert entry["key"] and PROXY_KEY not in entry["key"]  # masked
    assert entry["request"]["body"]["model"] == "gpt-4o-mini"


# --- unexpected failures ----------------------------------------------------------------------------------
class _Broken:
    def resolve(self, name: str) -> None:
        raise RuntimeError("the model table is broken")

    def listing(self) -> None:
        raise RuntimeError("the model table is broken")


def _broken_app() -> web.Application:
    app = create_proxy_app(Settings())
    app[CONFIG] = cast(ProxyConfig, _Broken())
    return app


def test_an_unexpected_failure_is_a_500_internal_server_error_without_details() -> None:
    with BackgroundServer(_broken_app) as running:
        for response in (
            requests.get(running.url + "/v1/models", headers=AUTH, timeout=5),
            chat(running.url),
        ):
            error = error_of(response, 500)
            assert (error["type"], error["code"]) == ("internal_server_error", "internal_error")
            assert "broken" not in response.text


# --- serving ----------------------------------------------------------------------------------------------
def test_the_proxy_app_has_no_middleware_so_the_route_memo_serves_it() -> None:
    assert memo_applies(create_proxy_app(Settings()))
