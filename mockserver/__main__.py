"""``ragen-mock``: serve the mock. Parses arguments and calls the factory, nothing else.

Every ``Settings`` field is a flag (``--chat-limit 5``, ``--no-rate-limits``) and an environment
variable (``RAGEN_MOCK_CHAT_LIMIT=5``); flags win.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from ragen_spec.product import version
from ragen_spec.tier_notation import TIER_SYNTAX, parse_tier

from mockserver import demo
from mockserver.app import create_app, load_mock_config
from mockserver.auth import mask
from mockserver.config import ConfigError
from mockserver.control import exposure_warning
from mockserver.errors import ApiError
from mockserver.persist import StateError
from mockserver.proxy import create_proxy_app, proxy_banner
from mockserver.serving import StartupError, serve
from mockserver.settings import ENV_PREFIX, Settings, SettingsError, parse_value

__all__ = ["main"]

_HELP = {
    "host": "interface to bind (default 127.0.0.1)",
    "port": "port (default 8080; 0 = a free one)",
    "config": "YAML file of orgs, keys and assistants (default: the demo org)",
    "state": "SQLite file persisting assistants and threads (default: memory only)",
    "rate_limits": "enforce the rate-limit tiers (off for SDK development)",
    "rate_limit_scope": "'ip' (per client IP) or 'global' (deliberately broken, for load-test proofs)",
    "retry_after": "send Retry-After on 429 (off = deliberately broken, for load-test proofs)",
    "stream_delay_ms": "delay before each streamed chunk, in milliseconds",
    "max_body_bytes": "largest accepted request body (larger: 413)",
    "cors_origins": "comma-separated allowed browser origins of the API ('*' = any; never /__mock/)",
    "control_token": "token the control API (/__mock/, the dashboard) then requires from every client, "
    "which also opens it to non-loopback ones (prefer the environment variable: flags show in ps)",
    "allowed_hosts": "comma-separated extra Host names the control API answers to "
    "(besides localhost, 127.0.0.1, [::1] and the bound address)",
    "model": "the deployment model of the demo org",
    "validate_responses": "validate every JSON response against the spec and log mismatches",
    "profile": "'ragen' (the Ragen API) or 'openai-proxy' (a generic OpenAI-compatible proxy)",
    "upstream": "forward /v1/ to this deployment, judging every exchange against the spec",
    "upstream_timeout": "seconds to wait for the upstream (to connect, and between bytes): then 504",
    "record": "with --upstream: write each exchange to this directory as a JSON file",
    "replay": "serve /v1/ from the recordings in this directory, with no upstream",
    "replay_speed": "replay streams this many times faster than recorded (0 = no pacing)",
    "max_header_bytes": "largest total of a request's header names and values (larger: 431)",
    "journal_entries": "requests the journal keeps (the newest)",
    "journal_bytes": "bytes the journal's entries may hold together (the oldest leave first)",
    "journal_body_bytes": "bytes of each body the journal keeps (the rest is cut, with a marker)",
    "max_faults": "faults armed at once (POST /__mock/faults past it: 400)",
    "cache_entries": "entries of the per-assistant caches",
    "idle_timeout": "seconds a connection may take to send a complete request head (also between requests)",
    "read_timeout": "seconds a request body may take to arrive once its head has (then 408)",
    "max_connections": "open connections (past it the oldest idle one is closed)",
    "state_busy_timeout": "seconds a --state write waits for a lock held by another program (then 503)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ragen-mock",
        description="A fast, faithful mock of the Ragen API. Every option is also RAGEN_MOCK_<OPTION>.",
    )
    for field in fields(Settings):
        flag = "--" + field.name.replace("_", "-")
        helptext = _HELP.get(field.name, "") + f" [env RAGEN_MOCK_{field.name.upper()}]"
        if field.type == "bool":
            parser.add_argument(
                flag, dest=field.name, action=argparse.BooleanOptionalAction, default=None, help=helptext
            )
        else:
            parser.add_argument(
                flag, dest=field.name, default=None, metavar=field.name.upper(), help=helptext
            )
    for tier in TIERS:
        parser.add_argument(
            f"--{tier}-tier",
            metavar="LIMIT/WINDOW",
            help=f"the {tier} tier in one flag, {TIER_SYNTAX}: sets --{tier}-limit and --{tier}-window "
            f"[env {ENV_PREFIX}{tier.upper()}_TIER]",
        )
    parser.add_argument("--log-level", default="INFO", help="log level of the access log (default INFO)")
    parser.add_argument("--quiet", action="store_true", help="do not print the demo banner")
    parser.add_argument("--version", action="version", version=f"ragen-mock {version()}")
    return parser


TIERS = ("chat", "assistants")


def _tier_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--chat-tier 10/1m`` is ``--chat-limit 10 --chat-window 60`` (the separate flags win)."""
    out: dict[str, Any] = {}
    for tier in TIERS:
        text = getattr(args, f"{tier}_tier") or os.environ.get(f"{ENV_PREFIX}{tier.upper()}_TIER")
        if not text:
            continue
        try:
            limit, window = parse_tier(text)
        except ValueError as exc:
            raise SettingsError(f"--{tier}-tier: {exc}") from None
        out[f"{tier}_limit"], out[f"{tier}_window"] = limit, window
    return out


