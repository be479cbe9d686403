"""Fabricated records: a request schedule shaped like a real run, answered by a simulated
sliding-window server whose defects are switches (the same ones the mock's Settings offer)."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

from loadtests.records import Record

PRIMARY, OTHER = "127.0.0.2", "127.0.0.3"
T0 = 1_800_000_000.0
RATE_LIMITED_BODY = json.dumps(
    {
        "error": {
            "message": "Rate limit exceeded",
            "type": "rate_limit_error",
            "code": "rate_limit_exceeded",
            "param": None,
        }
    }
)
SERVER_ERROR_BODY = json.dumps(
    {"error": {"message": "boom", "type": "api_error", "code": None, "param": None}}
)


@dataclass
class Server:
    """What a server does with each request: a per-client (or global) sliding window."""

    limit: int = 10
    window: float = 2.0
    scope: str = "ip"
    retry_after: bool = True
    advertised: int | None = None  # x-ratelimit-limit-requests; None = the real limit
    fail_first: int = 0  # answer this many requests with 500 first (not counted, like the mock's faults)
    flat_429: bool = False  # a 429 body without the envelope

    def __post_init__(self) -> None:
        self._log: dict[str, deque[float]] = {}
        self._failed = 0

    def answer(self, t: float, ip: str) -> tuple[int, dict[str, str], str | None]:
        if self._failed < self.fail_first:
            self._failed += 1
            return 500, {}, SERVER_ERROR_BODY
        hits = self._log.setdefault("*" if self.scope == "global" else ip, deque())
        while hits and hits[0] <= t - self.window:
            hits.popleft()
        limit = str(self.advertised or self.limit)
        if len(hits) >= self.limit:
            headers = {
                "x-ratelimit-limit-requests": limit,
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "2s",
            }
            if self.retry_after:
                headers["retry-after"] = "1"
            return 429, headers, '{"message": "slow down"}' if self.flat_429 else RATE_LIMITED_BODY
        hits.append(t)
        return (
            200,
            {
                "x-ratelimit-limit-requests": limit,
                "x-ratelimit-remaining-requests": str(self.limit - len(hits)),
                "x-ratelimit-reset-requests": "2s",
            },
            None,
        )


def run(
    server: Server, *, ips: tuple[str, ...] = (PRIMARY, OTHER), every: float = 0.025, ms: float = 3.0
) -> list[Record]:
    """burst 0-1 s (primary), isolation 1-2 s (all), wait 2-5 s, recovery 5-6 s (primary)."""
    schedule: list[tuple[float, str, str, str]] = []
    for i in range(int(1 / every)):
        schedule.append((i * every, ips[0], "primary", "burst"))
        schedule.append((1 + i * every, ips[0], "primary", "isolation"))
        for ip in ips[1:]:
            schedule.append((1 + i * every + every / 2, ip, "secondary", "isolation"))
        schedule.append((5 + i * every, ips[0], "primary", "recovery"))
    records: list[Record] = []
    for t, ip, role, phase in sorted(schedule):
        status, headers, body = server.answer(t + ms / 2000, ip)
        records.append(
            {
                "t": T0 + t,
                "ms": ms,
                "ip": ip,
                "role": role,
                "phase": phase,
                "op": "chat",
                "status": status,
                "headers": headers,
                "body": body,
                "error": None,
                "worker": 0,
            }
        )
    return records
