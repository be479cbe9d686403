"""Each deliberate fault of the alt server is caught and attributed to the right requirement:
a MUST violation fails the run, a SHOULD deviation is a warning (failing only with --strict), and
a "fault" the documents turned out to allow (a MAY point) is reported as the server's choice."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from conformance import run
from conformance.cli import main
from conformance.results import VerdictKind
from tests.conformance import altserver
from tests.conformance.conftest import AltServers

FAIL, WARN, INFO = VerdictKind.FAIL, VerdictKind.WARN, VerdictKind.INFO

# (fault, groups to run, requirement it must be attributed to, expected verdict)
CASES: list[tuple[str, tuple[str, ...], str, VerdictKind]] = [
    ("wrong_object_name", ("chat",), "CHAT-RESP-1", FAIL),
    ("missing_done", ("streaming",), "CHAT-STREAM-5", FAIL),
    ("usage_without_opt_in", ("streaming",), "CHAT-USAGE-STREAM-1", FAIL),
    ("usage_chunk_with_choices", ("streaming",), "CHAT-USAGE-STREAM-2", FAIL),
    ("unframed_events", ("streaming",), "CHAT-STREAM-1", FAIL),
    ("single_newline_events", ("streaming",), "CHAT-STREAM-1", FAIL),
    ("flat_error_envelope", ("errors",), "ERR-ENV-1", FAIL),
    ("wrong_error_type", ("assistants",), "ERR-TYPE-1", FAIL),
    ("accepts_out_of_range", ("chat",), "CHAT-REQ-2", FAIL),
    ("open_auth", ("auth",), "AUTH-1", FAIL),
    ("cross_org_leak", ("assistants",), "ASST-ORG-1", FAIL),
    ("deletable_bound", ("assistants",), "ASST-DEL-2", FAIL),
    ("missing_retry_after", ("ratelimit",), "RATE-RETRY-1", WARN),
    ("inconsistent_chunk_ids", ("streaming",), "CHAT-STREAM-2", FAIL),
    ("role_not_first", ("streaming",), "CHAT-STREAM-3", FAIL),
    ("crash_on_bad_json", ("errors",), "ERR-5XX-1", FAIL),
    ("surrogate_crash", ("errors",), "ERR-5XX-1", FAIL),
    ("no_length_finish", ("chat",), "CHAT-LEN-4", WARN),
    ("bad_usage_sum", ("chat",), "CHAT-USAGE-1", FAIL),
    ("model_echo", ("chat",), "CHAT-REQ-13", INFO),
    ("deactivated_allowed", ("auth",), "AUTH-4", FAIL),
    ("scope_ignored", ("auth",), "AUTH-5", FAIL),
    ("unknown_key_403", ("auth",), "AUTH-3", FAIL),
    ("basic_auth_accepted", ("auth",), "AUTH-6", WARN),
    ("instructions_not_cleared", ("assistants",), "ASST-MODIFY-2", FAIL),
    ("no_patch", ("assistants",), "ASST-MODIFY-1", FAIL),
    ("ignored_fields_stored", ("assistants",), "ASST-OBJ-2", FAIL),
    ("pagination_repeats", ("assistants",), "ASST-LIST-2", FAIL),
    ("list_only_bound", ("assistants",), "ASST-ORG-2", FAIL),
    ("wrong_delete_object", ("assistants",), "ASST-DEL-1", FAIL),
    ("no_rate_limit", ("ratelimit",), "RATE-CHAT-1", FAIL),
    ("throttles_early", ("ratelimit",), "RATE-CHAT-2", FAIL),
    ("never_recovers", ("ratelimit",), "RATE-RECOVER-1", FAIL),
    ("no_request_id", ("auth",), "HDR-REQID-1", WARN),
    ("no_rate_headers", ("ratelimit",), "HDR-RATE-1", WARN),
    ("name_optional", ("assistants",), "ASST-CREATE-1", FAIL),
    ("unknown_assistant_answers", ("chat",), "CHAT-REQ-5", FAIL),
    ("roles_unchecked", ("chat",), "CHAT-REQ-3", FAIL),
    ("data_after_done", ("streaming",), "CHAT-STREAM-5", FAIL),
    ("finish_chunk_content", ("streaming",), "CHAT-STREAM-4", FAIL),
    ("stream_text_not_content", ("streaming",), "CHAT-STREAM-8", FAIL),
    ("no_usage_null", ("streaming",), "CHAT-USAGE-STREAM-3", WARN),
    ("messages_unbounded", ("chat",), "CHAT-REQ-1", FAIL),
    ("created_in_ms", ("chat",), "CHAT-RESP-2", WARN),
    ("stream_as_json", ("streaming",), "CHAT-STREAM-1", FAIL),
    ("no_logprobs", ("chat",), "CHAT-RESP-3", WARN),
    ("content_unchecked", ("chat",), "CHAT-REQ-12", WARN),
    ("stream_type_unchecked", ("chat",), "CHAT-REQ-10", FAIL),
    ("modify_unvalidated", ("assistants",), "ASST-OBJ-2", FAIL),
    ("list_limit_unchecked", ("assistants",), "ASST-LIST-5", WARN),
    ("context_code_wrong", ("chat",), "CHAT-LEN-2", FAIL),
    ("validation_422", ("chat",), "CHAT-REQ-2", FAIL),
    # The schema-driven (schemathesis) phase and the SDK catch faults on their own too.
    ("accepts_out_of_range", ("schema",), "CHAT-REQ-2", FAIL),
    ("name_optional", ("schema",), "ASST-CREATE-1", FAIL),
    ("flat_error_envelope", ("schema",), "ERR-ENV-1", FAIL),
    ("wrong_object_name", ("schema",), "CHAT-RESP-1", FAIL),
    ("wrong_delete_object", ("schema",), "ASST-DEL-1", FAIL),
    ("content_unchecked", ("schema",), "CHAT-REQ-12", WARN),
    ("list_limit_unchecked", ("schema",), "ASST-LIST-5", WARN),
    ("wrong_object_name", ("sdk",), "CHAT-RESP-1", FAIL),
    ("wrong_error_type", ("sdk",), "ERR-TYPE-1", FAIL),
    ("deactivated_allowed", ("sdk",), "AUTH-4", FAIL),
]

# Requirements a fault must NOT be blamed on: an undocumented status (the alt server's 405 with
# its own type, a 422) needs only the envelope (ERR-TYPE-1 covers the documented statuses).
INNOCENT = {
    "no_patch": ("ERR-TYPE-1", "ERR-ENV-1"),
    "validation_422": ("ERR-TYPE-1", "ERR-ENV-1"),
}
# The status the blamed finding must show (the fault was observed, not guessed).
OBSERVED_STATUS = {"no_patch": 405, "validation_422": 422, "context_code_wrong": 400}


@pytest.mark.parametrize(
    ("choice", "groups", "requirement"),
    [
        ("text_plain_accepted", ("errors",), "ERR-BODY-2"),
    ],
)
def test_a_choice_the_documents_leave_open_passes(
    alt_servers: AltServers, choice: str, groups: tuple[str, ...], requirement: str
) -> None:
    report = run(alt_servers.config(frozenset({choice}), groups=groups, max_examples=4))
    assert report.violations == [], [(v.requirement, v.reason) for v in report.violations]
    assert report.verdict(requirement).verdict is VerdictKind.INFO
    assert "parses" in report.verdict(requirement).reason


def test_cases_cover_every_fault_of_the_alt_server() -> None:
    assert {fault for fault, *_ in CASES} == set(altserver.FAULTS)
    assert len(altserver.FAULTS) >= 25


@pytest.mark.parametrize(
    ("fault", "groups", "requirement", "expected"), CASES, ids=[f"{c[0]}-{c[1][0]}" for c in CASES]
)
def test_fault_is_caught_and_attributed(
    alt_servers: AltServers, fault: str, groups: tuple[str, ...], requirement: str, expected: VerdictKind
) -> None:
    # The schema phase needs more generated examples to hit a given field's bounds.
    examples = 4 if groups == ("schema",) else 3
    report = run(alt_servers.config(frozenset({fault}), groups=groups, max_examples=examples))
    verdict = report.verdict(requirement)
    assert verdict.verdict is expected, (
        verdict.verdict,
        verdict.reason,
        [
            (v.requirement, v.verdict.value)
            for v in report.verdicts
            if v.verdict in (FAIL, WARN, VerdictKind.ERROR)
        ],
    )
    assert not report.harness_errors
    if expected is INFO:  # no longer a fault: the documents allow it, and the choice is reported
        assert any(f.kind.value in ("note", "fail") and f.message for f in verdict.findings), verdict.reason
        assert report.exit_code == 0 and replace(report, strict=True).exit_code == 0
        return
    failing = [f for f in verdict.findings if f.kind.value == "fail"]
    assert failing and failing[0].message
    for innocent in INNOCENT.get(fault, ()):
        assert report.verdict(innocent).verdict not in (FAIL, WARN), report.verdict(innocent).reason
    if fault in OBSERVED_STATUS and groups != ("sdk",):
        assert any((f.exchange or {}).get("status") == OBSERVED_STATUS[fault] for f in failing), failing
    if expected is FAIL:
        assert report.exit_code == 1
        assert any(f.reproduction and f.reproduction.startswith("curl ") for f in failing) or groups == (
            "sdk",
        )
    else:
        assert report.exit_code == 0, [(v.requirement, v.reason) for v in report.violations]
        assert replace(report, strict=True).exit_code == 1


def test_cli_reports_a_fault_in_junit_json_and_terminal(alt_servers: AltServers, tmp_path: Path) -> None:
    server = alt_servers.start(frozenset({"flat_error_envelope"}))
    junit, report_json = tmp_path / "junit.xml", tmp_path / "report.json"
    args = [
        "--base-url",
        server.url,
        "--api-key",
        altserver.MAIN_KEY,
        "--no-rate-limits",
        "--only",
        "errors",
        "-q",
        "--junitxml",  # pytest's name for it works too
        str(junit),
        "--json",
        str(report_json),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "VIOLATIONS" in result.output and "reproduce: curl -sS -X POST" in result.output
    assert altserver.MAIN_KEY not in result.output  # keys are redacted to $RAGEN_API_KEY
    failures = {case.get("name"): case.find("failure") for case in ET.parse(junit).getroot().iter("testcase")}
    failure = failures["ERR-ENV-1"]
    assert failure is not None and "reproduce: curl" in (failure.text or "")
    data = json.loads(report_json.read_text())
    env = next(r for r in data["requirements"] if r["requirement"] == "ERR-ENV-1")
    assert (
        data["exit_code"] == 1
        and env["verdict"] == "fail"
        and env["findings"][0]["exchange"]["status"] == 400
    )