_EXAMPLE = {
    "assistant_id": demo.SUPPORT_ASSISTANT,
    "messages": [{"role": "user", "content": "What is our refund policy?"}],
}


def _limits(settings: Settings) -> str:
    if not settings.rate_limits:
        return "off"
    return (
        f"chat {settings.chat_limit}/{settings.chat_window:g}s, "
        f"assistants {settings.assistants_limit}/{settings.assistants_window:g}s per client IP"
    )


def _banner(settings: Settings, url: str) -> str:
    if settings.config is not None:
        config = load_mock_config(settings)
        lines = [f"ragen-mock serving {settings.config} on {url}"]
        for org in config.orgs:
            lines.append(f"  org {org.id}: " + ", ".join(f"{a.id} ({a.name})" for a in org.assistants))
        for key in config.keys:
            lines.append(f"  key {mask(key.key)} org={key.org_id} assistant={key.assistant_id}")
        return "\n".join(lines)
    return f"""ragen-mock: the Ragen API on {url}  (dashboard: {url}/__mock/)

Demo organization {demo.DEMO_ORG} (model {settings.model}):
  {demo.SUPPORT_ASSISTANT}  Demo Support (refund / onboarding / shipping)
  {demo.SALES_ASSISTANT}  Demo Sales
Organization {demo.OTHER_ORG}:
  {demo.OTHER_ASSISTANT}  Other Org Bot

API keys:
  {demo.KEY:<22} bound to Demo Support, scopes chat + assistants
  {demo.DEBUG_KEY:<22} same, debug mode (threads at {url}/__mock/threads)
  {demo.DEACTIVATED_KEY:<22} deactivated (403)
  {demo.CHAT_ONLY_KEY:<22} scope chat only
  {demo.SALES_KEY:<22} bound to Demo Sales
  {demo.OTHER_KEY:<22} organization {demo.OTHER_ORG}

Rate limits: {_limits(settings)}

Try:
  curl {url}/v1/chat/completions \\
    -H 'Authorization: Bearer {demo.KEY}' -H 'Content-Type: application/json' \\
    -d '{json.dumps(_EXAMPLE)}'
"""


def _proxy_banner(settings: Settings, url: str) -> str:
    source = f"recordings in {settings.replay}" if settings.replay else f"the upstream {settings.upstream}"
    lines = [f"ragen-mock: {source} on {url}, every exchange judged against the spec"]
    if settings.record:
        lines.append(f"  recording every exchange to {settings.record}/")
    lines.append(f"  violations: {url}/__mock/violations   dashboard: {url}/__mock/")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides = _tier_overrides(args)
        for field in fields(Settings):
            value = getattr(args, field.name)
            if value is None:
                continue
            overrides[field.name] = value if isinstance(value, bool) else parse_value(field.name, value)
        settings = Settings.from_env(**overrides)
        proxy = settings.profile == "openai-proxy"
        app = create_proxy_app(settings) if proxy else create_app(settings)
    except (SettingsError, ConfigError, StateError) as exc:
        return _fail(str(exc))
    except ApiError as exc:  # the state file is busy at start-up
        return _fail(exc.message)
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s", stream=sys.stderr)
    warning = exposure_warning(settings)
    if warning is not None:  # even with --quiet
        print(warning, file=sys.stderr, flush=True)

    def ready(port: int) -> None:
        """Listening: the banner names the bound port (the real one for --port 0)."""
        if not args.quiet:
            url = f"http://{_url_host(settings.host)}:{port}"
            banner = proxy_banner if proxy else _proxy_banner if settings.proxying else _banner
            print(banner(settings, url), flush=True)

    # SIGINT/SIGTERM end it gracefully: open streams get shutdown_timeout to end.
    try:
        serve(app, host=settings.host, port=settings.port, shutdown_timeout=5.0, on_ready=ready)
    except StartupError as exc:
        return _fail(str(exc))
    return 0


def _fail(message: str) -> int:
    """A start-up error: one line, exit code 2."""
    print(f"ragen-mock: {message}", file=sys.stderr)
    return 2


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    sys.exit(main())
