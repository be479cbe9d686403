"""The lanes of a run: each lane runs its checks in sequence on its own context and client (one
thread per lane, sharing the run's pacer and evidence), re-runs a deferred check last, runs the
profile's clean-up before the checks that need it, and records how every check ended."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from conformance.catalogue import Check, ResponseCheck
from conformance.client import HttpClient
from conformance.config import RunConfig, Target
from conformance.context import Context, Evidence
from conformance.errors import Deferred, Failure, HarnessError, Skip, TargetUnreachable
from conformance.exchange import Exchange
from conformance.pacing import Pacer
from conformance.plan import Budget, Plan
from conformance.profiles import Profile
from conformance.results import CheckRun, Finding, Kind

__all__ = ["Lane", "Lanes", "PlannedContext", "cleanup_all", "dispatch_to", "lane_context"]


def dispatch_to(ctx: Context, response_checks: Mapping[str, ResponseCheck]) -> Callable[[Exchange], None]:
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


def still_answers(ctx: Context) -> bool:
    """Whether the target still answers HTTP at all (any status) after a dropped connection."""
    try:
        ctx.request("GET", "/")  # any path of any profile: only an HTTP answer matters
    except HarnessError:
        return False
    return True


@dataclass
class Lane:
    """One lane's thread state: its own context and client (sharing the pacer and evidence)."""

    name: str
    checks: list[Check]
    ctx: PlannedContext
    rl_ctx: PlannedContext


class Lanes:
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

    def run_lane(self, lane: Lane, contexts: list[Context]) -> None:
        try:
            self._run_lane(lane, contexts)
        except Exception as exc:  # a harness bug in a lane must surface, not end a thread silently
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            with self.lock:
                self.harness_errors.append(f"the {lane.name} lane stopped: {detail}")

    def _run_lane(self, lane: Lane, contexts: list[Context]) -> None:
        queue = list(lane.checks)
        while queue:
            check = queue.pop(0)
            if check.after_cleanup and not self.cleanup_done.is_set():
                cleanup_all(lane.ctx, contexts, self.profile)
                self.cleanup_done.set()
            if self.run_check(lane, check):
                queue.append(check)  # a burst that found its window not fresh: again, last
        if lane.name == "assistants" and not self.cleanup_done.is_set():
            cleanup_all(lane.ctx, contexts, self.profile)
            self.cleanup_done.set()

    def run_check(self, lane: Lane, check: Check) -> bool:
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
        status, message, deliberate = "passed", "", False
        missing = [n for n in check.needs if not getattr(cctx.target, n)]
        try:
            if self.unreachable is not None:
                raise Skip(f"not run: {self.unreachable}")
            if check.group == "ratelimit" and not cctx.target.rate_limits:
                raise Skip("the target runs with rate limits off (rate_limits = false)", deliberate=True)
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
                    cctx.skip(rid, skip.reason, missing_input=skip.missing_input, deliberate=skip.deliberate)
            status, message, deliberate = "skipped", skip.reason, skip.deliberate
        except TargetUnreachable as exc:
            # One dropped connection (already retried once) is this check's problem; the run stops
            # only if the target no longer answers at all.
            status, message = "error", f"the target dropped a request of this check: {exc}"
            for rid in check.requirements:
                evidence.add(Finding(rid, Kind.ERROR, f"{check.name}: {message}", check.name))
            if not still_answers(cctx):
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
            self.runs.append(
                CheckRun(check.name, check.group, check.requirements, status, duration, message, deliberate)
            )
        self.emit("end", check.name, status)
        return False


_NO_ROOM = "not run: no room left in this run's rate budget (--thorough or a larger --max-time runs it)"


class PlannedContext(Context):
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


def lane_context(
    config: RunConfig,
    target: Target,
    pacer: Pacer,
    evidence: Evidence,
    deadline: float | None,
    profile: Profile,
    clients: list[HttpClient],
    shared: Context,
) -> PlannedContext:
    client = HttpClient(target, pacer=pacer)
    clients.append(client)
    lane_ctx = PlannedContext(
        config, client, evidence, deadline=deadline, param_requirement=profile.param_requirement
    )
    lane_ctx.facts = shared.facts  # discoveries (the deployment's model, ...) are the run's
    client.listeners.append(dispatch_to(lane_ctx, profile.response_checks))
    return lane_ctx


def cleanup_all(ctx: Context, contexts: list[Context], profile: Profile) -> None:
    """Hand every lane's created objects to ``ctx`` (the assistants lane) and let the profile
    clean up (the Ragen profile deletes its scratch assistants)."""
    for other in contexts:
        if other is not ctx and other.target == ctx.target:
            ctx.created.extend(other.created)
            other.created.clear()
    if profile.cleanup is not None:
        profile.cleanup(ctx)
