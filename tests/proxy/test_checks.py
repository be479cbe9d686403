"""The openai-proxy checks on fabricated responses: each rule fires on the wire shape that breaks it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from conformance.exchange import Exchange
from conformance.profiles.openai_proxy.responses import allowed_error_types, stream_problems
from conformance.profiles.openai_proxy.schema import violated_requirement

HEAD = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
    return "data: " + json.dumps({**HEAD, "choices": choices, **extra}) + "\n\n"


def stream(*events: str, include_usage: bool = False) -> Exchange:
    request: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    if include_usage:
        request["stream_options"] = {"include_usage": True}
    return Exchange(
        method="POST",
        url="http://127.0.0.1/v1/chat/completions",
        request_headers={},
        request_body=json.dumps(request).encode(),
        status=200,
        headers=CaseInsensitiveDict({"content-type": "text/event-stream"}),
        body="".join(events).encode(),
        elapsed=0.1,
    )


def good(index: int) -> list[str]:
    return [
        chunk([{"index": index, "delta": {"role": "assistant", "content": ""}}]),
        chunk([{"index": index, "delta": {"content": "Hi"}}]),
        chunk([{"index": index, "delta": {}, "finish_reason": "stop"}]),
    ]


def test_a_well_formed_two_choice_stream_with_usage_has_no_problem() -> None:
    usage = chunk([], usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})
    assert stream(*good(0), *good(1), usage, "data: [DONE]\n\n", include_usage=True).stream is not None
    assert stream_problems(stream(*good(0), *good(1), usage, "data: [DONE]\n\n", include_usage=True)) == []


def test_litellm_like_stream_problems_are_named() -> None:
    """Choice 1 without its role and finish; the usage chunk keeps a choice (LiteLLM 1.106.2)."""
    events = [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        chunk([{"index": 0, "delta": {"content": "A"}}]),
        chunk([{"index": 1, "delta": {"content": "A"}}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        chunk(
            [{"index": 0, "delta": {}}], usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        ),
        "data: [DONE]\n\n",
    ]
    problems = stream_problems(stream(*events, include_usage=True))
    assert {rid for rid, _ in problems} == {"PROXY-STREAM-3", "PROXY-STREAM-4"}
    assert any("choice 1 got 0" in message for _, message in problems)


@pytest.mark.parametrize(
    ("events", "rid"),
    [
        ([*good(0)], "PROXY-STREAM-1"),  # no [DONE]
        ([*good(0), "data: [DONE]\n\n", chunk([{"index": 0, "delta": {}}])], "PROXY-STREAM-1"),
        (['{"not": "sse"}\n\n', *good(0), "data: [DONE]\n\n"], "PROXY-STREAM-1"),
        (["data: {broken\n\n", "data: [DONE]\n\n"], "PROXY-STREAM-2"),
        (
            [*good(0), chunk([{"index": 0, "delta": {"content": "late"}}]), "data: [DONE]\n\n"],
            "PROXY-STREAM-3",
        ),
        (
            [
                *good(0)[:2],
                chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]),
                "data: [DONE]\n\n",
            ],
            "PROXY-FINISH-1",
        ),
        (
            [
                *good(0),
                chunk([], usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
                "data: [DONE]\n\n",
            ],
            "PROXY-STREAM-4",
        ),  # usage without include_usage
    ],
)
def test_each_stream_rule_fires(events: list[str], rid: str) -> None:
    assert rid in {found for found, _ in stream_problems(stream(*events))}


def test_404_for_an_unknown_model_may_be_either_documented_type() -> None:
    assert allowed_error_types(404, {"code": "model_not_found"}) == {
        "not_found_error",
        "invalid_request_error",
    }
    assert allowed_error_types(404, {"code": "unknown_route"}) == {"not_found_error"}
    assert allowed_error_types(502, {}) == {"bad_gateway"}
    assert allowed_error_types(403, {}) is None  # not in the document's table


@pytest.mark.parametrize(
    ("body", "rid"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": "Hi"}]}, None),
        ([1, 2], "PROXY-BODY-1"),
        ({"messages": [{"role": "user", "content": "Hi"}]}, "PROXY-REQ-1"),
        ({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "temperature": 2.5}, "PROXY-REQ-2"),
        ({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": "yes"}, "PROXY-REQ-2"),
        ({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "top_p": 1.5}, "PROXY-REQ-3"),
        ({"model": "m", "messages": [{"content": "Hi"}]}, "PROXY-REQ-3"),
    ],
)
def test_violations_are_filed_under_their_requirement(body: Any, rid: str | None) -> None:
    assert violated_requirement(body) == rid
