"""One copy of the rules: the gate and the proxy judge with the same functions of ``ragen_spec``,
and the mock reaches them without importing the gate."""

from __future__ import annotations

import ast
from pathlib import Path

from ragen_spec import judge, request_rules
from ragen_spec.exchange import Observation

import conformance.common
import conformance.exchange
import conformance.profiles.ragen.responses
import conformance.profiles.ragen.schema
import mockserver.upstream.verdict

ROOT = Path(__file__).resolve().parents[2]


def test_the_gate_and_the_proxy_use_the_same_rule_functions() -> None:
    assert conformance.profiles.ragen.responses.chat_stream_problems is judge.chat_stream_problems
    assert conformance.profiles.ragen.responses.schema_errors is judge.schema_errors
    assert conformance.common.validation_problems is judge.validation_problems
    assert conformance.profiles.ragen.schema.request_violations is request_rules.request_violations
    assert conformance.exchange.Exchange.stream is Observation.stream  # one SSE reading for both
    assert mockserver.upstream.verdict.judge is judge.judge
    assert mockserver.upstream.verdict.request_violations is request_rules.request_violations


def test_the_mock_never_imports_the_gate() -> None:
    for path in sorted((ROOT / "mockserver").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "conformance" for n in names), path


def test_one_exchange_judged_from_plain_values() -> None:
    stream = (
        b'data: {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",'
        b' "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop",'
        b' "logprobs": null}]}\n\n'
    )
    observed = Observation(
        method="POST",
        path="/v1/chat/completions",
        request_body=b'{"assistant_id": "a", "messages": [{"role": "user", "content": "q"}], "stream": true}',
        status=200,
        headers={"Content-Type": "text/event-stream", "X-Request-Id": "r"},
        body=stream,
    )
    found = {rid for rid, _ in judge.judge(observed)}
    assert found == {"CHAT-STREAM-3", "CHAT-STREAM-5"}  # no role first; no [DONE]
    assert judge.level_of("CHAT-STREAM-5") == "MUST" and "[DONE]" in judge.text_of("CHAT-STREAM-5")
