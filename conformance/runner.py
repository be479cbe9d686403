"""Runs the catalogue against a target and returns a Report. Prints nothing: progress goes to a
callback, output to the reporters."""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from conformance import checks as _checks  # noqa: F401  (registers the catalogue)
from conformance.catalogue import Check, ResponseCheck
from conformance.client import Exchange, HttpClient
from conformance.config import GROUPS, RunConfig
from conformance.context import Context, Evidence
from conformance.errors import Failure, HarnessError, Skip, TargetUnreachable
from conformance.profiles import Profile, get_profile
from conformance.results import CheckRun, Finding, Kind, Report, Verdict, VerdictKind

__all__ = ["Progress", "run", "selected_checks"]


@dataclass(frozen=True)
class Progress:
    """One progress event: a check started/ended, or the pacer is waiting."""

    kind: str  # "start" | "end" | "wait"
    check: str
    index: int
    total: int
    elapsed: float
    eta: float | None
    requests: int
    detail: str = ""


def selected_checks(config: RunConfig, profile: Profile | None = None) -> list[Check]:
    profile = profile or get_profile("ragen")
    # --only/--skip name the Ragen groups; another profile runs all of its own.
    groups = (
        config.groups
        if profile.groups == GROUPS
        else [g for g in profile.groups if g in config.groups or config.groups == GROUPS]
    )
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


def _preflight(ctx: Context) -> None:
    """The target answers HTTP and accepts the key; otherwise nothing else is worth running."""
    exchange = ctx.request("GET", "/v1/assistants", params={"limit": 1})
    if exchange.status in (401, 403):
        raise HarnessError(
            f"the API key was rejected by {ctx.target.base_url} ({exchange.status}); "
            "check --api-key / RAGEN_API_KEY"
        )


def run(
    config: RunConfig, *, progress: Callable[[Progress], None] | None = None, profile: Profile | None = None
) -> Report:
    """Run ``profile`` (default: the Ragen catalogue against spec/openapi.yaml)."""
    profile = profile or get_profile("ragen")
    if not profile.pace:
        config = replace(config, target=replace(config.target, pace=False))
    started = time.monotonic()
    deadline = started + config.max_time if config.max_time else None
    evidence = Evidence()
    checks = selected_checks(config, profile)
    index = 0
    harness_errors: list[str] = []
    runs: list[CheckRun] = []

    def emit(kind: str, name: str, detail: str = "") -> None:
        if progress is None:
            return
        elapsed = time.monotonic() - started
        eta = elapsed / index * (len(checks) - index) if index and kind != "wait" else None
        progress(Progress(kind, name, index, len(checks), elapsed, eta, requests(), detail))

    def on_wait(tier: str, seconds: float) -> None:
        emit("wait", ctx.check_name, f"pacing: waiting {seconds:.1f}s for the {tier} budget")

    client = HttpClient(config.target, on_wait=on_wait)
    ctx = Context(config, client, evidence, deadline=deadline)
    client.listeners.append(_dispatch(ctx, profile.response_checks))
    rl_ctx = ctx
    if config.ratelimit_target is not None and any(c.group == "ratelimit" for c in checks):
        rl_client = HttpClient(config.ratelimit_target, on_wait=on_wait)
        rl_ctx = Context(config, rl_client, evidence, deadline=deadline)
        rl_client.listeners.append(_dispatch(rl_ctx, profile.response_checks))

    def requests() -> int:
        return client.count + (rl_ctx.client.count if rl_ctx is not ctx else 0)

    unreachable: str | None = None
    try:
        (profile.preflight or _preflight)(ctx)
    except (HarnessError, Skip) as exc:
        unreachable = str(exc)
        harness_errors.append(unreachable)
        evidence.discard_passes()  # a rejected key's 401 observed nothing about the server's rules

    for check in checks:
        index += 1
        emit("start", check.name)
        began = time.monotonic()
        cctx = rl_ctx if check.group == "ratelimit" else ctx
        cctx.check_name, cctx.touched = check.name, set()
        status, message = "passed", ""
        missing = [n for n in check.needs if not getattr(cctx.target, n)]
        try:
            if unreachable is not None:
                raise Skip(f"not run: {unreachable}")
            if check.group == "ratelimit" and not cctx.target.rate_limits:
                raise Skip("the target runs with rate limits off (rate_limits = false)")
            if missing:
                raise Skip(
                    f"needs {', '.join(missing)} (--{missing[0].replace('_', '-')})", missing_input=True
                )
            cctx.check_time()
            check.func(cctx)
        except Failure as failure:
            cctx.record_failure(failure)
            status, message = "failed", str(failure)
        except Skip as skip:
            for rid in check.requirements:
                if rid not in cctx.touched:
                    cctx.skip(rid, skip.reason, missing_input=skip.missing_input)
            status, message = "skipped", skip.reason
        except TargetUnreachable as exc:
            # One dropped connection is this check's problem; the run stops only if the target no
            # longer answers at all.
            status, message = "error", f"the target dropped a request of this check: {exc}"
            for rid in check.requirements:
                evidence.add(Finding(rid, Kind.ERROR, f"{check.name}: {message}", check.name))
            if not _still_answers(ctx):
                unreachable = f"the target stopped answering: {exc}"
                harness_errors.append(unreachable)
        except Exception as exc:  # a harness bug must not pass as conformance
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            for rid in check.requirements:
                evidence.add(Finding(rid, Kind.ERROR, f"harness error in {check.name}: {detail}", check.name))
            status, message = "error", detail
        if status == "passed" and any(evidence.failed(r, check.name) for r in check.requirements):
            status = "failed"
        duration = time.monotonic() - began
        runs.append(CheckRun(check.name, check.group, check.requirements, status, duration, message))
        emit("end", check.name, status)

    if unreachable is None:
        _cleanup(ctx)
    client.close()
    if rl_ctx is not ctx:
        rl_ctx.client.close()
    ran = {r.name for r in runs if r.status != "skipped" or "rate limits off" not in r.message}
    ran |= set(profile.response_checks)
    verdicts = _verdicts(evidence, profile, ran)
    paced = client.pacer.waited + (rl_ctx.client.pacer.waited if rl_ctx is not ctx else 0.0)
    by_tier = client.exchanges_by_tier + (rl_ctx.client.exchanges_by_tier if rl_ctx is not ctx else Counter())
    return Report(
        config.target.base_url,
        verdicts,
        runs,
        requests(),
        time.monotonic() - started,
        strict=config.strict,
        paced_seconds=paced,
        harness_errors=harness_errors,
        requests_by_tier=dict(by_tier),
        seed=config.seed,
        profile=profile.name,
        allow_incomplete=config.allow_incomplete,
    )


def _cleanup(ctx: Context) -> None:
    """Delete the scratch assistants this run created (best effort)."""
    ctx.check_name, ctx.touched = "cleanup", set()
    for assistant_id in dict.fromkeys(ctx.created):
        try:
            ctx.request("DELETE", f"/v1/assistants/{assistant_id}")
        except (HarnessError, Skip):
            break
    ctx.created.clear()


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
