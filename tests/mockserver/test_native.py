"""The native ``POST /v1/chat``: NATIVE-1, NATIVE-2, and DEBUG-1 threads."""

from __future__ import annotations

import json

import httpx2

from mockserver import demo
from mockserver.background import BackgroundServer
from tests.mockserver.conftest import checked_client, make_openai
from tests.mockserver.speccheck import parse_sse


def test_NATIVE_1_single_prompt_defaults_to_the_bound_assistant(http: httpx2.Client) -> None:
    body = http.post("/v1/chat", json={"content": "How do I get a refund?"}).json()
    assert body["object"] == "ragen.chat" and body["id"].startswith("chat-")
    assert body["assistant_id"] == demo.SUPPORT_ASSISTANT
    assert "refund" in body["content"].lower()
    sales = http.post(
        "/v1/chat", json={"content": "How much is the Team plan?", "assistant_id": demo.SALES_ASSISTANT}
    )
    assert sales.json()["assistant_id"] == demo.SALES_ASSISTANT and "49 USD" in sales.json()["content"]


def test_NATIVE_1_validation_from_the_spec(http: httpx2.Client) -> None:
    for body, param in [
        ({}, "content"),
        ({"content": ""}, "content"),
        ({"content": "x" * 32001}, "content"),
        ({"content": "x", "context": {"text": "y" * 8001}}, "context"),
        ({"content": "x", "stream": "yes"}, "stream"),
    ]:
        response = http.post("/v1/chat", json=body)
        assert response.status_code == 400 and response.json()["error"]["param"] == param, body


def test_NATIVE_2_delta_events_then_one_done(http: httpx2.Client) -> None:
    response = http.post(
        "/v1/chat", json={"content": "refund?", "stream": True, "context": {"url": "https://x.example/o/1"}}
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert {e["event"] for e in events[:-1]} == {"delta"} and events[-1]["event"] == "done"
    done = json.loads(events[-1]["data"])
    assert "".join(json.loads(e["data"])["content"] for e in events[:-1]) == done["content"]
    assert done["object"] == "ragen.chat"


def test_DEBUG_1_debug_keys_save_threads(server: BackgroundServer, inspect: httpx2.Client) -> None:
    with make_openai(server) as plain:
        plain.chat.completions.create(
            model="x",
            messages=[{"role": "user", "content": "refund?"}],
            extra_body={"assistant_id": demo.SUPPORT_ASSISTANT},
        )
    assert inspect.get("/threads").json()["data"] == []  # not a debug key
    with make_openai(server, demo.DEBUG_KEY) as debug:
        answer = debug.chat.completions.create(
            model="x",
            messages=[
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "refund?"},
            ],
            extra_body={"assistant_id": demo.SUPPORT_ASSISTANT},
        )
        streamed = "".join(
            c.choices[0].delta.content or ""
            for c in debug.chat.completions.create(
                model="x",
                messages=[{"role": "user", "content": "shipping?"}],
                extra_body={"assistant_id": demo.SALES_ASSISTANT},
                stream=True,
            )
            if c.choices
        )
    with checked_client(server.url, key=demo.DEBUG_KEY) as http:
        native = http.post("/v1/chat", json={"content": "onboarding?"})
    threads = inspect.get("/threads").json()["data"]
    assert len(threads) == 3
    first, second, third = threads
    assert first["messages"][-1] == {"role": "user", "content": "refund?"} and len(first["messages"]) == 3
    assert first["answer"] == answer.choices[0].message.content
    assert first["key"] == "…ug#61f5" and first["request_id"]
    assert second["assistant_id"] == demo.SALES_ASSISTANT and second["answer"] == streamed
    assert third["request_id"] == native.headers["x-request-id"]
    only_sales = inspect.get("/threads", params={"assistant_id": demo.SALES_ASSISTANT}).json()["data"]
    assert [t["id"] for t in only_sales] == [second["id"]]
