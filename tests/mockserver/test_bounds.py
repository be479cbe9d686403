"""Issue 18, "Journal and memory": every bound over real HTTP — header size (431), the journal by
bytes and entries with truncated bodies, deep JSON rendered as text, spec field lengths, caches,
armed faults, hostile control input, masked credentials."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from mockserver import demo
from mockserver.app import create_app
from mockserver.auth import mask
from mockserver.background import BackgroundServer
from mockserver.settings import Settings
from tests.mockserver.conftest import CONTROL_HEADERS, chat_body

AUTH = {"Authorization": f"Bearer {demo.KEY}"}


def _with_deep_field(levels: int) -> str:
    """A valid chat body whose ignored field ``extra`` nests ``levels`` arrays deep."""
    return json.dumps(chat_body())[:-1] + ', "extra": ' + "[" * levels + '"bottom"' + "]" * levels + "}"


@pytest.fixture
def small() -> Iterator[BackgroundServer]:
    """A mock with small bounds, so that tests reach them quickly."""
    settings = Settings(
        rate_limits=False,
        max_header_bytes=16384,
        journal_entries=50,
        journal_bytes=200_000,
        journal_body_bytes=1000,
        max_faults=3,
        cache_entries=8,
    )
    with BackgroundServer(lambda: create_app(settings)) as background:
        yield background


def _journal(server: BackgroundServer, **params: Any) -> list[dict[str, Any]]:
    response = httpx2.get(server.url + "/__mock/journal", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


# --- header size ----------------------------------------------------------------------------------
def test_headers_over_the_limit_get_431_with_the_envelope(small: BackgroundServer) -> None:
    big = {f"x-padding-{i}": "v" * 4000 for i in range(5)}  # 20 kB of headers, under aiohttp's own limits
    response = httpx2.post(small.url + "/v1/chat/completions", json=chat_body(), headers={**AUTH, **big})
    assert response.status_code == 431
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "request_header_fields_too_large"
    assert "--max-header-bytes" in error["message"]
    assert _journal(small) == []  # nothing of it is kept
    fine = {f"x-padding-{i}": "v" * 4000 for i in range(3)}
    ok = httpx2.post(small.url + "/v1/chat/completions", json=chat_body(), headers={**AUTH, **fine})
    assert ok.status_code == 200


def test_too_many_headers_get_431_json_and_one_log_line(
    small: BackgroundServer, caplog: pytest.LogCaptureFixture
) -> None:
    many = [(f"x-h{i}", "v") for i in range(200)]  # past aiohttp's count limit (128)
    response = httpx2.get(small.url + "/v1/assistants", headers=many)
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "request_header_fields_too_large"
    assert "Traceback" not in caplog.text


def _raw(server: BackgroundServer, data: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_malformed_request_line_gets_the_envelope_and_one_log_line(
    small: BackgroundServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="ragen_mock")
    caplog.set_level("DEBUG", logger="aiohttp.server")
    answer = _raw(small, b"GET /v1/assistants?key=sk-secret-value-123 HTTP/1.1 extra\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400" and b"application/json" in head
    assert json.loads(body)["error"]["code"] == "malformed_request"
    records = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(records) == 1 and records[0].exc_info is None
    assert "Traceback" not in caplog.text and "sk-secret-value-123" not in caplog.text


# --- the journal ------------------------------------------------------------------------------------
def test_journal_bodies_are_truncated_with_a_marker_never_the_answer(small: BackgroundServer) -> None:
    question = "refund " * 400  # 2,800 bytes, over the journal's 1,000 per body
    response = httpx2.post(small.url + "/v1/chat/completions", json=chat_body(question), headers=AUTH)
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"]
    entry = _journal(small)[0]
    body = entry["request"]["body"]
    assert isinstance(body, str) and body.endswith(
        f"[truncated: 1000 of {len(response.request.content)} bytes kept]"
    )
    assert entry["request"]["body_bytes"] == len(response.request.content)
    assert entry["response"]["body"] == response.json()  # small bodies stay JSON


def test_journal_is_bounded_by_bytes_as_well_as_entries(small: BackgroundServer) -> None:
    padding = {"x-padding": "p" * 8000}
    for _ in range(60):
        httpx2.get(small.url + "/v1/assistants", headers={**AUTH, **padding})
    stats = httpx2.get(small.url + "/__mock/stats").json()
    # 200,000 bytes hold ~20 of these entries, under the 50 the count allows
    assert 10 <= stats["journal_entries"] <= 25
    for _ in range(60):
        httpx2.get(small.url + "/v1/assistants", headers=AUTH)
    assert httpx2.get(small.url + "/__mock/stats").json()["journal_entries"] == 50


def test_deeply_nested_ignored_field_never_breaks_the_journal(small: BackgroundServer) -> None:
    watcher = httpx2.Client(timeout=10)
    received: list[str] = []
    with watcher.stream("GET", small.url + "/__mock/journal/stream") as live:
        lines = live.iter_lines()
        assert next(lines) == ": connected"

        def read() -> None:
            for line in lines:
                if line.startswith("data: "):
                    received.append(line)
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        for levels in (1000, 1020):
            raw = _with_deep_field(levels)
            response = httpx2.post(
                small.url + "/v1/chat/completions",
                content=raw,
                headers={**AUTH, "Content-Type": "application/json"},
            )
            assert response.status_code in (200, 400), response.text  # a 400 if the parser gives up
            assert response.headers["content-type"].startswith("application/json")
        reader.join(10)
    watcher.close()
    assert received and json.loads(received[0][6:])["path"] == "/v1/chat/completions"
    entries = _journal(small)
    assert entries and isinstance(entries[0]["request"]["body"], str)  # deep JSON shown as text
    one = httpx2.get(small.url + "/__mock/journal/" + entries[0]["id"])
    assert one.status_code == 200


# --- spec field lengths -----------------------------------------------------------------------------
def test_assistant_fields_have_openais_lengths(unlimited: BackgroundServer) -> None:
    url = unlimited.url + "/v1/assistants"
    too_long = httpx2.post(url, json={"name": "n", "instructions": "x" * 256_001}, headers=AUTH)
    assert too_long.status_code == 400 and too_long.json()["error"]["param"] == "instructions"
    assert httpx2.post(url, json={"name": "n" * 257}, headers=AUTH).json()["error"]["param"] == "name"
    assert httpx2.post(url, json={"name": "n", "description": "d" * 513}, headers=AUTH).status_code == 400
    at_limit = httpx2.post(url, json={"name": "n" * 256, "instructions": "x" * 256_000}, headers=AUTH)
    assert at_limit.status_code == 200, at_limit.text
    created = at_limit.json()["id"]
    modify = httpx2.post(f"{url}/{created}", json={"instructions": "x" * 256_001}, headers=AUTH)
    assert modify.status_code == 400 and modify.json()["error"]["param"] == "instructions"
    assert httpx2.delete(f"{url}/{created}", headers=AUTH).status_code == 200


# --- caches -----------------------------------------------------------------------------------------
def test_the_per_assistant_name_cache_is_capped(small: BackgroundServer) -> None:
    sales = {"Authorization": f"Bearer {demo.SALES_KEY}"}
    url = small.url + "/v1/assistants/" + demo.SALES_ASSISTANT
    body = {"assistant_id": demo.SALES_ASSISTANT, "messages": [{"role": "user", "content": "hello?"}]}
    for i in range(40):
        assert httpx2.post(url, json={"name": f"Sales {i}"}, headers=sales).status_code == 200
        chat = httpx2.post(small.url + "/v1/chat/completions", json=body, headers=sales)
        assert chat.status_code == 200 and f"Sales {i}" in chat.text  # the fallback names it
    from mockserver.context import STATE

    app = small.app
    assert app is not None
    assert len(app[STATE]._knowledge) <= 8


# --- faults and control input -----------------------------------------------------------------------
def test_armed_faults_are_capped(small: BackgroundServer) -> None:
    url = small.url + "/__mock/faults"
    for _ in range(3):
        fault = {"kind": "status", "match": {"path": "/nowhere"}}
        armed = httpx2.post(url, json=fault, headers=CONTROL_HEADERS)
        assert armed.status_code == 200
    refused = httpx2.post(url, json={"kind": "status"}, headers=CONTROL_HEADERS)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "too_many_faults"
    assert len(httpx2.get(url).json()["data"]) == 3


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__mock/faults", '{"kind": ["status"]}'),
        ("/__mock/faults", '{"kind": {"a": 1}}'),
        ("/__mock/faults", '{"kind": "status", "count": 1e999}'),
        ("/__mock/faults", '{"kind": "status", "count": Infinity}'),
        ("/__mock/faults", '{"kind": "status", "count": NaN}'),
        ("/__mock/faults", '{"kind": "delay", "delay_ms": -Infinity}'),
        ("/__mock/faults", '{"kind": "status", "match": ' + "[" * 5000 + "]" * 5000 + "}"),
        ("/__mock/faults", "[" * 100_000 + "]" * 100_000),
        ("/__mock/ratelimit/reset", '{"tier": ["chat"]}'),
        ("/__mock/ratelimit/reset", '{"tier": {"chat": 1}}'),
        ("/__mock/ratelimit/reset", '{"client": ' + "[" * 5000 + "]" * 5000 + "}"),
        ("/__mock/clock/advance", '{"seconds": 1e999}'),
        ("/__mock/clock/advance", '{"seconds": NaN}'),
    ],
)
def test_hostile_control_input_gets_400_with_the_envelope(
    small: BackgroundServer, path: str, body: str
) -> None:
    headers = {"Content-Type": "application/json", **CONTROL_HEADERS}
    response = httpx2.post(small.url + path, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


# --- credentials ------------------------------------------------------------------------------------
def test_keys_are_masked_in_headers_and_query_strings(small: BackgroundServer) -> None:
    secrets = {
        "X-Auth-Token": "tok-1234567890abcdef",
        "OpenAI-Api-Key": "sk-openai-1234567890abcdef",
        "api-key": "azure-1234567890abcdef",
        "X-Session-Secret": "sess-1234567890abcdef",
    }
    response = httpx2.get(
        small.url + "/v1/assistants",
        params={"api_key": "sk-query-1234567890abcdef", "limit": "5"},
        headers={**AUTH, **secrets},
    )
    assert response.status_code == 200
    entry = _journal(small)[0]
    shown = json.dumps(entry)
    for secret in [*secrets.values(), "sk-query-1234567890abcdef", demo.KEY]:
        assert secret not in shown
        assert secret[2:-2] not in shown
    assert "limit=5" in entry["query"] and "api_key=sk" in entry["query"]
    assert entry["request"]["headers"]["OpenAI-Api-Key"] == mask(secrets["OpenAI-Api-Key"])


def test_masks_show_at_most_four_characters_and_tell_keys_apart() -> None:
    keys = [demo.KEY, demo.OTHER_KEY, "sk-proj-" + "a" * 40, "short", "x"]
    for key in keys:
        shown = mask(key)
        visible = shown.split("#")[0].replace("…", "")
        assert len(visible) <= 4 and key not in shown
    assert mask(demo.KEY) != mask(demo.OTHER_KEY)  # same ends, different keys
    assert mask(demo.KEY) == mask(demo.KEY)


def test_debug_threads_are_bounded_by_bytes(small: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver import state

    monkeypatch.setattr(state, "THREADS_BYTES", 20_000)
    debug = {"Authorization": f"Bearer {demo.DEBUG_KEY}"}
    for i in range(10):
        question = f"refund {i} " + "q" * 5000
        response = httpx2.post(small.url + "/v1/chat/completions", json=chat_body(question), headers=debug)
        assert response.status_code == 200
    threads = httpx2.get(small.url + "/__mock/threads").json()["data"]
    assert 2 <= len(threads) <= 4  # the newest, within 20,000 bytes
    assert threads[-1]["messages"][0]["content"].startswith("refund 9 ")
