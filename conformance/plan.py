"""The run's plan: which checks run in which lane, in what order, and what each tier's budget
must keep for the essential ones.

A real deployment allows 10 chat and 20 assistants requests a minute, so the budget, not the
gate, sets a run's length. The plan splits the checks into two lanes (one per tier, run side by
side: the budgets are independent), opens each lane with its rate-limit burst (the run starts
with a fresh window, which a burst needs anyway), then the essential checks (every MUST), then
extras (MAY reports, informational endpoints) and generated examples — but only as many as fit
in the pacing windows the essential requests pay for anyway (``Budget.fits``). ``--thorough``
runs everything, like a run against an unthrottled server.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from conformance.catalogue import Check
from conformance.client import HttpClient, OverPlan
from conformance.pacing import Pacer

__all__ = ["LANES", "Budget", "Plan", "make_plan"]

LANES = ("chat", "assistants")
RATE_GROUP = "ratelimit"
# Rate-limit checks that need a fresh window of their own: run at the end of their lane, as extras.
_TAIL = ("rejected_requests_count",)


@dataclass
class Plan:
    """Checks per lane in run order, and the requests per tier the essential ones need."""

    lanes: dict[str, list[Check]]
    essential: Counter[str] = field(default_factory=Counter)
    thorough: bool = False

    def is_essential(self, check: Check) -> bool:
        return self.thorough or not check.extra

    @property
    def checks(self) -> list[Check]:
        return [c for lane in self.lanes.values() for c in lane]


def _lane_of(check: Check) -> str:
    if check.group == RATE_GROUP and check.cost:
        return "chat" if "chat" in check.cost else "assistants"
    return check.lane


def make_plan(checks: Iterable[Check], *, thorough: bool, bursts_on_target: bool = True) -> Plan:
    """Order each lane: rate-limit bursts first, then essential checks (in catalogue order), then
    extras, then the checks that fill the rest with generated examples, then tail checks.

    ``bursts_on_target``: the rate-limit checks spend the target's own budget (False when they
    run against a separate rate-limit target, as with ``--against-mock``).
    """
    lanes: dict[str, list[Check]] = {lane: [] for lane in LANES}
    for check in checks:
        lanes[_lane_of(check)].append(check)

    def rank(check: Check) -> int:
        if check.name in _TAIL:
            return 4
        if check.group == RATE_GROUP:
            return 0
        if check.fills:
            return 3
        return 2 if check.extra and not thorough else 1

    plan = Plan({lane: sorted(items, key=rank) for lane, items in lanes.items()}, thorough=thorough)
    for check in plan.checks:
        if plan.is_essential(check) and (bursts_on_target or check.group != RATE_GROUP):
            plan.essential.update(check.cost)
    return plan


class Budget:
    """Live accounting of the plan against the pacer: what the essential checks still need per
    tier, when that will be through, and whether an extra request fits in the room left."""

    def __init__(self, plan: Plan, pacer: Pacer, *, deadline: float | None) -> None:
        self.plan = plan
        self.pacer = pacer
        self.deadline = deadline
        self._lock = threading.Lock()
        self._pending: Counter[str] = Counter(plan.essential)  # essential checks not finished
        self._running: dict[str, tuple[Check, HttpClient, Counter[str]]] = {}  # lane -> check
        # The plan's end as first computed: extras fill the windows up to it, not past it (it moves
        # later only when the essential requests slip).
        self.end = self.planned_end()

    # -- the essential work ------------------------------------------------------------------------
    def started(self, lane: str, check: Check, client: HttpClient) -> None:
        with self._lock:
            self._running[lane] = (check, client, Counter(client.exchanges_by_tier))

    def finished(self, lane: str, check: Check) -> None:
        with self._lock:
            self._running.pop(lane, None)
            if self.plan.is_essential(check):
                self._pending.subtract(check.cost)

    def spent(self, lane: str) -> Counter[str]:
        """Requests per tier the lane's running check has sent so far."""
        running = self._running.get(lane)
        if running is None:
            return Counter()
        _, client, before = running
        return Counter({t: n - before.get(t, 0) for t, n in client.exchanges_by_tier.items()})

    def remaining(self) -> Counter[str]:
        """Essential requests per tier not sent yet."""
        with self._lock:
            left = Counter(self._pending)
            for lane, (check, _, _) in list(self._running.items()):
                if self.plan.is_essential(check):
                    spent = self.spent(lane)
                    for tier, cost in check.cost.items():
                        left[tier] -= min(cost, spent.get(tier, 0))
        return Counter({t: max(0, n) for t, n in left.items()})

    def planned_end(self) -> float:
        """When the essential requests will be through, at the fastest pace the tiers allow."""
        remaining = self.remaining()
        now = time.monotonic()
        ends = [self.pacer.finish_time(t, n) for t, n in remaining.items() if n > 0]
        return max(ends) if ends else now

    def eta(self) -> float:
        """Seconds until the plan's end (its essential requests, and the extras that fit)."""
        return max(self.end, self.planned_end()) - time.monotonic()

    # -- room for extras -----------------------------------------------------------------------------
    def fits(self, cost: Mapping[str, int]) -> bool:
        """Whether ``cost`` more requests fit before the plan ends without delaying essential ones
        (with --max-time: before its deadline)."""
        if not self.pacer.enabled:
            return self.deadline is None or time.monotonic() < self.deadline
        remaining = self.remaining()
        until = self.deadline
        if until is None:
            # Up to the plan's end, or later while essential requests are still to come.
            until = max(self.end, self.planned_end()) if any(remaining.values()) else self.end
        room = {t: self.pacer.capacity(t, until) - remaining.get(t, 0) for t, n in cost.items() if n > 0}
        return all(room[t] >= cost[t] for t in room)

    def gate(self, lane: str, check: Check) -> Callable[[str | None], None]:
        """The client gate of a check that fills: requests beyond its cost need room in the plan."""

        def gate(tier: str | None) -> None:
            if tier is None or self.plan.thorough:
                return
            if self.spent(lane).get(tier, 0) < check.cost.get(tier, 0):
                return
            if not self.fits({tier: 1}):
                raise OverPlan(f"no room left in the {tier} budget of this run's plan")

        return gate

    def room_for_more(self, lane: str, check: Check) -> bool:
        """Whether a filling check may generate another example (some tier it uses has room)."""
        tiers = list(check.cost) or list(LANES)
        spent = self.spent(lane)
        if any(spent.get(t, 0) < check.cost.get(t, 0) for t in tiers):
            return True
        return any(self.fits({t: 1}) for t in tiers)
