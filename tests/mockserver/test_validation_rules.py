"""Validation rules added to the spec after review: CHAT-REQ-10, CHAT-LEN-3, ASST-MODIFY-4, ASST-LIST-5."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.mockserver.conftest import SUPPORT, chat_body, error_of

CHAT = "/v1/chat/completions"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"messages": [{"role": "user", "content": 42}]}, "messages"),
        ({"messages": [{"role": "user"}]}, "messages"),
        ({"messages": ["What is our refund policy?"]}, "messages"),
        ({"stream": "yes"}, "stream"),
        ({"stream": True, "stream_options": ["include_usage"]}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": "yes"}}, "stream_options"),
    ],
)
def test_CHAT_REQ_10_malformed_messages_and_stream_types(
    http: httpx2.Client, change: dict[str, Any], param: str
) -> None:
    response = http.post(CHAT, json={**chat_body(), **change})
    assert response.status_code == 400, change
    error = error_of(response)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


def test_CHAT_LEN_3_threshold_is_32000_estimated_tokens(http: httpx2.Client) -> None:
    # 4 characters a token: just under the threshold is answered, just over is rejected.
    assert http.post(CHAT, json=chat_body("x" * (4 * 31_000))).status_code == 200
    over = http.post(CHAT, json=chat_body("x" * (4 * 32_500)))
    assert (over.status_code, error_of(over)["code"]) == (400, "context_length_exceeded")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": 5}, "name"),
        ({"temperature": 5}, "temperature"),
        ({"name": "B", "temperature": -1}, "temperature"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_ASST_MODIFY_4_modify_validates_like_create_and_changes_nothing(
    http: httpx2.Client, method: str, body: dict[str, Any], param: str
) -> None:
    created = http.post("/v1/assistants", json={"name": "A", "instructions": "Keep me."}).json()
    response = http.request(method, f"/v1/assistants/{created['id']}", json=body)
    assert response.status_code == 400
    assert (error_of(response)["type"], error_of(response)["param"]) == ("invalid_request_error", param)
    assert http.get(f"/v1/assistants/{created['id']}").json() == created


@pytest.mark.parametrize(
    ("query", "param"), [("limit=0", "limit"), ("limit=101", "limit"), ("order=newest", "order")]
)
def test_ASST_LIST_5_bad_limit_or_order_is_400(http: httpx2.Client, query: str, param: str) -> None:
    response = http.get(f"/v1/assistants?{query}")
    assert response.status_code == 400
    assert (error_of(response)["type"], error_of(response)["param"]) == ("invalid_request_error", param)
    assert http.get("/v1/assistants?limit=100&order=asc").status_code == 200


def test_CHAT_REQ_10_valid_message_still_answers(http: httpx2.Client) -> None:
    body = {"assistant_id": SUPPORT, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    assert http.post(CHAT, json=body).status_code == 200


def test_CHAT_LEN_1_integral_float_max_tokens_is_an_integer(http: httpx2.Client) -> None:
    # Found by the conformance fuzzer: JSON Schema's "integer" admits 1.0, which once crashed the mock.
    response = http.post(CHAT, json=chat_body(max_tokens=1.0))
    assert response.status_code == 200
    assert response.json()["choices"][0]["finish_reason"] == "length"
    assert response.json()["usage"]["completion_tokens"] == 1


def test_CHAT_REQ_11_content_parts_are_rejected(http: httpx2.Client) -> None:
    parts = [{"type": "text", "text": "What is our refund policy?"}]
    response = http.post(CHAT, json={**chat_body(), "messages": [{"role": "user", "content": parts}]})
    assert response.status_code == 400
    assert (error_of(response)["type"], error_of(response)["param"]) == ("invalid_request_error", "messages")
