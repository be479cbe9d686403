"""Servers for the gate's tests: the bundled mock and the independent alt server, on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from conformance.config import RunConfig, Target, Tier
from conformance.mock import mock_config
from mockserver.background import BackgroundServer
from tests.conformance import altserver

# Short windows and different budgets from the mock's, passed to the gate as the expected tiers.
ALT_RL_TIERS = {"chat": Tier(4, 1.0), "assistants": Tier(6, 1.0)}


def alt_target(url: str, **changes: object) -> Target:
    target = Target(
        base_url=url,
        api_key=altserver.MAIN_KEY,
        assistant_id=altserver.ASSISTANT_A,
        second_org_key=altserver.OTHER_KEY,
        deactivated_key=altserver.OFF_KEY,
        chat_only_key=altserver.CHAT_KEY,
        pace=False,
        rate_limits=False,
        timeout=10.0,
    )
    return replace(target, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def mock_run_config() -> Iterator[RunConfig]:
    with mock_config(RunConfig(target=Target("http://unused", "unused"), max_examples=4, seed=1)) as config:
        yield config


class AltServers:
    """Start alt servers (optionally with faults); stopped at the end of the session."""

    def __init__(self) -> None:
        self._servers: list[BackgroundServer] = []

    def start(
        self,
        faults: frozenset[str] = frozenset(),
        *,
        rate_limited: bool = False,
        tiers: dict[str, Tier] | None = None,
        max_body: int = altserver.MAX_BODY,
    ) -> BackgroundServer:
        tiers = tiers or ALT_RL_TIERS
        options = altserver.Options(
            faults=faults,
            rate_limits=rate_limited,
            chat_tier=(tiers["chat"].limit, tiers["chat"].window),
            assistants_tier=(tiers["assistants"].limit, tiers["assistants"].window),
            max_body=max_body,
        )
        server = BackgroundServer(lambda: altserver.create_app(options)).start()
        self._servers.append(server)
        return server

    def config(
        self,
        faults: frozenset[str] = frozenset(),
        *,
        groups: tuple[str, ...] | None = None,
        max_examples: int = 4,
        strict: bool = False,
        seed: int | None = 1,
    ) -> RunConfig:
        bulk = self.start(faults)
        target = alt_target(bulk.url)
        rl_target = None
        if groups is None or "ratelimit" in groups:
            limited = self.start(faults, rate_limited=True)
            rl_target = alt_target(limited.url, tiers=dict(ALT_RL_TIERS), pace=True, rate_limits=True)
        config = RunConfig(
            target=target, ratelimit_target=rl_target, max_examples=max_examples, seed=seed, strict=strict
        )
        return replace(config, groups=groups) if groups is not None else config

    def close(self) -> None:
        for server in self._servers:
            server.stop()


@pytest.fixture(scope="session")
def alt_servers() -> Iterator[AltServers]:
    servers = AltServers()
    yield servers
    servers.close()
