"""What a run found: findings per requirement, verdicts by level, and the exit code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CheckRun", "Finding", "Kind", "Report", "Verdict", "VerdictKind"]


class Kind(StrEnum):
    """What one piece of evidence says about one requirement."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    NOTE = "note"  # a MAY choice or an informational observation
    ERROR = "error"  # the harness failed while checking it


class VerdictKind(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"
    SKIP = "skip"  # deliberately not checked: not selected, rate limits off, not observable
    UNOBSERVED = "not observed"  # no check saw it; the reason says why (missing input, not applicable, ...)
    ERROR = "error"


@dataclass
class Finding:
    requirement: str
    kind: Kind
    message: str
    check: str
    operation: str | None = None
    reproduction: str | None = None
    exchange: dict[str, Any] | None = None
    # For a SKIP: the run lacked an input (a key, an assistant id, time) an observable rule needed.
    incomplete: bool = False
    # For a SKIP: not checked on purpose (rate limits declared off, another tool's job).
    deliberate: bool = False


@dataclass
class CheckRun:
    name: str
    group: str
    requirements: tuple[str, ...]
    status: str  # passed | failed | skipped | error
    duration: float
    message: str = ""
    deliberate: bool = False  # skipped on purpose (see Skip.deliberate)


@dataclass
class Verdict:
    requirement: str
    level: str
    text: str
    verdict: VerdictKind
    reason: str
    checks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # Where a MUST rests on a row only this vendor's document states (not an OpenAI convention).
    vendor_specific: bool = False
    # A MUST left unchecked for a missing input: the run cannot call the server conformant.
    incomplete: bool = False

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.kind is Kind.FAIL]


@dataclass
class Report:
    base_url: str
    verdicts: list[Verdict]
    checks: list[CheckRun]
    requests: int
    duration: float
    strict: bool = False
    paced_seconds: float = 0.0
    harness_errors: list[str] = field(default_factory=list)
    # Requests per rate tier ("-" = untiered), to size --max-examples for a paced real server.
    requests_by_tier: dict[str, int] = field(default_factory=dict)
    allow_incomplete: bool = False
    seed: int | None = None
    profile: str = "ragen"

    def count(self, kind: VerdictKind) -> int:
        return sum(1 for v in self.verdicts if v.verdict is kind)

    @property
    def violations(self) -> list[Verdict]:
        bad = {VerdictKind.FAIL} | ({VerdictKind.WARN} if self.strict else set())
        return [v for v in self.verdicts if v.verdict in bad]

    @property
    def incomplete(self) -> list[Verdict]:
        """Observable MUSTs this run could not check for lack of an input (see ``--allow-incomplete``)."""
        return [v for v in self.verdicts if v.incomplete]

    @property
    def exit_code(self) -> int:
        """0 conformant, 1 violations, 2 the harness could not decide (errors, or MUSTs left unchecked)."""
        if self.violations:
            return 1
        if self.harness_errors or self.count(VerdictKind.ERROR):
            return 2
        if self.incomplete and not self.allow_incomplete:
            return 2
        return 0

    def verdict(self, requirement: str) -> Verdict:
        return next(v for v in self.verdicts if v.requirement == requirement)

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "profile": self.profile,
            "seed": self.seed,
            "exit_code": self.exit_code,
            "strict": self.strict,
            "duration_s": round(self.duration, 3),
            "requests": self.requests,
            "requests_by_tier": self.requests_by_tier,
            "paced_seconds": round(self.paced_seconds, 3),
            "summary": {k.value: self.count(k) for k in VerdictKind},
            "harness_errors": self.harness_errors,
            "incomplete": [v.requirement for v in self.incomplete],
            "requirements": [
                {
                    **{k: v for k, v in asdict(verdict).items() if k != "findings"},
                    "verdict": verdict.verdict.value,
                    "findings": [asdict(f) | {"kind": f.kind.value} for f in verdict.findings],
                }
                for verdict in self.verdicts
            ],
            "checks": [asdict(c) for c in self.checks],
        }
