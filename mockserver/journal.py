"""The request journal: a bounded ring of completed exchanges, searchable and streamable.

``Journal.begin`` / ``Journal.end`` (run by ``mockserver.pipeline``, the outermost stage) give
every request its ``Entry``, the one object the stages hand each other about a request (its
``x-request-id``, the caller, the body bytes, the common headers): one ``request[ENTRY]`` instead
of a key each. Entries keep references only (headers, body bytes, stream pieces); they are turned
into JSON when someone asks, and into access-log lines in batches (``mockserver.accesslog``), so
recording costs the hot path little. Inspection (``/__mock/``) and ``/healthz`` are not journaled.

Bounded two ways (``--journal-entries``, ``--journal-bytes``): the oldest entries leave when
either is exceeded. A body longer than ``--journal-body-bytes`` is kept truncated (the client's
answer is never touched) and shown with a marker. Rendering never fails: a body nested deeper
than ``MAX_DEPTH`` is shown as text, and credentials (any header or query parameter whose name
suggests one) are masked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from mockserver.accesslog import AccessLog
from mockserver.auth import mask
from mockserver.keys import ENTRY, HEAD_BYTES
from mockserver.settings import Settings

__all__ = ["Entry", "Journal", "entry_of"]

JOURNAL_SIZE = 1000
JOURNAL_BYTES = 32 * 1024 * 1024
BODY_SHOWN = 64 * 1024
MAX_DEPTH = 64  # deeper JSON is shown as text: rendering it must not recurse without end
ENTRY_OVERHEAD = 512  # bytes an entry costs besides its headers and bodies (slots, id, strings)
# Header and query names that may carry a credential: their values are masked.
SECRET_NAME = re.compile(r"auth|key|token|secret|passw|cookie|session|credential|signature", re.I)

Decorate = Callable[[web.BaseRequest, web.StreamResponse], None]

# Wall-clock time of an entry from its perf_counter start: one clock read per request, not two.
_WALL_AT_PERF_0 = time.time() - time.perf_counter()


class Entry:
    __slots__ = (
        "client",
        "decorate",
        "duration_ms",
        "head_bytes",
        "id",
        "key",
        "method",
        "org_id",
        "path",
        "req_body",
        "req_bytes",
        "req_headers",
        "resp_body",
        "resp_bytes",
        "resp_headers",
        "size",
        "start",
        "status",
        "stream",
        "tracked",
        "url",
        "violations",
    )

    def __init__(
        self, rid: str, request: web.Request, path: str, tracked: bool, decorate: Decorate | None
    ) -> None:
        self.id = rid
        self.tracked = tracked  # False: inspection and /healthz, never added to the journal
        self.decorate = decorate  # the app's other common headers (CORS, rate limits): see stamp
        self.start = time.perf_counter()
        self.method = request.method
        self.path = path
        self.url = request.rel_url  # the query string is read from it only when shown
        self.client = request.remote
        self.req_headers: Any = request.headers
        self.head_bytes = 0
        if tracked:  # measured once by the server (serving.RequestBounds); else here
            head = request.get(HEAD_BYTES)
            self.head_bytes = header_bytes(request.raw_headers) if head is None else head
        self.req_body: bytes | None = None
        self.req_bytes = 0
        self.resp_bytes = 0
        self.size = 0
        self.key: str | None = None
        self.org_id: str | None = None
        self.status = 0
        self.duration_ms = 0.0
        self.resp_headers: Any = None
        self.resp_body: bytes | None = None
        self.stream: list[tuple[float, str]] | None = None
        # What the validating proxy (mockserver.upstream) found: {requirement, level, message, by}.
        self.violations: list[dict[str, Any]] | None = None

    def stamp(self, request: web.BaseRequest, response: web.StreamResponse) -> None:
        """The headers every response carries (``x-request-id`` and the app's ``decorate``), set
        before it is prepared: ``Journal.end`` stamps returned responses, streams stamp their own."""
        response.headers["x-request-id"] = self.id
        if self.decorate is not None:
            self.decorate(request, response)

    @property
    def query(self) -> str:
        """The query string, values of parameters named like a credential masked."""
        raw: str = self.url.query_string
        if not raw:
            return raw
        parts = []
        for part in raw.split("&"):
            name, sep, value = part.partition("=")
            parts.append(f"{name}={mask(value)}" if sep and SECRET_NAME.search(name) else part)
        return "&".join(parts)

    @property
    def time(self) -> float:
        return _WALL_AT_PERF_0 + self.start

    def finish(self, response: web.StreamResponse, body_limit: int) -> None:
        """Keep references to what was sent (bodies past ``body_limit`` as a truncated copy);
        rendered only when someone reads the journal. Sets ``size``, the bytes the entry holds."""
        self.duration_ms = self.elapsed_ms()
        self.status = response.status
        self.resp_headers = response.headers
        size = ENTRY_OVERHEAD + self.head_bytes
        req_body = self.req_body
        if req_body is not None:
            self.req_bytes = len(req_body)
            if self.req_bytes > body_limit:
                self.req_body = req_body = req_body[:body_limit]
            size += len(req_body)
        if isinstance(response, web.Response):
            body = response.body
            if isinstance(body, bytes):
                self.resp_bytes = len(body)
                if self.resp_bytes > body_limit:
                    body = body[:body_limit]
                self.resp_body = body
                size += len(body)
        if self.stream is not None:
            size += sum([len(data) + 64 for _, data in self.stream])
        self.size = size

    def log_line(self) -> str:
        """The access log's line: a UTC timestamp, no body, no headers, the key masked. All but
        the time, the id and the duration repeat from request to request, so that part is
        rendered once per combination.
        The line is ASCII (``\\u2026`` for the mask's "…"): one non-Latin-1 character would make
        Python store the whole burst two bytes per character and encode it the slow way."""
        fixed = (self.method, self.path, self.status, self.client, self.key, self.org_id)
        middle = _LOG_MIDDLES.get(fixed)
        if middle is None:
            if len(_LOG_MIDDLES) >= 1024:
                _LOG_MIDDLES.clear()
            names = ("method", "path", "status", "client", "key", "org_id")
            fields = dict(zip(names, fixed, strict=True))
            middle = _LOG_MIDDLES[fixed] = json.dumps(fields, separators=(",", ":"))[1:-1]
        return (
            f'{{"time":"{_timestamp(self.time)}","request_id":"{self.id}",{middle},'
            f'"duration_ms":{self.duration_ms:.2f}}}'
        )

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000

    def add_chunk(self, data: str) -> None:
        if self.stream is None:
            self.stream = []
        self.stream.append((round(self.elapsed_ms(), 3), data))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "client": self.client,
            "key": self.key,
            "org_id": self.org_id,
            "request": {
                "headers": _headers(self.req_headers),
                "body": _body(self.req_body, self.req_bytes),
                "body_bytes": self.req_bytes,
            },
            "response": {
                "headers": _headers(self.resp_headers),
                "body": _body(self.resp_body, self.resp_bytes),
                "body_bytes": self.resp_bytes,
                "stream": None if self.stream is None else [{"t_ms": t, "data": d} for t, d in self.stream],
            },
            "violations": self.violations or [],
        }


_LOG_MIDDLES: dict[tuple[Any, ...], str] = {}
_SECONDS: list[Any] = [None, ""]  # the last whole second rendered, and its text


def _timestamp(at: float) -> str:
    """``2026-12-07T15:40:01.123Z``; the part up to the second is rendered once per second."""
    second = int(at)
    if _SECONDS[0] != second:
        _SECONDS[0], _SECONDS[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_SECONDS[1]}.{int((at - second) * 1000):03d}Z"


def entry_of(request: web.BaseRequest) -> Entry:
    """The request's entry (``Journal.begin`` gave it one before any handler ran)."""
    entry: Entry = request[ENTRY]
    return entry


def _violates(entry: Entry, wanted: str) -> bool:
    found = entry.violations or ()
    if wanted == "any":
        return bool(found)
    if wanted == "none":
        return not found
    return any(v["requirement"] == wanted for v in found)


def header_bytes(raw_headers: Any) -> int:
    """The size of a request's header names and values (``request.raw_headers``)."""
    return sum([len(name) + len(value) for name, value in raw_headers])


def _headers(headers: Any) -> dict[str, str]:
    """Headers with credentials masked (``Bearer …ey#e5a7``): any header named like one."""
    if headers is None:
        return {}
    out: dict[str, str] = {}
    for name, value in headers.items():
        if SECRET_NAME.search(name):
            scheme, sep, secret = value.strip().partition(" ")
            value = f"{scheme} {mask(secret.strip())}" if sep else mask(value)
        out[name] = value
    return out


def _depth_within(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` containers deep (iteratively: no recursion)."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def _body(kept: bytes | None, total: int) -> Any:
    """A body as shown: its JSON, or its text when it is not JSON, nests deeper than
    ``MAX_DEPTH`` or was truncated (then with a marker saying how much was kept)."""
    if not kept:
        return None
    if len(kept) < total:
        text = kept.decode("utf-8", "replace")
        return f"{text}… [truncated: {len(kept)} of {total} bytes kept]"
    try:
        parsed = json.loads(kept)
    except (ValueError, RecursionError):
        return kept.decode("utf-8", "replace")
    if isinstance(parsed, dict | list) and not _depth_within(parsed, MAX_DEPTH):
        return kept.decode("utf-8", "replace")
    return parsed


class Journal:
    def __init__(
        self, size: int = JOURNAL_SIZE, *, max_bytes: int = JOURNAL_BYTES, body_bytes: int = BODY_SHOWN
    ) -> None:
        self.entries: deque[Entry] = deque()
        self.max_entries = size
        self.max_bytes = max_bytes
        self.body_bytes = body_bytes
        self.bytes = 0  # what the entries hold (Entry.size), kept under max_bytes
        self.subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self.access = AccessLog()
        self._id_prefix = os.urandom(4).hex()  # unique across restarts, ordered within one
        self._serial = itertools.count(1)
        # The validating proxy's findings per (requirement, level, by): [count, last entry id, message]
        self.violation_counts: dict[tuple[str | None, str, str], list[Any]] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> Journal:
        return cls(
            settings.journal_entries,
            max_bytes=settings.journal_bytes,
            body_bytes=settings.journal_body_bytes,
        )

    def publish(self, entry: Entry) -> None:
        """Hand ``entry`` to the live readers (``/__mock/journal/stream``)."""
        rendered = entry.to_json()
        for queue in list(self.subscribers):
            if queue.full():
                continue  # a slow reader loses entries rather than growing memory
            queue.put_nowait(rendered)

    def begin(self, request: web.Request, decorate: Decorate | None = None) -> Entry:
        """Give ``request`` its entry (and so its id and ``decorate``)."""
        path = request.path
        tracked = not (path.startswith("/__mock") or path == "/healthz")  # inspection is not journaled
        rid = f"req_{self._id_prefix}{next(self._serial):010d}"
        entry = request[ENTRY] = Entry(rid, request, path, tracked, decorate)
        return entry

    def end(self, request: web.Request, entry: Entry, response: web.StreamResponse) -> None:
        """The common headers (unless a stream already sent them), then the entry and its log line."""
        if not response.prepared:
            entry.stamp(request, response)
        if not entry.tracked:
            return
        entry.finish(response, self.body_bytes)
        if entry.violations:
            self._count(entry)
        entries = self.entries
        entries.append(entry)
        self.bytes += entry.size
        while len(entries) > self.max_entries or (self.bytes > self.max_bytes and len(entries) > 1):
            self.bytes -= entries.popleft().size
        if self.subscribers:
            self.publish(entry)
        self.access.add(entry)

    def _count(self, entry: Entry) -> None:
        for v in entry.violations or ():
            tally = self.violation_counts.setdefault((v["requirement"], v["level"], v["by"]), [0, "", ""])
            tally[0] += 1
            tally[1], tally[2] = entry.id, v["message"]

    def find(self, request_id: str) -> Entry | None:
        return next((e for e in reversed(self.entries) if e.id == request_id), None)

    def search(
        self,
        *,
        limit: int = 100,
        path: str | None = None,
        status: int | None = None,
        key: str | None = None,
        request_id: str | None = None,
        violation: str | None = None,
        mask: Callable[[str], str] = lambda k: k,
    ) -> list[Entry]:
        """Newest first. ``violation``: "any", "none", or a requirement id the entry violates."""
        masked = mask(key) if key is not None else None
        found: list[Entry] = []
        for entry in reversed(self.entries):
            if path is not None and entry.path != path:
                continue
            if status is not None and entry.status != status:
                continue
            if key is not None and entry.key not in (key, masked):
                continue
            if request_id is not None and entry.id != request_id:
                continue
            if violation is not None and not _violates(entry, violation):
                continue
            found.append(entry)
            if len(found) >= limit:
                break
        return found

    def clear(self) -> None:
        self.entries.clear()
        self.violation_counts.clear()
        self.bytes = 0

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self.subscribers.discard(queue)

    def close(self) -> None:
        self.access.flush()
        for queue in self.subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
