"""Bad input gets the documented envelope, never a 500: ERR-*, HDR-REQID-1."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.background import BackgroundServer
from tests.mockserver.conftest import SUPPORT, chat_body, checked_client, error_of
from tests.mockserver.speccheck import SpecViolation, check_response

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def _assert_envelope(response: httpx2.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = error_of(response)
    assert isinstance(error["message"], str) and isinstance(error["type"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    assert error["param"] is None or isinstance(error["param"], str)
    return error


def test_ERR_ENV_1_and_ERR_TYPE_1_every_error_status(server: BackgroundServer, http: httpx2.Client) -> None:
    cases: list[tuple[int, httpx2.Response]] = [
        (400, http.post("/v1/chat/completions", json=chat_body(temperature=9))),
        (404, http.get("/v1/assistants/asst-nope")),
        (
            413,
            http.post(
                "/v1/assistants",
                content=b"{" + b" " * 1_100_000 + b"}",
                headers={"content-type": "application/json"},
            ),
        ),
    ]
    with checked_client(server.url, key=None) as anonymous:
        cases.append((401, anonymous.get("/v1/assistants")))
    with checked_client(server.url, key="rg-demo-deactivated") as deactivated:
        cases.append((403, deactivated.get("/v1/assistants")))
    for _ in range(9):  # the 400 above counted too (RATE-COUNT-1)
        http.post("/v1/chat/completions", json=chat_body())
    cases.append((429, http.post("/v1/chat/completions", json=chat_body())))
    for status, response in cases:
        assert _assert_envelope(response, status)["type"] == TYPES[status]


def test_ERR_TYPE_1_server_errors_are_api_error(http: httpx2.Client) -> None:
    response = http.get("/v1/assistants", headers={"x-mock-fault": "kind=status; status=503"})
    assert _assert_envelope(response, 503)["type"] == "api_error"


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"{not json", "application/json", "invalid_json"),
        (b"[1, 2]", "application/json", "invalid_type"),
        (b'"text"', "application/json", "invalid_type"),
        (b"", "application/json", "invalid_json"),
        (b'{"name": NaN}', "application/json", "invalid_json"),
        (b'{"name": "\xff\xfe"}', "application/json", "invalid_encoding"),
        (b'{"name": "x"}', "text/plain", "unsupported_content_type"),
        (b'{"name": "x"}', "application/x-www-form-urlencoded", "unsupported_content_type"),
    ],
)
def test_ERR_BODY_1_malformed_bodies(
    http: httpx2.Client, content: bytes, content_type: str, code: str
) -> None:
    response = http.post("/v1/assistants", content=content, headers={"content-type": content_type})
    error = _assert_envelope(response, 400)
    assert (error["type"], error["code"]) == ("invalid_request_error", code)


def test_ERR_BODY_1_missing_content_type(server: BackgroundServer) -> None:
    with checked_client(server.url) as http:
        request = http.build_request("POST", "/v1/assistants", content=b'{"name": "x"}')
        assert "content-type" not in request.headers
        assert _assert_envelope(http.send(request), 400)["code"] == "unsupported_content_type"


def test_ERR_SIZE_1_over_limit_is_413(http: httpx2.Client) -> None:
    big = json.dumps({"name": "x" * (1024 * 1024)}).encode()
    error = _assert_envelope(
        http.post("/v1/assistants", content=big, headers={"content-type": "application/json"}), 413
    )
    assert (error["type"], error["code"]) == ("invalid_request_error", "request_too_large")
    huge = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    assert (
        http.post("/v1/assistants", content=huge, headers={"content-type": "application/json"}).status_code
        == 413
    )


def test_unknown_route_404_and_method_405_get_the_envelope(http: httpx2.Client) -> None:
    assert _assert_envelope(http.get("/v1/nothing-here"), 404)["type"] == "not_found_error"
    response = http.put("/v1/assistants", json={})
    assert _assert_envelope(response, 405)["type"] == "invalid_request_error"
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


def test_HDR_REQID_1_every_response_has_a_unique_request_id(server: BackgroundServer) -> None:
    seen = set()
    with httpx2.Client(base_url=server.url) as raw:
        for method, path in [
            ("GET", "/healthz"),
            ("GET", "/v1/assistants"),
            ("GET", "/nope"),
            ("PUT", "/v1/chat"),
        ]:
            rid = raw.request(method, path).headers["x-request-id"]
            assert rid and rid not in seen
            seen.add(rid)


def test_raw_garbage_on_the_socket_is_not_a_5xx(server: BackgroundServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\x00\xff\x00\xff\x00"
        )
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 4"), status_line


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_bodies = st.dictionaries(
    st.sampled_from(
        [
            "assistant_id",
            "messages",
            "temperature",
            "max_tokens",
            "stream",
            "stream_options",
            "name",
            "instructions",
            "content",
            "context",
            "model",
            "x",
        ]
    ),
    _json_values,
    max_size=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/v1/chat/completions", "/v1/chat", "/v1/assistants", f"/v1/assistants/{SUPPORT}"]),
    body=_bodies | _json_values,
)
def test_ERR_5XX_1_fuzzed_bodies_never_5xx(unlimited: BackgroundServer, path: str, body: Any) -> None:
    with checked_client(unlimited.url, key="rg-demo-sales") as http:  # spec-checks every answer
        response = http.post(path, json=body)
    assert response.status_code < 500


def test_speccheck_catches_a_response_the_spec_forbids() -> None:
    broken = json.dumps(
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m", "choices": []}
    )
    assert check_response("POST", "/v1/chat/completions", 200, "application/json", broken.encode())
    assert check_response("POST", "/v1/chat/completions", 418, "application/json", b"{}")
    assert check_response("GET", "/v1/nowhere", 404, "text/plain", b"404: Not Found")
    assert issubclass(SpecViolation, AssertionError)


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        (
            "/v1/chat/completions",
            '{"assistant_id": "\\ud800", "messages": [{"role": "user", "content": "hi"}]}',
        ),
        (
            "/v1/chat/completions",
            f'{{"assistant_id": "{SUPPORT}", "messages": [{{"role": "user", "content": "\\udc00"}}]}}',
        ),
        ("/v1/assistants", '{"name": "\\ud800"}'),
        ("/v1/assistants", '{"name": "x", "\\ud800": 1}'),
    ],
)
def test_ERR_5XX_1_lone_surrogate_escapes_never_5xx(unlimited: BackgroundServer, path: str, raw: str) -> None:
    # Valid JSON, but not encodable as UTF-8: found by the conformance fuzzer (it once gave a 500).
    with checked_client(unlimited.url, headers={"Content-Type": "application/json"}) as http:
        response = http.post(path, content=raw.encode())
    assert response.status_code in (200, 404), response.text
    if path == "/v1/assistants" and "name" in raw and '"x"' not in raw:
        assert response.json()["name"] == "\ud800"  # echoed back intact, as an escape
