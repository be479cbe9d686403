"""Check plumbing both profiles share (Ragen and openai-proxy), parameterized by the requirement id.

Each profile keeps its own ids, scope and tables; the judging of one fact is ``ragen_spec.judge``'s
(shared with the mock's validating proxy), these helpers turn its problems into evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings
from ragen_spec import judge
from ragen_spec.judge import Problem, validation_problems

if TYPE_CHECKING:
    from conformance.context import Context
    from conformance.exchange import Exchange

__all__ = [
    "example_settings",
    "expect_completion_identity",
    "expect_request_id",
    "expect_retry_after",
    "expect_usage_adds_up",
    "validation_problems",
]


def example_settings(ctx: Context) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Hypothesis settings of a generated-input loop: the run's example budget and seed, no database.

    The seed makes generation repeatable: the same server gets the same requests, hence the same
    verdicts, on every run."""
    loop_settings = settings(
        max_examples=max(1, ctx.config.max_examples),
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )

    def apply(test: Callable[..., None]) -> Callable[..., None]:
        test = loop_settings(test)
        return test if ctx.config.seed is None else hypothesis.seed(ctx.config.seed)(test)

    return apply


def _expect(ctx: Context, problems: list[Problem], exchange: Exchange, requirement: str) -> bool:
    """Record ``problems`` as failures; none means ``requirement`` was observed holding."""
    for rid, message in problems:
        ctx.fail(rid, message, exchange)
    if not problems:
        ctx.passed(requirement)
    return not problems


def expect_request_id(ctx: Context, exchange: Exchange, requirement: str) -> None:
    """The response carries a non-empty x-request-id."""
    _expect(ctx, judge.request_id_problems(exchange.headers, requirement), exchange, requirement)


def expect_retry_after(ctx: Context, exchange: Exchange, requirement: str) -> None:
    """The response carries Retry-After in whole seconds."""
    problems = judge.retry_after_problems(exchange.status, exchange.headers, requirement)
    _expect(ctx, problems, exchange, requirement)


def expect_completion_identity(
    ctx: Context, body: dict[str, Any], requirement: str, exchange: Exchange
) -> None:
    """A chat.completion's id starts with chatcmpl- and its created is within a day of now."""
    _expect(ctx, judge.completion_identity_problems(body, requirement), exchange, requirement)


def expect_usage_adds_up(
    ctx: Context, usage: Any, requirement: str, exchange: Exchange
) -> tuple[int, int, int] | None:
    """total_tokens = prompt_tokens + completion_tokens; returns the three counts when all are ints."""
    found: tuple[list[Problem], tuple[int, int, int] | None] = judge.usage_problems(usage, requirement)
    _expect(ctx, found[0], exchange, requirement)
    return found[1]
