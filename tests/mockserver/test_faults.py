"""Fault injection: armed through /__mock/faults or per request with the x-mock-fault header."""

from __future__ import annotations

import json
import time

import httpx2
import openai
import pytest

from mockserver import demo
from mockserver.background import BackgroundServer
from tests.mockserver.conftest import chat_body, checked_client
from tests.mockserver.speccheck import parse_sse

CHAT = "/v1/chat/completions"


def _arm(inspect: httpx2.Client, **fault: object) -> dict[str, object]:
    response = inspect.post("/faults", json=fault)
    assert response.status_code == 200, response.text
    armed: dict[str, object] = response.json()
    return armed


def _raw_stream(
    server: BackgroundServer, headers: dict[str, str] | None = None
) -> tuple[list[str], Exception | None]:
    """Lines of a chat stream read as they come; the transport error, if the stream was cut."""
    lines: list[str] = []
    with httpx2.Client(timeout=10, headers={"Authorization": f"Bearer {demo.KEY}", **(headers or {})}) as raw:
        try:
            with raw.stream("POST", server.url + CHAT, json=chat_body(stream=True)) as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    if line:
                        lines.append(line)
        except httpx2.TransportError as exc:
            return lines, exc
    return lines, None


def test_status_fault_for_n_requests_then_normal(http: httpx2.Client, inspect: httpx2.Client) -> None:
    armed = _arm(inspect, kind="status", status=503, count=2, match={"path": "/v1/assistants*"})
    assert armed["id"] and inspect.get("/faults").json()["data"][0]["count"] == 2
    assert http.post(CHAT, json=chat_body()).status_code == 200  # does not match
    first, second, third = (http.get("/v1/assistants") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json()["error"]["type"] == "api_error"
    assert inspect.get("/faults").json()["data"] == []


def test_sdk_retries_through_armed_5xx(server: BackgroundServer, inspect: httpx2.Client) -> None:
    _arm(inspect, kind="status", status=502, count=2)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=demo.KEY, max_retries=2)
    with client:
        assert client.beta.assistants.retrieve(demo.SUPPORT_ASSISTANT).id == demo.SUPPORT_ASSISTANT
    statuses = [e["status"] for e in inspect.get("/journal").json()["data"]]
    assert statuses == [200, 502, 502]


def test_rate_limit_fault_has_retry_after_and_spends_no_budget(
    http: httpx2.Client, inspect: httpx2.Client
) -> None:
    _arm(inspect, kind="rate_limit", retry_after=3, match={"method": "POST", "body_contains": "refund"})
    assert http.post(CHAT, json=chat_body("shipping?")).status_code == 200
    limited = http.post(CHAT, json=chat_body("refund?"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert http.post(CHAT, json=chat_body("refund?")).headers["x-ratelimit-remaining-requests"] == "8"


def test_delay_fault_before_first_byte(http: httpx2.Client, inspect: httpx2.Client) -> None:
    _arm(inspect, kind="delay", delay_ms=300)
    started = time.perf_counter()
    assert http.get("/v1/assistants").status_code == 200
    assert time.perf_counter() - started >= 0.29
    started = time.perf_counter()
    http.get("/v1/assistants")
    assert time.perf_counter() - started < 0.25


def test_cut_stream_drops_the_connection_without_done(
    server: BackgroundServer, inspect: httpx2.Client
) -> None:
    _arm(inspect, kind="cut_stream", after_chunks=3)
    assert http_not_a_stream_consumes_nothing(server)
    lines, error = _raw_stream(server)
    assert len(lines) == 3 and all(line.startswith("data: {") for line in lines)
    assert isinstance(error, httpx2.RemoteProtocolError)
    lines, error = _raw_stream(server)  # one-shot: the next stream is whole
    assert lines[-1] == "data: [DONE]" and error is None
    assert httpx2.get(server.url + "/__mock/stats").json()["active_streams"] == 0


def http_not_a_stream_consumes_nothing(server: BackgroundServer) -> bool:
    with checked_client(server.url) as http:
        return (
            http.post(CHAT, json=chat_body()).status_code == 200
            and len(httpx2.get(server.url + "/__mock/faults").json()["data"]) == 1
        )


def test_malformed_chunk_then_the_stream_goes_on(http: httpx2.Client, inspect: httpx2.Client) -> None:
    _arm(inspect, kind="malformed_chunk", after_chunks=1)
    with httpx2.Client(base_url=str(http.base_url), headers={"Authorization": f"Bearer {demo.KEY}"}) as raw:
        text = raw.post(CHAT, json=chat_body(stream=True)).text
    datas = [e["data"] for e in parse_sse(text)]
    broken = []
    for data in datas[:-1]:
        try:
            json.loads(data)
        except ValueError:
            broken.append(data)
    assert len(broken) == 1 and datas.index(broken[0]) == 1
    assert datas[-1] == "[DONE]"


def test_error_event_then_close(server: BackgroundServer, inspect: httpx2.Client) -> None:
    _arm(inspect, kind="error_event", after_chunks=0)
    lines, error = _raw_stream(server)
    assert error is None and len(lines) == 1
    assert json.loads(lines[0].removeprefix("data: "))["error"]["code"] == "upstream_error"


def test_header_form(server: BackgroundServer, http: httpx2.Client) -> None:
    response = http.get("/v1/assistants", headers={"x-mock-fault": "kind=status; status=500"})
    assert response.status_code == 500 and response.json()["error"]["type"] == "api_error"
    limited = http.get("/v1/assistants", headers={"x-mock-fault": "kind=rate_limit; retry_after=7"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    lines, error = _raw_stream(server, {"x-mock-fault": "kind=cut_stream; after_chunks=2"})
    assert len(lines) == 2 and error is not None
    native = http.post(
        "/v1/chat",
        json={"content": "refund?", "stream": True},
        headers={"x-mock-fault": "kind=error_event; after_chunks=1"},
    )
    events = parse_sse(native.text)
    assert [e["event"] for e in events] == ["delta", "error"]
    assert http.get("/v1/assistants").status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        {},
        {"kind": "explode"},
        {"kind": "status", "status": 404},
        {"kind": "status", "count": 0},
        {"kind": "delay", "match": "x"},
    ],
)
def test_invalid_faults_are_400(inspect: httpx2.Client, fault: dict[str, object]) -> None:
    response = inspect.post("/faults", json=fault)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"


def test_invalid_fault_header_is_400(http: httpx2.Client) -> None:
    response = http.get("/v1/assistants", headers={"x-mock-fault": "kind=meteor"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "x-mock-fault"


def test_disarm_one_and_all(inspect: httpx2.Client, http: httpx2.Client) -> None:
    first = _arm(inspect, kind="status", count=5)
    _arm(inspect, kind="delay", delay_ms=1, count=5)
    assert inspect.delete(f"/faults/{first['id']}").status_code == 200
    assert inspect.delete(f"/faults/{first['id']}").status_code == 404
    assert [f["kind"] for f in inspect.get("/faults").json()["data"]] == ["delay"]
    assert inspect.delete("/faults").status_code == 200
    assert inspect.get("/faults").json()["data"] == []
    assert http.get("/v1/assistants").status_code == 200
