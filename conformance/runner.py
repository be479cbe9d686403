"""Runs the catalogue against a target and returns a Report. Prints nothing: progress goes to a
callback, output to the reporters."""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from conformance.catalogue import Check, ResponseCheck
from conformance.client import HttpClient
from conformance.config import GROUPS, RunConfig, Target, examples
from conformance.context import Context, Evidence
from conformance.errors import Deferred, Failure, HarnessError, SetupError, Skip, TargetUnreachable
from conformance.exchange import Exchange
from conformance.pacing import Pacer
from conformance.plan import LANES, Budget, Plan, make_plan
from conformance.profiles import Profile, get_profile
from conformance.results import CheckRun, Finding, Kind, Report, Verdict, VerdictKind

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


def _dispatch(ctx: Context, response_checks: Mapping[str, ResponseCheck]) -> Callable[[Exchange], None]:
    """Run every response check on an exchange, without disturbing the probe check in progress."""

    def on_exchange(exchange: Exchange) -> None:
        saved_name, saved_touched = ctx.check_name, ctx.touched
        try:
            for response_check in response_checks.values():
                ctx.check_name, ctx.touched = response_check.name, set()
                try:
                    applied = response_check.func(ctx, exchange)
                except Failure as failure:
                    ctx.record_failure(failure)
                    applied = True
                if applied:
                    for rid in response_check.requirements:
                        if rid not in ctx.touched:
                            ctx.passed(rid)
        finally:
            ctx.check_name, ctx.touched = saved_name, saved_touched

    return on_exchange


def _still_answers(ctx: Context) -> bool:
    """Whether the target still answers HTTP at all (any status) after a dropped connection."""
    try:
        ctx.request("GET", "/v1/assistants", params={"limit": 1})
    except HarnessError:
        return False
    return True


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


@dataclass
class _Lane:
    """One lane's thread state: its own context and client (sharing the pacer and evidence)."""

    name: str
    checks: list[Check]
    ctx: _PlannedContext
    rl_ctx: _PlannedContext


