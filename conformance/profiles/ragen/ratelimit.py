"""Rate limits, quick form: a burst past each tier gets 429 + envelope + Retry-After, and the
client is admitted again after waiting. Runs last (it spends the budget), unpaced, on the
rate-limit target (``--against-mock`` uses a second mock with short windows).

The full load test (many clients, per-IP independence) is ragen-load's job.
"""

from __future__ import annotations

import math
import time
from typing import Any

from conformance.context import Context, brief
from conformance.errors import Deferred, Skip
from conformance.exchange import Exchange
from conformance.profiles.ragen.calls import chat_body
from conformance.profiles.ragen.registry import check


def _fresh_window(ctx: Context, tier: str) -> None:
    """Sleep until a whole window has passed since this tier's last request."""
    wait = ctx.client.pacer.idle_until_fresh(tier)
    left = ctx.time_left()
    if left is not None and wait > left:
        raise Skip(f"waiting {wait:.0f}s for a fresh {tier} window would pass the time limit")
    if wait > 0:
        if ctx.client.pacer.on_wait:
            ctx.client.pacer.on_wait(tier, wait)
        time.sleep(wait)


def _burst(ctx: Context, tier: str, send: Any) -> tuple[list[Exchange], Exchange | None, int]:
    """Send until the first 429: (the requests admitted before it, the 429 or None, how many the
    tier must admit). Opens its lane, so the window holds at most the preflight's requests, which
    it counts; a second attempt (after an early 429: the window may not have been ours alone)
    waits out a whole window first. Stops once more were admitted than any sane limiter admits in
    the span the burst took (``limit x (1 + ceil(t / window))``, at least twice the limit)."""
    limit = ctx.target.tiers[tier].limit
    span = ctx.target.tiers[tier].window * 1.05 + 0.05
    if ctx.facts.get(f"burst-retry-{tier}") or ctx.client.pacer.sent_within(tier, span) > limit // 2:
        _fresh_window(ctx, tier)
    prior = ctx.client.pacer.sent_within(tier, span)
    expected = limit - prior
    window = ctx.target.tiers[tier].window
    admitted: list[Exchange] = []
    started = time.monotonic()
    with ctx.client.unpaced():
        for i in range(4 * limit):
            exchange = send(i)
            if exchange.status == 429:
                return admitted, exchange, expected
            admitted.append(exchange)
            # No sane limiter admits more than limit x (1 + ceil(t / window)) within a span t
            # (a fixed window straddled by the burst, a refilling token bucket): past that, it leaks.
            windows_spanned = 1 + math.ceil((time.monotonic() - started) / window - 1e-9)
            if prior + len(admitted) > limit * max(2, windows_spanned):
                return admitted, None, expected
    raise Skip(f"{len(admitted)} requests took too long to outpace the {tier} window ({window:g}s)")


def _recover(ctx: Context, tier: str, rejected: Exchange, send: Any) -> None:
    window = ctx.target.tiers[tier].window
    value = rejected.headers.get("retry-after", "")
    wait = float(value) if value.strip().isdigit() else None
    with ctx.client.unpaced():
        if wait is not None and wait <= window + 1:
            time.sleep(wait + 0.1)
            after = send(0)
            if after.status == 429:
                ctx.fail("RATE-RETRY-1", f"still 429 after waiting Retry-After {value}s", after)
            else:
                ctx.passed("RATE-RECOVER-1")
                return
        # Either no usable Retry-After or it was not honoured: wait out the whole window.
        time.sleep(max(0.0, window + 0.2 - (wait or 0.0)))
        again = send(0)
        ctx.expect(
            again.status != 429,
            "RATE-RECOVER-1",
            f"still 429 after waiting the whole {window:g}s window",
            again,
        )


def _check_burst(
    ctx: Context,
    tier: str,
    burst: tuple[list[Exchange], Exchange | None, int],
    promise: str,
    limit_id: str,
) -> Exchange | None:
    """Judge a burst; returns the 429 that ended it (None when the tier was not enforced)."""
    admitted, rejected, expected = burst
    odd = [ex for ex in admitted if ex.status >= 400 and ex.status != 404]  # an unknown id still counts
    if odd:
        raise Skip(f"burst requests were rejected for another reason: {odd[0].status} {brief(odd[0])}")
    if rejected is not None and len(admitted) < expected:
        if not ctx.facts.get(f"burst-retry-{tier}"):
            ctx.facts[f"burst-retry-{tier}"] = True
            raise Deferred(
                f"429 after {len(admitted)} requests: the {tier} window was not fresh; retried later"
            )
        ctx.fail(
            promise,
            f"request {len(admitted) + 1} of {expected} in a fresh window got 429 "
            f"(the {tier} tier promises {ctx.target.tiers[tier]})",
            rejected,
        )
        return rejected
    if rejected is None:
        ctx.fail(
            limit_id,
            f"{len(admitted)} requests in one burst were all admitted; the {tier} tier promises "
            f"{ctx.target.tiers[tier]} (429 past it; even a fixed window straddled by the burst "
            "admits at most twice the limit in one window span)",
            admitted[-1] if admitted else None,
        )
        return None
    ctx.passed(promise)  # the tier admitted what it promises
    limit = ctx.target.tiers[tier].limit
    if len(admitted) > limit:
        # On the MUST it passes (not RATE-ALGO-1): whether a burst straddles a fixed window's
        # boundary is timing, and no verdict may depend on timing.
        ctx.note(
            limit_id,
            f"the burst got {len(admitted)} requests through before the first 429 (at most {2 * limit} "
            "conforms: a fixed window's boundary or a token bucket's refill fell inside the burst)",
        )
    return rejected


