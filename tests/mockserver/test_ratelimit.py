"""Rate-limit tiers: RATE-*, HDR-RATE-1, with the virtual clock instead of sleeping."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx2
import openai
import pytest

from mockserver.background import BackgroundServer
from mockserver.ratelimit import SlidingWindow, duration
from tests.mockserver.conftest import chat_body, checked_client, make_openai

CHAT = "/v1/chat/completions"


def _from(server: BackgroundServer, address: str) -> httpx2.Client:
    transport = httpx2.HTTPTransport(local_address=address)
    return checked_client(server.url, transport=transport)


@pytest.fixture
def other_ip(server: BackgroundServer) -> Iterator[httpx2.Client]:
    with _from(server, "127.0.0.2") as client:
        yield client


def _statuses(http: httpx2.Client, n: int, path: str = CHAT, **extra: object) -> list[int]:
    return [http.post(path, json=chat_body(**extra)).status_code for _ in range(n)]


def test_RATE_CHAT_1_eleventh_chat_request_is_429(http: httpx2.Client) -> None:
    statuses = _statuses(http, 5) + _statuses(http, 5, stream=True) + _statuses(http, 1)
    assert statuses == [200] * 10 + [429]


def test_RATE_CHAT_2_the_full_budget_is_admitted(http: httpx2.Client) -> None:
    assert _statuses(http, 11) == [200] * 10 + [429]


def test_RATE_CHAT_3_each_client_ip_has_its_own_budget(http: httpx2.Client, other_ip: httpx2.Client) -> None:
    assert _statuses(http, 11) == [200] * 10 + [429]
    assert _statuses(other_ip, 11) == [200] * 10 + [429]


def test_RATE_ASST_1_twenty_across_all_assistant_endpoints(http: httpx2.Client) -> None:
    statuses = []
    for i in range(20):
        if i % 4 == 0:
            statuses.append(http.post("/v1/assistants", json={"name": f"b{i}"}).status_code)
        elif i % 4 == 1:
            statuses.append(http.get("/v1/assistants").status_code)
        else:
            statuses.append(http.get("/v1/assistants/asst-00000000-0000-4000-8000-000000000001").status_code)
    assert statuses == [200] * 20
    assert http.get("/v1/assistants").status_code == 429
    assert http.post(CHAT, json=chat_body()).status_code == 200  # a separate tier


def test_RATE_ASST_2_assistants_budget_is_per_ip(http: httpx2.Client, other_ip: httpx2.Client) -> None:
    assert [http.get("/v1/assistants").status_code for _ in range(21)][-2:] == [200, 429]
    assert other_ip.get("/v1/assistants").status_code == 200


def test_RATE_NATIVE_1_native_chat_shares_the_chat_budget(http: httpx2.Client) -> None:
    assert [http.post("/v1/chat", json={"content": "refund?"}).status_code for _ in range(6)] == [200] * 6
    assert _statuses(http, 5) == [200] * 4 + [429]


def test_RATE_RECOVER_1_admitted_after_the_window(http: httpx2.Client, inspect: httpx2.Client) -> None:
    assert _statuses(http, 11)[-1] == 429
    inspect.post("/clock/advance", json={"seconds": 59}).raise_for_status()
    assert _statuses(http, 1) == [429]
    inspect.post("/clock/advance", json={"seconds": 1.5}).raise_for_status()
    assert _statuses(http, 10) == [200] * 10


def test_RATE_COUNT_1_rejected_requests_count_but_429s_do_not(
    server: BackgroundServer, http: httpx2.Client
) -> None:
    with checked_client(server.url, key=None) as anonymous:
        assert [anonymous.post(CHAT, json={}).status_code for _ in range(3)] == [401] * 3
    assert [http.post(CHAT, json={"bad": 1}).status_code for _ in range(3)] == [400] * 3
    assert _statuses(http, 5) == [200] * 4 + [429]
    for _ in range(5):
        assert http.post(CHAT, json=chat_body()).status_code == 429
    state = [
        row for row in httpx2.get(server.url + "/__mock/ratelimit").json()["data"] if row["tier"] == "chat"
    ]
    assert state[0]["used"] == 10 and state[0]["remaining"] == 0


def test_RATE_RETRY_1_retry_after_whole_seconds_then_admitted(
    http: httpx2.Client, inspect: httpx2.Client
) -> None:
    http.post(CHAT, json=chat_body())
    inspect.post("/clock/advance", json={"seconds": 20}).raise_for_status()
    _statuses(http, 9)
    response = http.post(CHAT, json=chat_body())
    assert response.status_code == 429
    retry_after = response.headers["retry-after"]
    assert re.fullmatch(r"[0-9]+", retry_after) and int(retry_after) == 40
    inspect.post("/clock/advance", json={"seconds": int(retry_after)}).raise_for_status()
    assert _statuses(http, 1) == [200]


def test_RATE_RETRY_1_sdk_sees_rate_limit_error(server: BackgroundServer) -> None:
    with make_openai(server) as client:
        for _ in range(10):
            client.beta.assistants.list()
        for _ in range(10):
            client.beta.assistants.list()
        with pytest.raises(openai.RateLimitError) as caught:
            client.beta.assistants.list()
    assert caught.value.type == "rate_limit_error"
    assert caught.value.response.headers["retry-after"].isdigit()


def test_HDR_RATE_1_headers_consistent_with_the_tier(http: httpx2.Client, inspect: httpx2.Client) -> None:
    first = http.post(CHAT, json=chat_body())
    assert first.headers["x-ratelimit-limit-requests"] == "10"
    assert first.headers["x-ratelimit-remaining-requests"] == "9"
    assert first.headers["x-ratelimit-reset-requests"] == "1m0s"
    error = http.post(CHAT, json={})  # errors of a tiered route carry them too
    assert error.status_code == 400 and error.headers["x-ratelimit-remaining-requests"] == "8"
    listed = http.get("/v1/assistants")
    assert (
        listed.headers["x-ratelimit-limit-requests"],
        listed.headers["x-ratelimit-remaining-requests"],
    ) == ("20", "19")
    streamed = http.post(CHAT, json=chat_body(stream=True))
    assert streamed.headers["x-ratelimit-remaining-requests"] == "7"
    inspect.post("/clock/advance", json={"seconds": 30}).raise_for_status()
    assert http.post(CHAT, json=chat_body()).headers["x-ratelimit-reset-requests"] == "1m0s"
    assert "x-ratelimit-limit-requests" not in httpx2.get(str(http.base_url) + "/healthz").headers


def test_inspection_reset_of_one_client(
    http: httpx2.Client, other_ip: httpx2.Client, inspect: httpx2.Client
) -> None:
    _statuses(http, 11)
    _statuses(other_ip, 11)
    inspect.post("/ratelimit/reset", json={"client": "127.0.0.1", "tier": "chat"}).raise_for_status()
    assert _statuses(http, 1) == [200]
    assert _statuses(other_ip, 1) == [429]
    rows = {(r["tier"], r["client"]): r for r in inspect.get("/ratelimit").json()["data"]}
    assert rows[("chat", "127.0.0.1")]["used"] == 1 and rows[("chat", "127.0.0.2")]["remaining"] == 0
    assert inspect.post("/ratelimit/reset", json={"tier": "gold"}).status_code == 400


def test_rate_limits_off_and_global_scope(server: BackgroundServer) -> None:
    from mockserver.app import create_app
    from mockserver.settings import Settings

    with (
        BackgroundServer(lambda: create_app(Settings(rate_limits=False))) as off,
        checked_client(off.url) as http,
    ):
        assert set(_statuses(http, 15)) == {200}
    broken = Settings(rate_limit_scope="global", chat_limit=3, retry_after=False)
    with (
        BackgroundServer(lambda: create_app(broken)) as shared,
        checked_client(shared.url) as a,
        _from(shared, "127.0.0.3") as b,
    ):
        assert _statuses(a, 2) + _statuses(b, 2) == [200, 200, 200, 429]
        assert "retry-after" not in b.post(CHAT, json=chat_body()).headers


def test_sliding_window_with_a_fake_clock() -> None:
    now = [100.0]
    window = SlidingWindow(3, 10.0, lambda: now[0])
    assert [window.hit("a").allowed for _ in range(4)] == [True, True, True, False]
    assert window.hit("b").allowed
    now[0] += 5
    denied = window.hit("a")
    assert not denied.allowed and denied.retry_after_s == pytest.approx(5.0)
    now[0] += 5.001
    assert window.hit("a").allowed and window.hit("a").allowed and window.hit("a").allowed
    assert not window.hit("a").allowed


def test_fresh_window_resets_in_exactly_the_window_whatever_the_clock_reads() -> None:
    # (now + 60) - now is 60.00000000000001 at this clock value: it once made the header "1m1s".
    now = [4.285714285714286]
    window = SlidingWindow(10, 60.0, lambda: now[0])
    assert duration(window.hit("a").reset_s) == "1m0s"
    assert duration(window.state("a")[1]) == "1m0s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (6, "6s"),
        (5.2, "6s"),
        (60, "1m0s"),
        (60.00000000000001, "1m0s"),  # float noise from clock arithmetic is not an extra second
        (61.5, "1m2s"),
    ],
)
def test_reset_header_duration_form(seconds: float, text: str) -> None:
    assert duration(seconds) == text
