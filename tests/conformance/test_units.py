"""Units of the gate on fabricated inputs: SSE parsing, the stream judge, envelope checks, pacing,
configuration and reproductions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ragen_spec.sse import parse
from requests.structures import CaseInsensitiveDict

from conformance import config as configuration
from conformance.checks.responses import chat_stream_problems, error_has_envelope, error_type_follows_status
from conformance.checks.schema import request_violations
from conformance.client import Pacer
from conformance.config import RunConfig, Target, Tier
from conformance.context import Context, Evidence
from conformance.errors import HarnessError
from conformance.exchange import Exchange
from conformance.results import Kind


def exchange(
    status: int = 200,
    body: bytes | str = b"",
    *,
    content_type: str = "application/json",
    request: Any = None,
    method: str = "POST",
    path: str = "/v1/chat/completions",
    headers: dict[str, str] | None = None,
) -> Exchange:
    raw = body.encode() if isinstance(body, str) else body
    return Exchange(
        method=method,
        url=f"http://127.0.0.1:1{path}",
        request_headers={"Authorization": "Bearer sk-secret", "Content-Type": "application/json"},
        request_body=json.dumps(request).encode() if request is not None else None,
        status=status,
        headers=CaseInsensitiveDict({"content-type": content_type, **(headers or {})}),
        body=raw,
        elapsed=0.01,
        secrets={"sk-secret": "RAGEN_API_KEY"},
    )


def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
    data = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
    }
    data.update(extra)
    return "data: " + json.dumps(data) + "\n\n"


def choice(delta: dict[str, Any], reason: str | None = None) -> list[dict[str, Any]]:
    return [{"index": 0, "delta": delta, "finish_reason": reason}]


GOOD = (
    chunk(choice({"role": "assistant"}))
    + chunk(choice({"content": "Hi"}))
    + chunk(choice({}, "stop"))
    + "data: [DONE]\n\n"
)


def stream(body: str, request: dict[str, Any] | None = None) -> Exchange:
    return exchange(200, body, content_type="text/event-stream", request=request or {"stream": True})


def ids(problems: list[tuple[str, str]]) -> set[str]:
    return {rid for rid, _ in problems}


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


def _ctx(target: Target | None = None) -> Context:
    target = target or Target("http://127.0.0.1:1", "sk-secret")
    return Context(RunConfig(target=target), None, Evidence())  # type: ignore[arg-type]


class _FakeClient:
    def __init__(self, target: Target) -> None:
        self.target = target


def _run_response_check(func: Any, ex: Exchange) -> list[tuple[str, Kind]]:
    target = Target("http://127.0.0.1:1", "sk-secret")
    ctx = Context(RunConfig(target=target), _FakeClient(target), Evidence())  # type: ignore[arg-type]
    func(ctx, ex)
    return [(f.requirement, f.kind) for f in ctx.evidence.findings]


def test_envelope_check_flags_flat_and_non_json_errors() -> None:
    good = json.dumps(
        {"error": {"message": "m", "type": "invalid_request_error", "code": None, "param": None}}
    )
    assert _run_response_check(error_has_envelope, exchange(400, good)) == []
    flat = json.dumps({"message": "m", "type": "invalid_request_error"})
    assert _run_response_check(error_has_envelope, exchange(400, flat)) == [("ERR-ENV-1", Kind.FAIL)]
    assert _run_response_check(error_has_envelope, exchange(500, "boom", content_type="text/plain")) == [
        ("ERR-ENV-1", Kind.FAIL)
    ]


def test_error_type_check_follows_the_status() -> None:
    body = json.dumps(
        {"error": {"message": "m", "type": "invalid_request_error", "code": None, "param": None}}
    )
    assert _run_response_check(error_type_follows_status, exchange(404, body)) == [("ERR-TYPE-1", Kind.FAIL)]
    assert _run_response_check(error_type_follows_status, exchange(400, body)) == []
    # Undocumented statuses need only the envelope, whatever their type.
    other = json.dumps({"error": {"message": "m", "type": "method_not_allowed", "code": None, "param": None}})
    for status in (405, 409, 413, 422):
        assert _run_response_check(error_type_follows_status, exchange(status, other)) == []
    assert _run_response_check(error_type_follows_status, exchange(403, other)) == [("ERR-TYPE-1", Kind.FAIL)]


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


def test_pacer_keeps_the_tier_and_honours_blocks() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer({"chat": Tier(2, 10.0)}, enabled=True, clock=lambda: now[0], sleep=sleep)
    pacer.acquire("chat")
    pacer.acquire("chat")
    assert slept == []
    pacer.acquire("chat")  # the third must wait for the first to leave the window
    assert slept and 10.0 <= slept[0] <= 11.0
    pacer.block("chat", 30.0)
    before = now[0]
    pacer.acquire("chat")
    assert now[0] - before == pytest.approx(30.0)
    assert pacer.delay("other-tier") == 0.0


def test_unpaced_pacer_only_honours_retry_after() -> None:
    now = [0.0]
    pacer = Pacer({"chat": Tier(1, 60.0)}, enabled=False, clock=lambda: now[0], sleep=lambda s: None)
    for _ in range(5):
        pacer.acquire("chat")
    assert pacer.delay("chat") == 0.0
    pacer.block("chat", 3.0)
    assert pacer.delay("chat") == 3.0


def test_curl_reproduction_redacts_keys() -> None:
    ex = exchange(400, "{}", request={"assistant_id": "a", "note": "it's"})
    curl = ex.curl()
    assert "sk-secret" not in curl
    assert '"Authorization: Bearer $RAGEN_API_KEY"' in curl
    assert curl.startswith("curl -sS -X POST http://127.0.0.1:1/v1/chat/completions")
    assert "it'\"'\"'s" in curl


def test_config_layers_file_env_flags(tmp_path: Any) -> None:
    toml = tmp_path / "ragen.toml"
    toml.write_text(
        'base_url = "http://file"\napi_key = "k-file"\nmax_examples = 3\n[tiers]\nchat = "5/30"\n'
    )
    yaml_file = tmp_path / "ragen.yaml"
    yaml_file.write_text("base_url: http://yaml\napi_key: k\npace: false\ntiers: {assistants: 7/1m}\n")
    env = configuration.from_env({"RAGEN_API_KEY": "k-env", "RAGEN_CHAT_TIER": "6/60", "RAGEN_STRICT": "yes"})
    config = configuration.load(
        configuration.from_file(toml), env, {"base_url": "http://flag/", "seed": None}
    )
    assert config.target.base_url == "http://flag"
    assert config.target.api_key == "k-env"
    assert config.target.tiers["chat"] == Tier(6, 60.0)
    assert config.max_examples == 3 and config.strict is True
    from_yaml = configuration.load(configuration.from_file(yaml_file))
    assert from_yaml.target.pace is False
    assert from_yaml.target.tiers["assistants"] == Tier(7, 60.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"base_url": "http://x"},
        {"base_url": "http://x", "api_key": "k", "pace": "maybe"},
        {"base_url": "http://x", "api_key": "k", "tiers": {"chat": "ten"}},
        {"base_url": "http://x", "api_key": "k", "groups": "schema,nope"},
    ],
)
def test_config_rejects_bad_input(bad: dict[str, Any]) -> None:
    with pytest.raises(HarnessError):
        configuration.load(bad)


def test_config_file_rejects_unknown_keys(tmp_path: Any) -> None:
    path = tmp_path / "c.toml"
    path.write_text('base_url = "http://x"\napi_kee = "typo"\n')
    with pytest.raises(HarnessError, match="api_kee"):
        configuration.from_file(path)
