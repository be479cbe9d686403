"""The catalogue's types: a check, the requirement ids it verifies, its group and the inputs it needs.

Each profile keeps a ``Registry`` of its own (``conformance.profiles.<name>.registry``); its checks
register themselves with ``@check(...)`` (a probe: ``f(ctx)`` sends its own requests) or
``@response_check(...)`` (``f(ctx, exchange)``, run on every response the run receives). The
requirement ids must exist in the profile's spec; tests assert it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.context import Context
    from conformance.exchange import Exchange

__all__ = ["Check", "Registry", "ResponseCheck"]

ProbeFn = Callable[["Context"], None]
ResponseFn = Callable[["Context", "Exchange"], bool]


@dataclass(frozen=True)
class Check:
    name: str
    func: ProbeFn
    requirements: tuple[str, ...]
    group: str
    # Target fields that must be set (e.g. "second_org_key"); missing ones make the check a skip.
    needs: tuple[str, ...] = ()
    # Requests per rate tier the check sends in a default (planned) run against a correct server,
    # e.g. {"chat": 4}; the planner schedules and paces by it (a test holds it to the truth).
    cost: Mapping[str, int] = field(default_factory=dict)
    # Not needed for any MUST: run only when the pacing windows the run pays for anyway have room
    # for it (always with --thorough). Generated examples are extra by nature.
    extra: bool = False
    # Generates examples beyond ``cost`` for as long as the plan has room (the cost's tiers; a tier
    # listed with 0 is one it may fill too).
    fills: bool = False
    # Runs only once the profile's clean-up removed what the run created (it needs a quiet tier).
    after_cleanup: bool = False

    @property
    def lane(self) -> str:
        """The tier whose budget this check mostly spends (checks of one lane run in sequence)."""
        chat, assistants = self.cost.get("chat", 0), self.cost.get("assistants", 0)
        return "chat" if chat * 2 > assistants else "assistants"

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or self.name).strip().splitlines()[0]


@dataclass(frozen=True)
class ResponseCheck:
    name: str
    func: ResponseFn
    requirements: tuple[str, ...]

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or self.name).strip().splitlines()[0]


@dataclass
class Registry:
    """One profile's catalogue: its probes and response checks, by name, and their decorators.

    ``groups``, when given, are the only groups a probe may name (a typo fails at import).
    """

    groups: tuple[str, ...] | None = None
    checks: dict[str, Check] = field(default_factory=dict)
    response_checks: dict[str, ResponseCheck] = field(default_factory=dict)

    def check(
        self,
        *requirements: str,
        group: str,
        needs: tuple[str, ...] = (),
        cost: Mapping[str, int] | None = None,
        extra: bool = False,
        fills: bool = False,
        after_cleanup: bool = False,
    ) -> Callable[[ProbeFn], ProbeFn]:
        def register(func: ProbeFn) -> ProbeFn:
            if func.__name__ in self.checks:
                raise ValueError(f"duplicate check {func.__name__}")
            if self.groups is not None and group not in self.groups:
                raise ValueError(f"unknown group {group!r} for check {func.__name__}")
            self.checks[func.__name__] = Check(
                func.__name__,
                func,
                tuple(requirements),
                group,
                tuple(needs),
                dict(cost or {}),
                extra,
                fills,
                after_cleanup,
            )
            return func

        return register

    def response_check(self, *requirements: str) -> Callable[[ResponseFn], ResponseFn]:
        """Register ``f(ctx, exchange) -> applied``: returns whether the exchange was in scope."""

        def register(func: ResponseFn) -> ResponseFn:
            self.response_checks[func.__name__] = ResponseCheck(func.__name__, func, tuple(requirements))
            return func

        return register
