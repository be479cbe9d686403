"""Fabricated records: a request schedule shaped like a real run, answered by a simulated server
whose limiter algorithm (sliding log, fixed window aligned to the clock, token bucket) and defects
are switches (the defects are the ones the mock's Settings offer)."""

from __future__ import annotations

import json
import math
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
    """What a server does with each request: a per-client (or global) rate limiter."""

    limit: int = 10
    window: float = 2.0
    algorithm: str = "sliding"  # "sliding" (log) | "fixed" (windows aligned to the clock) | "bucket"
    scope: str = "ip"
    retry_after: bool = True
    advertised: int | None = None  # x-ratelimit-limit-requests; None = the real limit
    fail_first: int = 0  # answer this many requests with 500 first (not counted, like the mock's faults)
    flat_429: bool = False  # a 429 body without the envelope

    def __post_init__(self) -> None:
        self._log: dict[str, deque[float]] = {}
        self._fixed: dict[tuple[str, int], int] = {}
        self._bucket: dict[str, tuple[float, float]] = {}
        self._failed = 0

    def _spend(self, client: str, t: float) -> int | None:
        """Admit one request at ``t``: the budget left, or None when it is refused."""
        if self.algorithm == "fixed":
            window = (client, math.floor(t / self.window + 1e-9))
            used = self._fixed.get(window, 0)
            if used >= self.limit:
                return None
            self._fixed[window] = used + 1
            return self.limit - used - 1
        if self.algorithm == "bucket":  # capacity ``limit``, refilled ``limit`` per window
            tokens, last = self._bucket.get(client, (float(self.limit), t))
            tokens = min(float(self.limit), tokens + (t - last) * self.limit / self.window)
            admitted = tokens >= 1 - 1e-9
            self._bucket[client] = (tokens - 1 if admitted else tokens, t)
            return int(tokens - 1 + 1e-9) if admitted else None
        hits = self._log.setdefault(client, deque())
        while hits and hits[0] <= t - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return None
        hits.append(t)
        return self.limit - len(hits)

    def answer(self, t: float, ip: str) -> tuple[int, dict[str, str], str | None]:
        if self._failed < self.fail_first:
            self._failed += 1
            return 500, {}, SERVER_ERROR_BODY
        remaining = self._spend("*" if self.scope == "global" else ip, t)
        limit = str(self.advertised or self.limit)
        if remaining is None:
            headers = {
                "x-ratelimit-limit-requests": limit,
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "2s",
            }
            if self.retry_after:
                headers["retry-after"] = "1"
            return 429, headers, '{"message": "slow down"}' if self.flat_429 else RATE_LIMITED_BODY
        return (
            200,
            {
                "x-ratelimit-limit-requests": limit,
                "x-ratelimit-remaining-requests": str(remaining),
                "x-ratelimit-reset-requests": "2s",
            },
            None,
        )


def run(
    server: Server,
    *,
    ips: tuple[str, ...] = (PRIMARY, OTHER),
    every: float = 0.025,
    ms: float = 3.0,
    recovery: float = 1.0,
    offset: float = 0.0,
) -> list[Record]:
    """burst 0-1 s (primary), isolation 1-2 s (all), wait 2-5 s, recovery from 5 s for ``recovery``
    seconds (primary); all ``offset`` seconds after T0, a multiple of every window used here."""
    schedule: list[tuple[float, str, str, str]] = []
    for i in range(int(1 / every)):
        schedule.append((i * every, ips[0], "primary", "burst"))
        schedule.append((1 + i * every, ips[0], "primary", "isolation"))
        for ip in ips[1:]:
            schedule.append((1 + i * every + every / 2, ip, "secondary", "isolation"))
    schedule += [(5 + i * every, ips[0], "primary", "recovery") for i in range(round(recovery / every))]
    records: list[Record] = []
    for t, ip, role, phase in sorted(schedule):
        t += offset
        status, headers, body = server.answer(T0 + t + ms / 2000, ip)
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
