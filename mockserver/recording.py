"""Recordings of real exchanges (``--record DIR``) and serving them back offline (``--replay DIR``).

One readable JSON file per exchange, named in recording order (``0007-POST-v1-chat-completions.json``):
the request (method, path, query, headers, body) and the answer (status, headers, and either the
body or the stream's events with the time each arrived). Secrets never reach the disk: the
``Authorization`` header, cookies and API-key headers are dropped, so a recording can be committed
as a test fixture, and edited by hand.

Replay matches a request on its method, path, query and body (``model`` and ``stream`` flags
included, JSON compared by value); the key it was sent with is never part of the match. Requests
that were recorded several times with different answers (a list before and after a create) get
those answers in recorded order, the last one again after that.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["FORMAT", "SECRET_HEADERS", "Recorder", "Recording", "Replayer", "request_key"]

FORMAT = "ragen-mock recording 1"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
# Headers that describe one connection or one encoding of the body, not the answer.
_NOT_RECORDED = SECRET_HEADERS | {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
    "date",
    "server",
}


def _kept(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _NOT_RECORDED}


def _readable(raw: bytes | None) -> Any:
    """A body as JSON when it is JSON (readable, editable), else as text; None when empty."""
    if not raw:
        return None
    try:
        return {"json": json.loads(raw)}
    except ValueError:
        return {"text": raw.decode("utf-8", "replace")}


def _canonical_body(raw: bytes | str | None) -> str:
    if not raw:
        return ""
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")


def _canonical_query(query: str) -> str:
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def request_key(method: str, path: str, query: str, body: bytes | str | None) -> str:
    """What a replayed request is matched on: never the key it was sent with."""
    return f"{method.upper()} {path}?{_canonical_query(query)} {_canonical_body(body)}"


@dataclass
class Recording:
    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    request_body: Any  # {"json": ...} | {"text": ...} | None
    status: int
    headers: dict[str, str]
    body: Any = None  # {"json": ...} | {"text": ...} | None, for answers that are not streams
    events: list[dict[str, Any]] | None = None  # [{"t_ms", "text"}]: a stream's events as they came
    ended: str = "complete"  # "cut": the upstream cut the answer short
    violations: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""

    @classmethod
    def of(
        cls,
        *,
        method: str,
        path: str,
        query: str,
        request_headers: Any,
        request_body: bytes | None,
        status: int,
        headers: Any,
        body: bytes,
        events: list[tuple[float, bytes]] | None,
        cut: bool,
        violations: list[dict[str, Any]],
    ) -> Recording:
        return cls(
            method=method,
            path=path,
            query=query,
            request_headers=_kept(request_headers),
            request_body=_readable(request_body),
            status=status,
            headers=_kept(headers),
            body=None if events is not None else _readable(body),
            events=None
            if events is None
            else [{"t_ms": round(t, 3), "text": raw.decode("utf-8", "replace")} for t, raw in events],
            ended="cut" if cut else "complete",
            violations=violations,
        )

    @property
    def raw_request_body(self) -> str | None:
        return _body_text(self.request_body)

    @property
    def raw_body(self) -> bytes:
        text = _body_text(self.body)
        return b"" if text is None else text.encode()

    def key(self) -> str:
        return request_key(self.method, self.path, self.query, self.raw_request_body)

    def to_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status, "headers": self.headers}
        if self.events is not None:
            response["events"] = self.events
        else:
            response["body"] = self.body
        response["ended"] = self.ended
        return {
            "format": FORMAT,
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "request": {
                "method": self.method,
                "path": self.path,
                "query": self.query,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": response,
            "violations": self.violations,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], name: str) -> Recording:
        request, response = data["request"], data["response"]
        return cls(
            method=request["method"],
            path=request["path"],
            query=request.get("query", ""),
            request_headers=request.get("headers", {}),
            request_body=request.get("body"),
            status=int(response["status"]),
            headers=response.get("headers", {}),
            body=response.get("body"),
            events=response.get("events"),
            ended=response.get("ended", "complete"),
            violations=data.get("violations", []),
            name=name,
        )


def _body_text(body: Any) -> str | None:
    if body is None:
        return None
    if "json" in body:
        return json.dumps(body["json"])
    return str(body.get("text", ""))


class Recorder:
    """Writes each recording to ``directory`` (created if missing), after any already there."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._serial = itertools.count(len(list(self.directory.glob("*.json"))) + 1)

    def write(self, recording: Recording) -> Path:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", recording.path).strip("-")[:60] or "root"
        path = self.directory / f"{next(self._serial):04d}-{recording.method}-{slug}.json"
        text = json.dumps(recording.to_json(), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        recording.name = path.name
        return path


class Replayer:
    """The recordings of ``directory``, found by request (``find``) or by likeness (``closest``)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"no recordings directory {self.directory}")
        self.recordings: list[Recording] = []
        for path in sorted(self.directory.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == FORMAT:
                self.recordings.append(Recording.from_json(data, path.name))
        self._by_key: dict[str, list[Recording]] = defaultdict(list)
        for recording in self.recordings:
            self._by_key[recording.key()].append(recording)
        self._served: dict[str, int] = defaultdict(int)

    def find(self, method: str, path: str, query: str, body: bytes | None) -> Recording | None:
        """The recording answering this request: the next in recorded order, the last one again."""
        key = request_key(method, path, query, body)
        found = self._by_key.get(key)
        if not found:
            return None
        turn = self._served[key]
        self._served[key] = turn + 1
        return found[min(turn, len(found) - 1)]

    def closest(self, method: str, path: str, query: str, body: bytes | None) -> tuple[str, str] | None:
        """(file name, how it differs) of the recording most like this request."""
        if not self.recordings:
            return None
        sent = _fields(body)

        def likeness(r: Recording) -> tuple[int, int, int, int]:
            recorded = _fields(r.raw_request_body)
            same = sum(1 for k in sent.keys() & recorded.keys() if sent[k] == recorded[k])
            return (r.path == path, r.method == method.upper(), same, -len(sent.keys() ^ recorded.keys()))

        best = max(self.recordings, key=likeness)
        return best.name, _difference(best, method, path, query, sent)


def _fields(body: bytes | str | None) -> dict[str, str]:
    """Top-level body fields, each as canonical JSON (so values compare by value)."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return {"<body>": _canonical_body(body)}
    if not isinstance(data, dict):
        return {"<body>": _canonical_body(body)}
    return {k: json.dumps(v, sort_keys=True) for k, v in data.items()}


def _difference(r: Recording, method: str, path: str, query: str, sent: dict[str, str]) -> str:
    if r.path != path or r.method != method.upper():
        return f"it is {r.method} {r.path}"
    if _canonical_query(r.query) != _canonical_query(query):
        return f"its query is {r.query!r}"
    recorded = _fields(r.raw_request_body)
    differing = sorted(k for k in sent.keys() | recorded.keys() if sent.get(k) != recorded.get(k))
    return "its body differs in " + ", ".join(differing[:6]) if differing else "it differs"
