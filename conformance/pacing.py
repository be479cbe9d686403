"""Pacing: each tier's sends kept within its limit per window, shared by every client and lane of
a run (the tiers are the server's, per client address), plus any Retry-After a 429 asked for."""

from __future__ import annotations

import bisect
import collections
import threading
import time
from collections.abc import Callable, Mapping

from conformance.config import Tier

__all__ = ["Pacer"]


class Pacer:
    """Keeps each tier's sends within ``limit`` per ``window`` (sliding log), plus any Retry-After.

    One pacer serves every client of a run (the tiers are the server's, per client address), and
    it is shared by threads: a send claims its slot under the lock and sleeps outside it, so one
    tier's wait never holds up the other tier.
    """

    def __init__(
        self,
        tiers: Mapping[str, Tier],
        *,
        enabled: bool,
        on_wait: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tiers = dict(tiers)
        self.enabled = enabled
        self.on_wait = on_wait
        self._clock = clock
        self._sleep = sleep
        # Send times (claimed slots, possibly a little in the future), sorted.
        self._sent: dict[str, list[float]] = {t: [] for t in self.tiers}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.waited = 0.0
        self.sent: collections.Counter[str] = collections.Counter()

    def _margin(self, tier: Tier) -> float:
        # The server's clock and ours start the window at slightly different instants.
        return tier.window * 0.05 + 0.05

    def _span(self, tier: Tier) -> float:
        return tier.window + self._margin(tier)

    def _next_slot(self, tier_name: str, sent: list[float], now: float) -> float:
        slot = max(now, self._blocked_until.get(tier_name, 0.0))
        tier = self.tiers.get(tier_name)
        if self.enabled and tier is not None:
            span = self._span(tier)
            # The epsilon: (t + span) - span may round below t, which would count t forever.
            recent = [t for t in sent if t > slot - span + 1e-6]
            while len(recent) >= tier.limit:
                slot = max(slot, recent[len(recent) - tier.limit] + span)
                recent = [t for t in sent if t > slot - span + 1e-6]
        return slot

    def delay(self, tier_name: str) -> float:
        """Seconds until this tier may send again."""
        with self._lock:
            now = self._clock()
            return self._next_slot(tier_name, self._sent.get(tier_name, []), now) - now

    def finish_time(self, tier_name: str, count: int) -> float:
        """When ``count`` more sends of this tier would be through, sent as early as pacing allows
        (absolute, on this pacer's clock; latency not included)."""
        with self._lock:
            now = self._clock()
            sent = list(self._sent.get(tier_name, []))
            slot = now
            for _ in range(count):
                slot = self._next_slot(tier_name, sent, now)
                bisect.insort(sent, slot)
            return slot

    def capacity(self, tier_name: str, until: float) -> int:
        """How many sends of this tier pacing allows from now until ``until`` (absolute)."""
        tier = self.tiers.get(tier_name)
        if not self.enabled or tier is None:
            return 1_000_000
        with self._lock:
            now = self._clock()
            sent = list(self._sent.get(tier_name, []))
            # Simulate two windows; past them the schedule repeats (``limit`` per window).
            horizon = min(until, now + 2 * self._span(tier))
            count = 0
            while True:
                slot = self._next_slot(tier_name, sent, now)
                if slot > horizon:
                    break
                bisect.insort(sent, slot)
                count += 1
            return count + tier.limit * int(max(0.0, until - horizon) // self._span(tier))

    def _prune(self, tier_name: str, now: float) -> None:
        tier, sent = self.tiers.get(tier_name), self._sent.get(tier_name)
        if tier is not None and sent:
            keep = bisect.bisect_right(sent, now - 2 * self._span(tier))
            del sent[:keep]

    def acquire(self, tier_name: str | None) -> None:
        if tier_name is None:
            return
        with self._lock:
            now = self._clock()
            self._prune(tier_name, now)
            slot = self._next_slot(tier_name, self._sent.get(tier_name, []), now)
            if tier_name in self._sent:
                bisect.insort(self._sent[tier_name], slot)
            self.sent[tier_name] += 1
        wait = slot - now
        if wait > 0:
            if self.on_wait:
                self.on_wait(tier_name, wait)
            self._sleep(wait)
            with self._lock:
                self.waited += wait

    def block(self, tier_name: str | None, seconds: float) -> None:
        if tier_name is not None:
            with self._lock:
                self._blocked_until[tier_name] = max(
                    self._blocked_until.get(tier_name, 0.0), self._clock() + seconds
                )

    def idle_until_fresh(self, tier_name: str) -> float:
        """Seconds until a full window has passed since this tier's last send (for burst checks)."""
        tier = self.tiers.get(tier_name)
        with self._lock:
            sent = self._sent.get(tier_name)
            now = self._clock()
            if tier is None or not sent:
                return max(0.0, self._blocked_until.get(tier_name, 0.0) - now)
            return max(0.0, sent[-1] + self._span(tier) - now)

    def sent_within(self, tier_name: str, seconds: float) -> int:
        """How many sends of this tier happened in the last ``seconds``."""
        with self._lock:
            now = self._clock()
            return sum(1 for t in self._sent.get(tier_name, []) if now - seconds < t <= now)

    def note_sent(self, tier_name: str | None) -> None:
        """Count a send that bypassed ``acquire`` (unpaced bursts) so later pacing knows of it."""
        if tier_name is None:
            return
        with self._lock:
            if tier_name in self._sent:
                bisect.insort(self._sent[tier_name], self._clock())
            self.sent[tier_name] += 1
