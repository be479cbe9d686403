"""From a run's evidence to one verdict per requirement of the profile."""

from __future__ import annotations

from conformance.context import Evidence
from conformance.profiles import Profile
from conformance.results import Finding, Kind, Verdict, VerdictKind

__all__ = ["verdicts_of"]


def _first(findings: list[Finding]) -> str:
    more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
    f = findings[0]
    where = f"{f.operation}: " if f.operation else ""
    return f"{where}{f.message}{more}"


def verdicts_of(evidence: Evidence, profile: Profile, ran: set[str]) -> list[Verdict]:
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
        elif skips and all(not s.incomplete and s.deliberate for s in skips):
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
