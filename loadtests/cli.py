"""``ragen-load``: prove a deployment holds its rate-limit tiers under concurrent load.

Options become a ``LoadConfig``; ``loadtests.runner`` runs it. They are read as the gate reads
its own (``ragen_spec.layering``): a ``--config`` TOML/YAML file (flat keys named like the flags,
``[tiers]`` with ``chat``/``assistants`` written ``10/60``), then the environment, then flags. The
names are the gate's: ``RAGEN_BASE_URL``, ``RAGEN_API_KEY`` (``RAGEN_LOAD_API_KEY`` still read),
``RAGEN_ASSISTANT_ID``, ``RAGEN_CHAT_TIER``, ``RAGEN_ASSISTANTS_TIER``, ``RAGEN_TIMEOUT``,
``RAGEN_STRICT`` (booleans in the one vocabulary: 1/0, true/false, yes/no, on/off).

Exit codes: 0 every property holds, 1 a property failed, 2 usage or connection error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from ragen_spec import layering
from ragen_spec.product import version
from ragen_spec.tier_notation import TIER_SYNTAX, parse_tier

from loadtests.launch import Distribution
from loadtests.runner import USAGE_ERROR, LoadConfig, WorkerConfig, run, run_worker
from loadtests.scenario import TIERS, Scenario, timeline

__all__ = ["ConfigError", "build_config", "cli", "main"]

ENV_PREFIX = "RAGEN_"
# What the environment may set: the settings ragen-load shares with the gate, under the same names.
ENV_NAMES = ("base_url", "api_key", "assistant_id", "chat_tier", "assistants_tier", "timeout", "strict")
BOOLEANS = ("strict", "worker")
# The one option a file cannot set: the file itself.
_NOT_SETTINGS = {"config"}
PACE_MOVED = (
    "--pace is ragen-conformance's switch for pacing requests to the tiers; "
    "the wait between a user's requests is --wait-time SECONDS"
)


class ConfigError(click.ClickException):
    """A usage error that is one line (a bad file, variable or value): exit 2."""

    exit_code = USAGE_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"ragen-load: {self.message}", err=True)


def _refuse_pace(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value not in (None, False):
        raise ConfigError(PACE_MOVED)


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
    help="The deployment's root, e.g. https://api.example.com (a trailing /v1 is dropped, as the gate does) "
    "[env RAGEN_BASE_URL].",
)
@click.option(
    "--api-key",
    help="Bearer key [env RAGEN_API_KEY, or the older RAGEN_LOAD_API_KEY].",
)
@click.option(
    "--assistant-id",
    help="Assistant the key may use (required for the chat tier) [env RAGEN_ASSISTANT_ID].",
)
@click.option("--tier", type=click.Choice(["chat", "assistants", "all"]), default="all", show_default=True)
@click.option(
    "--chat-tier",
    callback=_tier,
    help=f"Declared chat tier, {TIER_SYNTAX} (default 10/60) [env RAGEN_CHAT_TIER].",
)
@click.option(
    "--assistants-tier",
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
    "--wait-time",
    type=click.FloatRange(min=0),
    default=0.1,
    show_default=True,
    help="Seconds each user waits between its requests (Locust's wait_time).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds per request [env RAGEN_TIMEOUT].",
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
    "--strict/--no-strict",
    default=False,
    help="Fail on SHOULD-level findings too (Retry-After, x-ratelimit-* headers) [env RAGEN_STRICT].",
)
@click.option(
    "-c",
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML or YAML file with these settings (keys named like the flags, [tiers] chat/assistants); "
    "the environment and flags override it.",
)
# ragen-conformance's --pace/--no-pace switch; here it is refused with a pointer to --wait-time.
@click.option(
    "--pace",
    is_flag=False,
    flag_value="",
    hidden=True,
    is_eager=True,
    callback=_refuse_pace,
    expose_value=False,
)
@click.option(
    "--no-pace", is_flag=True, hidden=True, is_eager=True, callback=_refuse_pace, expose_value=False
)
def cli(**options: Any) -> None:
    """Load-test the rate-limit tiers of a Ragen deployment with Locust and print a verdict per property."""
    ctx = click.get_current_context()
    config = _build(ctx)
    if isinstance(config, WorkerConfig):
        ctx.exit(run_worker(config, echo=_echo))
    ctx.exit(run(config, echo=_echo, emit=click.echo))


def build_config(argv: Sequence[str]) -> LoadConfig | WorkerConfig:
    """What ``ragen-load ARGV`` would run (file < environment < flags); click errors on bad usage."""
    with cli.make_context("ragen-load", list(argv)) as ctx:
        return _build(ctx)


def _build(ctx: click.Context) -> LoadConfig | WorkerConfig:
    options = _settings(ctx)
    return _worker_config(options) if options["worker"] else _config(options)


def _settings(ctx: click.Context) -> dict[str, Any]:
    """The defaults, then the ``--config`` file, then the environment, then the flags given."""
    given = {
        name: value
        for name, value in ctx.params.items()
        if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT
    }
    try:
        file_layer = _from_file(ctx.params["config"]) if ctx.params["config"] else {}
        env_layer = layering.read_env(
            ENV_NAMES, ENV_PREFIX, booleans=BOOLEANS, also={"api_key": ["RAGEN_LOAD_API_KEY"]}
        )
    except layering.LayeringError as exc:
        raise ConfigError(str(exc)) from None
    file_layer = _typed(ctx, file_layer, f"config {ctx.params['config']}")
    env_layer = _typed(ctx, env_layer, None)
    return {**ctx.params, **layering.merge(file_layer, env_layer, given)}


def _from_file(path: Path) -> dict[str, Any]:
    """The file's flat settings; ``[tiers]`` chat/assistants are ``--chat-tier``/``--assistants-tier``."""
    names = {p.name for p in cli.params if p.name and p.expose_value} - _NOT_SETTINGS
    known = names - {f"{t}_tier" for t in TIERS}
    layer: dict[str, Any] = layering.read_file(path, known, tables={"tiers": tuple(TIERS)}, booleans=BOOLEANS)
    for tier, text in layer.pop("tiers", {}).items():
        layer[f"{tier}_tier"] = text
    return layer


def _typed(ctx: click.Context, layer: dict[str, Any], source: str | None) -> dict[str, Any]:
    """File (``source``: its name) and environment (None) values, checked and converted as the
    same flag's value would be."""
    params = {p.name: p for p in cli.params}
    out: dict[str, Any] = {}
    for name, value in layer.items():
        if isinstance(value, list | tuple):
            value = ",".join(map(str, value))  # source_ips = ["10.0.0.1", "10.0.0.2"]
        elif not isinstance(value, bool):
            value = str(value)
        try:
            out[name] = params[name].process_value(ctx, value)
        except click.BadParameter as exc:
            where = f"{source}: {name}" if source else f"{ENV_PREFIX}{name.upper()}"
            raise ConfigError(f"{where}: {exc.message}") from None
    return out


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
    try:
        base_url = layering.normalise_base_url(options["base_url"])  # https://host/v1 as the gate reads it
    except layering.LayeringError as exc:
        raise ConfigError(str(exc)) from None
    if options["processes"] and options["expect_workers"]:
        raise click.UsageError("--processes and --expect-workers exclude each other")
    scenarios = []
    for name in names:
        limit, window = _budget(options, name)
        scenario = Scenario(
            tier=name,
            limit=limit,
            window=window,
            base_url=base_url,
            assistant_id=options["assistant_id"],
            users=options["users"],
            wait_time=options["wait_time"],
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
