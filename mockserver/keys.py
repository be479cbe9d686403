"""Typed keys of per-request storage (aiohttp warns on plain string keys since 3.14)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

__all__ = ["ENTRY", "HEAD_BYTES", "RATE_HEADERS", "STREAM_FAULT"]


def _key(name: str, kind: Any) -> Any:
    factory = getattr(web, "RequestKey", None)
    return name if factory is None else factory(name, kind)


# mockserver.journal.Entry: the request's id, caller, body bytes and common headers (one lookup)
ENTRY: Any = _key("ragen_entry", object)
RATE_HEADERS = _key("ragen_rate_headers", dict)
STREAM_FAULT: Any = _key("ragen_stream_fault", object)  # mockserver.faults.Fault
HEAD_BYTES = _key("ragen_head_bytes", int)  # header names + values, measured by serving.RequestBounds
