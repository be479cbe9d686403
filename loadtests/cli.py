"""``ragen-load``: prove a deployment holds its rate-limit tiers under concurrent load.

Exit codes: 0 every property holds, 1 a property failed, 2 usage or connection error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from loadtests.analysis import TierReport, analyse
from loadtests.records import Record
from loadtests.report import render, to_json
from loadtests.runner import Distribution, LoadRunError, preflight, run_locust, run_tier, worker_command
from loadtests.scenario import TIERS, Scenario, Tier, burst_seconds, timeline

__all__ = ["cli", "main"]

USAGE_ERROR = 2
CREDENTIAL_STATUSES = {401, 403, 404}


def _per_tier(kind: type[int] | type[float]) -> Any:
    """``N`` for every selected tier, or ``chat=N,assistants=M``."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, Any]:
        if value is None:
            return {}
        try:
            if "=" not in value:
                return {tier: kind(value) for tier in TIERS}
            pairs = (item.split("=", 1) for item in value.split(",") if item.strip())
            out = {name.strip(): kind(number) for name, number in pairs}
        except ValueError:
            raise click.BadParameter(f"expected N or chat=N,assistants=M, got {value!r}") from None
        unknown = set(out) - set(TIERS)
        if unknown:
            raise click.BadParameter(f"unknown tier {sorted(unknown)}")
        if any(v <= 0 for v in out.values()):
            raise click.BadParameter("must be positive")
        return out

    return parse


