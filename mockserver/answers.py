"""Deterministic answers: scripted rules, then a small retrieval step, then a fallback.

Retrieval is honest token overlap: the question and every snippet become sets of lower-case word
stems (stop words dropped); a snippet scores the sum of the IDF weights of the question terms it
contains, and the best scorer (ties: the first) answers. No score, no snippet: the fallback.
Answers are split into token-like pieces (a word or a punctuation run with its leading space);
the count of pieces is ``completion_tokens``, so streaming and JSON agree by construction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mockserver.config import AssistantSeed, Snippet

__all__ = ["Answer", "Knowledge", "Prompt", "compose", "estimate_tokens", "pieces"]

MEMO_SIZE = 1024
MEMO_QUESTION_CHARS = 512  # so one memo holds at most ~0.5 MB of questions
_WORD = re.compile(r"[a-z0-9]+")
_PIECE = re.compile(r"\s*[\w']+|\s*[^\w\s]+|\s+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "about",
        "tell",
    ]
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


def pieces(text: str) -> list[str]:
    """Token-like pieces whose concatenation is exactly ``text``."""
    return _PIECE.findall(text)


def estimate_tokens(text: str) -> int:
    """The spec's estimate (CHAT-LEN-2): four characters a token."""
    return (len(text) + 3) // 4  # ceil(len / 4) in integers


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    source: str  # "rule", "snippet:<title>", "fallback"


class Knowledge:
    """The knowledge base of one assistant, indexed once."""

    def __init__(self, seed: AssistantSeed | None, name: str | None) -> None:
        self.seed = seed
        self.name = name or "this assistant"
        snippets: tuple[Snippet, ...] = seed.snippets if seed else ()
        self._docs = [(s, terms(f"{s.title} {s.text}")) for s in snippets]
        n = len(self._docs)
        df: dict[str, int] = {}
        for _, t in self._docs:
            for term in t:
                df[term] = df.get(term, 0) + 1
        self._idf = {term: math.log(1 + n / count) for term, count in df.items()}
        self._memo: dict[str | None, tuple[Answer, tuple[str, ...]]] = {}

    def answer_pieces(self, question: str | None) -> tuple[Answer, tuple[str, ...]]:
        """``answer()`` and its pieces, memoized: both are pure functions of the question."""
        found = self._memo.get(question)
        if found is None:
            answer = self.answer(question)
            found = (answer, tuple(pieces(answer.text)))
            if question is None or len(question) <= MEMO_QUESTION_CHARS:  # long ones: not kept
                if len(self._memo) >= MEMO_SIZE:
                    self._memo.clear()
                self._memo[question] = found
        return found

    def answer(self, question: str | None) -> Answer:
        if question is None or not question.strip():
            return Answer(self._fallback(question), "fallback")
        if self.seed is not None:
            for rule in self.seed.rules:
                if rule.matches(question):
                    return Answer(rule.answer, "rule")
        asked = terms(question)
        best: tuple[float, Snippet | None] = (0.0, None)
        for snippet, doc in self._docs:
            score = sum(self._idf[t] for t in asked & doc)
            if score > best[0]:
                best = (score, snippet)
        if best[1] is not None:
            return Answer(best[1].text, f"snippet:{best[1].title}")
        return Answer(self._fallback(question), "fallback")

    def _fallback(self, question: str | None) -> str:
        if self.seed is not None and self.seed.fallback:
            return self.seed.fallback
        return f"I could not find an answer to that in the knowledge base of {self.name}."


# A slotted dataclass, not a NamedTuple: built on every chat request, and a NamedTuple's
# Python-level __new__ costs about twice as much.
@dataclass(slots=True)
class Prompt:
    instructions: str | None  # the effective instructions
    question: str | None  # the active question
    tokens: int  # the estimate of the whole prompt: instructions and every message (CHAT-LEN-2)


def compose(
    instructions: str | None, messages: list[dict[str, str]], *, extra_context: str | None = None
) -> Prompt:
    """What the model is asked, for a chat (CHAT-CONV-1, CHAT-CONV-2).

    System messages come after the assistant's own instructions (and ``extra_context`` after
    them); the last user message is the question, everything before it history.
    """
    parts = [instructions] if instructions else []
    question = None
    tokens = 0
    for message in messages:  # one plain loop: this runs on every chat request
        role, content = message["role"], message["content"]
        tokens += estimate_tokens(content)
        if role == "user":
            question = content
        elif role == "system" and content:
            parts.append(content)
    if extra_context:
        parts.append(extra_context)
    effective = "\n\n".join(parts) or None
    return Prompt(effective, question, tokens + estimate_tokens(effective or ""))
