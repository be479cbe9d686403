"""Benchmark: a full conformance run against the bundled mock, as `ragen-conformance --against-mock` does.

Prints wall time and requests made, for the whole run and per check group. The bulk runs against
a mock with rate limits off; the rate-limit group runs against a second mock with 2-second windows
(its time is mostly deliberate waiting for fresh windows).

    .venv/bin/python bench/bench_conformance.py [--max-examples N] [--repeat R]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time

from conformance import run
from conformance.config import RunConfig, Target
from conformance.mock import mock_config

TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10, help="the CLI's default is 10")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    walls: list[float] = []
    for i in range(args.repeat):
        base = RunConfig(target=Target("http://unused", "unused"), max_examples=args.max_examples)
        with mock_config(base) as config:
            started = time.perf_counter()
            report = run(config)
            wall = time.perf_counter() - started
        walls.append(wall)
        per_group: dict[str, float] = collections.defaultdict(float)
        for check in report.checks:
            per_group[check.group] += check.duration
        print(
            f"run {i + 1}: exit {report.exit_code}, {wall:.1f}s wall, {report.requests} requests "
            f"({report.requests / wall:.0f}/s), verdicts: "
            + (", ".join(f"{v.requirement}={v.verdict.value}" for v in report.violations) or "none failing")
        )
        print("  per group: " + ", ".join(f"{g} {t:.1f}s" for g, t in per_group.items()))
    best = min(walls)
    print(
        f"\nfull run against the mock (--max-examples {args.max_examples}): best {best:.1f}s, "
        f"median {statistics.median(walls):.1f}s over {len(walls)} run(s); target < {TARGET_SECONDS:.0f}s: "
        f"{'OK' if best < TARGET_SECONDS else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