class _Run:
    """State shared by the lanes of one run."""

    def __init__(
        self,
        config: RunConfig,
        profile: Profile,
        plan: Plan,
        budget: Budget,
        emit: Callable[[str, str, str], None],
    ) -> None:
        self.config = config
        self.profile = profile
        self.plan = plan
        self.budget = budget
        self.emit = emit
        # Generated examples are planned (no -n): checks that fill stop when the plan has no room.
        self.planned_examples = False
        self.unreachable: str | None = None
        self.harness_errors: list[str] = []
        self.runs: list[CheckRun] = []
        self.left_unchecked: list[str] = []
        self.done = 0
        self.lock = threading.Lock()
        self.cleanup_done = threading.Event()

    def run_lane(self, lane: _Lane, contexts: list[Context]) -> None:
        try:
            self._run_lane(lane, contexts)
        except Exception as exc:  # a harness bug in a lane must surface, not end a thread silently
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            with self.lock:
                self.harness_errors.append(f"the {lane.name} lane stopped: {detail}")

    def _run_lane(self, lane: _Lane, contexts: list[Context]) -> None:
        queue = list(lane.checks)
        while queue:
            check = queue.pop(0)
            if check.after_cleanup and not self.cleanup_done.is_set():
                _cleanup_all(lane.ctx, contexts, self.profile)
                self.cleanup_done.set()
            if self.run_check(lane, check):
                queue.append(check)  # a burst that found its window not fresh: again, last
        if lane.name == "assistants" and not self.cleanup_done.is_set():
            _cleanup_all(lane.ctx, contexts, self.profile)
            self.cleanup_done.set()

    def run_check(self, lane: _Lane, check: Check) -> bool:
        """Run one check; True when it asks to run again at the end of its lane."""
        budget, evidence = self.budget, lane.ctx.evidence
        cctx = lane.rl_ctx if check.group == "ratelimit" else lane.ctx
        essential = self.plan.is_essential(check)
        if not essential and self.unreachable is None and not budget.fits(check.cost):
            with self.lock:
                self.done += 1
                self.left_unchecked.append(check.name)
                self.runs.append(
                    CheckRun(check.name, check.group, check.requirements, "skipped", 0.0, _NO_ROOM)
                )
            for rid in check.requirements:
                if not evidence.passes.get(rid) and not any(f.requirement == rid for f in evidence.findings):
                    cctx.check_name = check.name
                    cctx.skip(rid, _NO_ROOM)
            return False
        self.emit("start", check.name, lane.name)
        began = time.monotonic()
        cctx.check_name, cctx.touched = check.name, set()
        budget.started(lane.name, check, cctx.client)
        gated = check.fills and self.planned_examples and not self.plan.thorough
        cctx.client.gate = budget.gate(lane.name, check) if gated else None
        cctx.room = (lambda: budget.room_for_more(lane.name, check)) if gated else None
        status, message = "passed", ""
        missing = [n for n in check.needs if not getattr(cctx.target, n)]
        try:
            if self.unreachable is not None:
                raise Skip(f"not run: {self.unreachable}")
            if check.group == "ratelimit" and not cctx.target.rate_limits:
                raise Skip("the target runs with rate limits off (rate_limits = false)")
            if missing:
                flag = missing[0].replace("_", "-")
                raise Skip(f"needs {', '.join(missing)} (--{flag})", missing_input=True)
            cctx.check_time()
            check.func(cctx)  # a rule passes only where the check observed it (never by default)
        except Failure as failure:
            cctx.record_failure(failure)
            status, message = "failed", str(failure)
        except Deferred:
            return True
        except Skip as skip:
            for rid in check.requirements:
                if rid not in cctx.touched:
                    cctx.skip(rid, skip.reason, missing_input=skip.missing_input)
            status, message = "skipped", skip.reason
        except TargetUnreachable as exc:
            # One dropped connection (already retried once) is this check's problem; the run stops
            # only if the target no longer answers at all.
            status, message = "error", f"the target dropped a request of this check: {exc}"
            for rid in check.requirements:
                evidence.add(Finding(rid, Kind.ERROR, f"{check.name}: {message}", check.name))
            if not _still_answers(cctx):
                self.unreachable = f"the target stopped answering: {exc}"
                with self.lock:
                    self.harness_errors.append(self.unreachable)
        except Exception as exc:  # a harness bug must not pass as conformance
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            for rid in check.requirements:
                evidence.add(Finding(rid, Kind.ERROR, f"harness error in {check.name}: {detail}", check.name))
            status, message = "error", detail
        finally:
            cctx.client.gate = None
            cctx.room = None
            budget.finished(lane.name, check)
        if status == "passed" and any(evidence.failed(r, check.name) for r in check.requirements):
            status = "failed"
        if status == "skipped" and "time limit" in message:
            self.left_unchecked.append(check.name)
        duration = time.monotonic() - began
        with self.lock:
            self.done += 1
            self.runs.append(CheckRun(check.name, check.group, check.requirements, status, duration, message))
        self.emit("end", check.name, status)
        return False


_NO_ROOM = "not run: no room left in this run's rate budget (--thorough or a larger --max-time runs it)"


class _PlannedContext(Context):
    """A lane's context: a check that fills the plan with generated examples runs out of time
    when the plan has no room left for another request (``room``), as well as at --max-time."""

    room: Callable[[], bool] | None = None

    def out_of_time(self) -> bool:
        if super().out_of_time():
            return True
        return self.room is not None and not self.room()

    def check_time(self) -> None:
        if self.room is not None and not self.room() and not super().out_of_time():
            raise Skip("the plan's rate budget has no room for more generated examples (--thorough, -n)")
        super().check_time()


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

    state: _Run | None = None
    main_client = HttpClient(config.target, pacer=pacer)
    clients.append(main_client)
    ctx = _PlannedContext(
        run_config, main_client, evidence, deadline=deadline, param_requirement=profile.param_requirement
    )
    dispatch = _dispatch(ctx, profile.response_checks)
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

    state = _Run(run_config, profile, plan, budget, emit)
    state.planned_examples = config.max_examples == 0
    lanes: list[_Lane] = []
    contexts: list[Context] = []
    for name, lane_checks in plan.lanes.items():
        lane_ctx = (
            ctx
            if name == "assistants"
            else _lane_context(run_config, config.target, pacer, evidence, deadline, profile, clients, ctx)
        )
        rl_ctx = lane_ctx
        if rl_target is not None and any(c.group == "ratelimit" for c in lane_checks):
            rl_ctx = _lane_context(run_config, rl_target, rl_pacer, evidence, deadline, profile, clients, ctx)
        lanes.append(_Lane(name, lane_checks, lane_ctx, rl_ctx))
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
        _cleanup_all(ctx, contexts, profile)
    for client in clients:
        client.close()
    ran = {r.name for r in state.runs if r.status != "skipped" or "rate limits off" not in r.message}
    ran |= set(profile.response_checks)
    verdicts = _verdicts(evidence, profile, ran)
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


