"""``--record DIR`` then ``--replay DIR``: a session against a real server, replayed with no server
behind it, gives the openai SDK identical answers; keys never reach the disk."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from tests.conformance import altserver
from tests.upstream.conftest import Servers
from tests.upstream.servers import alt_app

QUESTION = [{"role": "user", "content": "What is your refund policy?"}]


def sdk_session(base_url: str) -> list[Any]:
    """What an app does with the SDK: JSON and streamed answers, an assistant's life, an error."""
    client = openai.OpenAI(base_url=base_url + "/v1", api_key=altserver.MAIN_KEY, max_retries=0)
    extra = {"assistant_id": altserver.ASSISTANT_A}
    seen: list[Any] = []
    seen.append(client.chat.completions.create(model="m", messages=QUESTION, extra_body=extra).model_dump())
    stream = client.chat.completions.create(
        model="m", messages=QUESTION, stream=True, stream_options={"include_usage": True}, extra_body=extra
    )
    seen.append([chunk.model_dump() for chunk in stream])
    created = client.beta.assistants.create(model="m", name="recorded", instructions="Be brief.")
    seen.append(created.model_dump())
    seen.append([a.id for a in client.beta.assistants.list(limit=1)])  # pages through
    seen.append(client.beta.assistants.update(created.id, name="renamed").model_dump())
    seen.append(client.beta.assistants.delete(created.id).model_dump())
    with pytest.raises(openai.NotFoundError) as gone:
        client.beta.assistants.retrieve(created.id)
    seen.append(gone.value.body)
    return seen


def test_a_recorded_session_replays_identically_without_the_upstream(
    servers: Servers, tmp_path: Path
) -> None:
    upstream = servers.start(alt_app)
    recorder = servers.proxy(upstream.url, record=str(tmp_path))
    live = sdk_session(recorder.url)
    servers.stop(recorder)
    servers.stop(upstream)  # nothing behind the replay

    replay = servers.proxy(None, replay=str(tmp_path), replay_speed=0.0)
    assert sdk_session(replay.url) == live

    files = sorted(tmp_path.glob("*.json"))
    assert len(files) >= 8
    text = "".join(f.read_text() for f in files)
    assert altserver.MAIN_KEY not in text and "authorization" not in text.lower()
    first = json.loads(files[0].read_text())
    assert first["request"]["body"]["json"]["messages"] == QUESTION
    assert first["response"]["status"] == 200
    streamed = json.loads(files[1].read_text())["response"]["events"]
    assert streamed[-1]["text"].strip() == "data: [DONE]" and all("t_ms" in e for e in streamed)


def _recorded_stream(directory: Path, gaps_ms: tuple[float, ...]) -> None:
    """A hand-written recording: a stream whose events came ``gaps_ms`` apart."""
    chunk = {"id": "chatcmpl-r", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    events, t = [], 0.0
    for i, gap in enumerate(gaps_ms):
        t += gap
        delta = {"role": "assistant", "content": f"w{i} "} if i == 0 else {"content": f"w{i} "}
        choice = {"index": 0, "delta": delta, "finish_reason": None, "logprobs": None}
        payload = {**chunk, "choices": [choice]}
        events.append({"t_ms": t, "text": f"data: {json.dumps(payload)}\n\n"})
    events.append({"t_ms": t, "text": "data: [DONE]\n\n"})
    recording = {
        "format": "ragen-mock recording 1",
        "request": {
            "method": "POST",
            "path": "/v1/chat/completions",
            "query": "",
            "headers": {},
            "body": {"json": {"assistant_id": "asst-x", "messages": QUESTION, "stream": True}},
        },
        "response": {"status": 200, "headers": {"Content-Type": "text/event-stream"}, "events": events},
    }
    (directory / "0001-POST-v1-chat-completions.json").write_text(json.dumps(recording, indent=2))


def _timed_replay(servers: Servers, directory: Path, speed: float) -> float:
    replay = servers.proxy(None, replay=str(directory), replay_speed=speed)
    body = {"assistant_id": "asst-x", "messages": QUESTION, "stream": True}
    started = time.monotonic()
    response = requests.post(replay.url + "/v1/chat/completions", json=body, timeout=30)
    took = time.monotonic() - started
    assert response.status_code == 200 and response.text.endswith("data: [DONE]\n\n")
    return took


def test_replay_keeps_the_recorded_pacing_scaled_by_replay_speed(servers: Servers, tmp_path: Path) -> None:
    _recorded_stream(tmp_path, (0.0, 600.0, 600.0, 600.0))  # 1.8 s as recorded
    assert _timed_replay(servers, tmp_path, 1.0) >= 1.8
    assert _timed_replay(servers, tmp_path, 2.0) >= 0.9
    assert _timed_replay(servers, tmp_path, 0.0) < 0.9  # 0: no pacing at all


def test_a_request_never_recorded_gets_a_404_naming_the_closest(servers: Servers, tmp_path: Path) -> None:
    _recorded_stream(tmp_path, (0.0, 1.0))
    replay = servers.proxy(None, replay=str(tmp_path), replay_speed=0.0)
    other = [{"role": "user", "content": "Something else?"}]
    body = {"assistant_id": "asst-x", "messages": other, "stream": True}
    response = requests.post(replay.url + "/v1/chat/completions", json=body, timeout=10)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "not_found_error" and error["code"] == "no_recording"
    assert "0001-POST-v1-chat-completions.json" in error["message"] and "messages" in error["message"]
    # The key the request is sent with is no part of the match.
    same = {**body, "messages": QUESTION}
    keyed = requests.post(
        replay.url + "/v1/chat/completions", json=same, headers={"Authorization": "Bearer other"}, timeout=10
    )
    assert keyed.status_code == 200
