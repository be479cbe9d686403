"""Typed keys of per-request storage (aiohttp warns on plain string keys since 3.14)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    pass

__all__ = ["BODY_BYTES", "DECORATE", "ENTRY", "RATE_HEADERS", "REQUEST_ID", "STREAM_FAULT"]


def _key(name: str, kind: Any) -> Any:
    factory = getattr(web, "RequestKey", None)
    return name if factory is None else factory(name, kind)


REQUEST_ID = _key("ragen_request_id", str)
ENTRY: Any = _key("ragen_entry", object)  # mockserver.journal.Entry
RATE_HEADERS = _key("ragen_rate_headers", dict)
BODY_BYTES = _key("ragen_body_bytes", bytes)
STREAM_FAULT: Any = _key("ragen_stream_fault", object)  # mockserver.faults.Fault
# (request, response) -> None: adds x-request-id, rate-limit and CORS headers. The journal
# middleware applies it to returned responses; a handler that prepares a stream calls it first.
DECORATE: Any = _key("ragen_decorate", object)
