"""Targets for the bundled mock (``--against-mock``): one instance with rate limits off for the
bulk of the checks, one with short windows for the rate-limit checks.

Only this module and the CLI import mockserver (ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

from conformance.config import DEFAULT_TIERS, RunConfig, Target, Tier

__all__ = ["RATELIMIT_TIERS", "limited_mock_config", "mock_config", "proxy_mock_config"]

# Short windows so the burst checks take seconds, not minutes.
RATELIMIT_TIERS = {"chat": Tier(10, 2.0), "assistants": Tier(20, 2.0)}


def _enforcing(tiers: dict[str, Tier]) -> Any:
    """The mock's Settings enforcing ``tiers``."""
    from mockserver.settings import Settings

    return Settings(
        rate_limits=True,
        chat_limit=tiers["chat"].limit,
        chat_window=tiers["chat"].window,
        assistants_limit=tiers["assistants"].limit,
        assistants_window=tiers["assistants"].window,
    )


def _demo_target(url: str, tiers: dict[str, Tier], *, limited: bool) -> Target:
    """The demo organization's keys and assistant on ``url``; paced and rate-limited when ``limited``."""
    from mockserver import demo

    return Target(
        base_url=url,
        api_key=demo.KEY,
        assistant_id=demo.SUPPORT_ASSISTANT,
        second_org_key=demo.OTHER_KEY,
        deactivated_key=demo.DEACTIVATED_KEY,
        chat_only_key=demo.CHAT_ONLY_KEY,
        tiers=dict(tiers),
        pace=limited,
        rate_limits=limited,
    )


@contextmanager
def mock_config(base: RunConfig | None = None) -> Iterator[RunConfig]:
    """Start both mocks; yield a RunConfig pointing at them (``base`` supplies the run limits)."""
    from mockserver.app import create_app
    from mockserver.background import BackgroundServer
    from mockserver.settings import Settings

    bulk_settings = Settings(rate_limits=False)
    rl_settings = _enforcing(RATELIMIT_TIERS)
    with ExitStack() as stack:
        bulk = stack.enter_context(BackgroundServer(lambda: create_app(bulk_settings)))
        limited = stack.enter_context(BackgroundServer(lambda: create_app(rl_settings)))
        target = _demo_target(bulk.url, DEFAULT_TIERS, limited=False)  # the spec's, as the mock's defaults
        rl_target = _demo_target(limited.url, RATELIMIT_TIERS, limited=True)
        config = base or RunConfig(target=target)
        yield replace(config, target=target, ratelimit_target=rl_target)


@contextmanager
def limited_mock_config(
    tiers: dict[str, Tier], base: RunConfig | None = None, *, journal: list[str] | None = None
) -> Iterator[RunConfig]:
    """One mock enforcing ``tiers`` for the whole run, as a real deployment does: the gate paces
    to them and the rate-limit checks spend the same budget as the rest. ``journal``, when given,
    receives the mock's URL (its ``/__mock/journal`` shows every status it answered)."""
    from mockserver.app import create_app
    from mockserver.background import BackgroundServer

    settings = _enforcing(tiers)
    with BackgroundServer(lambda: create_app(settings)) as server:
        if journal is not None:
            journal.append(server.url)
        target = _demo_target(server.url, tiers, limited=True)
        config = base or RunConfig(target=target)
        yield replace(config, target=target, ratelimit_target=None)


@contextmanager
def proxy_mock_config(base: RunConfig | None = None) -> Iterator[RunConfig]:
    """Start the openai-proxy mock (``--profile openai-proxy``); yield a RunConfig pointing at it."""
    from mockserver.background import BackgroundServer
    from mockserver.proxy import PROXY_KEY, create_proxy_app
    from mockserver.settings import Settings

    with BackgroundServer(lambda: create_proxy_app(Settings())) as proxy:
        target = Target(base_url=proxy.url, api_key=PROXY_KEY, pace=False, rate_limits=False)
        config = base or RunConfig(target=target)
        yield replace(config, target=target, ratelimit_target=None)
