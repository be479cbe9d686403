"""The pacer: it keeps a tier's budget and honours the server's Retry-After; every request has a tier."""

from __future__ import annotations

import pytest

from conformance.client import HttpClient
from conformance.config import Target, Tier
from conformance.pacing import Pacer


def test_pacer_keeps_the_tier_and_honours_blocks() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer({"chat": Tier(2, 10.0)}, enabled=True, clock=lambda: now[0], sleep=sleep)
    pacer.acquire("chat")
    pacer.acquire("chat")
    assert slept == []
    pacer.acquire("chat")  # the third must wait for the first to leave the window
    assert slept and 10.0 <= slept[0] <= 11.0
    pacer.block("chat", 30.0)
    before = now[0]
    pacer.acquire("chat")
    assert now[0] - before == pytest.approx(30.0)
    assert pacer.delay("other-tier") == 0.0


def test_unpaced_pacer_only_honours_retry_after() -> None:
    now = [0.0]
    pacer = Pacer({"chat": Tier(1, 60.0)}, enabled=False, clock=lambda: now[0], sleep=lambda s: None)
    for _ in range(5):
        pacer.acquire("chat")
    assert pacer.delay("chat") == 0.0
    pacer.block("chat", 3.0)
    assert pacer.delay("chat") == 3.0


def test_every_request_has_a_tier_to_pace_unrouted_ones_included() -> None:
    client = HttpClient(Target("http://127.0.0.1:1", "k"))
    assert client.tier_of("POST", "http://127.0.0.1:1/v1/chat/completions") == "chat"
    assert client.tier_of("DELETE", "http://127.0.0.1:1/v1/assistants/asst-1") == "assistants"
    # not routed by the spec: the tier of the operation it extends, else the scarcest (chat, 10/60)
    assert client.tier_of("PUT", "http://127.0.0.1:1/v1/assistants/asst-1/files") == "assistants"
    assert client.tier_of("GET", "http://127.0.0.1:1/prefix/v2/other") == "chat"
    generous = HttpClient(
        Target("http://127.0.0.1:1", "k", tiers={"chat": Tier(30, 1.0), "assistants": Tier(1, 60.0)})
    )
    assert generous.tier_of("GET", "http://127.0.0.1:1/elsewhere") == "assistants"
    client.close()
    generous.close()
