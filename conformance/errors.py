"""Outcomes that are not a pass.

Exception
 ├── AssertionError
 │    └── Failure            the server broke a requirement (its fault)
 ├── Skip                    a check could not run: missing input, time limit (nobody's fault)
 │    └── Deferred           not yet: run the check again at the end of its lane
 └── HarnessError            the harness could not run: usage, connection (our/the user's fault)
      ├── SetupError         the run cannot start: wrong base URL, key or assistant, missing inputs
      ├── TargetUnreachable  the target did not answer at the HTTP level
      └── UnsendableRequest  a generated request the HTTP client cannot put on the wire
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.exchange import Exchange

__all__ = [
    "Deferred",
    "Failure",
    "HarnessError",
    "SetupError",
    "Skip",
    "TargetUnreachable",
    "UnsendableRequest",
]


class Failure(AssertionError):
    """The implementation violated ``requirement``; ``exchange`` is the offending request, if any."""

    def __init__(
        self,
        requirement: str,
        message: str,
        *,
        exchange: Exchange | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.requirement = requirement
        self.message = message
        self.exchange = exchange
        self.operation = operation or (exchange.operation if exchange is not None else None)

    @property
    def reproduction(self) -> str | None:
        return self.exchange.curl() if self.exchange is not None else None

    def __str__(self) -> str:
        where = f" [{self.operation}]" if self.operation else ""
        return f"{self.requirement}{where}: {self.message}"


class Skip(Exception):
    """A check (or one requirement of it) cannot run; ``reason`` says why."""

    def __init__(self, reason: str, *, missing_input: bool = False, deliberate: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # The run lacked something the user must supply (a key, an assistant id, time): the rules
        # it leaves unchecked make the run incomplete rather than green.
        self.missing_input = missing_input
        # Not checked on purpose (the target's declared set-up, another tool's job): the rules it
        # leaves are "skip", not "not observed".
        self.deliberate = deliberate


class Deferred(Skip):
    """The check met a state it cannot judge yet (a rate window another client used): the runner
    runs it again at the end of its lane."""


class HarnessError(Exception):
    """The harness itself could not do its job (bad usage, bad config)."""


class TargetUnreachable(HarnessError):
    """The target did not answer at the HTTP level (refused, reset, timed out)."""


class UnsendableRequest(HarnessError):
    """The HTTP client refused a (generated) request before sending it; no server was involved."""


class SetupError(HarnessError):
    """The run cannot start: a wrong base URL, key or assistant, or inputs missing (one line)."""
