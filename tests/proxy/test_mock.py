"""The openai-proxy mock over real HTTP on loopback, test names after the PROXY- requirement ids."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import requests
from ragen_spec import PROXY_SPEC_PATH
from ragen_spec.schemas import media_schema, operations, sse_event_errors, validator_for
from ragen_spec.sse import parse as parse_sse

from mockserver.background import BackgroundServer
from mockserver.config import ConfigError
from mockserver.proxy import PROXY_KEY, create_proxy_app
from mockserver.proxy.completions import raw_text
from mockserver.proxy.config import load_proxy_config
from mockserver.settings import Settings

AUTH = {"Authorization": f"Bearer {PROXY_KEY}"}
HI = [{"role": "user", "content": "Hi"}]
CHAT_OP = next(op for path, m, op in operations(document=PROXY_SPEC_PATH) if m == "POST")


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(lambda: create_proxy_app(Settings())) as running:
        yield running


@pytest.fixture
def url(server: BackgroundServer) -> Iterator[str]:
    yield server.url
    requests.delete(server.url + "/__mock/faults", headers={"x-mock-control": "1"}, timeout=5)


def chat(url: str, body: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
    headers = AUTH if headers is None else headers
    return requests.post(url + "/v1/chat/completions", json=body, headers=headers, timeout=10, **kwargs)


def events(response: requests.Response) -> list[str]:
    """The data of each event, as the spec package's parser (a browser's rules) reads the stream."""
    return [event.data for event in parse_sse(response.content).events]


def assert_error(response: requests.Response, status: int, error_type: str, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == error_type, error
    assert set(error) == {"message", "type", "code", "param"}
    if param is not None:
        assert error["param"] == param


def assert_valid(response: requests.Response) -> None:
    """The response matches spec/openai-proxy.yaml (JSON schema, or every SSE event)."""
    media_type = response.headers["Content-Type"].split(";")[0]
    key, schema = media_schema(CHAT_OP, str(response.status_code), media_type, document=PROXY_SPEC_PATH)
    if key == "itemSchema":
        for data in events(response):
            assert sse_event_errors({"data": data}, schema, document=PROXY_SPEC_PATH) == []
    else:
        assert list(validator_for(schema, document=PROXY_SPEC_PATH).iter_errors(response.json())) == []


def test_PROXY_RESP_1_completion_is_a_valid_chat_completion(url: str) -> None:
    response = chat(url, {"model": "gpt-4o-mini", "messages": HI})
    assert response.status_code == 200
    assert_valid(response)
    body = response.json()
    assert body["id"].startswith("chatcmpl-") and body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == raw_text("gpt-4o-mini", "Hi", 0)
    assert response.headers["x-request-id"]


def test_PROXY_MODEL_1_unknown_model_is_404_model_not_found(url: str) -> None:
    response = chat(url, {"model": "invalid-model", "messages": HI})
    assert_error(response, 404, "not_found_error", param="model")
    assert response.json()["error"]["code"] == "model_not_found"


def test_PROXY_MODEL_3_an_alias_answers_as_its_target_model(url: str) -> None:
    body = chat(url, {"model": "fast-chat", "messages": HI}).json()
    assert body["model"] == "gpt-4o-mini"
    assert body["choices"][0]["message"]["content"] == raw_text("gpt-4o-mini", "Hi", 0)


def test_PROXY_MODELS_1_2_models_list_every_model_and_alias_each_accepted(url: str) -> None:
    response = requests.get(url + "/v1/models", headers=AUTH, timeout=10)
    listing = response.json()
    assert listing["object"] == "list"
    ids = [m["id"] for m in listing["data"]]
    assert {"gpt-4o-mini", "deepseek-chat", "fast-chat", "claude-3-sonnet"} <= set(ids)
    for model in listing["data"]:
        assert model["object"] == "model" and isinstance(model["created"], int) and model["owned_by"]
    for model_id in ids:
        assert chat(url, {"model": model_id, "messages": HI, "max_tokens": 1}).status_code == 200, model_id


def test_PROXY_AUTH_3_models_need_the_key(url: str) -> None:
    assert_error(requests.get(url + "/v1/models", timeout=10), 401, "authentication_error")


def test_PROXY_N_1_n_choices_with_their_indexes_and_different_answers(url: str) -> None:
    body = chat(url, {"model": "deepseek-chat", "messages": HI, "n": 3}).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in body["choices"]}) == 3  # PROXY-N-2: the mock's choice
    tokens = sum(len(c["message"]["content"].split()) for c in body["choices"])
    assert body["usage"]["completion_tokens"] >= tokens  # usage counts every choice


@pytest.mark.parametrize("stop", ["request", ["zzz", " choice", "request"]])
def test_PROXY_STOP_1_stop_really_cuts_the_answer(url: str, stop: str | list[str]) -> None:
    full = raw_text("gpt-4o-mini", "Hi", 0)
    cut = min(full.find(s) for s in ([stop] if isinstance(stop, str) else stop) if s in full)
    body = chat(url, {"model": "gpt-4o-mini", "messages": HI, "stop": stop}).json()
    choice = body["choices"][0]
    assert choice["message"]["content"] == full[:cut]
    assert choice["finish_reason"] == "stop"


def test_PROXY_LEN_1_max_tokens_ends_with_length(url: str) -> None:
    body = chat(url, {"model": "gpt-4o-mini", "messages": HI, "max_tokens": 3, "n": 2}).json()
    assert [c["finish_reason"] for c in body["choices"]] == ["length", "length"]
    assert body["usage"]["completion_tokens"] == 6
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + 6


def test_PROXY_FINISH_1_blocked_prompt_ends_with_content_filter(url: str) -> None:
    blocked = [{"role": "user", "content": "say a forbidden word"}]
    body = chat(url, {"model": "gpt-4o-mini", "messages": blocked}).json()
    assert body["choices"][0]["finish_reason"] == "content_filter"


def test_PROXY_REQ_4_the_documents_complete_request_is_answered(url: str) -> None:
    example = CHAT_OP["requestBody"]["content"]["application/json"]["examples"]["complete"]["value"]
    response = chat(url, {**example, "user": "user-1234", "n": 1, "stop": "\n\n"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": HI}, "model"),  # PROXY-REQ-1
        ({"model": "gpt-4o-mini"}, "messages"),
        ({"model": "gpt-4o-mini", "messages": HI, "temperature": 3}, "temperature"),  # PROXY-REQ-2
        ({"model": "gpt-4o-mini", "messages": HI, "frequency_penalty": 2.5}, "frequency_penalty"),
        ({"model": "gpt-4o-mini", "messages": HI, "presence_penalty": -2.1}, "presence_penalty"),
        ({"model": "gpt-4o-mini", "messages": HI, "stop": 7}, "stop"),
        ({"model": "gpt-4o-mini", "messages": HI, "n": "two"}, "n"),
        ({"model": "gpt-4o-mini", "messages": []}, "messages"),  # PROXY-REQ-3
        ({"model": "gpt-4o-mini", "messages": HI, "n": 0}, "n"),
        ({"model": "gpt-4o-mini", "messages": HI, "top_p": 1.5}, "top_p"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]}, "messages"),
    ],
)
def test_PROXY_REQ_1_2_3_invalid_parameters_are_400(url: str, body: dict[str, Any], param: str) -> None:
    assert_error(chat(url, body), 400, "invalid_request_error", param=param)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"null", b""])
def test_PROXY_BODY_1_non_object_bodies_are_400(url: str, raw: bytes) -> None:
    response = requests.post(
        url + "/v1/chat/completions",
        data=raw,
        timeout=10,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert_error(response, 400, "invalid_request_error")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": f"Basic {PROXY_KEY}"}]
)
def test_PROXY_AUTH_1_2_4_missing_unknown_or_non_bearer_key_is_401(url: str, headers: dict[str, str]) -> None:
    response = chat(url, {"model": "gpt-4o-mini", "messages": HI}, headers=headers)
    assert_error(response, 401, "authentication_error")


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [
        ("kind=rate_limit; retry_after=3", 429, "rate_limit_exceeded"),
        ("kind=status; status=500", 500, "internal_server_error"),
        ("kind=status; status=502", 502, "bad_gateway"),
        ("kind=status; status=503", 503, "service_unavailable"),
    ],
)
def test_PROXY_ERR_TYPE_1_faults_follow_the_documents_error_table(
    url: str, fault: str, status: int, error_type: str
) -> None:
    response = chat(url, {"model": "gpt-4o-mini", "messages": HI}, headers={**AUTH, "x-mock-fault": fault})
    assert_error(response, status, error_type)
    if status in (429, 503):  # PROXY-RATE-1
        assert response.headers["Retry-After"].isdigit()


def test_PROXY_FAULT_1_an_armed_outage_hits_the_next_requests_then_recovers(url: str) -> None:
    fault: Any = {"kind": "status", "status": 502, "count": 2, "match": {"path": "/v1/chat/completions"}}
    armed = requests.post(url + "/__mock/faults", json=fault, headers={"x-mock-control": "1"}, timeout=5)
    assert armed.status_code in (200, 201), armed.text
    first, second, third = (chat(url, {"model": "gpt-4o-mini", "messages": HI}) for _ in range(3))
    assert_error(first, 502, "bad_gateway")
    assert first.json()["error"]["message"].startswith("The provider serving this model")
    assert second.status_code == 502 and third.status_code == 200


def test_PROXY_STREAM_1_2_3_4_per_choice_chunks_match_the_json_answer(url: str) -> None:
    body = {"model": "claude-3-sonnet", "messages": HI, "n": 2, "max_tokens": 12, "stop": "request"}
    expected = chat(url, body).json()["choices"]
    response = chat(url, {**body, "stream": True, "stream_options": {"include_usage": True}}, stream=True)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert_valid(response)
    data = events(response)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    usage_chunks = [c for c in chunks if c.get("usage")]
    assert usage_chunks == [chunks[-1]] and chunks[-1]["choices"] == []
    assert all(c["usage"] is None for c in chunks[:-1])
    for choice in expected:
        mine = [c["choices"][0] for c in chunks[:-1] if c["choices"][0]["index"] == choice["index"]]
        assert mine[0]["delta"]["role"] == "assistant"
        assert "".join(m["delta"].get("content") or "" for m in mine) == choice["message"]["content"]
        assert [m["finish_reason"] for m in mine if m["finish_reason"]] == [choice["finish_reason"]]
        assert mine[-1]["finish_reason"] is not None


def test_PROXY_STREAM_4_no_usage_without_include_usage(url: str) -> None:
    response = chat(url, {"model": "gpt-4o-mini", "messages": HI, "stream": True}, stream=True)
    assert all("usage" not in json.loads(d) for d in events(response)[:-1])


def test_PROXY_STREAM_5_a_mid_stream_failure_is_an_error_event_without_done(url: str) -> None:
    headers = {**AUTH, "x-mock-fault": "kind=error_event; after_chunks=3"}
    body = {"model": "gpt-4o-mini", "messages": HI, "stream": True}
    data = events(chat(url, body, headers=headers, stream=True))
    assert "[DONE]" not in data and "error" in json.loads(data[-1])


def test_openai_sdk_round_trip(url: str) -> None:
    client = openai.OpenAI(
        base_url=url + "/v1", api_key=PROXY_KEY, max_retries=0, _strict_response_validation=True
    )
    hi: Any = [{"role": "user", "content": "Hi"}]
    completion = client.chat.completions.create(
        model="fast-chat", messages=hi, n=2, stop=["zzz", "request"], user="u-1", temperature=0.7
    )
    assert [c.index for c in completion.choices] == [0, 1]
    assert "request" not in (completion.choices[0].message.content or "")
    stream = client.chat.completions.create(model="deepseek-coder", messages=hi, n=2, stream=True)
    texts: dict[int, str] = {}
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
    assert texts == {i: raw_text("deepseek-coder", "Hi", i) for i in (0, 1)}
    assert "claude-3-sonnet" in {m.id for m in client.models.list()}
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="nope", messages=hi)
    assert missing.value.code == "model_not_found"


def test_config_yaml_gives_models_aliases_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text("models: [{id: local-llm, owned_by: me}]\naliases: {small: local-llm}\nkeys: [k-1]\n")
    with BackgroundServer(lambda: create_proxy_app(Settings(config=str(path)))) as running:
        ok = requests.post(
            running.url + "/v1/chat/completions",
            headers={"Authorization": "Bearer k-1"},
            json={"model": "small", "messages": HI},
            timeout=10,
        )
        assert ok.json()["model"] == "local-llm"
        old_key = requests.get(running.url + "/v1/models", headers=AUTH, timeout=10)
        assert old_key.status_code == 401


@pytest.mark.parametrize(
    "text",
    [
        "models: []\nkeys: [k]\n",
        "models: [{id: a}]\naliases: {b: c}\nkeys: [k]\n",
        "models: [{id: a}]\n",
        "models: [{id: a}, {id: a}]\nkeys: [k]\n",
        "models: [{id: a}]\naliases: {a: a}\nkeys: [k]\n",
    ],
)
def test_config_errors_are_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_proxy_config(path)


def test_integral_floats_and_lone_surrogates_are_answered_not_500(url: str) -> None:
    """Found by the schema-driven fuzzer: JSON Schema integers include 2.0, JSON strings lone surrogates."""
    messages = b'[{"role": "user", "content": "\\udb78"}]'
    raw = b'{"model": "gpt-4o-mini", "n": 2.0, "max_tokens": 3.0, "messages": ' + messages + b"}"
    response = requests.post(
        url + "/v1/chat/completions",
        data=raw,
        timeout=10,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert [c["finish_reason"] for c in response.json()["choices"]] == ["length", "length"]


def test_ragen_mock_profile_openai_proxy_serves_the_proxy(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--profile", "openai-proxy", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert "OpenAI-compatible proxy" in banner
        for _ in range(100):
            try:
                listing = requests.get(f"http://127.0.0.1:{port}/v1/models", headers=AUTH, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert "fast-chat" in {m["id"] for m in listing.json()["data"]}
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    bad = subprocess.run(
        [sys.executable, "-m", "mockserver", "--profile", "nope"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "profile" in bad.stderr
