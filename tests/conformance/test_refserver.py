"""The gate against a second reference server (``refserver.py``): written from the vendor
documents alone, answering like an LLM (different text every call) and making the other choice
on every point the documents leave open. A correct server: the gate must call it conformant,
and give it the same verdict table on every run."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

import pytest

from conformance import run
from conformance.config import RunConfig, Target, Tier
from conformance.results import Report, VerdictKind
from mockserver.background import BackgroundServer
from tests.conformance import refserver

# Short fixed windows (aligned to the clock), budgets unlike the mock's and the alt server's.
RATELIMIT_TIERS = {"chat": Tier(5, 3.0), "assistants": Tier(8, 3.0)}
RUNS = 3


def target(url: str, **changes: object) -> Target:
    base = Target(
        base_url=url,
        api_key=refserver.MAIN_KEY,
        assistant_id=refserver.ASSISTANT_A,
        second_org_key=refserver.OTHER_ORG_KEY,
        deactivated_key=refserver.DEACTIVATED_KEY,
        chat_only_key=refserver.CHAT_ONLY_KEY,
        pace=False,
        rate_limits=False,
        timeout=10.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@contextmanager
def refserver_config() -> Iterator[RunConfig]:
    """Fresh servers: one without limits for the bulk, one with short windows for the rate checks.

    The run keeps the gate's defaults (seed included): what a user of the CLI would get.
    """
    tiers = RATELIMIT_TIERS
    limited_options = refserver.Options(
        chat_tier=(tiers["chat"].limit, tiers["chat"].window),
        assistants_tier=(tiers["assistants"].limit, tiers["assistants"].window),
    )
    with ExitStack() as stack:
        bulk = stack.enter_context(
            BackgroundServer(lambda: refserver.create_app(refserver.Options(rate_limits=False)))
        )
        limited = stack.enter_context(BackgroundServer(lambda: refserver.create_app(limited_options)))
        rl_target = target(limited.url, tiers=dict(tiers), pace=True, rate_limits=True)
        yield RunConfig(target=target(bulk.url), ratelimit_target=rl_target, max_examples=6)


def table(report: Report) -> dict[str, str]:
    return {v.requirement: v.verdict.value for v in report.verdicts}


def failures(report: Report) -> list[str]:
    bad = (VerdictKind.FAIL, VerdictKind.ERROR)
    return [f"{v.requirement} {v.verdict.value}: {v.reason}" for v in report.verdicts if v.verdict in bad]


def test_refserver_is_conformant_with_the_same_verdicts_on_every_run() -> None:
    reports = []
    for _ in range(RUNS):
        with refserver_config() as config:
            reports.append(run(config))
    assert [failures(r) for r in reports] == [[]] * RUNS
    assert all(r.exit_code == 0 for r in reports), [r.harness_errors for r in reports]
    first = table(reports[0])
    differences = {
        rid: [table(r).get(rid) for r in reports]
        for rid in sorted(set().union(*(table(r) for r in reports)))
        if len({table(r).get(rid) for r in reports}) > 1
    }
    assert differences == {}
    # The server's own choices are seen and reported as such, never passed over in silence.
    assert first["ASST-MODIFY-3"] == first["ASST-LIST-4"] == first["ASST-REQ-1"] == "info"


# --- the server really makes the choices it claims (else passing it would prove little) ----------


def _call(
    url: str, method: str, path: str, body: bytes | None = None, *, key: str | None = refserver.MAIN_KEY,
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], Any]:  # fmt: skip
    request = urllib.request.Request(url + path, data=body, method=method)
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    text = raw.decode()
    return status, headers, json.loads(text) if "json" in headers.get("Content-Type", "") else text


@pytest.fixture(scope="module")
def ref_url() -> Iterator[str]:
    with BackgroundServer(lambda: refserver.create_app(refserver.Options(rate_limits=False))) as server:
        yield server.url


def _chat(**fields: object) -> bytes:
    body = {"assistant_id": refserver.ASSISTANT_A, "messages": [{"role": "user", "content": "Refunds?"}]}
    return json.dumps(body | fields).encode()


def test_refserver_parses_json_under_any_content_type(ref_url: str) -> None:
    for content_type in (
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ):
        status, _, created = _call(
            ref_url, "POST", "/v1/assistants", b'{"name": "typed"}', content_type=content_type
        )
        assert (status, created["name"]) == (200, "typed"), content_type
    assert _call(ref_url, "POST", "/v1/assistants", b"name=typed", content_type="text/plain")[0] == 400


def test_refserver_modify_without_a_body_changes_nothing(ref_url: str) -> None:
    before = _call(ref_url, "GET", f"/v1/assistants/{refserver.ASSISTANT_A2}")[2]
    for method in ("POST", "PATCH"):
        status, _, after = _call(ref_url, method, f"/v1/assistants/{refserver.ASSISTANT_A2}")
        assert (status, after) == (200, before)


def test_refserver_ignores_assistant_temperature_but_rejects_empty_names(ref_url: str) -> None:
    status, _, created = _call(ref_url, "POST", "/v1/assistants", b'{"name": "hot", "temperature": 7}')
    assert (status, created["temperature"]) == (200, refserver.ORG_TEMPERATURE)
    for name in ('""', '"   "'):
        status, _, error = _call(ref_url, "POST", "/v1/assistants", b'{"name": %s}' % name.encode())
        assert (status, error["error"]["type"], error["error"]["param"]) == (
            400,
            "invalid_request_error",
            "name",
        )
    status, _, error = _call(ref_url, "PATCH", f"/v1/assistants/{created['id']}", b'{"name": ""}')
    assert status == 400


def test_refserver_answers_unroutable_ids_404_before_auth(ref_url: str) -> None:
    for path in ("/v1/assistants/%0D", "/v1/assistants/a%3Fb", "/v1/assistants/a%2Fb"):
        status, _, error = _call(ref_url, "GET", path, key=None)
        assert (status, error["error"]["type"]) == (404, "not_found_error"), path
    assert _call(ref_url, "GET", "/v1/assistants/asst-unknown", key=None)[0] == 401


def test_refserver_ignores_unknown_keys_even_in_stream_options(ref_url: str) -> None:
    body = _chat(stream=True, stream_options={"include_usage": True, "chunk_size": 3}, seed=4)
    status, headers, text = _call(ref_url, "POST", "/v1/chat/completions", body)
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    assert '"choices": [], "usage": {' in text and text.endswith("data: [DONE]\n\n")


def test_refserver_answers_differently_and_honours_max_tokens(ref_url: str) -> None:
    answers = [_call(ref_url, "POST", "/v1/chat/completions", _chat())[2] for _ in range(5)]
    assert len({a["choices"][0]["message"]["content"] for a in answers}) > 1
    assert len({a["usage"]["completion_tokens"] for a in answers}) > 1
    cut = _call(ref_url, "POST", "/v1/chat/completions", _chat(max_tokens=2))[2]
    assert (cut["choices"][0]["finish_reason"], cut["usage"]["completion_tokens"]) == ("length", 2)


def test_refserver_fixed_windows_admit_a_full_budget_each_side_of_a_boundary() -> None:
    now = [99.95]
    limiter = refserver.FixedWindows(3, 10.0, clock=lambda: now[0])
    assert [limiter.admit("ip")["x-ratelimit-remaining-requests"] for _ in range(3)] == ["2", "1", "0"]
    with pytest.raises(refserver.ApiError) as refused:
        limiter.admit("ip")
    assert (refused.value.status, refused.value.headers["Retry-After"]) == (429, "1")
    now[0] = 100.0  # 0.05 s later, a new window: 6 admitted within 0.1 s, as a fixed window does
    assert [limiter.admit("ip")["x-ratelimit-remaining-requests"] for _ in range(3)] == ["2", "1", "0"]


class _BoundaryInTheFirstBurst:
    """The wall clock, moved once (at the limiters' third reading: the preflight's, then the chat
    burst's first two) to 1 ms before a window boundary. Any run of a fixed-window server meets
    this case now and then; here it is met every time."""

    def __init__(self, window: float) -> None:
        self.window, self.readings, self.shift = window, 0, 0.0

    def __call__(self) -> float:
        self.readings += 1
        now = time.time() + self.shift
        if self.readings == 3:
            self.shift += (math.floor(now / self.window) + 1) * self.window - 0.001 - now
            now = time.time() + self.shift
        return now


def test_refserver_window_boundary_inside_a_burst_is_no_violation() -> None:
    # A fixed window that rolls over during the gate's burst of limit + 1 requests rightly admits
    # them all: a new window, a new budget. That is no evidence against RATE-CHAT-1.
    tiers = RATELIMIT_TIERS
    options = refserver.Options(
        chat_tier=(tiers["chat"].limit, tiers["chat"].window),
        assistants_tier=(tiers["assistants"].limit, tiers["assistants"].window),
        clock=_BoundaryInTheFirstBurst(tiers["chat"].window),
    )
    with BackgroundServer(lambda: refserver.create_app(options)) as server:
        limited = target(server.url, tiers=dict(tiers), pace=True, rate_limits=True)
        report = run(RunConfig(target=limited, groups=("ratelimit",)))
    assert failures(report) == []
