"""Deterministic completions for the proxy mock: ``n`` choices, stop sequences, ``max_tokens``.

Each choice's text depends only on the model, the last user message and the choice index, so a
client (or a conformance check) can ask once without ``stop`` and predict exactly where a stop
sequence must cut. Order of the cuts: content filter, then stop (before the first occurrence of
any sequence, ``finish_reason: "stop"``), then ``max_tokens`` (``"length"``). Pieces and token
counts are the Ragen mock's (``mockserver.answers``), so JSON and SSE agree by construction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from mockserver.answers import estimate_tokens, pieces

__all__ = ["Choice", "Completion", "complete"]

_SENTENCES = (
    "This answer comes from the openai-proxy mock.",
    "The same request always gets the same words.",
    "Every choice of a request opens differently.",
    "A stop sequence cuts the text before its first occurrence.",
    "A small max_tokens cuts it short with finish_reason length.",
    "Streaming sends exactly the words of the JSON response.",
    "An alias is resolved to the model that serves it.",
)
_PER_ANSWER = 4


@dataclass(frozen=True, slots=True)
class Choice:
    index: int
    parts: list[str]
    finish_reason: str

    @property
    def content(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True, slots=True)
class Completion:
    choices: list[Choice]
    prompt_tokens: int

    @property
    def usage(self) -> dict[str, int]:
        completion = sum(len(c.parts) for c in self.choices)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def _question(messages: list[dict[str, Any]]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def raw_text(model: str, question: str, index: int) -> str:
    """The uncut answer of choice ``index``."""
    # surrogatepass: JSON may carry lone surrogates ("\\udb78"), which are still a question.
    digest = hashlib.sha256(f"{model}\0{question}".encode("utf-8", "surrogatepass")).digest()
    start = (digest[0] + index) % len(_SENTENCES)
    chosen = [_SENTENCES[(start + i) % len(_SENTENCES)] for i in range(_PER_ANSWER)]
    return f"Answer {index + 1} from {model}. " + " ".join(chosen)


def _cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return (text[: min(found)], True) if found else (text, False)


def complete(
    model: str,
    messages: list[dict[str, Any]],
    *,
    n: int = 1,
    stop: str | list[str] | None = None,
    max_tokens: int | None = None,
    blocked_words: tuple[str, ...] = (),
) -> Completion:
    question = _question(messages)
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    blocked = any(word.lower() in question.lower() for word in blocked_words)
    choices = []
    for index in range(n):
        if blocked:
            choices.append(Choice(index, [], "content_filter"))
            continue
        text, _ = _cut_at_stop(raw_text(model, question, index), stops)
        parts, finish = pieces(text), "stop"
        if max_tokens is not None and len(parts) > max_tokens:
            parts, finish = parts[:max_tokens], "length"
        choices.append(Choice(index, parts, finish))
    prompt = sum(estimate_tokens(str(m.get("content") or "")) for m in messages)
    return Completion(choices, prompt)
