"""Splitting a byte stream into Server-Sent Events as it passes, without changing a byte.

The proxy forwards what the upstream sends as it arrives; this only tells it where each event
ends (a blank line), so the journal shows events with their times, recordings keep each event's
pacing, and stream faults can fire between events. The pieces always concatenate to the input.
Strict parsing (and judging) happens once the stream ended, with ``ragen_spec.sse``.
"""

from __future__ import annotations

import re

from ragen_spec.sse import parse

__all__ = ["EventSplitter", "shown"]

_BLANK_LINE = re.compile(rb"\r\n\r\n|\n\n|\r\r|\r\n\n|\n\r\n")


class EventSplitter:
    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The events completed by ``chunk``, each with its terminating blank line."""
        self._pending += chunk
        events = []
        while (found := _BLANK_LINE.search(self._pending)) is not None:
            events.append(self._pending[: found.end()])
            self._pending = self._pending[found.end() :]
        return events

    def rest(self) -> bytes:
        """What arrived after the last complete event (an event the stream never finished)."""
        rest, self._pending = self._pending, b""
        return rest


def shown(piece: bytes) -> str | None:
    """An event as the journal shows it (as the mock's own streams: the data, a named event's
    name first); None for a comment or keep-alive."""
    events = parse(piece if piece.endswith((b"\n\n", b"\r\r", b"\r\n\r\n")) else piece + b"\n\n").events
    if not events:
        return None
    event = events[0]
    return event.data if event.event is None else f"event: {event.event}\n{event.data}"
