"""Check logic both profiles share (Ragen and openai-proxy), parameterized by the requirement id.

Each profile keeps its own ids, scope and tables; only the judging of one fact lives here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

    from conformance.client import Exchange
    from conformance.context import Context

__all__ = [
    "example_settings",
    "expect_completion_identity",
    "expect_request_id",
    "expect_retry_after",
    "expect_usage_adds_up",
    "validation_problems",
]


def validation_problems(validator: Draft202012Validator, instance: Any) -> list[str]:
    """The first three violations of ``validator`` by ``instance``, as short readable lines."""
    found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in found[:3]]


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


def expect_request_id(ctx: Context, exchange: Exchange, requirement: str) -> None:
    """The response carries a non-empty x-request-id."""
    ctx.expect(
        bool(exchange.headers.get("x-request-id", "").strip()),
        requirement,
        "no x-request-id header",
        exchange,
    )


def expect_retry_after(ctx: Context, exchange: Exchange, requirement: str) -> None:
    """The response carries Retry-After in whole seconds."""
    value = exchange.headers.get("retry-after")
    ctx.expect(
        value is not None and value.strip().isdigit(),
        requirement,
        f"{exchange.status} with Retry-After {value!r}, expected whole seconds",
        exchange,
    )


def expect_completion_identity(
    ctx: Context, body: dict[str, Any], requirement: str, exchange: Exchange
) -> None:
    """A chat.completion's id starts with chatcmpl- and its created is within a day of now."""
    ctx.expect(
        str(body["id"]).startswith("chatcmpl-"), requirement, f"id {body['id']!r} lacks chatcmpl-", exchange
    )
    ctx.expect(
        abs(body["created"] - time.time()) < 86400,
        requirement,
        f"created {body['created']} is not within a day of now",
        exchange,
    )


def expect_usage_adds_up(
    ctx: Context, usage: Any, requirement: str, exchange: Exchange
) -> tuple[int, int, int] | None:
    """total_tokens = prompt_tokens + completion_tokens; returns the three counts when all are ints."""
    if not isinstance(usage, dict):
        return None
    p, c, t = (usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    if not (isinstance(p, int) and isinstance(c, int) and isinstance(t, int)):
        return None
    ctx.expect(
        t == p + c,
        requirement,
        f"total_tokens {t} != prompt_tokens {p} + completion_tokens {c}",
        exchange,
    )
    return p, c, t
