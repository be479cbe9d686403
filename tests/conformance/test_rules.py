"""The judging rules on fabricated exchanges: the stream judge, the envelope and error-type checks,
the request mandates read from the spec, and the SSE parser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ragen_spec.sse import parse

from conformance.profiles.ragen.responses import (
    chat_stream_problems,
    error_has_envelope,
    error_type_follows_status,
)
from conformance.profiles.ragen.schema import request_violations
from conformance.results import Kind
from tests.conformance.fabricate import (
    GOOD,
    choice,
    chunk,
    exchange,
    ids,
    run_response_check,
    stream,
)


def test_sse_parse_events_fields_and_leftovers() -> None:
    parsed = parse(
        b": ping\n\nevent: delta\ndata: a\ndata: b\nid: 7\n\ndata: [DONE]\r\n\r\n{oops}\ndata: cut"
    )
    assert [(e.event, e.data, e.id) for e in parsed.events] == [
        ("delta", "a\nb", "7"),
        (None, "[DONE]", "7"),
    ]  # the last event id persists
    assert parsed.comments == 1
    assert parsed.stray_lines == ["{oops}"]
    assert parsed.unterminated == "{oops}\ndata: cut"


def test_stream_judge_accepts_a_correct_stream() -> None:
    assert chat_stream_problems(stream(GOOD)) == []


def test_stream_judge_accepts_usage_chunk_when_opted_in() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    body = (
        chunk(choice({"role": "assistant"}), usage=None)
        + chunk(choice({}, "stop"), usage=None)
        + chunk([], usage=usage)
        + "data: [DONE]\n\n"
    )
    request = {"stream": True, "stream_options": {"include_usage": True}}
    assert chat_stream_problems(stream(body, request)) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GOOD.replace("data: [DONE]\n\n", ""), "CHAT-STREAM-5"),
        (GOOD + chunk(choice({}, "stop")), "CHAT-STREAM-5"),
        (GOOD.replace("data: ", ""), "CHAT-STREAM-1"),
        (GOOD.replace("\n\n", "\n"), "CHAT-STREAM-1"),
        (GOOD.replace('"role": "assistant"', '"content": "x"'), "CHAT-STREAM-3"),
        (GOOD.replace('"stop"', "null"), "CHAT-STREAM-4"),
        (GOOD.replace("chat.completion.chunk", "chat.completion"), "CHAT-STREAM-2"),
        (
            GOOD.replace(
                '"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", '
                '"choices": [{"index": 0, "delta": {"content": "Hi"}',
                '"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": "m", '
                '"choices": [{"index": 0, "delta": {"content": "Hi"}',
            ),
            "CHAT-STREAM-2",
        ),
        (
            GOOD.replace(
                '"delta": {}, "finish_reason": "stop"', '"delta": {"content": "!"}, "finish_reason": "stop"'
            ),
            "CHAT-STREAM-4",
        ),
        (
            chunk(
                choice({"role": "assistant"}),
                usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            )
            + chunk(choice({}, "stop"))
            + "data: [DONE]\n\n",
            "CHAT-USAGE-STREAM-1",
        ),
    ],
)
def test_stream_judge_names_the_broken_rule(body: str, expected: str) -> None:
    assert expected in ids(chat_stream_problems(stream(body)))


def test_stream_judge_wants_exactly_one_usage_chunk_with_empty_choices() -> None:
    request = {"stream": True, "stream_options": {"include_usage": True}}
    usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    missing = (
        chunk(choice({"role": "assistant"}), usage=None)
        + chunk(choice({}, "stop"), usage=None)
        + "data: [DONE]\n\n"
    )
    assert "CHAT-USAGE-STREAM-2" in ids(chat_stream_problems(stream(missing, request)))
    with_choices = missing.replace("data: [DONE]", chunk(choice({}, "stop"), usage=usage).strip())
    assert "CHAT-USAGE-STREAM-2" in ids(
        chat_stream_problems(stream(with_choices + "data: [DONE]\n\n", request))
    )
    no_null = (
        chunk(choice({"role": "assistant"}))
        + chunk(choice({}, "stop"))
        + chunk([], usage=usage)
        + "data: [DONE]\n\n"
    )
    assert ids(chat_stream_problems(stream(no_null, request))) == {"CHAT-USAGE-STREAM-3"}


def test_stream_judge_error_event_closes_without_done() -> None:
    error = 'data: {"error": {"message": "boom", "type": "api_error", "code": null, "param": null}}\n\n'
    assert chat_stream_problems(stream(chunk(choice({"role": "assistant"})) + error)) == []
    assert "CHAT-STREAM-7" in ids(
        chat_stream_problems(stream(chunk(choice({"role": "assistant"})) + error + "data: [DONE]\n\n"))
    )


def test_envelope_check_flags_flat_and_non_json_errors() -> None:
    good = json.dumps(
        {"error": {"message": "m", "type": "invalid_request_error", "code": None, "param": None}}
    )
    assert run_response_check(error_has_envelope, exchange(400, good)) == []
    flat = json.dumps({"message": "m", "type": "invalid_request_error"})
    assert run_response_check(error_has_envelope, exchange(400, flat)) == [("ERR-ENV-1", Kind.FAIL)]
    assert run_response_check(error_has_envelope, exchange(500, "boom", content_type="text/plain")) == [
        ("ERR-ENV-1", Kind.FAIL)
    ]


def test_error_type_check_follows_the_status() -> None:
    body = json.dumps(
        {"error": {"message": "m", "type": "invalid_request_error", "code": None, "param": None}}
    )
    assert run_response_check(error_type_follows_status, exchange(404, body)) == [("ERR-TYPE-1", Kind.FAIL)]
    assert run_response_check(error_type_follows_status, exchange(400, body)) == []
    # Undocumented statuses need only the envelope, whatever their type.
    other = json.dumps({"error": {"message": "m", "type": "method_not_allowed", "code": None, "param": None}})
    for status in (405, 409, 413, 422):
        assert run_response_check(error_type_follows_status, exchange(status, other)) == []
    assert run_response_check(error_type_follows_status, exchange(403, other)) == [("ERR-TYPE-1", Kind.FAIL)]


def test_request_violations_name_the_mandating_requirement() -> None:
    def rids(op: str, body: Any) -> list[str | None]:
        return [v.requirement for v in request_violations(op, body, None)]

    base = {"assistant_id": "asst-1", "messages": [{"role": "user", "content": "hi"}]}
    assert rids("createChatCompletion", base) == []
    assert rids("createChatCompletion", {**base, "temperature": 3}) == ["CHAT-REQ-2"]
    assert rids("createChatCompletion", {**base, "messages": [{"role": "tool", "content": "x"}]}) == [
        "CHAT-REQ-3"
    ]
    assert rids("createChatCompletion", {"messages": base["messages"]}) == ["CHAT-REQ-1"]
    assert rids("createChatCompletion", [base]) == ["ERR-BODY-1"]
    assert rids("createChatCompletion", {**base, "stream": "yes"}) == ["CHAT-REQ-10"]
    assert rids("createChatCompletion", {**base, "stream": True, "stream_options": "yes"}) == ["CHAT-REQ-10"]
    assert rids("createChatCompletion", {**base, "messages": ["hi"]}) == ["CHAT-REQ-10"]
    assert rids("createChatCompletion", {**base, "messages": [{"role": "user", "content": 4}]}) == [
        "CHAT-REQ-12"  # the document names no type for content: OpenAI's convention only (SHOULD)
    ]
    assert rids("createChatCompletion", {**base, "messages": [{"content": "x"}]}) == ["CHAT-REQ-10"]
    assert rids("createChatCompletion", {**base, "model": 5}) == [None]  # invalid but not mandated
    # The document says of an assistant's temperature "accepted, ignored": rejecting is not required.
    assert rids("modifyAssistant", {"temperature": 5}) == [None]
    # "Currently supports include_usage: boolean" (CHAT-REQ-10); unknown keys beside it are ignored.
    no_bool = {**base, "stream_options": {"include_usage": None}}
    assert rids("createChatCompletion", no_bool) == ["CHAT-REQ-10"]
    assert rids("createChatCompletion", {**base, "stream_options": {"x": 1}}) == []
    assert rids("patchAssistant", {"name": None}) == ["ASST-MODIFY-4"]
    assert rids("patchAssistant", {"metadata": 5}) == [None]

    def query_rids(query: dict[str, Any]) -> list[str | None]:
        return [v.requirement for v in request_violations("listAssistants", None, query)]

    assert query_rids({"limit": "0"}) == ["ASST-LIST-5"]
    assert query_rids({"limit": 1000, "order": "up"}) == ["ASST-LIST-5", "ASST-LIST-5"]
    assert query_rids({"limit": "many"}) == ["ASST-LIST-5"]
    assert query_rids({"limit": 100, "order": "asc"}) == []
    assert rids("createAssistant", {"name": 5}) == ["ASST-CREATE-1"]
    assert rids("createAssistant", {"name": "x", "metadata": 5}) == [None]