def _ips(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    ips = tuple(ip.strip() for ip in value.split(",") if ip.strip())
    if len(set(ips)) != len(ips):
        raise click.BadParameter("addresses must be distinct")
    return ips


def _echo(line: str) -> None:
    click.echo(line, err=True)


def _credentials_problem(tier: str, records: Sequence[Record]) -> str | None:
    """No success at all and the server said who-are-you: the run proves nothing about the tier."""
    if any(200 <= r["status"] < 300 for r in records):
        return None
    statuses = sorted({r["status"] for r in records} & CREDENTIAL_STATUSES)
    if statuses:
        return f"tier {tier}: every request was refused {statuses}; check --api-key and --assistant-id"
    return None


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--base-url", help="The deployment, e.g. https://api.example.com (no /v1).")
@click.option("--api-key", envvar="RAGEN_LOAD_API_KEY", help="Bearer key [env RAGEN_LOAD_API_KEY].")
@click.option("--assistant-id", help="Assistant the key may use (required for the chat tier).")
@click.option("--tier", type=click.Choice(["chat", "assistants", "all"]), default="all", show_default=True)
@click.option(
    "--limit", callback=_per_tier(int), help="Declared requests per window: N or chat=10,assistants=20."
)
@click.option(
    "--window", callback=_per_tier(float), help="Declared window in seconds: S or chat=60,assistants=60."
)
@click.option(
    "--users", type=click.IntRange(1, 500), default=4, show_default=True, help="Concurrent users per IP."
)
@click.option(
    "--duration", type=click.FloatRange(min=1), help="Seconds per tier [default: the shortest run]."
)
@click.option(
    "--burst", type=click.FloatRange(min=1), help="Seconds per burst [default: window/4, at least 1]."
)
@click.option(
    "--pace",
    type=click.FloatRange(min=0),
    default=0.1,
    show_default=True,
    help="Seconds between a user's requests.",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Per request."
)
@click.option(
    "--source-ips", callback=_ips, default="", help="Comma-separated client addresses, primary first."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("ragen-load-report"),
    show_default=True,
)
@click.option("--processes", type=click.IntRange(1, 64), help="Locust worker processes on this machine.")
@click.option(
    "--expect-workers", type=click.IntRange(1, 1000), help="Be a master and wait for N remote workers."
)
@click.option("--master-bind-host", default="*", show_default=True)
@click.option("--master-bind-port", type=int, default=5557, show_default=True)
@click.option("--worker", is_flag=True, help="Be a remote worker of a ragen-load master (--master-host).")
@click.option("--master-host", default="127.0.0.1", show_default=True)
@click.option("--master-port", type=int, default=5557, show_default=True)
@click.option(
    "--strict", is_flag=True, help="Fail on SHOULD-level findings too (Retry-After, x-ratelimit-* headers)."
)
def cli(**options: Any) -> None:
    """Load-test the rate-limit tiers of a Ragen deployment with Locust and print a verdict per property."""
    ctx = click.get_current_context()
    ctx.exit(_run(options))


def _scenarios(options: dict[str, Any]) -> list[Scenario]:
    names = ["chat", "assistants"] if options["tier"] == "all" else [options["tier"]]
    if not options["base_url"]:
        raise click.UsageError("--base-url is required")
    if not options["api_key"]:
        raise click.UsageError("--api-key (or RAGEN_LOAD_API_KEY) is required")
    if "chat" in names and not options["assistant_id"]:
        raise click.UsageError("--assistant-id is required for the chat tier")
    if options["processes"] and options["expect_workers"]:
        raise click.UsageError("--processes and --expect-workers exclude each other")
    scenarios = []
    for name in names:
        scenario = Scenario(
            tier=name,
            limit=options["limit"].get(name, TIERS[name].limit),
            window=options["window"].get(name, TIERS[name].window),
            base_url=options["base_url"].rstrip("/"),
            assistant_id=options["assistant_id"],
            users=options["users"],
            pace=options["pace"],
            timeout=options["timeout"],
            source_ips=options["source_ips"],
            burst=options["burst"],
            duration=options["duration"],
            distributed=bool(options["processes"] or options["expect_workers"]),
        )
        try:
            timeline(scenario)
        except ValueError as exc:
            raise click.UsageError(f"tier {name}: {exc}") from None
        scenarios.append(scenario)
    return scenarios


def _load_warning(scenario: Scenario) -> str | None:
    per_user = burst_seconds(scenario) / max(scenario.pace, 0.01)
    if scenario.users * per_user < 1.5 * scenario.limit:
        return (
            f"tier {scenario.tier}: {scenario.users} users x {per_user:.0f} requests per burst may not reach "
            f"the limit {scenario.limit}; raise --users or lower --pace"
        )
    return None


def _run_worker(options: dict[str, Any]) -> int:
    names = ["chat", "assistants"] if options["tier"] == "all" else [options["tier"]]
    out: Path = options["out"]
    for name in names:
        command = worker_command(name, master_host=options["master_host"], master_port=options["master_port"])
        _echo(f"[ragen-load] worker for tier {name}: {' '.join(command[2:])}")
        code = run_locust(
            command, log=out / f"{name}-worker.log", api_key=None, limit_s=24 * 3600, echo=_echo
        )
        if code != 0:
            return USAGE_ERROR
    return 0


def _run(options: dict[str, Any]) -> int:
    if options["worker"]:
        try:
            return _run_worker(options)
        except LoadRunError as exc:
            _echo(f"ragen-load: {exc}")
            return USAGE_ERROR
    scenarios = _scenarios(options)
    out: Path = options["out"]
    distribution = Distribution(
        processes=options["processes"],
        expect_workers=options["expect_workers"],
        master_bind_host=options["master_bind_host"],
        master_bind_port=options["master_bind_port"],
    )
    try:
        preflight(scenarios[0].base_url, scenarios[0].source_ips)
    except LoadRunError as exc:
        _echo(f"ragen-load: {exc}")
        return USAGE_ERROR
    out.mkdir(parents=True, exist_ok=True)
    reports: list[TierReport] = []
    for scenario in scenarios:
        if warning := _load_warning(scenario):
            _echo(f"[ragen-load] warning: {warning}")
        phases = timeline(scenario)
        _echo(
            f"[ragen-load] tier {scenario.tier}: limit {scenario.limit} per {scenario.window:g} s, "
            f"{scenario.users} users per IP, {len(scenario.ips)} source address(es), {phases[-1].end:.0f} s: "
            + ", ".join(f"{p.name} {p.start:.0f}-{p.end:.0f}s" for p in phases)
        )
        try:
            run = run_tier(
                scenario, api_key=options["api_key"], out_dir=out, distribution=distribution, echo=_echo
            )
        except LoadRunError as exc:
            _echo(f"ragen-load: {exc}")
            return USAGE_ERROR
        tier: Tier = TIERS[scenario.tier].with_budget(scenario.limit, scenario.window)
        report = analyse(tier, run.records, scenario.ips)
        if problem := _credentials_problem(scenario.tier, run.records):
            _echo(f"ragen-load: {problem}")
            return USAGE_ERROR
        table = render(report, strict=options["strict"])
        click.echo(table + "\n")
        (out / f"{scenario.tier}-verdicts.txt").write_text(table + "\n", encoding="utf-8")
        reports.append(report)
    strict = options["strict"]
    summary = {
        "passed": all(r.passes(strict=strict) for r in reports),
        "tiers": [to_json(r, strict=strict) for r in reports],
    }
    (out / "verdicts.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    click.echo(
        f"ragen-load: {'PASS' if summary['passed'] else 'FAIL'} (Locust reports and records in {out}/)"
    )
    return 0 if summary["passed"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None, prog_name="ragen-load", standalone_mode=False
        )
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return USAGE_ERROR
    except click.exceptions.Abort:
        return USAGE_ERROR
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
