"""The runner is profile-neutral: a profile of our own making (not Ragen's, not the proxy's) gets
its checks run in order, a deferred check run again at the end of its lane, a check that needs the
clean-up run after it, and its hooks called once each."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.catalogue import Registry
from conformance.config import RunConfig, Target
from conformance.context import Context
from conformance.errors import Deferred, SetupError, Skip
from conformance.profiles import Profile
from conformance.results import VerdictKind
from conformance.runner import run


def _toy_profile(order: list[str], **hooks: Any) -> Profile:
    registry = Registry(("chat",))
    deferred = {"times": 0}

    @registry.check("HDR-REQID-1", group="chat", cost={"chat": 1})
    def first(ctx: Context) -> None:
        order.append("first")
        if deferred["times"] == 0:
            deferred["times"] += 1
            raise Deferred("the window was not ours")
        ctx.passed("HDR-REQID-1")

    @registry.check("ERR-5XX-1", group="chat", cost={"chat": 1})
    def second(ctx: Context) -> None:
        order.append("second")
        ctx.passed("ERR-5XX-1")

    @registry.check("RATE-COUNT-1", group="chat", cost={"chat": 1}, after_cleanup=True)
    def late(ctx: Context) -> None:
        order.append("late")  # observes nothing: its rule must not pass

    return Profile("toy", None, registry.checks, {}, ("chat",), **hooks)


def _config() -> RunConfig:
    # Nothing is sent: the address only has to parse.
    return RunConfig(target=Target("http://127.0.0.1:9", "sk-toy", pace=False), allow_incomplete=True)


def test_a_deferred_check_runs_again_last_and_after_cleanup_waits_for_the_cleanup() -> None:
    order: list[str] = []
    profile = _toy_profile(order, cleanup=lambda ctx: order.append("cleanup"))
    report = run(_config(), profile=profile)
    assert order.count("first") == 2
    assert order.index("second") < len(order) - 1 - order[::-1].index("first")  # re-run after second
    assert order.index("cleanup") < order.index("late")
    assert order[-1] == "cleanup"  # and once more at the end, for what was created since
    assert report.verdict("HDR-REQID-1").verdict is VerdictKind.PASS
    assert report.verdict("ERR-5XX-1").verdict is VerdictKind.PASS
    assert report.verdict("RATE-COUNT-1").verdict is not VerdictKind.PASS


def test_the_profiles_preflight_runs_first_and_can_stop_the_run() -> None:
    order: list[str] = []

    def preflight(ctx: Context) -> None:
        order.append("preflight")
        raise SetupError("the toy key was rejected")

    with pytest.raises(SetupError, match="toy key"):
        run(_config(), profile=_toy_profile(order, preflight=preflight))
    assert order == ["preflight"]


def test_a_skip_on_purpose_is_skip_and_any_other_is_not_observed() -> None:
    registry = Registry(("chat",))

    @registry.check("HDR-REQID-1", group="chat", cost={"chat": 1})
    def on_purpose(ctx: Context) -> None:
        raise Skip("another tool's job", deliberate=True)

    @registry.check("ERR-5XX-1", group="chat", cost={"chat": 1})
    def could_not(ctx: Context) -> None:
        raise Skip("the server gave nothing to judge")

    @registry.check("AUTH-1", group="chat", cost={"chat": 1})
    def lacked_input(ctx: Context) -> None:
        raise Skip("no key given", missing_input=True)

    report = run(_config(), profile=Profile("toy", None, registry.checks, {}, ("chat",)))
    assert report.verdict("HDR-REQID-1").verdict is VerdictKind.SKIP
    assert report.verdict("ERR-5XX-1").verdict is VerdictKind.UNOBSERVED
    lacked = report.verdict("AUTH-1")
    assert lacked.verdict is VerdictKind.UNOBSERVED and lacked.incomplete