def _lane_context(
    config: RunConfig,
    target: Target,
    pacer: Pacer,
    evidence: Evidence,
    deadline: float | None,
    profile: Profile,
    clients: list[HttpClient],
    shared: Context,
) -> _PlannedContext:
    client = HttpClient(target, pacer=pacer)
    clients.append(client)
    lane_ctx = _PlannedContext(
        config, client, evidence, deadline=deadline, param_requirement=profile.param_requirement
    )
    lane_ctx.facts = shared.facts  # discoveries (the deployment's model, ...) are the run's
    client.listeners.append(_dispatch(lane_ctx, profile.response_checks))
    return lane_ctx


def _in_catalogue_order(runs: list[CheckRun], checks: list[Check]) -> list[CheckRun]:
    order = {c.name: i for i, c in enumerate(checks)}
    return sorted(runs, key=lambda r: order.get(r.name, len(order)))


def _cleanup_all(ctx: Context, contexts: list[Context], profile: Profile) -> None:
    """Hand every lane's created objects to ``ctx`` (the assistants lane) and let the profile
    clean up (the Ragen profile deletes its scratch assistants)."""
    for other in contexts:
        if other is not ctx and other.target == ctx.target:
            ctx.created.extend(other.created)
            other.created.clear()
    if profile.cleanup is not None:
        profile.cleanup(ctx)


def _first(findings: list[Finding]) -> str:
    more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
    f = findings[0]
    where = f"{f.operation}: " if f.operation else ""
    return f"{where}{f.message}{more}"


def _verdicts(evidence: Evidence, profile: Profile, ran: set[str]) -> list[Verdict]:
    """One verdict per requirement. A rule passes only when a check observed it holding; a rule no
    check observed says why ("not observed"), and is *incomplete* when a missing input caused it."""
    covered = profile.covered()
    out = []
    for rid, req in profile.requirements().items():
        level = req["level"]
        findings = [f for f in evidence.findings if f.requirement == rid]
        fails = [f for f in findings if f.kind is Kind.FAIL]
        notes = [f for f in findings if f.kind is Kind.NOTE]
        skips = [f for f in findings if f.kind is Kind.SKIP]
        errors = [f for f in findings if f.kind is Kind.ERROR]
        passes = evidence.passes.get(rid, set())
        incomplete = False
        if req.get("observable") is False and not fails:
            verdict, reason = (
                VerdictKind.SKIP,
                "not observable by a black-box client (the mock proves it through its inspection API)",
            )
        elif fails:
            verdict = {"MUST": VerdictKind.FAIL, "SHOULD": VerdictKind.WARN}.get(level, VerdictKind.INFO)
            reason = _first(fails)
        elif errors:
            verdict, reason = VerdictKind.ERROR, _first(errors)
        elif level == "MAY" and notes:
            verdict, reason = VerdictKind.INFO, "; ".join(dict.fromkeys(n.message for n in notes))
        elif passes:
            verdict = VerdictKind.INFO if level in ("MAY", "OURS") else VerdictKind.PASS
            reason = "observed by " + ", ".join(sorted(passes))
            if notes:
                reason = "; ".join(dict.fromkeys(n.message for n in notes)) + f" ({reason})"
        elif skips and all(not s.incomplete and _deliberate(s.message) for s in skips):
            verdict, reason = VerdictKind.SKIP, skips[0].message
        elif not ran & set(covered.get(rid, [])):
            verdict = VerdictKind.SKIP
            reason = "not selected (--only/--skip)" if rid in covered else "no check covers it"
        else:
            verdict = VerdictKind.UNOBSERVED
            reasons = [s.message for s in skips] + [n.message for n in notes]
            reason = "; ".join(dict.fromkeys(reasons)) or "no response this run received showed it"
            incomplete = level == "MUST" and any(s.incomplete for s in skips)
        vendor = bool(req.get("vendor_specific")) or req.get("scope") == "vendor"
        out.append(
            Verdict(
                rid,
                level,
                req["text"],
                verdict,
                reason,
                sorted(covered.get(rid, [])),
                findings,
                vendor_specific=vendor,
                incomplete=incomplete,
            )
        )
    return out


# Skips the user asked for (they are not "not observed": nothing was meant to observe them).
_DELIBERATE = ("rate limits off", "not selected", "assistant_bound = false", "ragen-load")


def _deliberate(reason: str) -> bool:
    return any(marker in reason for marker in _DELIBERATE)
