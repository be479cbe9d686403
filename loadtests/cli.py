"""``ragen-load``: prove a deployment holds its rate-limit tiers under concurrent load.

Options (file-free: flags, then the environment) become a ``LoadConfig``; ``loadtests.runner``
runs it. The names are the gate's: ``RAGEN_BASE_URL``, ``RAGEN_API_KEY`` (``RAGEN_LOAD_API_KEY``
still read), ``RAGEN_ASSISTANT_ID``, and a tier is written ``--chat-tier 10/60`` as everywhere.

Exit codes: 0 every property holds, 1 a property failed, 2 usage or connection error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from ragen_spec.product import version
from ragen_spec.tier_notation import TIER_SYNTAX, parse_tier

from loadtests.launch import Distribution
from loadtests.runner import USAGE_ERROR, LoadConfig, WorkerConfig, run, run_worker
from loadtests.scenario import TIERS, Scenario, timeline

__all__ = ["build_config", "cli", "main"]


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


def _tier(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, float] | None:
    if value is None:
        return None
    try:
        tier: tuple[int, float] = parse_tier(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return tier


def _ips(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    ips = tuple(ip.strip() for ip in value.split(",") if ip.strip())
    if len(set(ips)) != len(ips):
        raise click.BadParameter("addresses must be distinct")
    return ips


def _echo(line: str) -> None:
    click.echo(line, err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(version(), "--version", prog_name="ragen-load", message="%(prog)s %(version)s")
@click.option(
    "--base-url",
    envvar="RAGEN_BASE_URL",
    help="The deployment, e.g. https://api.example.com (no /v1) [env RAGEN_BASE_URL].",
)
@click.option(
    "--api-key",
    envvar=["RAGEN_API_KEY", "RAGEN_LOAD_API_KEY"],
    help="Bearer key [env RAGEN_API_KEY, or the older RAGEN_LOAD_API_KEY].",
)
@click.option(
    "--assistant-id",
    envvar="RAGEN_ASSISTANT_ID",
    help="Assistant the key may use (required for the chat tier) [env RAGEN_ASSISTANT_ID].",
)
@click.option("--tier", type=click.Choice(["chat", "assistants", "all"]), default="all", show_default=True)
@click.option(
    "--chat-tier",
    envvar="RAGEN_CHAT_TIER",
    callback=_tier,
    help=f"Declared chat tier, {TIER_SYNTAX} (default 10/60) [env RAGEN_CHAT_TIER].",
)
@click.option(
    "--assistants-tier",
    envvar="RAGEN_ASSISTANTS_TIER",
    callback=_tier,
    help=f"Declared assistants tier, {TIER_SYNTAX} (default 20/60) [env RAGEN_ASSISTANTS_TIER].",
)
@click.option(
    "--limit",
    callback=_per_tier(int),
    help="Declared requests per window: N or chat=10,assistants=20 (overrides the tier's LIMIT).",
)
@click.option(
    "--window",
    callback=_per_tier(float),
    help="Declared window in seconds: S or chat=60,assistants=60 (overrides the tier's WINDOW).",
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
    config = _build(options)
    if isinstance(config, WorkerConfig):
        ctx.exit(run_worker(config, echo=_echo))
    ctx.exit(run(config, echo=_echo, emit=click.echo))


def build_config(argv: Sequence[str]) -> LoadConfig | WorkerConfig:
    """What ``ragen-load ARGV`` would run (flags, then the environment); click errors on bad usage."""
    with cli.make_context("ragen-load", list(argv)) as ctx:
        return _build(ctx.params)


def _build(options: dict[str, Any]) -> LoadConfig | WorkerConfig:
    return _worker_config(options) if options["worker"] else _config(options)


def _names(options: dict[str, Any]) -> list[str]:
    return ["chat", "assistants"] if options["tier"] == "all" else [options["tier"]]


def _budget(options: dict[str, Any], name: str) -> tuple[int, float]:
    """The declared tier: the default, then ``--NAME-tier``, then ``--limit``/``--window``."""
    limit, window = options[f"{name}_tier"] or (TIERS[name].limit, TIERS[name].window)
    return options["limit"].get(name, limit), options["window"].get(name, window)


def _worker_config(options: dict[str, Any]) -> WorkerConfig:
    return WorkerConfig(
        tiers=_names(options),
        master_host=options["master_host"],
        master_port=options["master_port"],
        out=options["out"],
    )


def _config(options: dict[str, Any]) -> LoadConfig:
    names = _names(options)
    if not options["base_url"]:
        raise click.UsageError("--base-url (or RAGEN_BASE_URL) is required")
    if not options["api_key"]:
        raise click.UsageError("--api-key (or RAGEN_API_KEY) is required")
    if "chat" in names and not options["assistant_id"]:
        raise click.UsageError("--assistant-id is required for the chat tier")
    if options["processes"] and options["expect_workers"]:
        raise click.UsageError("--processes and --expect-workers exclude each other")
    scenarios = []
    for name in names:
        limit, window = _budget(options, name)
        scenario = Scenario(
            tier=name,
            limit=limit,
            window=window,
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
    return LoadConfig(
        scenarios=scenarios,
        api_key=options["api_key"],
        out=options["out"],
        distribution=Distribution(
            processes=options["processes"],
            expect_workers=options["expect_workers"],
            master_bind_host=options["master_bind_host"],
            master_bind_port=options["master_bind_port"],
        ),
        strict=options["strict"],
    )


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
