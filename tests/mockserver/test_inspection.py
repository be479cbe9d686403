"""The inspection and control API under /__mock/: journal, threads, assistants, reset, healthz, dashboard."""

from __future__ import annotations

import json
import logging
import re
import threading
import time

import httpx2
import pytest
from ragen_spec.sse import parse as parse_sse

from mockserver import demo
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.routes.inspect import STATIC_DIR
from mockserver.settings import Settings
from tests.mockserver.conftest import chat_body, checked_client


def test_healthz(server: BackgroundServer) -> None:
    response = httpx2.get(server.url + "/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_journal_records_and_filters(http: httpx2.Client, inspect: httpx2.Client) -> None:
    ok = http.post("/v1/chat/completions", json=chat_body())
    bad = http.post("/v1/chat/completions", json=chat_body(temperature=7))
    listed = http.get("/v1/assistants")
    entries = inspect.get("/journal").json()["data"]
    assert [e["id"] for e in entries] == [
        r.headers["x-request-id"] for r in (listed, bad, ok)
    ]  # newest first
    first = entries[-1]
    assert (first["method"], first["path"], first["status"], first["client"]) == (
        "POST",
        "/v1/chat/completions",
        200,
        "127.0.0.1",
    )
    assert first["org_id"] == demo.DEMO_ORG and first["key"] == "…ey#e5a7"
    assert first["request"]["body"] == chat_body()
    assert first["response"]["body"] == ok.json() and first["response"]["stream"] is None
    assert first["response"]["headers"]["x-request-id"] == ok.headers["x-request-id"]
    assert first["duration_ms"] >= 0 and first["time"] <= time.time()
    assert [e["status"] for e in inspect.get("/journal", params={"status": 400}).json()["data"]] == [400]
    assert len(inspect.get("/journal", params={"path": "/v1/assistants"}).json()["data"]) == 1
    assert len(inspect.get("/journal", params={"key": demo.KEY}).json()["data"]) == 3
    assert len(inspect.get("/journal", params={"key": "…ey#e5a7"}).json()["data"]) == 3
    assert inspect.get("/journal", params={"key": demo.SALES_KEY}).json()["data"] == []
    assert len(inspect.get("/journal", params={"limit": 2}).json()["data"]) == 2
    rid = bad.headers["x-request-id"]
    assert inspect.get("/journal", params={"request_id": rid}).json()["data"][0]["status"] == 400
    assert inspect.get(f"/journal/{rid}").json()["response"]["body"]["error"]["param"] == "temperature"
    assert inspect.get("/journal/req_missing").status_code == 404
    assert inspect.get("/journal", params={"limit": "x"}).status_code == 400
    assert inspect.delete("/journal").status_code == 200
    assert inspect.get("/journal").json()["data"] == []


def test_journal_records_stream_chunks_with_timings(inspect: httpx2.Client) -> None:
    with (
        BackgroundServer(lambda: create_app(Settings(stream_delay_ms=15))) as slow,
        checked_client(slow.url) as http,
    ):
        response = http.post("/v1/chat/completions", json=chat_body(stream=True, max_tokens=4))
        entry = httpx2.get(f"{slow.url}/__mock/journal/{response.headers['x-request-id']}").json()
    stream = entry["response"]["stream"]
    assert [c["data"] for c in stream] == [event.data for event in parse_sse(response.content).events]
    times = [c["t_ms"] for c in stream]
    assert times == sorted(times)
    assert times[4] - times[1] >= 3 * 15 * 0.8  # the per-chunk delay shows in the timings
    assert entry["duration_ms"] >= times[-1]


def test_journal_stream_pushes_each_completed_entry(server: BackgroundServer, http: httpx2.Client) -> None:
    received: list[dict[str, object]] = []
    connected = threading.Event()

    def listen() -> None:
        with (
            httpx2.Client(timeout=10) as raw,
            raw.stream("GET", server.url + "/__mock/journal/stream") as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                if line.startswith("data: "):
                    received.append(json.loads(line.removeprefix("data: ")))
                    if len(received) == 2:
                        return

    listener = threading.Thread(target=listen)
    listener.start()
    assert connected.wait(5)
    first = http.get("/v1/assistants")
    second = http.post("/v1/chat/completions", json=chat_body(stream=True))
    listener.join(10)
    assert [e["id"] for e in received] == [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert received[1]["response"]["stream"]  # type: ignore[index]


def test_threads_assistants_and_reset(
    http: httpx2.Client, inspect: httpx2.Client, server: BackgroundServer
) -> None:
    created = http.post("/v1/assistants", json={"name": "temp"}).json()
    with checked_client(server.url, key=demo.SALES_KEY) as sales:
        sales.delete(f"/v1/assistants/{demo.SUPPORT_ASSISTANT}")
    orgs = {
        o["org_id"]: [a["id"] for a in o["assistants"]] for o in inspect.get("/assistants").json()["data"]
    }
    assert orgs == {
        demo.DEMO_ORG: [demo.SALES_ASSISTANT, created["id"]],
        demo.OTHER_ORG: [demo.OTHER_ASSISTANT],
    }
    inspect.post("/faults", json={"kind": "status"}).raise_for_status()
    inspect.post("/clock/advance", json={"seconds": 5}).raise_for_status()
    assert inspect.post("/reset").json() == {"reset": True}
    orgs = {
        o["org_id"]: [a["id"] for a in o["assistants"]] for o in inspect.get("/assistants").json()["data"]
    }
    assert orgs[demo.DEMO_ORG] == [demo.SUPPORT_ASSISTANT, demo.SALES_ASSISTANT]
    assert inspect.get("/faults").json()["data"] == [] and inspect.get("/journal").json()["data"] == []
    assert (
        inspect.get("/ratelimit").json()["data"] == [] and inspect.get("/stats").json()["clock_offset_s"] == 0
    )


def test_clock_advance_validates(inspect: httpx2.Client) -> None:
    assert inspect.post("/clock/advance", json={"seconds": -1}).status_code == 400
    assert inspect.post("/clock/advance", json={"seconds": "10"}).status_code == 400
    broken = inspect.post("/clock/advance", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    assert inspect.post("/clock/advance", json={"seconds": 2.5}).json() == {"offset_s": 2.5}


def test_inspection_is_not_rate_limited_nor_journaled(inspect: httpx2.Client) -> None:
    for _ in range(30):
        assert inspect.get("/ratelimit").status_code == 200
    assert inspect.get("/journal").json()["data"] == []


def test_dashboard_page_and_static_files(server: BackgroundServer) -> None:
    page = httpx2.get(server.url + "/__mock/")
    if not (STATIC_DIR / "index.html").is_file():
        assert page.status_code == 404 and page.json()["error"]["type"] == "not_found_error"
        return
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.content == (STATIC_DIR / "index.html").read_bytes()
    for path in STATIC_DIR.iterdir():
        if path.is_file():
            served = httpx2.get(f"{server.url}/__mock/static/{path.name}")
            assert served.status_code == 200 and served.content == path.read_bytes()
    assert httpx2.get(server.url + "/__mock/static/../app.py").status_code == 404


def test_access_log_has_one_ascii_json_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ragen_mock.access")
    with BackgroundServer(lambda: create_app(Settings(rate_limits=False))) as background:
        http = checked_client(background.url)
        sent = [http.post("/v1/chat/completions", json=chat_body()), http.get("/v1/assistants/asst-nope")]
        http.get("/healthz")  # not an API exchange: no line
        http.close()
    # the server's shutdown flushed the last burst
    lines = [line for record in caplog.records for line in record.getMessage().splitlines()]
    assert all(line.isascii() for line in lines)  # the mask's "…" is escaped
    logged = [json.loads(line) for line in lines]
    assert [(e["request_id"], e["status"], e["path"]) for e in logged] == [
        (r.headers["x-request-id"], r.status_code, r.url.path) for r in sent
    ]
    for entry in logged:
        assert set(entry) == {
            "time",
            "request_id",
            "method",
            "path",
            "status",
            "client",
            "key",
            "org_id",
            "duration_ms",
        }
        assert entry["key"] == "…ey#e5a7" and entry["org_id"] == demo.DEMO_ORG
        assert entry["client"] == "127.0.0.1" and entry["duration_ms"] >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])  # UTC
    assert demo.KEY not in caplog.text
