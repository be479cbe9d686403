"""Benchmark: a default gate run against a deployment enforcing the REAL tiers.

A local mock enforces 10 chat and 20 assistants requests per 60-second window (per client
address), as staging does; the gate runs as a new user would (`ragen-conformance --base-url …
--assistant-id … --second-org-key … --deactivated-key … --chat-only-key …`, no tuning flags).
Prints the run's wall time, requests per tier, the MUST verdicts, and the floor: the distinct
requests the MUST rules need, divided by each tier's budget, plus one window for the recovery
check — next to the 48 min 40 s a default run took before the planner (issue 17).

    .venv/bin/python bench/bench_gate_live.py [--window 60]

It takes several minutes (the windows are real).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from conformance.config import RunConfig, Target, Tier
from conformance.mock import limited_mock_config
from conformance.pacing import Pacer
from conformance.plan import make_plan
from conformance.progress import PlanProgress
from conformance.results import VerdictKind
from conformance.runner import run, selected_checks

BASELINE_S = 48 * 60 + 40  # issue 17: 785 requests, 565 assistants + 220 chat
GOAL_S, TARGET_S = 6 * 60, 4 * 60


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0, help="the tiers' window in seconds (real: 60)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    args = parser.parse_args()
    tiers = {"chat": Tier(10, args.window), "assistants": Tier(20, args.window)}
    with limited_mock_config(tiers, RunConfig(target=Target("http://unused", "unused"))) as config:
        plan = make_plan(selected_checks(config), thorough=False)
        progress = None if args.quiet else PlanProgress()
        started = time.perf_counter()
        report = run(config, progress=progress)
        wall = time.perf_counter() - started
        if progress is not None:
            progress.close()
    # The floor: the distinct requests the MUST rules need (the plan's essential ones, bursts
    # included) at the tiers' budget — the earliest a paced schedule can send them, starting on a
    # fresh window (which the burst uses; its recovery wait overlaps the next window's pacing).
    need: Counter[str] = plan.essential
    fresh = Pacer(tiers, enabled=True, clock=lambda: 0.0)
    floor = max(fresh.finish_time(t, need[t]) for t in tiers)
    by_rate = max(need[t] / tiers[t].limit for t in tiers) * args.window + args.window
    musts = [v for v in report.verdicts if v.level == "MUST"]
    failing = [v.requirement for v in musts if v.verdict in (VerdictKind.FAIL, VerdictKind.ERROR)]
    passed = sum(1 for v in musts if v.verdict is VerdictKind.PASS)
    by_tier = ", ".join(f"{t} {n}" for t, n in sorted(report.requests_by_tier.items()))
    print(
        f"\ndefault run, tiers chat {tiers['chat']} / assistants {tiers['assistants']} (real windows: "
        f"{args.window:g} s):"
    )
    print(
        f"  wall {_clock(wall)} ({wall:.0f} s); {report.requests} requests ({by_tier}); paced "
        f"{report.paced_seconds:.0f} s; exit {report.exit_code}"
    )
    print(
        f"  MUST rules: {passed} pass, {len(musts) - passed - len(failing)} not observable/skipped, "
        f"failing: {failing or 'none'}"
    )
    print(
        f"  floor: essential requests chat {need['chat']}, assistants {need['assistants']} -> "
        f"{_clock(floor)} paced from a fresh window (requests / budget + one window: {_clock(by_rate)})"
    )
    print(
        f"  baseline (issue 17): {_clock(BASELINE_S)} -> {BASELINE_S / wall:.1f}x faster; goal <= 6 min: "
        f"{'OK' if wall <= GOAL_S else 'MISSED'}, target <= 4 min: {'OK' if wall <= TARGET_S else 'missed'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
