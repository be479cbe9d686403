"""``ragen-conformance``: options -> RunConfig -> runner -> reporters. The only module importing click.

The runner (schemathesis, hypothesis, the openai SDK) is imported only when a run starts, so
``--help`` answers at once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from ragen_spec import product

from conformance import config as configuration
from conformance.config import GROUPS, PROFILE_GROUPS
from conformance.errors import HarnessError

if TYPE_CHECKING:
    from conformance.profiles import Profile

__all__ = ["main"]

# conformance.profiles.PROFILE_NAMES, repeated so that --help imports nothing heavy (a test holds them equal).
PROFILE_NAMES = ("ragen", "openai-proxy")


def _list_checks(profile: Profile) -> None:
    levels = {rid: r["level"] for rid, r in profile.requirements().items()}
    for group in profile.groups:
        for check in (c for c in profile.checks.values() if c.group == group):
            ids = ", ".join(f"{r}({levels.get(r, '?')})" for r in check.requirements)
            needs = f"  [needs {', '.join(check.needs)}]" if check.needs else ""
            click.echo(f"{group:<10} {check.name}: {check.doc}\n           {ids}{needs}")
    for rc in profile.response_checks.values():
        ids = ", ".join(f"{r}({levels.get(r, '?')})" for r in rc.requirements)
        click.echo(f"{'response':<10} {rc.name}: {rc.doc}\n           {ids}")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(product.version(), prog_name="ragen-conformance", message="%(prog)s %(version)s")
@click.option("--base-url", help="Server under test, e.g. https://staging.example.com  [RAGEN_BASE_URL]")
@click.option("--api-key", help="API key of the organization under test  [RAGEN_API_KEY]")
@click.option("--assistant-id", help="The assistant the key is bound to  [RAGEN_ASSISTANT_ID]")
@click.option(
    "--assistant-bound/--assistant-not-bound",
    default=None,
    help="Whether the key is bound to --assistant-id (for the self-delete check; default yes)",
)
@click.option("--second-org-key", help="A key of another organization (isolation)  [RAGEN_SECOND_ORG_KEY]")
@click.option("--deactivated-key", help="A deactivated key (403 check)  [RAGEN_DEACTIVATED_KEY]")
@click.option("--chat-only-key", help="A key with the chat scope only (scope check)  [RAGEN_CHAT_ONLY_KEY]")
@click.option("--chat-tier", help="Expected chat tier LIMIT/WINDOW, default 10/60  [RAGEN_CHAT_TIER]")
@click.option("--assistants-tier", help="Expected assistants tier, default 20/60  [RAGEN_ASSISTANTS_TIER]")
@click.option(
    "--rate-limits/--no-rate-limits",
    default=None,
    help="Whether the server enforces rate limits (default yes; no = skip the rate-limit checks)",
)
@click.option("--pace/--no-pace", default=None, help="Pace requests to the tiers (default on)  [RAGEN_PACE]")
@click.option("--timeout", type=float, help="Per-request timeout in seconds (default 30)")
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML or YAML file with the same settings  [RAGEN_CONFIG]",
)
@click.option(
    "-n",
    "--max-examples",
    type=click.IntRange(1),
    help="Generated examples per operation and mode, 5x that in coverage cases (default: as many "
    "as the rate budget has room for; 10 with --thorough)",
)
@click.option(
    "--max-time",
    type=click.FloatRange(min=1),
    help="Bound the run to this many seconds; generated examples fill up to it; the report names "
    "what was left unchecked",
)
@click.option(
    "--thorough",
    is_flag=True,
    default=None,
    help="Every case of every probe and 10 generated examples per operation (a rate-limited run "
    "takes much longer); by default the essential cases, every MUST checked",
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    default=None,
    help="Run although inputs some MUST rules need are missing (otherwise exit 2 'incomplete')",
)
@click.option("--only", help=f"Comma-separated check groups to run ({', '.join(GROUPS)})")
@click.option("--skip", "skip_groups", help="Comma-separated check groups to leave out")
@click.option("--strict", is_flag=True, default=None, help="SHOULD warnings fail the run too")
@click.option(
    "--seed",
    help="Seed of generated inputs (default: a fixed seed, so every run of the same "
    "server gets the same verdicts; 'random' explores with a new one, printed in the report)",
)
@click.option("--junit", "--junitxml", "junit", type=click.Path(dir_okay=False), help="Write JUnit XML here")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Write the JSON report here")
@click.option("--against-mock", is_flag=True, help="Start the bundled mock in-process and test it")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr")
@click.option("--list-checks", is_flag=True, help="Print the catalogue (checks and requirement ids) and exit")
@click.option(
    "--profile",
    type=click.Choice(PROFILE_NAMES),
    default="ragen",
    show_default=True,
    help="ragen: spec/openapi.yaml; openai-proxy: spec/openai-proxy.yaml (any OpenAI-compatible "
    "proxy; the model asked is RAGEN_PROXY_MODEL or the first of GET /v1/models)",
)
def main(**options: Any) -> None:
    """Verify an OpenAI-compatible Ragen API server against spec/openapi.yaml.

    Exit status: 0 conformant, 1 violations (MUST; SHOULD too with --strict), 2 usage or
    connection errors.
    """
    from conformance.profiles import get_profile

    if options.pop("list_checks"):
        _list_checks(get_profile(options["profile"]))
        return
    try:
        code = _run(options)
    except HarnessError as exc:
        click.echo(f"ragen-conformance: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)


def _flags(options: dict[str, Any], known_groups: tuple[str, ...] = GROUPS) -> dict[str, Any]:
    names = (
        "base_url",
        "api_key",
        "assistant_id",
        "assistant_bound",
        "second_org_key",
        "deactivated_key",
        "chat_only_key",
        "pace",
        "rate_limits",
        "timeout",
        "max_examples",
        "max_time",
        "strict",
        "seed",
        "thorough",
        "allow_incomplete",
    )
    flags = {k: options.get(k) for k in names}
    tiers = {t: options[f"{t}_tier"] for t in ("chat", "assistants") if options.get(f"{t}_tier")}
    if tiers:
        flags["tiers"] = tiers
    groups = [g.strip() for g in (options.get("only") or ",".join(known_groups)).split(",") if g.strip()]
    skipped = {g.strip() for g in (options.get("skip_groups") or "").split(",") if g.strip()}
    unknown = (set(groups) | skipped) - set(known_groups)
    if unknown:
        raise HarnessError(f"unknown check groups {sorted(unknown)}; known: {', '.join(known_groups)}")
    if options.get("only") or skipped:
        flags["groups"] = [g for g in groups if g not in skipped]
    return flags


def _left_unchecked(report: Any, max_time: float | None) -> None:
    """Name the checks --max-time or the rate budget left out (their rules show "skip")."""
    timed = [
        c.name for c in report.checks if max_time and c.status == "skipped" and "time limit" in c.message
    ]
    budget = [c.name for c in report.checks if c.status == "skipped" and "no room" in c.message]
    if timed:
        click.echo(f"--max-time left unchecked: {', '.join(timed)}")
    if budget:
        click.echo(f"left out by the rate budget's plan (--thorough runs them): {', '.join(budget)}")


def _run(options: dict[str, Any]) -> int:
    flags = _flags(options, PROFILE_GROUPS[options.get("profile") or "ragen"])
    env = configuration.from_env()
    config_file = options.get("config_file") or os.environ.get("RAGEN_CONFIG")
    file_layer = configuration.from_file(config_file) if config_file else {}
    if not options.get("against_mock"):
        config = configuration.load(file_layer, env, flags)  # usage errors before the heavy imports

    from conformance.profiles import get_profile
    from conformance.progress import PlanProgress
    from conformance.reporters import terminal, write_json, write_junit
    from conformance.runner import run

    progress = None if options.get("quiet") else PlanProgress()
    profile = get_profile(options.get("profile") or "ragen")
    try:
        if options.get("against_mock"):
            from conformance.mock import mock_config, proxy_mock_config

            limits = {
                k: v
                for k, v in {**file_layer, **flags}.items()
                if k in ("max_examples", "max_time", "strict", "groups", "seed", "thorough") and v is not None
            }
            base = configuration.load({"base_url": "http://mock", "api_key": "mock"}, limits)
            start = proxy_mock_config if profile.name == "openai-proxy" else mock_config
            with start(base) as config:
                report = run(config, progress=progress, profile=profile)
        else:
            report = run(config, progress=progress, profile=profile)
    finally:
        if progress is not None:
            progress.close()
    terminal(report)
    _left_unchecked(report, options.get("max_time"))
    if options.get("junit"):
        write_junit(report, Path(options["junit"]))
    if options.get("json_file"):
        write_json(report, Path(options["json_file"]))
    return report.exit_code


if __name__ == "__main__":
    main()
