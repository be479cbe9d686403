"""Chat completions, SSE: CHAT-STREAM-*, CHAT-USAGE-STREAM-*, with raw framing checks."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from openai import OpenAI

from tests.mockserver.conftest import SUPPORT, chat_body
from tests.mockserver.speccheck import parse_sse


def _stream(http: httpx2.Client, **extra: Any) -> tuple[httpx2.Response, list[dict[str, Any]]]:
    response = http.post("/v1/chat/completions", json=chat_body(stream=True, **extra))
    assert response.status_code == 200
    return response, parse_sse(response.text)


def _chunks(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert events[-1]["data"] == "[DONE]"
    return [json.loads(e["data"]) for e in events[:-1]]


def test_CHAT_STREAM_1_event_stream_framing(http: httpx2.Client) -> None:
    response, events = _stream(http)
    assert response.headers["content-type"].startswith("text/event-stream")
    body = response.text
    assert body.endswith("\n\n")
    for block in body.split("\n\n")[:-1]:
        assert block.startswith("data: ") and "\n" not in block, block
    assert len(events) > 3


def test_CHAT_STREAM_2_chunks_share_id_created_model(http: httpx2.Client) -> None:
    _, events = _stream(http)
    chunks = _chunks(events)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1


def test_CHAT_STREAM_3_first_chunk_carries_role(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "refund?"}],
        extra_body={"assistant_id": SUPPORT},
        stream=True,
    )
    first = next(iter(stream))
    assert first.choices[0].delta.role == "assistant"
    stream.close()


def test_CHAT_STREAM_4_content_then_empty_finish_delta(http: httpx2.Client) -> None:
    _, events = _stream(http)
    chunks = _chunks(events)
    assert all("content" in c["choices"][0]["delta"] for c in chunks[1:-1])
    last = chunks[-1]["choices"][0]
    assert last["delta"] == {} and last["finish_reason"] == "stop"


def test_CHAT_STREAM_5_done_is_last(http: httpx2.Client) -> None:
    response, events = _stream(http)
    assert events[-1] == {"data": "[DONE]"}
    assert response.text.endswith("data: [DONE]\n\n")
    assert response.text.count("[DONE]") == 1


def test_CHAT_STREAM_6_finish_reason_null_until_the_end(http: httpx2.Client) -> None:
    _, events = _stream(http, max_tokens=5)
    chunks = _chunks(events)
    reasons = [c["choices"][0]["finish_reason"] for c in chunks]
    assert reasons[:-1] == [None] * (len(chunks) - 1) and reasons[-1] == "length"


def test_CHAT_STREAM_7_failure_after_start_is_an_error_event(
    http: httpx2.Client, inspect: httpx2.Client
) -> None:
    inspect.post("/faults", json={"kind": "error_event", "after_chunks": 3}).raise_for_status()
    _, events = _stream(http)
    assert len(events) == 4
    assert json.loads(events[-1]["data"])["error"]["type"] == "api_error"
    assert all(e["data"] != "[DONE]" for e in events)


def test_CHAT_STREAM_7_sdk_raises_on_the_error_event(client: OpenAI, inspect: httpx2.Client) -> None:
    import openai
    import pytest

    inspect.post("/faults", json={"kind": "error_event", "after_chunks": 2}).raise_for_status()
    stream = client.chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "refund?"}],
        extra_body={"assistant_id": SUPPORT},
        stream=True,
    )
    with pytest.raises(openai.APIError, match="injected fault"):
        list(stream)


def test_CHAT_STREAM_8_concatenation_is_the_answer(http: httpx2.Client) -> None:
    plain = http.post("/v1/chat/completions", json=chat_body()).json()
    for extra in ({}, {"max_tokens": 4}):
        _, events = _stream(http, **extra)
        chunks = _chunks(events)
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        cut = http.post("/v1/chat/completions", json=chat_body(**extra)).json() if extra else plain
        assert text == cut["choices"][0]["message"]["content"]
        assert chunks[-1]["choices"][0]["finish_reason"] == cut["choices"][0]["finish_reason"]


def test_CHAT_USAGE_STREAM_1_no_usage_without_opt_in(http: httpx2.Client) -> None:
    _, events = _stream(http)
    assert all("usage" not in c for c in _chunks(events))


def test_CHAT_USAGE_STREAM_2_one_usage_chunk_before_done(http: httpx2.Client) -> None:
    _, events = _stream(http, stream_options={"include_usage": True}, max_tokens=6)
    chunks = _chunks(events)
    with_usage = [c for c in chunks if c.get("usage")]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    assert chunks[-1]["choices"] == []
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_CHAT_USAGE_STREAM_3_usage_null_on_other_chunks(http: httpx2.Client) -> None:
    _, events = _stream(http, stream_options={"include_usage": True})
    chunks = _chunks(events)
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])


def test_stream_sdk_usage_matches_json(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "refund?"}],
        extra_body={"assistant_id": SUPPORT},
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    plain = client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "refund?"}], extra_body={"assistant_id": SUPPORT}
    )
    assert chunks[-1].usage == plain.usage


def test_CHAT_STREAM_7_a_genuine_failure_mid_stream(
    http: httpx2.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only injected faults: an exception inside the handler after the headers went out."""
    from mockserver.sse import EventStream

    real = EventStream.send
    contents = 0

    async def failing_send(self: EventStream, data: str, **kwargs: Any) -> None:
        # The model "falls over" while producing the second piece of content: the test depends on
        # what is streamed, not on how the handler serialises it.
        nonlocal contents
        if '"delta":{"content":' in data:
            contents += 1
            if contents == 2:
                raise RuntimeError("the model fell over")
        await real(self, data, **kwargs)

    monkeypatch.setattr(EventStream, "send", failing_send)
    response = http.post("/v1/chat/completions", json=chat_body(stream=True))
    monkeypatch.undo()
    events = parse_sse(response.text)
    assert response.status_code == 200
    assert json.loads(events[-1]["data"])["error"]["type"] == "api_error"
    assert all(e["data"] != "[DONE]" for e in events)
    sent = [json.loads(e["data"]) for e in events[:-1]]
    assert sent and sent[0]["choices"][0]["delta"].get("role") == "assistant"  # the stream had started
