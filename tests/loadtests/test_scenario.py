"""The phase timeline and the scenario's wire form."""

from __future__ import annotations

import pytest
from ragen_spec import requirements
from ragen_spec.operations import operations

from loadtests.scenario import TIERS, Scenario, burst_seconds, minimum_duration, timeline

BASE = Scenario(
    tier="chat", limit=10, window=2.0, base_url="http://127.0.0.1:1", source_ips=("127.0.0.2", "127.0.0.3")
)


def test_timeline_short_window_with_two_addresses() -> None:
    phases = timeline(BASE)
    assert [(p.name, p.start, p.end, p.ips) for p in phases] == [
        ("burst", 0, 1, 1),
        ("isolation", 1, 2, 2),
        ("wait", 2, 5, 0),
        ("recovery", 5, 6, 1),
        ("drain", 6, 7, 0),
    ]
    assert minimum_duration(BASE) == 7


def test_timeline_wait_outlasts_the_window() -> None:
    real = Scenario(tier="chat", limit=10, window=60.0, base_url="http://h")
    wait = next(p for p in timeline(real) if p.name == "wait")
    assert wait.end - wait.start > 60
    assert burst_seconds(real) == 15


def test_timeline_single_address_has_no_isolation_phase() -> None:
    names = [p.name for p in timeline(Scenario(tier="chat", limit=10, window=2.0, base_url="http://h"))]
    assert names == ["burst", "wait", "recovery", "drain"]


def test_timeline_duration_extends_recovery() -> None:
    phases = timeline(Scenario(**{**BASE.__dict__, "duration": 12.0}))
    recovery = next(p for p in phases if p.name == "recovery")
    assert (recovery.start, recovery.end, phases[-1].end) == (5, 11, 12)


def test_timeline_duration_too_short_is_refused() -> None:
    with pytest.raises(ValueError, match="needs 7 s"):
        timeline(Scenario(**{**BASE.__dict__, "duration": 5.0}))


def test_scenario_json_round_trip() -> None:
    assert Scenario.from_json(BASE.to_json()) == BASE


def test_tiers_name_requirements_of_the_spec() -> None:
    known = requirements()
    for tier in TIERS.values():
        for rid in tier.no_leak + tier.limit_reached + tier.isolation:
            assert rid in known
    assert known["RATE-ASST-2"]["level"] == TIERS["assistants"].isolation_level == "MAY"


def test_load_targets_are_tiered_operations_of_the_spec() -> None:
    tier = {op.name: op.tier for op in operations()}
    assert tier["POST /v1/chat/completions"] == "chat"
    assert tier["GET /v1/assistants"] == "assistants"
    assert tier["GET /v1/assistants/{assistant_id}"] == "assistants"


def test_timeline_distributed_drains_longer_than_a_worker_report_interval() -> None:
    phases = timeline(Scenario(**{**BASE.__dict__, "distributed": True}))
    drain = phases[-1]
    assert drain.name == "drain" and drain.end - drain.start > 3
