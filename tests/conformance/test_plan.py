"""The planner against a server enforcing the real tiers' counts with short windows (chat 10 and
assistants 20 per 4 s): a default run checks every MUST an unthrottled run checks, with the same
verdicts, and never goes past a tier outside the rate-limit checks."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import requests

from conformance.catalogue import Check
from conformance.config import RunConfig, Target, Tier
from conformance.mock import limited_mock_config
from conformance.pacing import Pacer
from conformance.plan import Budget, make_plan
from conformance.profiles.ragen.registry import CHECKS
from conformance.progress import PlanProgress
from conformance.results import Report, VerdictKind
from conformance.runner import Progress, run, selected_checks

SHORT = {"chat": Tier(10, 4.0), "assistants": Tier(20, 4.0)}


def must_verdicts(report: Report) -> dict[str, VerdictKind]:
    return {v.requirement: v.verdict for v in report.verdicts if v.level == "MUST"}


SPENT: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="module")
def planned() -> Iterator[tuple[Report, str, list[Progress]]]:
    urls: list[str] = []
    events: list[Progress] = []
    base = RunConfig(target=Target("http://unused", "unused"), seed=1)
    finished = Budget.finished

    def record(self: Budget, lane: str, check: Check) -> None:
        SPENT[check.name] = {t: n for t, n in self.spent(lane).items() if n}
        finished(self, lane, check)

    with pytest.MonkeyPatch.context() as patch, limited_mock_config(SHORT, base, journal=urls) as config:
        patch.setattr(Budget, "finished", record)
        report = run(config, progress=events.append)
        answered_429 = requests.get(
            f"{urls[0]}/__mock/journal", params={"status": 429, "limit": 1000}, timeout=10
        )
    yield report, answered_429.text, events


def test_planned_run_checks_every_must_an_unthrottled_run_checks(planned, mock_run_config) -> None:  # type: ignore[no-untyped-def]
    report, _, _ = planned
    unthrottled = run(mock_run_config)
    assert must_verdicts(report) == must_verdicts(unthrottled)
    assert report.exit_code == 0
    # Far fewer requests than the unthrottled (thorough) run: the essential ones and what fits.
    assert report.requests < unthrottled.requests / 2


def test_the_plan_knows_what_each_check_costs(planned) -> None:  # type: ignore[no-untyped-def]
    # The declared cost per tier is what a default run against a correct server sends (the burst
    # may send less: the preflight's requests share its window); what fills sends more, in the room.
    report, _, _ = planned
    ran = {c.name for c in report.checks if c.status == "passed"}
    for name in ran:
        check = CHECKS[name]
        declared = {t: n for t, n in check.cost.items() if n}
        if check.group == "ratelimit":
            assert all(SPENT[name].get(t, 0) <= n for t, n in declared.items()), (name, SPENT[name])
        elif not check.fills:
            assert SPENT[name] == declared, (name, SPENT[name], declared)


def test_planned_run_never_exceeds_a_tier_outside_the_rate_limit_checks(planned) -> None:  # type: ignore[no-untyped-def]
    _, journal, _ = planned
    entries = requests.models.complexjson.loads(journal)["data"]
    # Exactly the bursts' own 429s: the request past the chat tier and the one past the
    # assistants tier. Every other request was paced within the tiers.
    assert len(entries) == 2, [(e["method"], e["path"], e["key"]) for e in entries]
    assert sorted(e["path"] for e in entries) == ["/v1/assistants", "/v1/chat/completions"]


def test_progress_is_one_line_per_event_with_tiers_and_a_plan_eta(planned) -> None:  # type: ignore[no-untyped-def]
    _, _, events = planned
    plan = [e for e in events if e.kind == "plan"]
    assert len(plan) == 1 and "chat" in plan[0].detail and "assistants" in plan[0].detail
    starts = [e for e in events if e.kind == "start"]
    assert starts and all(set(e.tiers) == {"chat", "assistants"} for e in starts)
    # The planned requests still to go only shrink, and the ETA comes from the plan (never jumps
    # to thousands of seconds): at most a few windows.
    left = [sum(n for _, n in e.tiers.values()) for e in starts]
    assert left == sorted(left, reverse=True)
    assert all(e.eta is not None and 0 <= e.eta < 10 * 4.0 for e in starts)
    assert not [e for e in events if e.kind == "wait" and "0.0s" in e.detail]


def test_extras_run_only_where_the_plan_has_room(planned) -> None:  # type: ignore[no-untyped-def]
    report, _, _ = planned
    statuses = {c.name: (c.status, c.message) for c in report.checks}
    essential = [c for c in CHECKS.values() if not c.extra and c.group != "ratelimit"]
    assert all(statuses[c.name][0] == "passed" for c in essential if not c.fills), statuses
    left_out = [n for n, (status, message) in statuses.items() if "no room" in message]
    assert all(CHECKS[n].extra or CHECKS[n].fills for n in left_out)


def test_plan_opens_each_lane_with_its_burst_and_keeps_extras_after_the_essentials() -> None:
    checks = selected_checks(RunConfig(target=Target("http://x", "k")))
    plan = make_plan(checks, thorough=False)
    first = {lane: next(c.name for c in checks if c.cost) for lane, checks in plan.lanes.items()}
    assert first == {"chat": "chat_tier_burst", "assistants": "assistants_tier_burst"}
    for lane in plan.lanes.values():
        ranks = [2 if c.extra else 3 if c.fills else 1 for c in lane if c.group != "ratelimit"]
        assert ranks == sorted(ranks)
    assert plan.essential["chat"] <= 50 and plan.essential["assistants"] <= 100
    thorough = make_plan(checks, thorough=True)
    assert thorough.essential["chat"] > plan.essential["chat"]


def test_pacer_plans_the_finish_time_and_the_room_left() -> None:
    now = [100.0]
    pacer = Pacer({"chat": Tier(10, 60.0)}, enabled=True, clock=lambda: now[0], sleep=lambda s: None)
    assert pacer.finish_time("chat", 10) == pytest.approx(100.0)  # one burst of ten, at once
    assert pacer.finish_time("chat", 25) == pytest.approx(100.0 + 2 * 63.05)  # three windows
    # Forty: three windows after the first (a float edge once made this loop forever).
    assert pacer.finish_time("chat", 40) == pytest.approx(100.0 + 3 * 63.05)
    assert pacer.capacity("chat", 100.0) == 10
    assert pacer.capacity("chat", 100.0 + 3600.0) >= 570  # extrapolated past two windows
    assert pacer.capacity("chat", 170.0) == 20
    for _ in range(4):
        pacer.acquire("chat")
    assert pacer.capacity("chat", 100.0) == 6


def test_a_burst_that_finds_its_window_spent_runs_again_after_a_fresh_one() -> None:
    # Someone (another CI job on the same address) spent half the chat window just before the
    # run: the opening burst meets an early 429. That is not the server's fault: the burst runs
    # again at the end of its lane, after a whole idle window, and the verdict is the same.
    urls: list[str] = []
    base = RunConfig(target=Target("http://unused", "unused"), seed=1, groups=("ratelimit",))
    with limited_mock_config(SHORT, base, journal=urls) as config:
        body = {"assistant_id": config.target.assistant_id, "messages": [{"role": "user", "content": "hi"}]}
        headers = {"Authorization": f"Bearer {config.target.api_key}"}
        for _ in range(6):
            sent = requests.post(f"{urls[0]}/v1/chat/completions", json=body, headers=headers, timeout=10)
            assert sent.status_code == 200
        report = run(config)
        chat_429 = requests.get(
            f"{urls[0]}/__mock/journal", params={"status": 429, "path": "/v1/chat/completions"}, timeout=10
        ).json()["data"]
    assert len(chat_429) == 2  # the early one of the first attempt, the one past the tier of the second
    assert report.verdict("RATE-CHAT-2").verdict is VerdictKind.PASS
    assert report.verdict("RATE-CHAT-1").verdict is VerdictKind.PASS
    assert report.verdict("RATE-RECOVER-1").verdict is VerdictKind.PASS
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["chat_tier_burst"] == "passed"


def test_the_progress_printer_writes_one_line_per_check_with_the_plan(planned) -> None:  # type: ignore[no-untyped-def]
    _, _, events = planned
    out = io.StringIO()
    printer = PlanProgress(out)
    for event in events:
        printer(event)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("plan: essential requests per tier: assistants ")
    checks = [line for line in lines[1:] if "pacing" not in line]
    assert len(checks) == len([e for e in events if e.kind == "start"])
    assert all(" sent, " in line and " to go" in line and "ETA" in line for line in checks)
    assert all(line.startswith("[") for line in lines[1:])  # never two events on one line
