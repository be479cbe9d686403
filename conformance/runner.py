"""Runs a profile's checks against a target and returns a Report: selects and plans the checks,
proves the target with the profile's preflight, runs the plan's lanes side by side
(``conformance.lanes``) and turns the evidence into verdicts (``conformance.verdicts``). Prints
nothing: progress goes to a callback, output to the reporters."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from conformance.catalogue import Check
from conformance.client import HttpClient
from conformance.config import GROUPS, RunConfig, examples
from conformance.context import Context, Evidence
from conformance.errors import HarnessError, SetupError, Skip
from conformance.exchange import Exchange
from conformance.lanes import Lane, Lanes, PlannedContext, cleanup_all, dispatch_to, lane_context
from conformance.pacing import Pacer
from conformance.plan import LANES, Budget, make_plan
from conformance.profiles import Profile, get_profile
from conformance.results import CheckRun, Report
from conformance.verdicts import verdicts_of

__all__ = ["Progress", "SetupError", "run", "selected_checks"]


@dataclass(frozen=True)
class Progress:
    """One progress event: a check started/ended, or the pacer is waiting."""

    kind: str  # "plan" | "start" | "end" | "wait"
    check: str
    index: int
    total: int
    elapsed: float
    eta: float | None
    requests: int
    detail: str = ""
    # Per tier: (requests sent, essential requests the plan still has to send).
    tiers: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def selected_checks(config: RunConfig, profile: Profile | None = None) -> list[Check]:
    profile = profile or get_profile("ragen")
    # The default selection (every group) runs all of a profile's checks; --only/--skip name groups.
    groups = profile.groups if config.groups == GROUPS else config.groups
    order = {g: i for i, g in enumerate(profile.groups)}
    chosen = [c for c in profile.checks.values() if c.group in groups]
    return sorted(chosen, key=lambda c: order[c.group])


def _missing_inputs(config: RunConfig, checks: list[Check], profile: Profile) -> dict[str, list[str]]:
    """Missing target inputs -> the observable MUST rules that cannot be checked without them."""
    requirements = profile.requirements()
    out: dict[str, list[str]] = {}
    for check in checks:
        missing = [n for n in check.needs if not getattr(config.target, n)]
        for rid in check.requirements:
            req = requirements.get(rid, {})
            if req.get("level") != "MUST" or req.get("observable") is False:
                continue
            if any(
                rid in other.requirements and all(getattr(config.target, n) for n in other.needs)
                for other in checks
                if other.group != "schema"
            ):
                continue
            for name in missing:
                out.setdefault(name, [])
                if rid not in out[name]:
                    out[name].append(rid)
    return out


def _incomplete_message(missing: Mapping[str, list[str]]) -> str:
    parts = [
        f"--{name.replace('_', '-')} ({len(ids)} MUST: {', '.join(ids[:4])}{', …' if len(ids) > 4 else ''})"
        for name, ids in missing.items()
    ]
    return (
        "incomplete: missing " + "; ".join(parts) + ". Give them (or RAGEN_* variables), or pass "
        "--allow-incomplete to run without those rules (a run that cannot check a MUST is not green)"
    )


def run(
    config: RunConfig, *, progress: Callable[[Progress], None] | None = None, profile: Profile | None = None
) -> Report:
    """Run ``profile`` (default: the Ragen catalogue against spec/openapi.yaml).

    Raises SetupError when the preflight finds a wrong base URL, key or assistant, or when inputs an
    observable MUST needs are missing (unless ``config.allow_incomplete``).
    """
    profile = profile or get_profile("ragen")
    if not profile.pace:
        config = replace(config, target=replace(config.target, pace=False))
    # Without a budget to respect, every case runs (an unthrottled run is the thorough one).
    thorough = config.thorough or not config.target.pace
    planned_examples = examples(config, 10 if thorough else 2)
    run_config = replace(config, thorough=thorough, max_examples=planned_examples)
    started = time.monotonic()
    deadline = started + config.max_time if config.max_time else None
    evidence = Evidence()
    checks = selected_checks(config, profile)

    missing = _missing_inputs(config, checks, profile)
    if missing and not config.allow_incomplete:
        raise SetupError(_incomplete_message(missing))

    def on_wait(tier: str, seconds: float) -> None:
        if seconds >= 0.1:  # the progress line shows it; no 'waiting 0.0s' noise
            emit("wait", "", f"pacing: the {tier} budget is spent, next request in {seconds:.1f}s")

    pacer = Pacer(config.target.tiers, enabled=config.target.pace, on_wait=on_wait)
    rl_target = config.ratelimit_target
    rl_pacer = Pacer(rl_target.tiers, enabled=rl_target.pace, on_wait=on_wait) if rl_target else pacer
    plan = make_plan(checks, thorough=thorough, bursts_on_target=rl_target is None)
    budget = Budget(plan, pacer, deadline=deadline)
    clients: list[HttpClient] = []

    def requests() -> int:
        return sum(c.count for c in clients)

    def emit(kind: str, name: str, detail: str = "") -> None:
        if progress is None:
            return
        now = time.monotonic()
        remaining = budget.remaining()
        tiers = {
            t: (
                pacer.sent.get(t, 0) + (rl_pacer.sent.get(t, 0) if rl_pacer is not pacer else 0),
                remaining.get(t, 0),
            )
            for t in LANES
        }
        eta = max(0.0, budget.eta()) + (_LATENCY if any(remaining.values()) else 0.0)
        progress(
            Progress(
                kind,
                name,
                state.done if state else 0,
                len(checks),
                now - started,
                eta,
                requests(),
                detail,
                tiers,
            )
        )

    state: Lanes | None = None
    main_client = HttpClient(config.target, pacer=pacer)
    clients.append(main_client)
    ctx = PlannedContext(
        run_config, main_client, evidence, deadline=deadline, param_requirement=profile.param_requirement
    )
    dispatch = dispatch_to(ctx, profile.response_checks)
    held: list[Exchange] = []
    main_client.listeners.append(held.append)
    try:
        if profile.preflight is not None:
            profile.preflight(ctx)
    except (HarnessError, Skip) as exc:
        main_client.close()
        raise exc if isinstance(exc, SetupError) else SetupError(str(exc)) from exc
    # Only now that the key and the assistant are proven does the evidence start (a preflight
    # 401 must not pass anything).
    main_client.listeners.remove(held.append)
    main_client.listeners.append(dispatch)
    for exchange in held:
        dispatch(exchange)

    state = Lanes(run_config, profile, plan, budget, emit)
    state.planned_examples = config.max_examples == 0
    lanes: list[Lane] = []
    contexts: list[Context] = []
    for name, lane_checks in plan.lanes.items():
        lane_ctx = (
            ctx
            if name == "assistants"
            else lane_context(run_config, config.target, pacer, evidence, deadline, profile, clients, ctx)
        )
        rl_ctx = lane_ctx
        if rl_target is not None and any(c.group == "ratelimit" for c in lane_checks):
            rl_ctx = lane_context(run_config, rl_target, rl_pacer, evidence, deadline, profile, clients, ctx)
        lanes.append(Lane(name, lane_checks, lane_ctx, rl_ctx))
        contexts += [lane_ctx] if rl_ctx is lane_ctx else [lane_ctx, rl_ctx]
    emit("plan", "", ", ".join(f"{t} {n}" for t, n in sorted(plan.essential.items())))
    threads = [
        threading.Thread(target=state.run_lane, args=(lane, contexts), name=f"lane-{lane.name}")
        for lane in lanes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    if state.unreachable is None:
        cleanup_all(ctx, contexts, profile)
    for client in clients:
        client.close()
    ran = {r.name for r in state.runs if not r.deliberate}
    ran |= set(profile.response_checks)
    verdicts = verdicts_of(evidence, profile, ran)
    by_tier: Counter[str] = Counter()
    for client in clients:
        by_tier += client.exchanges_by_tier
    harness_errors = list(state.harness_errors)
    return Report(
        config.target.base_url,
        verdicts,
        _in_catalogue_order(state.runs, checks),
        requests(),
        time.monotonic() - started,
        strict=config.strict,
        paced_seconds=pacer.waited + (rl_pacer.waited if rl_pacer is not pacer else 0.0),
        harness_errors=harness_errors,
        requests_by_tier=dict(by_tier),
        allow_incomplete=config.allow_incomplete,
        seed=config.seed,
        profile=profile.name,
    )


# A request's typical time on top of pacing, for the ETA's last batch.
_LATENCY = 2.0


def _in_catalogue_order(runs: list[CheckRun], checks: list[Check]) -> list[CheckRun]:
    order = {c.name: i for i, c in enumerate(checks)}
    return sorted(runs, key=lambda r: order.get(r.name, len(order)))
