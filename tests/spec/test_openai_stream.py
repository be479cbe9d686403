"""The shared OpenAI stream rules (``ragen_spec.openai_stream``), each proven three ways on
fabricated streams: a stream that breaks it gets a problem under the id it was given, a correct
stream gets none, and the rule reports nothing (None) where it does not apply."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from ragen_spec import openai_stream as rules
from ragen_spec.exchange import Observation
from ragen_spec.judge import RAGEN_STREAM, STREAM_IDS, chat_stream_problems, schema_errors
from ragen_spec.sse import parse

HEAD = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
USAGE = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
RID = "RULE-1"


def is_chunk(payload: Any) -> list[str]:
    ok = isinstance(payload, dict) and payload.get("object") == "chat.completion.chunk"
    return [] if ok else ["not a chat.completion.chunk"]


def is_envelope(payload: Any) -> list[str]:
    return [] if isinstance(payload.get("error"), dict) else ["error is not an object"]


def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**HEAD, "choices": choices, **extra}


def choice(delta: dict[str, Any], finish: str | None = None, index: int = 0) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish}


def one_choice(index: int = 0) -> list[dict[str, Any]]:
    return [
        chunk([choice({"role": "assistant", "content": ""}, index=index)]),
        chunk([choice({"content": "Hi"}, index=index)]),
        chunk([choice({}, "stop", index=index)]),
    ]


GOOD = one_choice()


def sse(*payloads: Any, done: bool = True) -> bytes:
    events = [f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n" for p in payloads]
    return ("".join(events) + ("data: [DONE]\n\n" if done else "")).encode()


def reading(body: bytes) -> rules.StreamReading:
    return rules.read(parse(body).events, is_chunk)


def ids(verdict: list[tuple[str, str]] | None) -> set[str]:
    return {rid for rid, _ in verdict or []}


# --- framing --------------------------------------------------------------------------------------
def test_content_type() -> None:
    assert rules.content_type("text/event-stream", RID) == []
    assert ids(rules.content_type("application/json", RID)) == {RID}
    assert rules.content_type("application/json", None) is None


def test_stray_lines() -> None:
    assert rules.stray_lines(parse(sse(*GOOD)), RID) == []
    assert ids(rules.stray_lines(parse(b'{"not": "sse"}\n\n' + sse(*GOOD)), RID)) == {RID}
    assert rules.stray_lines(parse(b'{"not": "sse"}\n\n'), None) is None


def test_unterminated_event() -> None:
    assert rules.unterminated_event(parse(sse(*GOOD)), RID, cut=False) == []
    cut_short = sse(*GOOD) + b"data: {"
    assert ids(rules.unterminated_event(parse(cut_short), RID, cut=False)) == {RID}
    assert rules.unterminated_event(parse(cut_short), RID, cut=True) is None  # we cut it, or it dropped


def test_separated_events() -> None:
    assert rules.separated_events(reading(sse(*GOOD)), RID) == []
    merged = sse(*GOOD).replace(b"\n\n", b"\n") + b"\n"  # one event of four data lines
    assert ids(rules.separated_events(reading(merged), RID)) == {RID}
    assert rules.separated_events(reading(merged), None) is None


def test_done_last() -> None:
    assert rules.done_last(reading(sse(*GOOD)), RID, truncated=False, dropped=False) == []
    missing = reading(sse(*GOOD, done=False))
    assert ids(rules.done_last(missing, RID, truncated=False, dropped=False)) == {RID}
    assert "dropped" in rules.done_last(missing, RID, truncated=True, dropped=True)[0][1]
    assert rules.done_last(missing, RID, truncated=True, dropped=False) is None  # its end was not seen
    after = reading(sse(*GOOD) + sse(GOOD[-1], done=False))
    assert ids(rules.done_last(after, RID, truncated=True, dropped=False)) == {RID}
    failed = reading(sse(GOOD[0], {"error": {"message": "boom"}}, done=False))
    assert rules.done_last(failed, RID, truncated=False, dropped=False) is None  # error_event's


# --- the chunks -------------------------------------------------------------------------------------
def test_json_chunks() -> None:
    assert rules.json_chunks(reading(sse(*GOOD)), RID) == []
    assert ids(rules.json_chunks(reading(sse("{broken", *GOOD)), RID)) == {RID}
    assert ids(rules.json_chunks(reading(sse({**GOOD[0], "object": "chat.completion"})), RID)) == {RID}
    assert ids(rules.json_chunks(reading(sse()), RID)) == {RID}  # no chunk at all
    assert rules.json_chunks(reading(sse("{broken")), None) is None


def test_chunk_identity_over_the_keys_the_profile_names() -> None:
    other = [*GOOD[:2], {**GOOD[2], "model": "n"}]
    assert rules.chunk_identity(GOOD, RID, ("id", "created", "model")) == []
    assert ids(rules.chunk_identity(other, RID, ("id", "created", "model"))) == {RID}
    assert rules.chunk_identity(other, RID, ("id",)) == []  # the proxy's chunks agree on id only
    assert rules.chunk_identity(other, None, ("id",)) is None
    assert rules.chunk_identity([], RID, ("id",)) is None


def test_role_first_per_choice() -> None:
    assert rules.role_first(GOOD + one_choice(1), RID) == []
    assert ids(rules.role_first(GOOD + one_choice(1)[1:], RID)) == {RID}  # choice 1 has no role chunk
    assert ids(rules.role_first([chunk([])], RID)) == {RID}  # no choice at all
    assert rules.role_first(GOOD[1:], None) is None
    assert rules.role_first([], RID) is None


def test_finish_reason_last() -> None:
    assert rules.finish_reason_last(GOOD, RID) == []
    never = GOOD[:2]
    assert ids(rules.finish_reason_last(never, RID)) == {RID}
    assert ids(rules.finish_reason_last([GOOD[0], GOOD[2], GOOD[1]], RID)) == {RID}  # content after it
    assert rules.finish_reason_last(never, None) is None


def test_finish_reason_once() -> None:
    assert rules.finish_reason_once(GOOD, RID) == []
    twice = [GOOD[0], chunk([choice({"content": "Hi"}, "stop")]), GOOD[2]]
    assert ids(rules.finish_reason_once(twice, RID)) == {RID}
    assert rules.finish_reason_once(twice, None) is None


def test_finishing_delta() -> None:
    assert rules.finishing_delta(GOOD, RID) == []
    content_in_finish = [*GOOD[:2], chunk([choice({"content": "!"}, "stop")])]
    assert ids(rules.finishing_delta(content_in_finish, RID)) == {RID}
    other_role = [GOOD[0], chunk([choice({"role": "user", "content": "x"})]), GOOD[2]]
    assert ids(rules.finishing_delta(other_role, RID)) == {RID}
    assert rules.finishing_delta([chunk([choice({"role": "assistant", "content": "Hi"}, "stop")])], RID) == []
    assert rules.finishing_delta(content_in_finish, None) is None  # the proxy document lacks this rule


# --- usage ------------------------------------------------------------------------------------------
WITH_USAGE = [*(dict(c, usage=None) for c in GOOD), chunk([], usage=USAGE)]


def test_usage_absent() -> None:
    assert rules.usage_absent(GOOD, RID, opted_in=False) == []
    assert ids(rules.usage_absent(WITH_USAGE, RID, opted_in=False)) == {RID}
    assert rules.usage_absent(WITH_USAGE, RID, opted_in=True) is None


def test_usage_chunk() -> None:
    assert rules.usage_chunk(WITH_USAGE, RID, opted_in=True) == []
    assert ids(rules.usage_chunk(GOOD, RID, opted_in=True)) == {RID}  # none
    keeps_a_choice = [*WITH_USAGE[:-1], chunk([choice({})], usage=USAGE)]
    assert ids(rules.usage_chunk(keeps_a_choice, RID, opted_in=True)) == {RID}
    early = [WITH_USAGE[0], WITH_USAGE[3], *WITH_USAGE[1:3]]
    assert {m for _, m in rules.usage_chunk(early, RID, opted_in=True) or []} == {
        "the usage chunk is not the last before [DONE]",
        "the usage chunk comes before the finishing chunk",
    }
    assert rules.usage_chunk(GOOD, RID, opted_in=False) is None
    assert rules.usage_chunk(GOOD, None, opted_in=True) is None


def test_usage_null() -> None:
    assert rules.usage_null(WITH_USAGE, RID, opted_in=True) == []
    assert ids(rules.usage_null([*GOOD, chunk([], usage=USAGE)], RID, opted_in=True)) == {RID}
    assert rules.usage_null(GOOD, RID, opted_in=False) is None
    assert rules.usage_null(WITH_USAGE, None, opted_in=True) is None  # the proxy document lacks it


# --- a failure mid-stream ---------------------------------------------------------------------------
def test_error_event() -> None:
    error = {"error": {"message": "boom", "type": "api_error", "code": None, "param": None}}
    assert rules.error_event(reading(sse(GOOD[0], error, done=False)), RID, is_envelope) == []
    assert ids(rules.error_event(reading(sse(GOOD[0], error)), RID, is_envelope)) == {RID}  # [DONE] after
    flat = {"error": "boom"}
    assert ids(rules.error_event(reading(sse(GOOD[0], flat, done=False)), RID, is_envelope)) == {RID}
    assert rules.error_event(reading(sse(*GOOD)), RID, is_envelope) is None  # no failure happened
    assert rules.error_event(reading(sse(GOOD[0], flat, done=False)), None, is_envelope) is None


# --- the composition, with Ragen's ids --------------------------------------------------------------
def stream(body: bytes, request: dict[str, Any] | None = None) -> Observation:
    return Observation(
        method="POST",
        path="/v1/chat/completions",
        request_body=json.dumps(request or {"stream": True}).encode(),
        status=200,
        headers={"Content-Type": "text/event-stream"},
        body=body,
    )


def test_ragen_ids_cover_every_stream_requirement() -> None:
    named = {getattr(RAGEN_STREAM, f) for f in RAGEN_STREAM.__dataclass_fields__ if f != "identity_keys"}
    assert named == set(STREAM_IDS)


@pytest.mark.parametrize(
    ("body", "request_", "expected"),
    [
        (sse(*GOOD), None, set()),
        (sse(*WITH_USAGE), {"stream": True, "stream_options": {"include_usage": True}}, set()),
        (sse(*GOOD).replace(b"data: ", b""), None, {"CHAT-STREAM-1", "CHAT-STREAM-2", "CHAT-STREAM-5"}),
        (sse(*GOOD[1:]), None, {"CHAT-STREAM-3"}),
        (sse(*GOOD[:2]), None, {"CHAT-STREAM-4"}),
        (sse(*GOOD, GOOD[2]), None, {"CHAT-STREAM-6"}),
        (sse(*GOOD, done=False), None, {"CHAT-STREAM-5"}),
        (sse(*WITH_USAGE), None, {"CHAT-USAGE-STREAM-1"}),
        (
            sse(*WITH_USAGE[:3]),
            {"stream": True, "stream_options": {"include_usage": True}},
            {"CHAT-USAGE-STREAM-2"},
        ),
        (
            sse(*GOOD, chunk([], usage=USAGE)),
            {"stream": True, "stream_options": {"include_usage": True}},
            {"CHAT-USAGE-STREAM-3"},
        ),
    ],
)
def test_ragen_composition_files_each_problem_under_its_id(
    body: bytes, request_: dict[str, Any] | None, expected: set[str]
) -> None:
    assert ids(chat_stream_problems(stream(body, request_))) == expected


def test_a_profile_rule_runs_over_the_same_reading() -> None:
    def no_model_m(reading: rules.StreamReading) -> list[tuple[str, str]]:
        return [("OWN-1", "model m") for c in reading.chunks if c.get("model") == "m"][:1]

    envelope = lambda payload: schema_errors(payload, "ErrorResponse")  # noqa: E731
    problems = rules.stream_problems(
        stream(sse(*GOOD)),
        RAGEN_STREAM,
        chunk_errors=is_chunk,
        envelope_errors=envelope,
        profile_rules=[no_model_m],
    )
    assert problems == [("OWN-1", "model m")]


def test_a_usage_chunk_keeping_an_empty_choice_is_the_usage_rules_business_only() -> None:
    """LiteLLM's usage chunk keeps ``{"index": 0, "delta": {}}``: not choice 0 streaming on."""
    keeps = [*GOOD, chunk([{"index": 0, "delta": {}}], usage=USAGE)]
    assert rules.finish_reason_last(keeps, RID) == []
    assert ids(rules.usage_chunk(keeps, RID, opted_in=True)) == {RID}
    finish_with_usage = [*GOOD[:2], chunk([choice({}, "stop")], usage=USAGE)]  # one chunk ends and counts
    assert rules.finish_reason_last(finish_with_usage, RID) == []


