"""What one load run does: the tier under test, the target, and the phase timeline.

A run is a sequence of phases driven by ``loadtests.shape.BurstShape`` (Locust ticks a shape once
a second, so phases last whole seconds):

- ``burst``: the primary client IP's users hammer the tier from a rested budget;
- ``isolation``: users on the other source IPs join while the primary IP is still throttled
  (skipped with a single IP);
- ``wait``: no users, for longer than the window, so every budget is restored;
- ``recovery``: the primary IP's users again: they must be admitted, up to the full limit;
- ``drain``: no users, so workers report their last records before the end: one tick locally,
  longer than Locust's worker report interval (3 s) in distributed runs.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace

from ragen_spec import tiers as spec_tiers

__all__ = [
    "PHASES",
    "TIERS",
    "Phase",
    "Scenario",
    "Tier",
    "burst_seconds",
    "minimum_duration",
    "timeline",
]

PHASES = ("burst", "isolation", "wait", "recovery", "drain")
DISTRIBUTED_DRAIN = 4  # seconds; Locust workers report every 3 s


@dataclass(frozen=True)
class Tier:
    """A rate-limit tier as the spec declares it, with the requirement ids each property proves."""

    name: str
    limit: int
    window: float
    no_leak: tuple[str, ...]
    limit_reached: tuple[str, ...]
    isolation: tuple[str, ...]
    isolation_level: str  # MUST: a shared budget fails; MAY: it is reported only

    def with_budget(self, limit: int | None = None, window: float | None = None) -> Tier:
        return replace(
            self,
            limit=self.limit if limit is None else limit,
            window=self.window if window is None else window,
        )


# The budgets are the spec's (x-rate-limit-tiers); the ids its x-requirements RATE-CHAT-1/2/3, RATE-ASST-1/2.
_CHAT, _ASSISTANTS = spec_tiers()["chat"], spec_tiers()["assistants"]
TIERS: dict[str, Tier] = {
    "chat": Tier(
        "chat", _CHAT.limit, _CHAT.window, ("RATE-CHAT-1",), ("RATE-CHAT-2",), ("RATE-CHAT-3",), "MUST"
    ),
    "assistants": Tier(
        "assistants",
        _ASSISTANTS.limit,
        _ASSISTANTS.window,
        ("RATE-ASST-1",),
        ("RATE-ASST-1",),
        ("RATE-ASST-2",),
        "MAY",
    ),
}


@dataclass(frozen=True)
class Phase:
    name: str
    start: float  # seconds after the run started
    end: float
    users_per_ip: int
    ips: int  # how many source IPs have users in this phase (0 = none, 1 = the primary only)


@dataclass(frozen=True)
class Scenario:
    """Everything a locustfile needs, serialised as one custom Locust option (the API key is not in it)."""

    tier: str
    limit: int
    window: float
    base_url: str
    assistant_id: str | None = None
    users: int = 4  # per source IP
    wait_time: float = 0.1  # seconds each user waits between its requests (Locust's wait_time)
    timeout: float = 30.0
    source_ips: tuple[str, ...] = ()
    burst: float | None = None  # None = a quarter of the window, at least 1 s
    duration: float | None = None  # None = the shortest run that covers every phase
    distributed: bool = False  # workers ship records in periodic reports: drain longer

    @property
    def ips(self) -> tuple[str, ...]:
        """Source addresses, primary first; ``""`` means the operating system picks one."""
        return self.source_ips or ("",)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        data = json.loads(text)
        data["source_ips"] = tuple(data.get("source_ips") or ())
        return cls(**data)


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


def burst_seconds(scenario: Scenario) -> int:
    return _whole(scenario.burst) if scenario.burst is not None else max(1, round(scenario.window / 4))


def minimum_duration(scenario: Scenario) -> int:
    return int(timeline(replace(scenario, duration=None))[-1].end)


def timeline(scenario: Scenario) -> list[Phase]:
    """The phases of a run; raises ValueError when ``duration`` is too short to hold them."""
    burst = burst_seconds(scenario)
    window = _whole(scenario.window)
    margin = max(1, math.ceil(window / 10))
    k = len(scenario.ips)
    phases: list[Phase] = []
    t = 0.0

    def add(name: str, length: float, users: int, ips: int) -> None:
        nonlocal t
        phases.append(Phase(name, t, t + length, users, ips))
        t += length

    add("burst", burst, scenario.users, 1)
    if k > 1:
        add("isolation", burst, scenario.users, k)
    add("wait", window + margin, 0, 0)
    recovery = burst
    drain = DISTRIBUTED_DRAIN if scenario.distributed else 1
    natural = t + recovery + drain
    if scenario.duration is not None:
        if scenario.duration + 1e-9 < natural:
            raise ValueError(
                f"duration {scenario.duration:g} s is too short: this scenario needs {natural:g} s"
            )
        recovery = math.floor(scenario.duration - t - drain)
    add("recovery", recovery, scenario.users, 1)
    add("drain", drain, 0, 0)
    return phases
