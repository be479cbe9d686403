"""Streaming chat completions with hypothesis-generated valid requests.

The stream itself is judged by the ``chat_stream`` response check (framing, chunk schema, role
first, finish chunk last, [DONE], usage opt-in); this module supplies the requests.
Operation: POST /v1/chat/completions with ``stream: true`` in spec/openapi.yaml.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.common import example_settings
from conformance.context import Context
from conformance.errors import Skip
from conformance.profiles.ragen.calls import assistant_id, chat_body
from conformance.profiles.ragen.registry import check
from conformance.profiles.ragen.responses import STREAM_IDS

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=80)
_QUESTIONS = st.sampled_from(
    [
        "What is your refund policy?",
        "How long does shipping take?",
        "Summarize the onboarding process",
        "hello",
        "Can I talk to a human?",
    ]
)


@st.composite
def stream_requests(draw: st.DrawFn, assistant_id: str) -> dict[str, Any]:
    """Valid streaming requests: history, an ending user question, optional sampling/usage fields."""
    history = draw(
        st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["system", "user", "assistant"]), "content": _TEXT}
            ),
            max_size=3,
        )
    )
    question = draw(st.one_of(_QUESTIONS, _TEXT))
    body: dict[str, Any] = {
        "assistant_id": assistant_id,
        "messages": [*history, {"role": "user", "content": question}],
        "stream": True,
    }
    optional = {
        "temperature": st.floats(0, 2, allow_nan=False) | st.none(),
        "max_tokens": st.integers(1, 64) | st.none(),
        "model": st.sampled_from(["gpt-4o", "gpt-5.4", "anything"]) | st.none(),
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}) | st.none(),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            body[name] = draw(strategy)
    return body


@check(
    *[r for r in STREAM_IDS if r != "CHAT-STREAM-7"],
    group="streaming",
    needs=("assistant_id",),
    cost={"chat": 2},
    fills=True,
)
def stream_generated_requests(ctx: Context) -> None:
    """Valid streaming requests (generated) get well-formed streams; usage only when opted in."""
    sent: list[int] = []

    # The two usage variants first, so a small --max-examples still covers both.
    for options in ({"include_usage": True}, None):
        body = chat_body(ctx, "What is your refund policy?", stream=True)
        if options is not None:
            body["stream_options"] = options
        ex = ctx.chat(body)
        ctx.expect_status(ex, {200}, "CHAT-STREAM-1", "a valid streaming request")

    @example_settings(ctx)
    @given(stream_requests(assistant_id(ctx)))
    def run(body: dict[str, Any]) -> None:
        if ctx.out_of_time():
            return
        ex = ctx.chat(body)
        sent.append(ex.status)
        ctx.expect_status(ex, {200}, "CHAT-STREAM-1", "a valid streaming request")

    run()
    if not sent:
        raise Skip("time limit reached before any generated request")