def test_a_chunk_of_the_wrong_shape_still_counts_for_the_order() -> None:
    """Its shape is json_chunks' failure; the role and finish_reason it carries are still seen."""
    wrong_object = [{**GOOD[0], "object": "chat.completion"}, *GOOD[1:]]
    body = reading(sse(*wrong_object))
    assert ids(rules.json_chunks(body, RID)) == {RID}
    assert rules.role_first(body.chunks, RID) == []
    assert rules.finish_reason_last(body.chunks, RID) == []


def test_a_profile_without_a_rule_hears_nothing_of_it() -> None:
    """The proxy document promises neither the empty finishing delta nor `"usage": null`."""
    proxy_like = dataclasses.replace(
        RAGEN_STREAM, finishing_delta=None, usage_null=None, identity_keys=("id",)
    )
    body = sse(*GOOD[:2], chunk([choice({"content": "!"}, "stop")], model="n"), chunk([], usage=USAGE))
    request = {"stream": True, "stream_options": {"include_usage": True}}
    envelope = lambda payload: schema_errors(payload, "ErrorResponse")  # noqa: E731
    ragen = rules.stream_problems(
        stream(body, request), RAGEN_STREAM, chunk_errors=is_chunk, envelope_errors=envelope
    )
    proxy = rules.stream_problems(
        stream(body, request), proxy_like, chunk_errors=is_chunk, envelope_errors=envelope
    )
    assert ids(ragen) == {"CHAT-STREAM-2", "CHAT-STREAM-4", "CHAT-USAGE-STREAM-3"}
    assert proxy == []
