"""The SSE parser lives in the spec package (``ragen_spec.sse``); re-exported for the gate's modules."""

from ragen_spec.sse import Event, ParsedStream, parse

__all__ = ["Event", "ParsedStream", "parse"]
