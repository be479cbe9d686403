"""The gate passes correct servers it has never seen: the bundled mock and the independent alt
server, whose free choices differ from the mock's on every MAY point (no false alarms)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from conformance import run
from conformance.cli import main
from conformance.config import RunConfig, Tier
from conformance.results import Report, VerdictKind
from conformance.runner import Progress
from tests.conformance import altserver
from tests.conformance.conftest import ALT_RL_TIERS, AltServers, alt_target

BAD = (VerdictKind.FAIL, VerdictKind.WARN, VerdictKind.ERROR)
# Skipped on a correct server, each for a stated reason (unobservable, or nothing failed mid-stream).
EXPECTED_SKIPS = {"CHAT-CONV-1", "CHAT-CONV-2", "DEBUG-1", "CHAT-STREAM-7", "RATE-CHAT-3"}


def problems(report: Report) -> list[tuple[str, str, str]]:
    return [(v.requirement, v.verdict.value, v.reason) for v in report.verdicts if v.verdict in BAD]


def reasons(report: Report) -> dict[str, str]:
    return {v.requirement: v.reason for v in report.verdicts}


def test_mock_conforms_via_the_runner_api(mock_run_config: RunConfig) -> None:
    report = run(mock_run_config)
    assert problems(report) == []
    assert report.exit_code == 0
    assert {v.requirement for v in report.verdicts if v.verdict is VerdictKind.SKIP} == EXPECTED_SKIPS
    assert "ragen-load" in reasons(report)["RATE-CHAT-3"]  # skipped with its reason, never passed
    assert report.requests > 100
    # Every check passed, except the one a single-address client cannot run (RATE-CHAT-3).
    statuses = {c.name: c.status for c in report.checks}
    assert statuses.pop("chat_tier_per_client_ip") == "skipped"
    assert set(statuses.values()) == {"passed"}, [c for c in report.checks if c.status != "passed"]


def test_mock_conforms_via_the_cli(tmp_path: Path) -> None:
    junit, report_json = tmp_path / "junit.xml", tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["--against-mock", "-n", "2", "--seed", "3", "--junit", str(junit), "--json", str(report_json)]
    )
    assert result.exit_code == 0, result.output
    assert "CONFORMANT" in result.output
    assert "ETA" in result.stderr or "elapsed" in result.stderr
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert len(suite.findall("testcase")) == len(json.loads(report_json.read_text())["requirements"])
    assert json.loads(report_json.read_text())["exit_code"] == 0


def test_alt_server_conforms_despite_different_choices(alt_servers: AltServers) -> None:
    report = run(alt_servers.config(max_examples=6))
    assert problems(report) == []
    assert report.exit_code == 0
    assert {v.requirement for v in report.verdicts if v.verdict is VerdictKind.SKIP} == EXPECTED_SKIPS
    why = reasons(report)
    # The gate saw the alt server's own choices and reported them as such.
    assert "201" in why["ASST-CREATE-3"]
    assert "rejects a ~42k-token prompt" in why["CHAT-LEN-3"]
    assert "ragen-load" in why["RATE-CHAT-3"]
    assert "''" in why["ASST-MODIFY-3"]
    assert "404" in why["ASST-LIST-4"]
    assert (
        "rejects" in why["CHAT-REQ-6"] and "rejects" in why["CHAT-REQ-7"] and "rejects" in why["CHAT-REQ-8"]
    )
    assert "asst- form" in why["CHAT-REQ-9"]
    assert "accepts them" in why["CHAT-REQ-11"]  # OpenAI text parts (the mock rejects them)
    assert "400" in why["ERR-SIZE-1"]
    assert "do not count" in why["RATE-COUNT-1"]
    assert report.verdict("NATIVE-1").verdict is VerdictKind.INFO  # no /v1/chat: informational only


def test_cli_flags_against_the_alt_server(alt_servers: AltServers) -> None:
    server = alt_servers.start()
    args = [
        "--base-url",
        server.url,
        "--api-key",
        altserver.MAIN_KEY,
        "--assistant-id",
        altserver.ASSISTANT_A,
        "--second-org-key",
        altserver.OTHER_KEY,
        "--deactivated-key",
        altserver.OFF_KEY,
        "--chat-only-key",
        altserver.CHAT_KEY,
        "--no-pace",
        "--no-rate-limits",
        "--only",
        "auth,assistants",
        "-q",
        "--seed",
        "1",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "AUTH-4" in result.output and "CONFORMANT" in result.output


def test_cli_environment_config_file_and_tiers(
    alt_servers: AltServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = alt_servers.start(rate_limited=True)
    config = tmp_path / "ragen.toml"
    config.write_text(
        f'base_url = "{limited.url}"\nassistant_id = "{altserver.ASSISTANT_A}"\nmax_examples = 2\n'
        f'[tiers]\nchat = "{ALT_RL_TIERS["chat"].limit}/{ALT_RL_TIERS["chat"].window:g}"\n'
        f'assistants = "{ALT_RL_TIERS["assistants"].limit}/{ALT_RL_TIERS["assistants"].window:g}"\n'
    )
    monkeypatch.setenv("RAGEN_API_KEY", altserver.MAIN_KEY)
    monkeypatch.setenv("RAGEN_SECOND_ORG_KEY", altserver.OTHER_KEY)
    monkeypatch.setenv("RAGEN_CONFIG", str(config))
    result = CliRunner().invoke(main, ["--only", "ratelimit", "-q"])
    assert result.exit_code == 0, result.output
    for rid in ("RATE-CHAT-1", "RATE-CHAT-2", "RATE-ASST-1", "RATE-RECOVER-1", "RATE-RETRY-1"):
        assert any(line.startswith(rid) and " pass " in line for line in result.output.splitlines()), rid


def test_cli_exit_2_on_usage_and_connection_errors() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--api-key", "k"], env={"RAGEN_BASE_URL": ""}).exit_code == 2
    assert (
        runner.invoke(
            main, ["--base-url", "http://127.0.0.1:9", "--api-key", "k", "--only", "nope"]
        ).exit_code
        == 2
    )
    result = runner.invoke(
        main, ["--base-url", "http://127.0.0.1:9", "--api-key", "k", "--allow-incomplete", "-q"]
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach" in result.output  # one line, from the preflight


def test_cli_exit_2_when_the_key_is_rejected(alt_servers: AltServers) -> None:
    server = alt_servers.start()
    result = CliRunner().invoke(
        main, ["--base-url", server.url, "--api-key", "wrong", "--allow-incomplete", "-q"]
    )
    assert result.exit_code == 2
    assert "rejected" in result.output


def test_list_checks_prints_the_catalogue() -> None:
    result = CliRunner().invoke(main, ["--list-checks"])
    assert result.exit_code == 0
    assert "schema_driven" in result.output and "CHAT-STREAM-5(MUST)" in result.output


def test_a_429_outside_the_rate_limit_checks_is_waited_out_not_reported(alt_servers: AltServers) -> None:
    tiers = {"chat": Tier(4, 1.0), "assistants": Tier(15, 1.0)}
    limited = alt_servers.start(rate_limited=True, tiers=tiers)
    # No client-side pacing: the server's 429s must be honoured (Retry-After) and retried.
    target = alt_target(limited.url, tiers=tiers, pace=False, rate_limits=True)
    report = run(RunConfig(target=target, groups=("assistants",), seed=1))
    assert problems(report) == []
    assert report.paced_seconds > 0  # waited out Retry-After at least once


def test_paced_run_never_sees_a_429(alt_servers: AltServers) -> None:
    limited = alt_servers.start(rate_limited=True)
    target = alt_target(limited.url, tiers=dict(ALT_RL_TIERS), pace=True, rate_limits=True)
    events: list[Progress] = []
    report = run(RunConfig(target=target, groups=("auth",), seed=1), progress=events.append)
    assert problems(report) == []
    assert report.paced_seconds > 0
    assert any(e.kind == "wait" and "pacing" in e.detail for e in events)  # announced on the progress line
    assert report.verdict("RATE-RETRY-1").verdict is VerdictKind.SKIP  # no 429 was ever received


def test_time_limit_skips_the_rest_with_a_reason(alt_servers: AltServers) -> None:
    config = replace(
        alt_servers.config(groups=("schema", "chat", "assistants"), max_examples=200), max_time=1.0
    )
    report = run(config)
    assert problems(report) == []
    assert report.duration < 15
    skipped = [c for c in report.checks if c.status == "skipped"]
    assert skipped and all("time limit" in c.message for c in skipped)


def test_a_long_prompt_rejected_by_body_size_is_no_length_failure(alt_servers: AltServers) -> None:
    # A 100 KiB body limit answered with 400 (ERR-SIZE-1 allows it) rejects the long-prompt probe
    # for its size: the gate tells that from a length rejection with the wrong code (CHAT-LEN-2).
    small = alt_servers.start(max_body=100 * 1024)
    report = run(RunConfig(target=alt_target(small.url), groups=("chat",), seed=1))
    assert problems(report) == []
    assert report.verdict("CHAT-LEN-2").verdict is VerdictKind.PASS
    assert "by its size (400 'body_too_large'" in reasons(report)["CHAT-LEN-3"]
