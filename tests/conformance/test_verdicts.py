"""Verdicts the gate can be trusted with: a rule passes only when a check observed it, a run that
could not check a MUST for lack of an input is not green, the same server gets the same table on
every run, and one dropped connection costs one check, not the run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiohttp import web

from conformance import run
from conformance.catalogue import Check
from conformance.config import RunConfig, Target
from conformance.profiles import Profile, get_profile
from conformance.results import Report, VerdictKind
from conformance.runner import SetupError
from mockserver.background import BackgroundServer
from tests.conformance.conftest import AltServers

UNOBSERVED, PASS = VerdictKind.UNOBSERVED, VerdictKind.PASS


def table(report: Report) -> list[tuple[str, str]]:
    return [(v.requirement, v.verdict.value) for v in report.verdicts]


def test_a_check_that_observed_nothing_passes_nothing(mock_run_config: RunConfig) -> None:
    def looks_away(ctx: object) -> None:
        """Declares stream rules but sends nothing."""

    ragen = get_profile("ragen")
    silent = Check("looks_away", looks_away, ("CHAT-STREAM-3", "CHAT-STREAM-4"), "streaming")
    profile = Profile("ragen", None, {"looks_away": silent}, {}, ragen.groups)
    report = run(replace(mock_run_config, ratelimit_target=None), profile=profile)
    for rid in ("CHAT-STREAM-3", "CHAT-STREAM-4"):
        assert report.verdict(rid).verdict is UNOBSERVED, report.verdict(rid)


def test_streams_answered_as_json_pass_no_stream_rule(alt_servers: AltServers) -> None:
    report = run(alt_servers.config(frozenset({"stream_as_json"}), groups=("streaming",), max_examples=2))
    assert report.verdict("CHAT-STREAM-1").verdict is VerdictKind.FAIL
    for rid in ("CHAT-STREAM-3", "CHAT-STREAM-4", "CHAT-USAGE-STREAM-2"):
        assert report.verdict(rid).verdict is not PASS, report.verdict(rid)


def test_a_missing_assistant_id_makes_the_run_incomplete(mock_run_config: RunConfig) -> None:
    config = replace(
        mock_run_config,
        target=replace(mock_run_config.target, assistant_id=None),
        groups=("chat",),
        ratelimit_target=None,
    )
    with pytest.raises(SetupError, match=r"incomplete.*assistant-id"):
        run(config)  # before any request (tests/conformance/test_cli_setup.py checks the journal)
    report = run(replace(config, allow_incomplete=True))
    assert not report.violations
    incomplete = {v.requirement for v in report.incomplete}
    assert {"CHAT-REQ-1", "CHAT-REQ-2", "CHAT-RESP-1"} <= incomplete
    assert all(report.verdict(r).verdict is UNOBSERVED for r in incomplete)
    assert report.exit_code == 0  # the user accepted it
    assert replace(report, allow_incomplete=False).exit_code == 2


def test_a_rejected_key_passes_nothing(mock_run_config: RunConfig) -> None:
    config = replace(
        mock_run_config, target=replace(mock_run_config.target, api_key="rg-wrong"), ratelimit_target=None
    )
    with pytest.raises(SetupError, match="rejected"):
        run(config)  # no Report, so no verdict at all, let alone a pass


def test_the_same_server_gets_the_same_table_three_times(mock_run_config: RunConfig) -> None:
    config = replace(mock_run_config, ratelimit_target=None, groups=("schema", "chat", "streaming", "errors"))
    tables = [table(run(config)) for _ in range(3)]
    assert tables[0] == tables[1] == tables[2]


def test_the_alt_server_gets_the_same_table_three_times(alt_servers: AltServers) -> None:
    tables = [table(run(alt_servers.config(max_examples=3))) for _ in range(3)]
    assert tables[0] == tables[1] == tables[2]


def _resetting_app() -> web.Application:
    """Answers the Assistants API; drops the connection of every chat completion."""

    async def assistants(request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
        )

    async def assistant(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["id"], "object": "assistant"})

    async def chat(request: web.Request) -> web.StreamResponse:
        await request.read()
        assert request.transport is not None
        request.transport.close()  # a reset, mid-exchange
        return web.Response()

    app = web.Application()
    app.router.add_get("/v1/assistants", assistants)
    app.router.add_get("/v1/assistants/{id}", assistant)
    app.router.add_post("/v1/chat/completions", chat)
    return app


@pytest.fixture
def resetting() -> Iterator[BackgroundServer]:
    with BackgroundServer(_resetting_app) as server:
        yield server


def test_a_dropped_connection_costs_one_check_not_the_run(resetting: BackgroundServer) -> None:
    target = Target(
        base_url=resetting.url, api_key="k", assistant_id="asst-x", pace=False, rate_limits=False, timeout=5.0
    )
    config = RunConfig(target=target, groups=("chat", "assistants"), max_examples=1, allow_incomplete=True)
    report = run(config)
    statuses = {c.name: c.status for c in report.checks}
    assert not any("stopped answering" in e for e in report.harness_errors), report.harness_errors
    assert statuses["chat_rejects_out_of_range"] == "error"
    # The checks after the dropped ones still ran against the target.
    assert any(c.group == "assistants" and "not run" not in c.message for c in report.checks)
