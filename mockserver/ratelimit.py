"""Per-tier sliding-window rate limits and the admission check that runs first (AUTH-ORDER-1).

The window is a log of admission times per (tier, client): at most ``limit`` admissions in any
``window`` seconds (RATE-CHAT-1/2, RATE-ASST-1). Every request that reaches a tiered route
counts, rejected or not, except the 429s themselves (RATE-COUNT-1). The clock is an argument, so
tests advance a virtual clock through ``POST /__mock/clock/advance`` instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from mockserver.errors import RateLimitError
from mockserver.keys import RATE_HEADERS

__all__ = [
    "Decision",
    "SlidingWindow",
    "TierLimiter",
    "VirtualClock",
    "admission",
    "duration",
]


class VirtualClock:
    """Monotonic time plus an offset that only ever grows."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds

    def reset(self) -> None:
        self.offset = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: float  # until the budget is fully restored
    retry_after_s: float  # until the next admission (0 when allowed)


class SlidingWindow:
    """At most ``limit`` admissions per ``window`` seconds for each client."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._log: dict[str, deque[float]] = {}

    def _expire(self, hits: deque[float], now: float) -> None:
        edge = now - self.window
        while hits and hits[0] <= edge:
            hits.popleft()

    def hit(self, client: str) -> Decision:
        now = self.clock()
        hits = self._log.get(client)
        if hits is None:
            hits = self._log[client] = deque()
        self._expire(hits, now)
        if len(hits) >= self.limit:
            return Decision(False, self.limit, 0, self._left(hits[-1], now), self._left(hits[0], now))
        hits.append(now)
        return Decision(True, self.limit, self.limit - len(hits), self.window, 0.0)

    def state(self, client: str) -> tuple[int, float]:
        """(used, seconds until fully restored) without counting a request."""
        now = self.clock()
        hits = self._log.get(client)
        if not hits:
            return 0, 0.0
        self._expire(hits, now)
        return len(hits), self._left(hits[-1], now) if hits else 0.0

    def _left(self, hit: float, now: float) -> float:
        # Subtract the elapsed time rather than add the window: ``(now + 60) - now`` can be
        # 60.00000000000001, which a ceiling turns into a whole extra second.
        return self.window - (now - hit)

    def clients(self) -> list[str]:
        return list(self._log)

    def reset(self, client: str | None = None) -> None:
        if client is None:
            self._log.clear()
        else:
            self._log.pop(client, None)


class TierLimiter:
    """One window per tier; the client is the IP, or ``*`` in the deliberately broken global scope."""

    def __init__(
        self, tiers: dict[str, tuple[int, float]], *, clock: VirtualClock, scope: str = "ip"
    ) -> None:
        self.clock = clock
        self.scope = scope
        self.windows = {tier: SlidingWindow(limit, window, clock) for tier, (limit, window) in tiers.items()}

    def client_of(self, request: web.BaseRequest) -> str:
        return "*" if self.scope == "global" else (request.remote or "unknown")

    def hit(self, tier: str, client: str) -> Decision:
        return self.windows[tier].hit(client)

    def snapshot(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for tier, window in self.windows.items():
            for client in window.clients():
                used, reset_s = window.state(client)
                rows.append(
                    {
                        "tier": tier,
                        "client": client,
                        "limit": window.limit,
                        "used": used,
                        "remaining": max(window.limit - used, 0),
                        "reset_s": round(reset_s, 3),
                    }
                )
        return rows

    def reset(self, *, client: str | None = None, tier: str | None = None) -> None:
        for name, window in self.windows.items():
            if tier is None or name == tier:
                window.reset(client)


def _ceil(value: float) -> int:
    """Round up, but not for float noise: 60.00000000000001 seconds is 60 seconds."""
    return math.ceil(value - 1e-9)


def duration(seconds: float) -> str:
    """OpenAI's duration form: ``6s``, ``1m0s``, ``250ms``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(_ceil(seconds * 1000), 1)}ms"
    whole = _ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def headers_for(decision: Decision) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(decision.limit),
        "x-ratelimit-remaining-requests": str(decision.remaining),
        "x-ratelimit-reset-requests": duration(decision.reset_s),
    }


def admission(
    limiter: TierLimiter, tiers: dict[object, str], *, retry_after: bool
) -> Callable[[web.Request], None]:
    """The rate-limit check of one request: counts it, leaves its ``x-ratelimit-*`` headers on the
    request, raises 429 past the budget. ``tiers`` maps the aiohttp routes of tiered operations
    to their tier."""

    def admit(request: web.Request) -> None:
        tier = tiers.get(request.match_info.route)
        if tier is None:
            return
        decision = limiter.hit(tier, limiter.client_of(request))
        headers = headers_for(decision)
        request[RATE_HEADERS] = headers
        if not decision.allowed:
            wait = max(_ceil(decision.retry_after_s), 1)
            extra = {"Retry-After": str(wait)} if retry_after else {}
            window = limiter.windows[tier]
            raise RateLimitError(
                f"Rate limit exceeded ({window.limit} requests per {window.window:g} s). "
                f"Retry after {wait} s.",
                code="rate_limit_exceeded",
                headers=extra,
            )

    return admit
