"""The verdicts on fabricated runs: each defect of a simulated server fails its own property."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadtests.analysis import (
    FAIL,
    INFO,
    PASS,
    SKIP,
    WARN,
    analyse,
    infer_limiter,
    percentile,
    proven_max_in_window,
    span_bound,
    worst_span,
)
from loadtests.records import Record
from loadtests.report import render, to_json
from loadtests.scenario import TIERS, Tier
from tests.loadtests.fabricate import PRIMARY, T0, Server, run

CHAT = TIERS["chat"].with_budget(10, 2.0)
ASSISTANTS = TIERS["assistants"].with_budget(20, 2.0)
IPS = (PRIMARY, "127.0.0.3")
PROPERTIES = [
    "no-leak",
    "limit-reached",
    "well-formed-429",
    "headers-match-tier",
    "healthy",
    "recovery",
    "isolation",
    "limiter",
]


def statuses(records: list[Record], tier: Tier = CHAT, ips: tuple[str, ...] = IPS) -> dict[str, str]:
    return {v.name: v.status for v in analyse(tier, records, ips).verdicts}


def only_failing(records: list[Record], tier: Tier = CHAT) -> set[str]:
    return {name for name, status in statuses(records, tier).items() if status == FAIL}


def test_analyse_sliding_window_server_passes_every_property() -> None:
    report = analyse(CHAT, run(Server()), IPS)
    assert [v.name for v in report.verdicts] == PROPERTIES
    assert {v.status for v in report.verdicts if v.name != "limiter"} == {PASS}
    assert report.verdict("limiter").status == INFO  # information, never a verdict on the server
    assert report.passed


# Every sane limiter of 10 per 2 s; the fixed window's run starts 1 s into a window of the clock,
# so a boundary falls inside the primary's burst: 20 admitted within ~1 s, all correct.
SANE = {  # algorithm, schedule offset, what the limiter row says
    "sliding log": ("sliding", 0.0, "a window of its own"),
    "fixed window": ("fixed", 1.0, "fixed window aligned to the clock"),
    "token bucket": ("bucket", 0.0, "token bucket"),
}


@pytest.mark.parametrize("name", SANE)
def test_analyse_every_sane_limiter_passes_and_its_algorithm_is_reported(name: str) -> None:
    algorithm, offset, inferred = SANE[name]
    report = analyse(CHAT, run(Server(algorithm=algorithm), offset=offset), IPS)
    assert {v.name: v.status for v in report.verdicts if v.status != PASS} == {"limiter": INFO}
    assert inferred in report.verdict("limiter").detail


def test_analyse_fixed_window_admitting_twice_the_limit_across_a_boundary_is_no_leak() -> None:
    records = run(Server(algorithm="fixed"), offset=1.0)
    primary = [r for r in records if r["ip"] == PRIMARY and r["status"] == 200 and r["phase"] != "recovery"]
    # What the old per-window rule called a leak (issue 16): 20 inside one 2 s window.
    assert proven_max_in_window(primary, CHAT.window) == 2 * CHAT.limit
    assert analyse(CHAT, records, IPS).verdict("no-leak").status == PASS


@pytest.mark.parametrize("name", SANE)
def test_analyse_sane_limiters_pass_a_long_pressure_too(name: str) -> None:
    algorithm, offset, _ = SANE[name]
    report = analyse(CHAT, run(Server(algorithm=algorithm), offset=offset, recovery=10.0), IPS)
    assert not [v for v in report.verdicts if v.failed]


def test_analyse_long_pressure_tells_a_sliding_log_from_a_fixed_window() -> None:
    sliding = infer_limiter(CHAT, run(Server(), recovery=4.0), PRIMARY)
    assert sliding.startswith("sliding window")
    fixed = infer_limiter(CHAT, run(Server(algorithm="fixed"), recovery=4.0), PRIMARY)
    assert fixed.startswith("fixed window aligned to the clock")


def test_analyse_burst_over_twice_the_limit_fails_no_leak() -> None:
    report = analyse(CHAT, run(Server(limit=25, advertised=10)), IPS)
    assert {v.name for v in report.verdicts if v.failed} == {"no-leak"}
    assert "no limiter of 10 per 2 s admits more than 20 in" in report.verdict("no-leak").detail


def test_analyse_limit_too_high_fails_no_leak_under_long_pressure() -> None:
    # 15 per window instead of 10: a fixed window may admit 20 in a short burst, so one burst
    # proves nothing; four windows of pressure do (the long-run rate exceeds limit/window).
    assert only_failing(run(Server(limit=15, advertised=10))) == set()
    for algorithm in ("sliding", "fixed", "bucket"):
        failing = only_failing(run(Server(limit=15, advertised=10, algorithm=algorithm), recovery=10.0))
        assert failing == {"no-leak"}, algorithm


def test_analyse_limit_too_high_and_advertised_also_warns_on_headers() -> None:
    result = statuses(run(Server(limit=15), recovery=10.0), CHAT)
    assert {n for n, s in result.items() if s == FAIL} == {"no-leak"}
    assert result["headers-match-tier"] == WARN  # HDR-RATE-1 is a SHOULD


def test_analyse_limit_never_reached_infers_nothing() -> None:
    records = [r for r in run(Server()) if r["status"] == 200]
    assert infer_limiter(CHAT, records, PRIMARY).startswith("not inferred")


def test_analyse_limit_too_low_fails_limit_reached() -> None:
    report = analyse(CHAT, run(Server(limit=5, advertised=10)), IPS)
    assert {v.name for v in report.verdicts if v.failed} == {"limit-reached"}
    assert "over-throttled" in report.verdict("limit-reached").detail


def test_analyse_missing_retry_after_warns_on_well_formed_and_fails_only_strict() -> None:
    report = analyse(CHAT, run(Server(retry_after=False)), IPS)
    assert report.verdict("well-formed-429").status == WARN  # RATE-RETRY-1 is a SHOULD
    assert "429 with Retry-After None, expected whole seconds" in report.verdict("well-formed-429").detail
    assert report.passes() and not report.passes(strict=True)


def test_analyse_429_without_the_envelope_fails_well_formed() -> None:
    report = analyse(CHAT, run(Server(flat_429=True)), IPS)
    assert {v.name for v in report.verdicts if v.failed} == {"well-formed-429"}
    assert "not the error envelope" in report.verdict("well-formed-429").detail


def test_analyse_server_errors_fail_healthy() -> None:
    report = analyse(CHAT, run(Server(fail_first=3)), IPS)
    assert {v.name for v in report.verdicts if v.failed} == {"healthy"}
    assert "500 (3)" in report.verdict("healthy").detail


def test_analyse_global_budget_fails_isolation_on_chat() -> None:
    report = analyse(CHAT, run(Server(scope="global")), IPS)
    assert {v.name for v in report.verdicts if v.failed} == {"isolation"}
    assert "budget shared" in report.verdict("isolation").detail


def test_analyse_global_budget_is_information_on_assistants() -> None:
    # RATE-ASST-2 is MAY: per key or organization is conformant.
    result = statuses(run(Server(limit=20, scope="global"), every=0.02), ASSISTANTS)
    assert result["isolation"] == INFO
    assert FAIL not in result.values()


def test_analyse_single_address_skips_isolation() -> None:
    result = statuses(run(Server(), ips=(PRIMARY,)), ips=(PRIMARY,))
    assert result["isolation"] == SKIP
    assert FAIL not in result.values()


def test_analyse_window_longer_than_declared_fails_recovery() -> None:
    result = statuses(run(Server(window=10.0)))
    assert result["recovery"] == FAIL


def test_analyse_too_few_requests_is_inconclusive_not_a_pass() -> None:
    report = analyse(CHAT, run(Server(), every=0.2), IPS)
    verdict = report.verdict("limit-reached")
    assert verdict.status == FAIL
    assert "inconclusive" in verdict.detail


def test_analyse_unexpected_status_fails_healthy() -> None:
    records = [dict(r, status=401, headers={}) if i % 7 == 0 else r for i, r in enumerate(run(Server()))]
    assert statuses(records)["healthy"] == FAIL  # type: ignore[arg-type]


def test_analyse_broken_stream_fails_healthy() -> None:
    records = run(Server())
    records[0] = {**records[0], "error": "stream ended without data: [DONE]"}
    assert statuses(records)["healthy"] == FAIL


def test_analyse_reports_429_latency_percentiles() -> None:
    records = run(Server())
    rejected = [r for r in records if r["status"] == 429]
    rejected[-1]["ms"] = 250.0
    figures = analyse(CHAT, records, IPS).figures
    assert figures.requests == len(records)
    assert figures.by_status[429] == len(rejected)
    assert figures.max_429_ms == 250.0
    assert figures.p50_429_ms == pytest.approx(3.0)


def _success(t: float, ms: float) -> Record:
    return {
        "t": T0 + t,
        "ms": ms,
        "ip": PRIMARY,
        "role": "primary",
        "phase": "burst",
        "op": "chat",
        "status": 200,
        "headers": {},
        "body": None,
        "error": None,
        "worker": None,
    }


def test_span_bound_is_the_limit_per_window_touched() -> None:
    assert [span_bound(10, 2.0, t) for t in (0.0, 0.5, 2.0, 2.01, 4.0, 9.0)] == [10, 20, 20, 30, 30, 60]


def test_worst_span_allows_twice_the_limit_across_a_boundary_but_not_more() -> None:
    twenty = [_success(i * 0.005, 3) for i in range(20)]
    span = worst_span(twenty, 10, 2.0)
    assert span is not None and span.excess == 0
    span = worst_span([*twenty, _success(0.1, 3)], 10, 2.0)
    assert span is not None and (span.admitted, span.bound) == (21, 20)


def test_worst_span_counts_the_long_run_rate() -> None:
    # 15 every 2 s for 8 s: never more than 20 in one window's span, but 60 in 6.3 s (bound 50).
    steady = [_success(w * 2.0 + i * 0.02, 3) for w in range(4) for i in range(15)]
    span = worst_span(steady, 10, 2.0)
    assert span is not None and span.excess > 0
    assert worst_span(steady[:30], 10, 2.0).excess <= 0  # type: ignore[union-attr]


def test_proven_max_in_window_counts_fast_admissions() -> None:
    assert proven_max_in_window([_success(i * 0.01, 3) for i in range(11)], 2.0) == 11


def test_proven_max_in_window_gives_slow_responses_the_benefit_of_the_doubt() -> None:
    # Eleven requests sent within 0.1 s but each answered after 2.5 s: the server may have
    # admitted them more than a window apart, so this proves nothing.
    assert proven_max_in_window([_success(i * 0.01, 2500) for i in range(11)], 2.0) == 0


def test_proven_max_in_window_spans_a_window_exactly() -> None:
    spread = [_success(i * 0.2, 3) for i in range(11)]  # 0.0 .. 2.0 s
    assert proven_max_in_window(spread, 2.0) == 10


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile([], 99) is None


def test_render_prints_one_row_per_property_and_the_tier_verdict() -> None:
    report = analyse(CHAT, run(Server(retry_after=False)), IPS)
    table = render(report)
    for name in PROPERTIES:
        assert name in table
    assert "429 p99" in table
    assert "tier chat: PASS with warnings" in table
    assert render(report, strict=True).rstrip().endswith("tier chat: FAIL")
    assert to_json(report)["passed"] is True
    assert to_json(report, strict=True)["passed"] is False


def test_with_budget_keeps_requirement_ids() -> None:
    assert replace(CHAT, limit=3).no_leak == ("RATE-CHAT-1",)
