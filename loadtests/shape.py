"""The load shape: burst from the primary IP, add the other IPs, wait out the window, burst again.

Locust calls ``tick()`` about once a second on the master (or the local runner), never faster,
and later when a change of user count blocks it (a master waits for its workers). Phases are
therefore counted in ticks, not read off the clock: every phase gets its ticks, and lasts at
least as many seconds as ``loadtests.scenario.timeline`` says.
"""

# Locust leaves parts of its LoadTestShape API unannotated.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import time
from collections import Counter

from locust import LoadTestShape

from loadtests.hooks import PHASE_MESSAGE, STATE, progress, scenario_of
from loadtests.scenario import Phase, timeline

__all__ = ["BurstShape"]

PROGRESS_EVERY = 5.0  # seconds between progress lines inside one phase
SPAWN_RATE = 100  # users started or stopped per second; Locust warns above 100


class BurstShape(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()
        self._phases: list[Phase] | None = None
        self._current: str | None = None
        self._last_progress = 0.0
        self._ticks = 0

    def _timeline(self) -> list[Phase]:
        if self._phases is None:
            assert self.runner is not None  # Locust sets it before the first tick
            self._phases = timeline(scenario_of(self.runner.environment))
        return self._phases

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        phases = self._timeline()
        n = self._ticks
        self._ticks += 1
        now = self.get_run_time()
        phase = next((p for p in phases if p.start <= n < p.end), None)
        if phase is None:
            self._progress(phases[-1].end, "done", 0)
            return None
        users = phase.users_per_ip * phase.ips
        if phase.name != self._current:
            # Announce before the spawn message, so new users already see the phase they join.
            self._current = phase.name
            STATE.phase_starts[phase.name] = time.time()
            self.runner.send_message(PHASE_MESSAGE, {"phase": phase.name})
            self._progress(phases[-1].end, phase.name, users)
        elif now - self._last_progress >= PROGRESS_EVERY:
            self._progress(phases[-1].end, phase.name, users)
        # One rate for ramping up and down: a low rate would stop users one per second.
        return users, float(SPAWN_RATE)

    def _progress(self, total: float, phase: str, users: int) -> None:
        assert self.runner is not None
        self._last_progress = self.get_run_time()
        scenario = scenario_of(self.runner.environment)
        statuses = Counter(r["status"] for r in STATE.log.records)
        seen = (
            ", ".join(f"{status or 'no response'} x{n}" for status, n in sorted(statuses.items()))
            or "none yet"
        )
        progress(
            f"{scenario.tier} {self._last_progress:4.0f}/{total:.0f} s  {phase:<9} users {users:<3} "
            f"responses {sum(statuses.values())}: {seen}"
        )
