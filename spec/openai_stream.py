"""The OpenAI streaming rules (``stream: true`` on chat completions), one small function per rule.

Both profiles promise the same OpenAI stream, each in its own words and ids: Ragen's
``CHAT-STREAM-*`` / ``CHAT-USAGE-STREAM-*`` (spec/openapi.yaml) and the generic proxy's
``PROXY-STREAM-*`` (spec/openai-proxy.yaml). The rules are written once, here; a profile names the
requirement each one reports under in a ``StreamIds``. A rule returns its verdict the way
``ragen_spec.judge``'s rules do: a list of ``(requirement id, message)`` problems (empty: it held),
or None when it does not apply (its id is None for the profile, or the stream holds nothing it
judges). ``stream_problems`` runs them all over one stream; a profile adds its own rules there.

Each stream is judged by itself: nothing here compares two calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ragen_spec.exchange import Exchange
from ragen_spec.sse import Event, ParsedStream

__all__ = [
    "Problem",
    "ProfileRule",
    "SchemaErrors",
    "StreamIds",
    "StreamReading",
    "choices_by_index",
    "chunk_identity",
    "content_type",
    "done_last",
    "error_event",
    "finish_reason_last",
    "finish_reason_once",
    "finishing_delta",
    "include_usage",
    "json_chunks",
    "read",
    "role_first",
    "separated_events",
    "stray_lines",
    "stream_problems",
    "unterminated_event",
    "usage_absent",
    "usage_chunk",
    "usage_null",
]

Problem = tuple[str, str]
Verdict = list[Problem] | None  # None: the rule does not apply to this stream or profile
# The violations of a profile's schema (chat.completion.chunk, or the error envelope) by a payload,
# as short lines: the profiles validate against different documents.
SchemaErrors = Callable[[Any], list[str]]


@dataclass(frozen=True)
class StreamIds:
    """The requirement each rule reports under for one profile; None: the profile lacks the rule."""

    framing: str | None  # SSE content type and framing (stray lines, blank lines, last event ended)
    done: str | None  # `data: [DONE]` ends the stream and nothing follows it
    chunks: str | None  # every event before [DONE] is a JSON chat.completion.chunk
    identity: str | None  # the chunks agree on ``identity_keys``
    role_first: str | None  # each choice's first chunk carries delta.role "assistant"
    finished: str | None  # each choice's last chunk carries a finish_reason
    finish_once: str | None  # no chunk of a choice but its last carries one
    finishing_delta: str | None  # content only in delta.content: the finishing delta is empty
    usage_absent: str | None  # no usage without stream_options.include_usage
    usage_chunk: str | None  # with include_usage: one usage chunk, choices [], after the finish, last
    usage_null: str | None  # with include_usage: every other chunk has "usage": null
    error_event: str | None  # a mid-stream failure: one error event with the envelope, no [DONE]
    identity_keys: tuple[str, ...] = ("id", "created", "model")


class StreamReading:
    """A stream's events read once: the terminator, the payloads before it, the chunks."""

    def __init__(self, events: Sequence[Event], chunk_errors: SchemaErrors) -> None:
        self.data = [e.data for e in events]
        self.done_at = self.data.index("[DONE]") if "[DONE]" in self.data else None
        self.merged: list[int] = []  # events holding several payloads: no blank line between them
        self.not_json: list[int] = []
        self.errors: list[Any] = []  # error events, {"error": {...}} without choices
        self.payloads: list[tuple[int, Any]] = []  # the other JSON payloads before [DONE]
        self._chunk_errors = chunk_errors
        for i, raw in enumerate(self.data[: self.done_at]):
            try:
                payload = json.loads(raw)
            except ValueError:
                (self.merged if _holds_several(raw) else self.not_json).append(i)
                continue
            if isinstance(payload, dict) and "error" in payload and "choices" not in payload:
                self.errors.append(payload)
            else:
                self.payloads.append((i, payload))

    @cached_property
    def invalid(self) -> list[tuple[int, list[str]]]:
        """(event index, schema violations) of the payloads that are not a chat.completion.chunk."""
        found = ((i, self._chunk_errors(payload)) for i, payload in self.payloads)
        return [(i, errors) for i, errors in found if errors]

    @cached_property
    def chunks(self) -> list[dict[str, Any]]:
        """The payloads with a ``choices`` list, in order, valid or not: what the order and usage
        rules judge (a chunk's shape is json_chunks' business, so one bad field does not hide
        the role or the finish_reason it carries)."""
        return [p for _i, p in self.payloads if isinstance(p, dict) and isinstance(p.get("choices"), list)]


