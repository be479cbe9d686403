"""What a check sees: the target, the paced client, the run's limits and an evidence sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable
from typing import Any

from ragen_spec import requirements

from conformance.client import HttpClient
from conformance.config import RunConfig, Target
from conformance.errors import Failure, Skip
from conformance.exchange import Exchange
from conformance.results import Finding, Kind

__all__ = ["Context", "Evidence"]

# Distinct failures kept per (requirement, operation); further ones are only counted.
_KEEP_PER_KEY = 3


class Evidence:
    """Thread-safe sink of findings, deduplicated so a fuzzer hitting one bug 500 times stays readable."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.passes: dict[str, set[str]] = {}
        self.suppressed: dict[tuple[str, str | None], int] = {}
        self._lock = threading.Lock()

    def add(self, finding: Finding) -> None:
        with self._lock:
            if finding.kind is Kind.PASS:
                self.passes.setdefault(finding.requirement, set()).add(finding.check)
                return
            key = (finding.requirement, finding.operation)
            same = [
                f for f in self.findings if (f.requirement, f.operation) == key and f.kind is finding.kind
            ]
            if any(f.message == finding.message for f in same) or len(same) >= _KEEP_PER_KEY:
                self.suppressed[key] = self.suppressed.get(key, 0) + 1
                return
            self.findings.append(finding)

    def discard_passes(self) -> None:
        with self._lock:
            self.passes.clear()

    def failed(self, requirement: str, check: str | None = None) -> bool:
        return any(
            f.requirement == requirement and f.kind is Kind.FAIL and (check is None or f.check == check)
            for f in self.findings
        )

    def touched(self, requirement: str, check: str) -> bool:
        return any(f.requirement == requirement and f.check == check for f in self.findings)


