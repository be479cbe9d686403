"""One record per response, kept by the users and judged after the run (``loadtests.analysis``).

Records are plain dicts so Locust workers can ship them to the master inside their regular
reports (msgpack); the master or the local runner writes them as JSON lines at the end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

__all__ = [
    "BODY_LIMIT",
    "HEADERS_OF_INTEREST",
    "Record",
    "RecordLog",
    "read_records",
    "write_records",
]

HEADERS_OF_INTEREST = (
    "retry-after",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-request-id",
    "content-type",
)
BODY_LIMIT = 2000  # characters of a non-2xx body kept for the verdicts


class Record(TypedDict):
    t: float  # wall-clock start (epoch seconds); comparable across processes of one machine
    ms: float  # until the whole body (or stream) was read, or the request failed
    ip: str  # source address bound by the client ("" = chosen by the OS)
    role: str  # "primary" | "secondary"
    phase: str  # the phase the request started in
    op: str  # "chat", "chat-stream", "assistants-list", "assistants-get"
    status: int  # 0 = no HTTP response (connection error, timeout)
    headers: dict[str, str]
    body: str | None  # non-2xx bodies only, truncated
    error: str | None  # transport error, or a broken 200 stream
    worker: int | None  # Locust worker index in distributed runs, None in a local run


class RecordLog:
    """The records of one process. Workers drain it into each report to the master."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def append(self, record: Record) -> None:
        self.records.append(record)

    def extend(self, records: list[Record]) -> None:
        self.records.extend(records)

    def drain(self) -> list[Record]:
        out, self.records = self.records, []
        return out

    def clear(self) -> None:
        self.records = []

    def __len__(self) -> int:
        return len(self.records)


def write_records(path: Path, meta: dict[str, Any], records: list[Record]) -> None:
    """First line ``{"meta": ...}``, then one record per line, sorted by start time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"meta": meta}) + "\n")
        for record in sorted(records, key=lambda r: r["t"]):
            fh.write(json.dumps(record) + "\n")


def read_records(path: Path) -> tuple[dict[str, Any], list[Record]]:
    meta: dict[str, Any] = {}
    records: list[Record] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            item = json.loads(line)
            if "meta" in item and len(item) == 1:
                meta = item["meta"]
            else:
                records.append(item)
    return meta, records
