"""The proxy's verdict on one exchange: the shared rules (``ragen_spec.judge``) as journal entries.

``violations`` judges the response (everything one exchange can show, by the same functions the
gate uses) and the request (what makes it invalid under the spec). A response problem is the
server's (``by: "server"``); an invalid request is the client's (``by: "client"``), and becomes
the server's too when a rule demands its rejection and the server accepted it.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from ragen_spec.exchange import Observation
from ragen_spec.judge import judge, level_of, text_of
from ragen_spec.request_rules import RequestViolation, request_violations, unrejected_request

__all__ = ["decoded", "violations"]


def decoded(body: bytes, encoding: str | None) -> bytes | None:
    """The body as the client's library reads it (gzip/deflate undone); None when unreadable."""
    if not encoding or encoding == "identity":
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return None
    return None  # br, zstd: not judged


def _row(requirement: str | None, message: str, by: str) -> dict[str, Any]:
    level = level_of(requirement) if requirement else "MUST"
    text = text_of(requirement) if requirement else "The request matches the operation's schema."
    return {"requirement": requirement, "level": level, "message": message, "by": by, "text": text}


def violations(
    observed: Observation, query: str, *, tiers: Mapping[str, int] | None = None
) -> list[dict[str, Any]]:
    """``{requirement, level, message, by}`` for everything wrong with one exchange (empty: clean)."""
    rows = [_row(rid, message, "server") for rid, message in judge(observed, tiers=tiers)]
    operation_id = observed.operation_id
    if operation_id is None:
        return rows
    media = observed.request_headers.get("content-type", "").split(";")[0].strip() or None
    found = request_violations(
        operation_id,
        observed.request_json,
        dict(parse_qsl(query)),
        media_type=media,
        has_body=bool(observed.request_body),
    )
    if observed.request_body and observed.request_json is None and found:
        # Not JSON at all: say so, rather than what the schema makes of nothing.
        found = [RequestViolation("body", "not valid JSON", found[0].requirement)]
    for v in found:
        rule = f" ({v.requirement}: the server must reject it)" if v.requirement else ""
        message = f"the request breaks the spec at {v.where}: {v.message}{rule}"
        rows.append(_row(v.requirement, message, "client"))
    accepted = unrejected_request(found, observed.status, observed.error)
    rows += [_row(rid, message, "server") for rid, message in accepted]
    return rows