class Context:
    def __init__(
        self,
        config: RunConfig,
        client: HttpClient,
        evidence: Evidence,
        *,
        deadline: float | None = None,
        param_requirement: str | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.evidence = evidence
        self.deadline = deadline
        self.check_name = ""
        self.created: list[str] = []  # ids of what this run created (the profile's clean-up removes them)
        # The rule ``expect_error(param=...)`` checks the error's ``param`` under (the profile's).
        self.param_requirement = param_requirement
        self.facts: dict[str, Any] = {}  # shared discoveries (the deployment's model, ...)
        # Requirement ids that got a fail/skip/note since the last reset. A rule passes only where a
        # check observed it (``expect`` that held, or ``passed``): an untouched id is "not observed".
        self.touched: set[str] = set()
        # While set, failures are recorded against this requirement instead (our own endpoint's
        # problems stay informational, see profiles/ragen/schema.py).
        self.redirect: str | None = None

    @property
    def target(self) -> Target:
        return self.client.target

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def out_of_time(self) -> bool:
        """Whether ``--max-time`` has run out (never, without one)."""
        left = self.time_left()
        return left is not None and left <= 0

    def check_time(self) -> None:
        if self.out_of_time():
            raise Skip("time limit reached (--max-time)", missing_input=True)

    # -- evidence ----------------------------------------------------------------------------------
    def _finding(
        self,
        requirement: str,
        kind: Kind,
        message: str,
        exchange: Exchange | None,
        operation: str | None = None,
    ) -> Finding:
        self.touched.add(requirement)
        return Finding(
            requirement=requirement,
            kind=kind,
            message=exchange.redact(message) if exchange is not None else message,
            check=self.check_name,
            operation=operation or (exchange.operation if exchange is not None else None),
            reproduction=exchange.curl() if exchange is not None and kind is Kind.FAIL else None,
            exchange=exchange.as_dict() if exchange is not None and kind is Kind.FAIL else None,
        )

    def fail(
        self,
        requirement: str,
        message: str,
        exchange: Exchange | None = None,
        *,
        operation: str | None = None,
    ) -> None:
        """Record a violation and carry on (use ``raise Failure`` to stop the check)."""
        if self.redirect is not None and self.redirect != requirement:
            requirement, message = self.redirect, f"[{requirement}] {message}"
        self.evidence.add(self._finding(requirement, Kind.FAIL, message, exchange, operation))

    def record_failure(self, failure: Failure) -> None:
        self.fail(failure.requirement, failure.message, failure.exchange, operation=failure.operation)

    def note(self, requirement: str, message: str, exchange: Exchange | None = None) -> None:
        """What the server chose on a MAY point, or an informational observation."""
        self.evidence.add(self._finding(requirement, Kind.NOTE, message, exchange))

    def choice(self, requirement: str, exchange: Exchange, what: str) -> None:
        """Report which conformant answer (the MAY rule's ``answers`` in the spec) the server chose."""
        answers: dict[str, str] = requirements(self.config.spec_path)[requirement].get("answers", {})
        error = exchange.error
        key = str(exchange.status) if error is None else f"{exchange.status} {error.get('type')}"
        meaning = next((m for pattern, m in answers.items() if key.startswith(pattern)), None)
        if meaning is not None:
            self.note(requirement, f"{what}: {meaning} ({key})")
        else:
            self.note(
                requirement,
                f"{what}: answered {key} {brief(exchange)} — none of the conformant choices",
                exchange,
            )

    def skip(
        self, requirement: str, reason: str, *, missing_input: bool = False, deliberate: bool = False
    ) -> None:
        finding = self._finding(requirement, Kind.SKIP, reason, None)
        finding.incomplete, finding.deliberate = missing_input, deliberate
        self.evidence.add(finding)

    def passed(self, requirement: str) -> None:
        """``requirement`` was observed and held (only an observation may pass a rule)."""
        if self.redirect is None or self.redirect == requirement:
            self.evidence.add(Finding(requirement, Kind.PASS, "", self.check_name))

    def expect(
        self, condition: bool, requirement: str, message: str, exchange: Exchange | None = None
    ) -> bool:
        if condition:
            self.passed(requirement)
        else:
            self.fail(requirement, message, exchange)
        return condition

    # -- requests ----------------------------------------------------------------------------------
    def chat(self, body: Any, *, key: Any = ..., **kwargs: Any) -> Exchange:
        extra = {} if key is ... else {"key": key}
        return self.client.request("POST", "/v1/chat/completions", json_body=body, **extra, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> Exchange:
        return self.client.request(method, path, **kwargs)

    def expect_status(self, exchange: Exchange, statuses: Iterable[int], requirement: str, what: str) -> bool:
        allowed = set(statuses)
        return self.expect(
            exchange.status in allowed,
            requirement,
            f"{what}: expected {' or '.join(map(str, sorted(allowed)))}, got {exchange.status} "
            f"{_brief(exchange)}",
            exchange,
        )

    def expect_error(
        self,
        exchange: Exchange,
        status: int,
        error_type: str | Collection[str],
        requirement: str,
        what: str,
        *,
        param: str | None = None,
    ) -> bool:
        """``status`` with the envelope and ``error_type`` (or one of several); ``param`` is checked
        under the profile's ``param_requirement`` (a SHOULD in both profiles)."""
        if not self.expect_status(exchange, {status}, requirement, what):
            return False
        error = exchange.error
        if error is None:
            return self.expect(False, requirement, f"{what}: {status} without the error envelope", exchange)
        allowed = {error_type} if isinstance(error_type, str) else set(error_type)
        ok = self.expect(
            error.get("type") in allowed,
            requirement,
            f"{what}: error type {error.get('type')!r}, expected {' or '.join(sorted(map(repr, allowed)))}",
            exchange,
        )
        if param is not None and self.param_requirement is not None:
            self.expect(
                error.get("param") == param,
                self.param_requirement,
                f"{what}: param {error.get('param')!r}, expected {param!r}",
                exchange,
            )
        return ok


def _brief(exchange: Exchange, limit: int = 160) -> str:
    error = exchange.error
    if error is not None:
        return f"({error.get('type')}: {str(error.get('message'))[:100]})"
    text = exchange.text.strip().replace("\n", " ")
    return f"({text[:limit]}{'…' if len(text) > limit else ''})" if text else "(empty body)"


brief = _brief
