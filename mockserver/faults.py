"""Fault injection for SDK authors: armed through ``POST /__mock/faults`` or per request with
``x-mock-fault: kind=status; status=503``.

Kinds applied before the request is handled (and before the rate limit, so a fault never uses
a client's budget): ``rate_limit`` (429 + Retry-After), ``status`` (500/502/503 ``api_error``),
``delay`` (``delay_ms`` before the first byte, then normal handling). Kinds applied by the SSE
writer to a streaming response: ``cut_stream`` (the connection drops after ``after_chunks``
chunks, no ``[DONE]``), ``malformed_chunk`` (chunk number ``after_chunks`` is invalid JSON, the
stream then goes on), ``error_event`` (``data: {"error": ...}`` after ``after_chunks`` chunks,
then the stream closes without ``[DONE]``). An armed fault fires for its next ``count``
matching requests (a stream kind only for streaming ones), then disarms.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from mockserver.errors import InvalidRequestError, RateLimitError, ServerError
from mockserver.keys import STREAM_FAULT

__all__ = [
    "FAULT_HEADER",
    "Fault",
    "FaultError",
    "Faults",
    "apply_faults",
    "faults_pending",
    "parse_fault",
]

FAULT_HEADER = "x-mock-fault"
BEFORE_KINDS = frozenset({"rate_limit", "status", "delay"})
STREAM_KINDS = frozenset({"cut_stream", "malformed_chunk", "error_event"})
KINDS = BEFORE_KINDS | STREAM_KINDS
STATUSES = frozenset({500, 502, 503, 504})


class FaultError(ValueError):
    """A fault description the mock cannot arm."""


@dataclass
class Match:
    method: str | None = None
    path: str | None = None  # exact, or a glob such as /v1/assistants/*
    body_contains: str | None = None

    def accepts(self, method: str, path: str, body: bytes | None) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        return self.body_contains is None or (body is not None and self.body_contains.encode() in body)


@dataclass
class Fault:
    kind: str
    count: int = 1
    match: Match = field(default_factory=Match)
    status: int = 500
    delay_ms: float = 1000.0
    retry_after: int = 1
    after_chunks: int = 2
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _int(raw: Any, name: str, *, low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 and Infinity
        raise FaultError(f"'{name}' must be an integer") from None
    if isinstance(raw, bool) or not low <= value <= high:
        raise FaultError(f"'{name}' must be between {low} and {high}")
    return value


def parse_fault(data: Any) -> Fault:
    """A fault from the JSON of ``POST /__mock/faults`` (or the header's pairs)."""
    if not isinstance(data, dict):
        raise FaultError("a fault is a JSON object")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise FaultError(f"'kind' must be one of {sorted(KINDS)}")
    match = data.get("match") or {}
    if not isinstance(match, dict) or not all(
        isinstance(match.get(k), str | None) for k in ("method", "path", "body_contains")
    ):
        raise FaultError("'match' is an object with optional string 'method', 'path', 'body_contains'")
    fault = Fault(
        kind=kind,
        count=_int(data.get("count", 1), "count", low=1, high=1_000_000),
        match=Match(match.get("method"), match.get("path"), match.get("body_contains")),
        delay_ms=float(_int(data.get("delay_ms", 1000), "delay_ms", low=0, high=600_000)),
        retry_after=_int(data.get("retry_after", 1), "retry_after", low=0, high=86_400),
        after_chunks=_int(data.get("after_chunks", 2), "after_chunks", low=0, high=100_000),
    )
    if kind == "status":
        fault.status = _int(data.get("status", 500), "status", low=500, high=599)
        if fault.status not in STATUSES:
            raise FaultError(f"'status' must be one of {sorted(STATUSES)}")
    elif kind == "rate_limit":
        fault.status = 429
    return fault


def parse_header(value: str) -> Fault:
    """``kind=status; status=503`` → a one-shot fault."""
    pairs: dict[str, Any] = {}
    for part in value.replace(",", ";").split(";"):
        if not part.strip():
            continue
        name, sep, raw = part.partition("=")
        if not sep:
            raise FaultError(f"'{part.strip()}' is not name=value")
        pairs[name.strip()] = raw.strip()
    return parse_fault(pairs)


class Faults:
    def __init__(self, limit: int = 100) -> None:
        self.limit = limit  # armed at once: every request looks through them
        self.armed: list[Fault] = []
        self._ids = itertools.count(1)
        self.needs_body = False

    def arm(self, fault: Fault) -> Fault:
        if len(self.armed) >= self.limit:
            raise InvalidRequestError(
                f"{self.limit} faults are armed already (--max-faults); disarm some first.",
                code="too_many_faults",
            )
        fault.id = f"fault_{next(self._ids)}"
        self.armed.append(fault)
        self.needs_body = any(f.match.body_contains for f in self.armed)
        return fault

    def disarm(self, fault_id: str | None = None) -> bool:
        before = len(self.armed)
        self.armed = [f for f in self.armed if fault_id is not None and f.id != fault_id]
        self.needs_body = any(f.match.body_contains for f in self.armed)
        return len(self.armed) != before

    def take(self, kinds: frozenset[str], method: str, path: str, body: bytes | None) -> Fault | None:
        for fault in self.armed:
            if fault.kind in kinds and fault.match.accepts(method, path, body):
                fault.count -= 1
                if fault.count <= 0:
                    self.armed.remove(fault)
                return fault
        return None


def faults_pending(faults: Faults, request: web.BaseRequest, *, tracked: bool) -> bool:
    """Whether ``request`` may meet a fault at all (the common answer, no, costs two lookups).
    Untracked requests (inspection, ``/healthz``: ``Entry.tracked``) never do."""
    return tracked and bool(faults.armed or FAULT_HEADER in request.headers)


async def apply_faults(faults: Faults, request: web.BaseRequest) -> None:
    """Before the request is handled: raise the injected error, wait the injected delay, or
    leave a stream fault for the SSE writer."""
    header = request.headers.get(FAULT_HEADER)
    fault: Fault | None = None
    if header is not None:
        try:
            fault = parse_header(header)
        except FaultError as exc:
            raise InvalidRequestError(
                f"{FAULT_HEADER}: {exc}", code="invalid_fault", param=FAULT_HEADER
            ) from None
        if fault.kind in STREAM_KINDS:
            request[STREAM_FAULT] = fault
            fault = None
    elif faults.armed:
        body = await request.read() if faults.needs_body and request.can_read_body else None
        fault = faults.take(BEFORE_KINDS, request.method, request.path, body)
    if fault is None:
        return
    if fault.kind == "delay":
        await asyncio.sleep(fault.delay_ms / 1000)
        return
    if fault.kind == "rate_limit":
        raise RateLimitError(
            f"Rate limit exceeded (injected fault). Retry after {fault.retry_after} s.",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(fault.retry_after)},
        )
    raise ServerError(
        "The upstream model is unavailable (injected fault).", status=fault.status, code="upstream_error"
    )
