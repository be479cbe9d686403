"""Run a load test from its configuration: each tier in turn, analysed and reported.

``ragen-load`` (``loadtests.cli``) only turns options into a ``LoadConfig``; this module does
the run: the reachability preflight, one Locust subprocess per tier (``loadtests.launch``), the
verdicts and the report files. Progress goes to ``echo`` (stderr), the verdict tables to ``emit``
(stdout).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.analysis import TierReport, analyse
from loadtests.launch import Distribution, LoadRunError, preflight, run_locust, run_tier, worker_command
from loadtests.records import Record
from loadtests.report import render, to_json
from loadtests.scenario import TIERS, Scenario, Tier, burst_seconds, timeline

__all__ = ["LoadConfig", "WorkerConfig", "credentials_problem", "load_warning", "run", "run_worker"]

USAGE_ERROR = 2
CREDENTIAL_STATUSES = {401, 403, 404}
WORKER_LIMIT_S = 24 * 3600  # a remote worker waits for its master as long as a working day and more


@dataclass(frozen=True)
class LoadConfig:
    """One ``ragen-load`` run: the tiers' scenarios in order, and where and how to run them."""

    scenarios: Sequence[Scenario]
    api_key: str
    out: Path
    distribution: Distribution = field(default_factory=Distribution)
    strict: bool = False


@dataclass(frozen=True)
class WorkerConfig:
    """A remote worker of a ``ragen-load`` master: the options come from the master."""

    tiers: Sequence[str]
    master_host: str
    master_port: int
    out: Path


def credentials_problem(tier: str, records: Sequence[Record]) -> str | None:
    """No success at all and the server said who-are-you: the run proves nothing about the tier."""
    if any(200 <= r["status"] < 300 for r in records):
        return None
    statuses = sorted({r["status"] for r in records} & CREDENTIAL_STATUSES)
    if statuses:
        return f"tier {tier}: every request was refused {statuses}; check --api-key and --assistant-id"
    return None


def load_warning(scenario: Scenario) -> str | None:
    per_user = burst_seconds(scenario) / max(scenario.wait_time, 0.01)
    if scenario.users * per_user < 1.5 * scenario.limit:
        return (
            f"tier {scenario.tier}: {scenario.users} users x {per_user:.0f} requests per burst may not reach "
            f"the limit {scenario.limit}; raise --users or lower --wait-time"
        )
    return None


def run_worker(config: WorkerConfig, *, echo: Callable[[str], None]) -> int:
    for name in config.tiers:
        command = worker_command(name, master_host=config.master_host, master_port=config.master_port)
        echo(f"[ragen-load] worker for tier {name}: {' '.join(command[2:])}")
        try:
            log = config.out / f"{name}-worker.log"
            code = run_locust(command, log=log, api_key=None, limit_s=WORKER_LIMIT_S, echo=echo)
        except LoadRunError as exc:
            echo(f"ragen-load: {exc}")
            return USAGE_ERROR
        if code != 0:
            return USAGE_ERROR
    return 0


def run(config: LoadConfig, *, echo: Callable[[str], None], emit: Callable[[str], None]) -> int:
    """0 every property holds, 1 a property failed, 2 the harness could not run."""
    first = config.scenarios[0]
    try:
        preflight(first.base_url, first.source_ips)
    except LoadRunError as exc:
        echo(f"ragen-load: {exc}")
        return USAGE_ERROR
    config.out.mkdir(parents=True, exist_ok=True)
    reports: list[TierReport] = []
    for scenario in config.scenarios:
        if warning := load_warning(scenario):
            echo(f"[ragen-load] warning: {warning}")
        phases = timeline(scenario)
        echo(
            f"[ragen-load] tier {scenario.tier}: limit {scenario.limit} per {scenario.window:g} s, "
            f"{scenario.users} users per IP, {len(scenario.ips)} source address(es), {phases[-1].end:.0f} s: "
            + ", ".join(f"{p.name} {p.start:.0f}-{p.end:.0f}s" for p in phases)
        )
        try:
            locust_run = run_tier(
                scenario,
                api_key=config.api_key,
                out_dir=config.out,
                distribution=config.distribution,
                echo=echo,
            )
        except LoadRunError as exc:
            echo(f"ragen-load: {exc}")
            return USAGE_ERROR
        tier: Tier = TIERS[scenario.tier].with_budget(scenario.limit, scenario.window)
        report = analyse(tier, locust_run.records, scenario.ips)
        if problem := credentials_problem(scenario.tier, locust_run.records):
            echo(f"ragen-load: {problem}")
            return USAGE_ERROR
        table = render(report, strict=config.strict)
        emit(table + "\n")
        (config.out / f"{scenario.tier}-verdicts.txt").write_text(table + "\n", encoding="utf-8")
        reports.append(report)
    passed = all(r.passes(strict=config.strict) for r in reports)
    summary = {"passed": passed, "tiers": [to_json(r, strict=config.strict) for r in reports]}
    (config.out / "verdicts.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    emit(f"ragen-load: {'PASS' if passed else 'FAIL'} (Locust reports and records in {config.out}/)")
    return 0 if passed else 1