def read(events: Sequence[Event], chunk_errors: SchemaErrors) -> StreamReading:
    return StreamReading(events, chunk_errors)


def _holds_several(data: str) -> bool:
    """Whether an event's data is several JSON payloads (or [DONE]) on separate lines."""
    return "\n" in data and all(line == "[DONE]" or _is_json(line) for line in data.split("\n"))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def include_usage(request: Any) -> bool:
    """Whether a chat request opted in to the usage chunk (``stream_options.include_usage: true``)."""
    options = request.get("stream_options") if isinstance(request, dict) else None
    return isinstance(options, dict) and options.get("include_usage") is True


def choices_by_index(chunks: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Each choice's entries in stream order, by ``index``. An entry of the usage chunk that carries
    nothing (no finish_reason, an empty delta) is left out: a usage chunk keeping a choice is the
    usage rules' business, not a choice streaming on."""
    out: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            if chunk.get("usage") is not None and choice.get("finish_reason") is None and _is_empty(choice):
                continue
            index = choice.get("index", 0)
            out.setdefault(index if isinstance(index, int) else 0, []).append(choice)
    return dict(sorted(out.items()))


def _is_empty(choice: dict[str, Any]) -> bool:
    """Whether a choice's delta carries nothing: no role, no content."""
    delta = choice.get("delta")
    return isinstance(delta, dict) and "role" not in delta and all(v in (None, "") for v in delta.values())


def _shown(value: Any) -> str:
    return json.dumps(value)[:160]


def _delta(choice: dict[str, Any]) -> dict[str, Any]:
    delta = choice.get("delta")
    return delta if isinstance(delta, dict) else {}


# --- framing ------------------------------------------------------------------------------------------
def content_type(media_type: str, rid: str | None) -> Verdict:
    """``stream: true`` is answered with ``text/event-stream``."""
    if rid is None:
        return None
    if media_type == "text/event-stream":
        return []
    return [(rid, f"stream: true answered with content type {media_type!r}")]


def stray_lines(parsed: ParsedStream, rid: str | None) -> Verdict:
    """Every line is an SSE field (a JSON line without ``data:`` is dropped by every client)."""
    if rid is None:
        return None
    return [(rid, f"not SSE framing (no `data:` field): {line[:100]!r}") for line in parsed.stray_lines[:2]]


def unterminated_event(parsed: ParsedStream, rid: str | None, *, cut: bool) -> Verdict:
    """The last event ends with a blank line (not judged when the stream was cut or dropped)."""
    if rid is None or cut:
        return None
    if parsed.unterminated.strip():
        return [(rid, f"last event not terminated by a blank line: {parsed.unterminated[:100]!r}")]
    return []


def separated_events(reading: StreamReading, rid: str | None) -> Verdict:
    """Events are separated by blank lines (not several payloads in one event)."""
    if rid is None:
        return None
    if not reading.merged:
        return []
    i = reading.merged[0]
    count = reading.data[i].count("\n") + 1
    return [(rid, f"events not separated by blank lines (event {i} holds {count} payloads)")]


def done_last(reading: StreamReading, rid: str | None, *, truncated: bool, dropped: bool) -> Verdict:
    """The stream ends with ``data: [DONE]`` and nothing follows it (a failed stream is error_event's)."""
    if rid is None or reading.errors:
        return None
    if reading.done_at is not None:
        after = reading.data[reading.done_at + 1 :]
        return [(rid, f"{len(after)} event(s) after [DONE], the first {after[0][:100]!r}")] if after else []
    if dropped:
        return [(rid, "the server dropped the connection before data: [DONE]")]
    if truncated:
        return None  # we cut the stream short: its end was not observed
    return [(rid, "the stream did not end with data: [DONE]")]


# --- the chunks ---------------------------------------------------------------------------------------
def json_chunks(reading: StreamReading, rid: str | None) -> Verdict:
    """Every event before [DONE] is a JSON chat.completion.chunk (an error event aside)."""
    if rid is None:
        return None
    problems = [(rid, f"event {i} is not JSON: {reading.data[i][:100]!r}") for i in reading.not_json]
    problems += [
        (rid, f"event {i} is not a chat.completion.chunk: {'; '.join(errors)}")
        for i, errors in reading.invalid
    ]
    if not reading.payloads and not reading.errors and not reading.merged and not reading.not_json:
        problems.append((rid, "no chat.completion.chunk events"))
    return problems


def chunk_identity(chunks: Sequence[dict[str, Any]], rid: str | None, keys: Sequence[str]) -> Verdict:
    """All chunks of the stream carry the same ``keys`` (id, and for Ragen created and model)."""
    if rid is None or not chunks:
        return None
    problems = []
    for key in keys:
        values = {json.dumps(c.get(key)) for c in chunks}
        if len(values) > 1:
            problems.append((rid, f"chunks disagree on {key}: {sorted(values)[:3]}"))
    return problems


def role_first(chunks: Sequence[dict[str, Any]], rid: str | None) -> Verdict:
    """The first chunk of each choice carries ``delta.role: "assistant"``."""
    if rid is None or not chunks:
        return None
    by_index = choices_by_index(chunks)
    if not by_index:
        return [(rid, "no chunk carries a choice, so none has delta.role 'assistant'")]
    return [
        (rid, f"the first chunk of choice {index} has no delta.role 'assistant': {_shown(choices[0])}")
        for index, choices in by_index.items()
        if _delta(choices[0]).get("role") != "assistant"
    ]


def finish_reason_last(chunks: Sequence[dict[str, Any]], rid: str | None) -> Verdict:
    """Each choice's last chunk carries a non-null ``finish_reason``."""
    if rid is None or not chunks:
        return None
    by_index = choices_by_index(chunks)
    if not by_index:
        return [(rid, "no chunk carries choices")]
    problems = []
    for index, choices in by_index.items():
        if choices[-1].get("finish_reason") is None:
            if any(c.get("finish_reason") is not None for c in choices):
                problems.append((rid, f"choice {index} streamed on after its finish_reason"))
            else:
                problems.append(
                    (rid, f"choice {index} got 0 non-null finish_reason(s), expected exactly one")
                )
    return problems


def finish_reason_once(chunks: Sequence[dict[str, Any]], rid: str | None) -> Verdict:
    """No chunk of a choice but its last (the finishing one) carries a non-null ``finish_reason``."""
    if rid is None or not chunks:
        return None
    problems = []
    for index, choices in choices_by_index(chunks).items():
        early = sum(c.get("finish_reason") is not None for c in choices[:-1])
        if early:
            total = early + (choices[-1].get("finish_reason") is not None)
            problems.append(
                (rid, f"choice {index} has {total} non-null finish_reason(s), one before its finishing chunk")
            )
    return problems


def finishing_delta(chunks: Sequence[dict[str, Any]], rid: str | None) -> Verdict:
    """Content arrives in ``delta.content``: no later delta names another role, and a choice's
    finishing chunk (when it has more than one) has an empty delta."""
    if rid is None or not chunks:
        return None
    problems = []
    for index, choices in choices_by_index(chunks).items():
        for choice in choices[1:]:
            role = _delta(choice).get("role")
            if role not in (None, "assistant"):
                problems.append((rid, f"choice {index}: a later delta has role {role!r}"))
                break
        if len(choices) > 1 and not _is_empty(choices[-1]):
            shown = _shown(choices[-1].get("delta"))
            problems.append((rid, f"the finishing chunk's delta is not empty: {shown}"))
    return problems


# --- usage --------------------------------------------------------------------------------------------
def _with_usage(chunks: Sequence[dict[str, Any]]) -> list[int]:
    return [i for i, c in enumerate(chunks) if c.get("usage") is not None]


def usage_absent(chunks: Sequence[dict[str, Any]], rid: str | None, *, opted_in: bool) -> Verdict:
    """Without ``include_usage``, no chunk carries a usage object."""
    if rid is None or opted_in or not chunks:
        return None
    at = _with_usage(chunks)
    return [(rid, f"{len(at)} chunk(s) carry usage without include_usage (chunk {at[0]})")] if at else []


def usage_chunk(chunks: Sequence[dict[str, Any]], rid: str | None, *, opted_in: bool) -> Verdict:
    """With ``include_usage``, exactly one chunk carries usage: ``choices: []``, after the finishing
    chunk, the last before [DONE]."""
    if rid is None or not opted_in or not chunks:
        return None
    at = _with_usage(chunks)
    if len(at) != 1:
        return [(rid, f"include_usage: {len(at)} chunks carry usage, expected exactly one")]
    u = at[0]
    problems = []
    if chunks[u].get("choices") != []:
        shown = json.dumps(chunks[u].get("choices"))[:100]
        problems.append((rid, f"the usage chunk does not have choices: [] (it has {shown})"))
    if u != len(chunks) - 1:
        problems.append((rid, "the usage chunk is not the last before [DONE]"))
    if any(c.get("choices") for c in chunks[u + 1 :]):
        problems.append((rid, "the usage chunk comes before the finishing chunk"))
    return problems


def usage_null(chunks: Sequence[dict[str, Any]], rid: str | None, *, opted_in: bool) -> Verdict:
    """With ``include_usage``, every chunk but the usage chunk carries ``"usage": null``."""
    if rid is None or not opted_in or not chunks:
        return None
    missing = [i for i, c in enumerate(chunks) if "usage" not in c]
    return [(rid, f'chunk {missing[0]} lacks "usage": null')] if missing else []


# --- a failure mid-stream -----------------------------------------------------------------------------
def error_event(reading: StreamReading, rid: str | None, envelope_errors: SchemaErrors) -> Verdict:
    """A failure after the stream started is a ``data: {"error": {...}}`` event with the envelope,
    and no [DONE] follows (not applicable to a stream without an error event)."""
    if rid is None or not reading.errors:
        return None
    problems = []
    for payload in reading.errors:
        errors = envelope_errors(payload)
        if errors:
            problems.append((rid, f"the error event is not the envelope: {'; '.join(errors)}"))
    if reading.done_at is not None:
        problems.append((rid, "[DONE] sent after an error event"))
    return problems


# --- one stream, every rule ---------------------------------------------------------------------------
ProfileRule = Callable[[StreamReading], Verdict]


def stream_problems(
    exchange: Exchange,
    ids: StreamIds,
    *,
    chunk_errors: SchemaErrors,
    envelope_errors: SchemaErrors,
    profile_rules: Sequence[ProfileRule] = (),
) -> list[Problem]:
    """(requirement id, message) for everything wrong with one streamed chat completion, under
    ``ids``; ``profile_rules`` are the profile's own rules over the same reading."""
    wrong_type = content_type(exchange.content_type, ids.framing)
    if wrong_type:
        return wrong_type
    parsed = exchange.stream
    reading = read(parsed.events, chunk_errors)
    verdicts = [
        stray_lines(parsed, ids.framing),
        unterminated_event(parsed, ids.framing, cut=exchange.truncated or exchange.dropped),
        separated_events(reading, ids.framing),
        json_chunks(reading, ids.chunks),
        error_event(reading, ids.error_event, envelope_errors),
        done_last(reading, ids.done, truncated=exchange.truncated, dropped=exchange.dropped),
    ]
    if not reading.errors:  # a stream that failed mid-way stops short: its order is not judged
        chunks = reading.chunks
        opted_in = include_usage(exchange.request_json)
        verdicts += [
            chunk_identity(chunks, ids.identity, ids.identity_keys),
            role_first(chunks, ids.role_first),
            finish_reason_last(chunks, ids.finished),
            finish_reason_once(chunks, ids.finish_once),
            finishing_delta(chunks, ids.finishing_delta),
            usage_absent(chunks, ids.usage_absent, opted_in=opted_in),
            usage_chunk(chunks, ids.usage_chunk, opted_in=opted_in),
            usage_null(chunks, ids.usage_null, opted_in=opted_in),
        ]
    verdicts += [rule(reading) for rule in profile_rules]
    return [problem for verdict in verdicts for problem in verdict or []]
