"""Chat completions, JSON: CHAT-REQ-*, CHAT-CONV-*, CHAT-RESP-*, CHAT-USAGE-1, CHAT-LEN-*."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import openai
import pytest
from openai import OpenAI

from mockserver import demo
from mockserver.background import BackgroundServer
from tests.mockserver.conftest import SUPPORT, chat_body, error_of, make_openai


def _ask(client: OpenAI, question: str = "What is our refund policy?", /, **extra: Any) -> Any:
    return client.chat.completions.create(
        model="gpt-5.4",
        messages=[{"role": "user", "content": question}],
        extra_body={"assistant_id": SUPPORT},
        **extra,
    )


def test_CHAT_RESP_1_json_completion_shape(client: OpenAI) -> None:
    completion = _ask(client)
    assert completion.object == "chat.completion"
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.finish_reason == "stop"


def test_CHAT_RESP_2_id_prefix_and_created_now(client: OpenAI) -> None:
    completion = _ask(client)
    assert completion.id.startswith("chatcmpl-")
    assert abs(completion.created - time.time()) < 86400


def test_retrieval_answers_from_the_best_snippet(client: OpenAI) -> None:
    assert "refund" in (_ask(client, "What is our refund policy?").choices[0].message.content or "").lower()
    assert "workspace" in (_ask(client, "Summarize our onboarding process").choices[0].message.content or "")
    assert "ship" in (_ask(client, "How long does shipping take?").choices[0].message.content or "")


def test_scripted_rule_overrides_retrieval(client: OpenAI) -> None:
    answer = _ask(client, "I want to talk to a human about my refund").choices[0].message.content
    assert answer == "I am handing you over to a human agent now. Please hold on."


def test_fallback_is_deterministic(client: OpenAI) -> None:
    first = _ask(client, "Which colour is the CEO's bicycle?").choices[0].message.content
    second = _ask(client, "Which colour is the CEO's bicycle?").choices[0].message.content
    assert first == second and "could not find" in (first or "")


def test_CHAT_REQ_1_missing_fields_or_message_count(http: httpx2.Client) -> None:
    body = chat_body()
    for broken, param in [
        ({"messages": body["messages"]}, "assistant_id"),
        ({"assistant_id": SUPPORT}, "messages"),
        ({**body, "messages": []}, "messages"),
        ({**body, "messages": body["messages"] * 101}, "messages"),
    ]:
        response = http.post("/v1/chat/completions", json=broken)
        assert response.status_code == 400, broken
        error = error_of(response)
        assert error["type"] == "invalid_request_error"
        assert error["param"] == param  # ERR-PARAM-1
    missing = error_of(http.post("/v1/chat/completions", json={"messages": body["messages"]}))
    assert missing["code"] == "missing_required_parameter"
    assert (
        http.post("/v1/chat/completions", json={**body, "messages": body["messages"] * 100}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [("temperature", 2.01, 2), ("temperature", -0.1, 0), ("max_tokens", 0, 1), ("max_tokens", 32001, 32000)],
)
def test_CHAT_REQ_2_ranges(http: httpx2.Client, field: str, bad: float, good: float) -> None:
    response = http.post("/v1/chat/completions", json=chat_body(**{field: bad}))
    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "invalid_value", field)
    assert http.post("/v1/chat/completions", json=chat_body(**{field: good})).status_code == 200


def test_ERR_PARAM_1_type_errors_name_the_field(http: httpx2.Client) -> None:
    error = error_of(http.post("/v1/chat/completions", json=chat_body(temperature="hot")))
    assert (error["code"], error["param"]) == ("invalid_type", "temperature")


def test_CHAT_REQ_3_unknown_role(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="x",
            messages=[{"role": "tool", "content": "x", "tool_call_id": "1"}],
            extra_body={"assistant_id": SUPPORT},
        )
    assert caught.value.status_code == 400
    assert caught.value.type == "invalid_request_error"
    assert caught.value.param == "messages"


def test_CHAT_REQ_4_model_is_the_deployments(client: OpenAI) -> None:
    for sent in ("gpt-5.4", "gpt-4o", "anything-at-all"):
        completion = client.chat.completions.create(
            model=sent, messages=[{"role": "user", "content": "hi"}], extra_body={"assistant_id": SUPPORT}
        )
        assert completion.model == "gpt-5.4"
    stream = client.chat.completions.create(
        model="other",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"assistant_id": SUPPORT},
        stream=True,
    )
    assert {chunk.model for chunk in stream} == {"gpt-5.4"}


def test_CHAT_REQ_5_unknown_or_foreign_assistant_is_404(client: OpenAI) -> None:
    for assistant in ("asst-does-not-exist", demo.OTHER_ASSISTANT):
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(
                model="x",
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"assistant_id": assistant},
            )
        assert caught.value.type == "not_found_error"
        assert caught.value.code == "assistant_not_found"


def test_CHAT_REQ_6_unknown_fields_are_ignored(http: httpx2.Client) -> None:
    assert (
        http.post("/v1/chat/completions", json=chat_body(frobnicate={"a": 1}, user="u1")).status_code == 200
    )


def test_CHAT_REQ_7_stream_options_without_stream_is_ignored(http: httpx2.Client) -> None:
    response = http.post("/v1/chat/completions", json=chat_body(stream_options={"include_usage": True}))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_CHAT_REQ_8_no_user_message_gets_the_fallback(http: httpx2.Client) -> None:
    body = {"assistant_id": SUPPORT, "messages": [{"role": "system", "content": "Be brief."}]}
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert "could not find" in response.json()["choices"][0]["message"]["content"]


def test_CHAT_REQ_9_bare_project_id_is_accepted(http: httpx2.Client) -> None:
    bare = SUPPORT.removeprefix("asst-")
    assert http.post("/v1/chat/completions", json={**chat_body(), "assistant_id": bare}).status_code == 200


def test_CHAT_USAGE_1_total_is_the_sum(client: OpenAI) -> None:
    usage = _ask(client).usage
    assert usage is not None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0


def test_CHAT_LEN_1_max_tokens_cuts_with_length(client: OpenAI) -> None:
    full = _ask(client)
    assert full.usage is not None and full.usage.completion_tokens > 3
    cut = _ask(client, max_tokens=3)
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens == 3
    assert (full.choices[0].message.content or "").startswith(cut.choices[0].message.content or "-")
    roomy = _ask(client, max_tokens=full.usage.completion_tokens)
    assert roomy.choices[0].finish_reason == "stop"


def test_CHAT_LEN_2_prompt_over_context_is_rejected(http: httpx2.Client) -> None:
    response = http.post("/v1/chat/completions", json=chat_body("word " * 26000))
    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["code"]) == ("invalid_request_error", "context_length_exceeded")


def test_CHAT_CONV_1_last_user_message_is_the_question(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="x",
        messages=[
            {"role": "user", "content": "What is our refund policy?"},
            {"role": "assistant", "content": "Returns within 30 days."},
            {"role": "user", "content": "And how long does shipping take?"},
        ],
        extra_body={"assistant_id": SUPPORT},
    )
    assert "ship" in (completion.choices[0].message.content or "").lower()


def test_CHAT_CONV_2_system_messages_merge_after_instructions(
    server: BackgroundServer, inspect: httpx2.Client
) -> None:
    with make_openai(server, demo.DEBUG_KEY) as debug:
        debug.chat.completions.create(
            model="x",
            messages=[
                {"role": "system", "content": "Respond only in Polish."},
                {"role": "user", "content": "What is our refund policy?"},
                {"role": "system", "content": "Be brief."},
            ],
            extra_body={"assistant_id": SUPPORT},
        )
    (thread,) = inspect.get("/threads").json()["data"]
    owner = "You are the support assistant of Demo Shop. Respond concisely. If unsure, say so."
    assert thread["instructions"] == f"{owner}\n\nRespond only in Polish.\n\nBe brief."


def test_json_and_stream_agree_on_usage_and_content(client: OpenAI) -> None:
    for max_tokens in (None, 4):
        extra = {} if max_tokens is None else {"max_tokens": max_tokens}
        plain = _ask(client, **extra)
        chunks = list(_ask(client, stream=True, stream_options={"include_usage": True}, **extra))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert text == plain.choices[0].message.content
        assert finish == [plain.choices[0].finish_reason]
        assert chunks[-1].usage == plain.usage


def test_CHAT_RESP_3_logprobs_and_refusal_are_null(http: httpx2.Client) -> None:
    choice = http.post("/v1/chat/completions", json=chat_body()).json()["choices"][0]
    assert "logprobs" in choice and choice["logprobs"] is None
    assert "refusal" in choice["message"] and choice["message"]["refusal"] is None
    streamed = http.post("/v1/chat/completions", json=chat_body(stream=True)).text
    assert streamed.count('"logprobs":null') == streamed.count('"index":0')
