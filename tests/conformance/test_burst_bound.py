"""The rate-limit burst's bound: a limiter that admits up to twice its limit inside one window span
(a fixed window whose boundary the burst straddles) is no leak; one that admits more is."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from aiohttp import web

from conformance.config import GROUPS, RunConfig, Target, Tier
from conformance.profiles import Profile
from conformance.profiles.ragen.registry import CHECKS
from conformance.results import VerdictKind
from conformance.runner import run
from mockserver.background import BackgroundServer

LIMIT, WINDOW = 5, 1.0
ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def _limited_app(admits_per_burst: int) -> web.Application:
    """Admits ``admits_per_burst`` chat requests, then answers 429 until a whole window passed:
    with ``2 * LIMIT`` it behaves as a fixed window whose boundary fell inside the burst."""
    state = {"admitted": 0, "since": 0.0}

    async def chat(request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        if now - state["since"] > WINDOW:
            state["admitted"], state["since"] = 0, now
        if state["admitted"] >= admits_per_burst:
            error = {"message": "slow down", "type": "rate_limit_error", "code": None, "param": None}
            return web.json_response({"error": error}, status=429, headers={"Retry-After": "1"})
        state["admitted"] += 1
        return web.json_response(ANSWER)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


@pytest.fixture(params=[2 * LIMIT, 4 * LIMIT], ids=["twice-the-limit", "four-times"])
def limited(request: pytest.FixtureRequest) -> Iterator[tuple[int, str]]:
    with BackgroundServer(lambda: _limited_app(request.param)) as server:
        yield request.param, server.url


def test_the_burst_fails_only_more_than_any_sane_limiter_admits(limited: tuple[int, str]) -> None:
    admits, url = limited
    burst = CHECKS["chat_tier_burst"]
    profile = Profile("ragen", None, {burst.name: burst}, {}, GROUPS)  # no preflight: a bare server
    target = Target(url, "k", assistant_id="asst-x", tiers={"chat": Tier(LIMIT, WINDOW)}, rate_limits=True)
    report = run(RunConfig(target=target, groups=("ratelimit",), allow_incomplete=True), profile=profile)
    verdict = report.verdict("RATE-CHAT-1")
    if admits == 2 * LIMIT:
        assert verdict.verdict is VerdictKind.PASS, verdict.reason
        assert "at most" in verdict.reason  # the server's behaviour is reported, not failed
    else:
        assert verdict.verdict is VerdictKind.FAIL, verdict.reason
