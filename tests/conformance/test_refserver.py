"""The gate against a second reference server (``refserver.py``): written from the vendor
documents alone, answering like an LLM (different text every call) and making the other choice
on every point the documents leave open. A correct server: the gate must call it conformant,
and give it the same verdict table on every run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

from conformance import run
from conformance.config import RunConfig, Target, Tier
from conformance.results import Report, VerdictKind
from mockserver.background import BackgroundServer
from tests.conformance import refserver

# Short fixed windows (aligned to the clock), budgets unlike the mock's and the alt server's.
RATELIMIT_TIERS = {"chat": Tier(5, 3.0), "assistants": Tier(8, 3.0)}
RUNS = 3


def target(url: str, **changes: object) -> Target:
    base = Target(
        base_url=url,
        api_key=refserver.MAIN_KEY,
        assistant_id=refserver.ASSISTANT_A,
        second_org_key=refserver.OTHER_ORG_KEY,
        deactivated_key=refserver.DEACTIVATED_KEY,
        chat_only_key=refserver.CHAT_ONLY_KEY,
        pace=False,
        rate_limits=False,
        timeout=10.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@contextmanager
def refserver_config() -> Iterator[RunConfig]:
    """Fresh servers: one without limits for the bulk, one with short windows for the rate checks.

    The run keeps the gate's defaults (seed included): what a user of the CLI would get.
    """
    tiers = RATELIMIT_TIERS
    limited_options = refserver.Options(
        chat_tier=(tiers["chat"].limit, tiers["chat"].window),
        assistants_tier=(tiers["assistants"].limit, tiers["assistants"].window),
    )
    with ExitStack() as stack:
        bulk = stack.enter_context(
            BackgroundServer(lambda: refserver.create_app(refserver.Options(rate_limits=False)))
        )
        limited = stack.enter_context(BackgroundServer(lambda: refserver.create_app(limited_options)))
        rl_target = target(limited.url, tiers=dict(tiers), pace=True, rate_limits=True)
        yield RunConfig(target=target(bulk.url), ratelimit_target=rl_target, max_examples=6)


def table(report: Report) -> dict[str, str]:
    return {v.requirement: v.verdict.value for v in report.verdicts}


def failures(report: Report) -> list[str]:
    bad = (VerdictKind.FAIL, VerdictKind.ERROR)
    return [f"{v.requirement} {v.verdict.value}: {v.reason}" for v in report.verdicts if v.verdict in bad]


def test_refserver_is_conformant_with_the_same_verdicts_on_every_run() -> None:
    reports = []
    for _ in range(RUNS):
        with refserver_config() as config:
            reports.append(run(config))
    assert [failures(r) for r in reports] == [[]] * RUNS
    assert all(r.exit_code == 0 for r in reports), [r.harness_errors for r in reports]
    first = table(reports[0])
    differences = {
        rid: [table(r).get(rid) for r in reports]
        for rid in sorted(set().union(*(table(r) for r in reports)))
        if len({table(r).get(rid) for r in reports}) > 1
    }
    assert differences == {}
    # The server's own choices are seen and reported as such, never passed over in silence.
    assert first["ASST-MODIFY-3"] == first["ASST-LIST-4"] == first["ASST-REQ-1"] == "info"
