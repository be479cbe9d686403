"""Targets for the bundled mock (``--against-mock``): one instance with rate limits off for the
bulk of the checks, one with short windows for the rate-limit checks.

Only this module and the CLI import mockserver (ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

from conformance.config import RunConfig, Target, Tier

__all__ = ["RATELIMIT_TIERS", "mock_config", "proxy_mock_config"]

# Short windows so the burst checks take seconds, not minutes.
RATELIMIT_TIERS = {"chat": Tier(10, 2.0), "assistants": Tier(20, 2.0)}


@contextmanager
def mock_config(base: RunConfig | None = None) -> Iterator[RunConfig]:
    """Start both mocks; yield a RunConfig pointing at them (``base`` supplies the run limits)."""
    from mockserver import demo
    from mockserver.app import create_app
    from mockserver.background import BackgroundServer
    from mockserver.settings import Settings

    bulk_settings = Settings(rate_limits=False)
    rl_settings = Settings(
        rate_limits=True,
        chat_limit=RATELIMIT_TIERS["chat"].limit,
        chat_window=RATELIMIT_TIERS["chat"].window,
        assistants_limit=RATELIMIT_TIERS["assistants"].limit,
        assistants_window=RATELIMIT_TIERS["assistants"].window,
    )
    with ExitStack() as stack:
        bulk = stack.enter_context(BackgroundServer(lambda: create_app(bulk_settings)))
        limited = stack.enter_context(BackgroundServer(lambda: create_app(rl_settings)))
        target = Target(
            base_url=bulk.url,
            api_key=demo.KEY,
            assistant_id=demo.SUPPORT_ASSISTANT,
            second_org_key=demo.OTHER_KEY,
            deactivated_key=demo.DEACTIVATED_KEY,
            chat_only_key=demo.CHAT_ONLY_KEY,
            tiers={
                "chat": Tier(bulk_settings.chat_limit, bulk_settings.chat_window),
                "assistants": Tier(bulk_settings.assistants_limit, bulk_settings.assistants_window),
            },
            pace=False,
            rate_limits=False,
        )
        rl_target = replace(
            target, base_url=limited.url, tiers=dict(RATELIMIT_TIERS), pace=True, rate_limits=True
        )
        config = base or RunConfig(target=target)
        yield replace(config, target=target, ratelimit_target=rl_target)


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