@check(
    "RATE-CHAT-1",
    "RATE-CHAT-2",
    "RATE-RETRY-1",
    "RATE-RECOVER-1",
    "RATE-NATIVE-1",
    group="ratelimit",
    needs=("assistant_id",),
    cost={"chat": 12},
)
def chat_tier_burst(ctx: Context) -> None:
    """The chat tier admits its full budget (stream and JSON alike), then 429s, then admits again."""
    body = chat_body(ctx, "hi", max_tokens=8)

    def send(i: int) -> Exchange:
        return ctx.chat({**body, "stream": i % 2 == 1})

    extra = _check_burst(ctx, "chat", _burst(ctx, "chat", send), "RATE-CHAT-2", "RATE-CHAT-1")
    if extra is None:
        return
    ctx.expect_error(extra, 429, "rate_limit_error", "RATE-CHAT-1", "the request past the chat tier")
    if not ctx.config.thorough:
        ctx.skip("RATE-NATIVE-1", "a MAY point the default run leaves out (--thorough reports it)")
        _recover(ctx, "chat", extra, send)
        return
    with ctx.client.unpaced():
        native = ctx.request("POST", "/v1/chat", json_body={"content": "hi"})
    if native.status == 429:
        ctx.note("RATE-NATIVE-1", "/v1/chat shares the chat budget (429 once it is spent)")
    else:
        ctx.note(
            "RATE-NATIVE-1", f"/v1/chat has its own budget ({native.status} once the chat budget is spent)"
        )
    _recover(ctx, "chat", extra, send)


@check("RATE-CHAT-3", "RATE-ALGO-1", group="ratelimit")
def chat_tier_per_client_ip(ctx: Context) -> None:
    """Each client IP has its own chat budget, and the limiter's algorithm: ragen-load observes both."""
    ctx.skip(
        "RATE-ALGO-1", "needs bursts across several windows: ragen-load infers the algorithm", deliberate=True
    )
    raise Skip("needs several client addresses: ragen-load proves it", deliberate=True)


@check(
    "RATE-ASST-1", "RATE-ASST-2", "RATE-RETRY-1", "RATE-RECOVER-1", group="ratelimit", cost={"assistants": 22}
)
def assistants_tier_burst(ctx: Context) -> None:
    """The Assistants tier admits its full budget across endpoints, then 429s, then admits again."""

    def send(i: int) -> Exchange:
        return (
            ctx.request("GET", "/v1/assistants", params={"limit": 1})
            if i % 2 == 0
            else ctx.request("GET", f"/v1/assistants/{ctx.target.assistant_id or 'asst-conformance-probe'}")
        )

    extra = _check_burst(ctx, "assistants", _burst(ctx, "assistants", send), "RATE-ASST-1", "RATE-ASST-1")
    if extra is None:
        return
    ctx.expect_error(extra, 429, "rate_limit_error", "RATE-ASST-1", "the request past the assistants tier")
    if ctx.target.second_org_key and ctx.config.thorough:
        with ctx.client.unpaced():
            other = ctx.request("GET", "/v1/assistants", key=ctx.target.second_org_key, params={"limit": 1})
        scope = (
            "per client IP (another org's key is throttled too)"
            if other.status == 429
            else f"per key or organization (another org's key got {other.status})"
        )
        ctx.note("RATE-ASST-2", f"the assistants budget is kept {scope}")
    elif ctx.target.second_org_key:
        ctx.skip("RATE-ASST-2", "a MAY point the default run leaves out (--thorough reports it)")
    else:
        ctx.skip("RATE-ASST-2", "no second organization's key to tell per-IP from per-key budgets")
    _recover(ctx, "assistants", extra, send)


@check("RATE-COUNT-1", group="ratelimit", cost={"assistants": 21}, extra=True, after_cleanup=True)
def rejected_requests_count(ctx: Context) -> None:
    """Report whether rejected (401) requests count against the assistants budget."""
    tier = ctx.target.tiers["assistants"]
    _fresh_window(ctx, "assistants")
    with ctx.client.unpaced():
        for _ in range(tier.limit):
            ctx.request("GET", "/v1/assistants", key=None)
        probe = ctx.request("GET", "/v1/assistants", params={"limit": 1})
    if probe.status == 429:
        ctx.note("RATE-COUNT-1", f"rejected (401) requests count: {tier.limit} of them spent the budget")
    else:
        ctx.note(
            "RATE-COUNT-1",
            f"rejected (401) requests do not count ({tier.limit} of them, then {probe.status})",
        )
