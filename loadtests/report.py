"""The verdict table printed by ``ragen-load`` (and written next to Locust's reports)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from loadtests.analysis import TierReport

__all__ = ["render", "to_json"]


def _header(report: TierReport) -> str:
    tier, fig = report.tier, report.figures
    statuses = ", ".join(f"{status or 'no response'}: {n}" for status, n in fig.by_status.items())
    ips = ", ".join(ip or "(default)" for ip in report.ips)
    p99 = "-" if fig.p99_429_ms is None else f"{fig.p99_429_ms:.1f} ms"
    return (
        f"tier {tier.name}: limit {tier.limit} per {tier.window:g} s per client IP; source addresses {ips}\n"
        f"{fig.requests} requests in {fig.seconds:.1f} s ({statuses}); 429 p99 {p99}"
    )


def render(report: TierReport, *, strict: bool = False) -> str:
    rows = [("property", "requirements", "verdict", "detail")]
    rows += [(v.name, ", ".join(v.requirements), v.status, v.detail) for v in report.verdicts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [_header(report), ""]
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row[:3])) + "  " + row[3])
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    lines += [f"note: {note}" for note in report.notes]
    verdict = "PASS" if report.passes(strict=strict) else "FAIL"
    if verdict == "PASS" and report.warned:
        verdict += " with warnings (SHOULD-level; --strict fails on them)"
    lines.append(f"=> tier {report.tier.name}: {verdict}")
    return "\n".join(lines)


def to_json(report: TierReport, *, strict: bool = False) -> dict[str, Any]:
    return {
        "tier": asdict(report.tier),
        "ips": list(report.ips),
        "passed": report.passes(strict=strict),
        "warnings": report.warned,
        "verdicts": [asdict(v) for v in report.verdicts],
        "figures": json.loads(json.dumps(asdict(report.figures))),
        "notes": report.notes,
    }
