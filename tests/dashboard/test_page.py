"""The dashboard in a real headless Chromium against a real mock, driven with the openai SDK."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import httpx2
import openai
import pytest

from mockserver import demo
from mockserver.background import BackgroundServer
from tests.dashboard.conftest import CHAT_LIMIT, ask, screenshot, sdk

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser
expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is absent: run .ci/install-browser"
).expect


def _row(page: Page, request_id: str) -> Locator:
    return page.locator(f'#journal-rows tr.entry[data-id="{request_id}"]')


def test_journal_shows_sdk_requests_live_newest_first(page: Page, mock: BackgroundServer) -> None:
    client = sdk(mock)
    plain = client.chat.completions.with_raw_response.create(
        model=demo.MODEL,
        messages=[{"role": "user", "content": "What is our refund policy?"}],
        extra_body={"assistant_id": demo.SUPPORT_ASSISTANT},
    )
    first = plain.headers["x-request-id"]
    expect(_row(page, first)).to_be_visible()  # arrived without a reload: over the SSE stream

    stream = ask(client, "How does onboarding work?", stream=True)
    second = stream.response.headers["x-request-id"]
    "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    expect(_row(page, second)).to_be_visible()

    rows = page.locator("#journal-rows tr.entry")
    expect(rows).to_have_count(2)
    assert rows.nth(0).get_attribute("data-id") == second  # newest first
    expect(rows.nth(0)).to_contain_text("stream")
    expect(rows.nth(1)).to_contain_text("/v1/chat/completions")
    expect(rows.nth(1).locator(".status")).to_have_text("200")
    expect(rows.nth(1)).to_contain_text("…ey#e5a7")  # the key, masked by the API
    expect(page.locator("#count-journal")).to_have_text("2")


def test_streamed_entry_shows_its_chunks_with_timings(page: Page, mock: BackgroundServer) -> None:
    ask(sdk(mock), "What is our refund policy?")
    stream = ask(sdk(mock), "How long does shipping take?", stream=True)
    request_id = stream.response.headers["x-request-id"]
    answer = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    _row(page, request_id).click()
    detail = page.locator(f'tr.detail[data-for="{request_id}"]')
    expect(detail).to_be_visible()
    expect(detail.locator(".request")).to_contain_text("How long does shipping take?")
    expect(detail.locator(".assembled")).to_have_text(answer)
    chunks = detail.locator("tr.chunk")
    count = chunks.count()
    assert count >= 4
    expect(chunks.nth(count - 1).locator("td.data")).to_have_text("[DONE]")
    times = [float(chunks.nth(i).locator("td.num").nth(1).inner_text()) for i in range(count)]
    assert times == sorted(times) and times[-1] > times[0]  # the mock paces chunks (stream_delay_ms)
    expect(detail.locator(".request")).to_contain_text("(hidden)")  # the Authorization header
    assert demo.KEY not in page.content()  # no secret anywhere in the page
    screenshot(page, "journal-stream.png")


def test_journal_filters_by_path_status_and_key(page: Page, mock: BackgroundServer) -> None:
    ask(sdk(mock), "refund?")
    sdk(mock, demo.SALES_KEY).beta.assistants.list()
    with pytest.raises(openai.AuthenticationError):
        ask(sdk(mock, "rg-not-a-key"), "who am I?")
    rows = page.locator("#journal-rows tr.entry")
    expect(rows).to_have_count(3)

    page.select_option("#f-status", "4xx")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".status")).to_have_text("401")
    page.select_option("#f-status", "")

    page.fill("#f-path", "assistants")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("/v1/assistants")
    page.fill("#f-path", "")

    page.select_option("#f-key", "…ey#e5a7")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("/v1/chat/completions")
    expect(page.locator("#journal-shown")).to_have_text("1 of 3 shown")


def test_journal_pause_then_clear(page: Page, mock: BackgroundServer, control: httpx2.Client) -> None:
    page.check("#f-pause")
    ask(sdk(mock), "refund?")
    expect(page.locator("#live")).to_have_text("paused (1 new)")
    expect(page.locator("#journal-rows tr.entry")).to_have_count(0)
    page.uncheck("#f-pause")
    expect(page.locator("#journal-rows tr.entry")).to_have_count(1)
    expect(page.locator("#live")).to_have_text("live")

    page.click("#journal-clear")
    expect(page.locator("#journal-rows tr.entry")).to_have_count(0)
    expect(page.locator("#journal-empty")).to_be_visible()
    assert control.get("/journal").json()["data"] == []


def test_fault_armed_from_the_page_fails_the_next_request(page: Page, mock: BackgroundServer) -> None:
    page.click("#tabs a[data-tab=faults]")
    page.select_option("#fault-kind", "status")
    page.select_option("#fault-form select[name=status]", "503")
    page.fill("#fault-form input[name=count]", "1")
    page.fill("#fault-form input[name=path]", "/v1/chat/completions")
    page.click("#fault-form button[type=submit]")
    armed = page.locator("#fault-rows tr.fault")
    expect(armed).to_have_count(1)
    expect(armed.first).to_contain_text("status")
    expect(armed.first).to_contain_text("status=503")
    expect(page.locator("#count-faults")).to_have_text("1")
    screenshot(page, "faults-armed.png")

    client = sdk(mock)
    with pytest.raises(openai.InternalServerError) as failed:
        ask(client, "What is our refund policy?")
    assert failed.value.status_code == 503
    expect(armed).to_have_count(0, timeout=1500)  # used up: the page follows the journal at once
    expect(page.locator("#count-faults")).to_have_text("0")
    assert ask(client, "What is our refund policy?").choices[0].message.content  # disarmed

    page.click("#tabs a[data-tab=journal]")
    rows = page.locator("#journal-rows tr.entry")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator(".status")).to_have_text("503")


def test_fault_disarmed_from_the_page_never_fires(
    page: Page, mock: BackgroundServer, control: httpx2.Client
) -> None:
    page.click("#tabs a[data-tab=faults]")
    page.select_option("#fault-kind", "rate_limit")
    page.click("#fault-form button[type=submit]")
    expect(page.locator("#fault-rows tr.fault")).to_have_count(1)
    page.click("#fault-rows button.disarm")
    expect(page.locator("#fault-rows tr.fault")).to_have_count(0)
    assert control.get("/faults").json()["data"] == []
    assert ask(sdk(mock), "refund?").choices[0].message.content


def test_rate_limit_budget_reset_from_the_page(page: Page, mock: BackgroundServer) -> None:
    client = sdk(mock)
    for _ in range(CHAT_LIMIT):
        ask(client, "refund?")
    with pytest.raises(openai.RateLimitError):
        ask(client, "refund?")

    page.click("#tabs a[data-tab=ratelimits]")
    budget = page.locator('#ratelimit-rows tr.budget[data-tier="chat"][data-client="127.0.0.1"]')
    expect(budget.locator(".remaining")).to_have_text("0")
    expect(budget.locator(".used")).to_have_text(str(CHAT_LIMIT))
    budget.locator("button.reset").click()
    expect(budget).to_have_count(0)  # the mock forgets a reset client until its next request
    assert ask(client, "refund?").choices[0].message.content  # the budget really is back
    expect(budget.locator(".used")).to_have_text("1")
    expect(budget.locator(".remaining")).to_have_text(str(CHAT_LIMIT - 1))


def test_debug_thread_shows_as_a_conversation(page: Page, mock: BackgroundServer) -> None:
    question = f"Do you ship abroad? ({uuid.uuid4().hex[:6]})"
    answer = ask(sdk(mock, demo.DEBUG_KEY), question).choices[0].message.content
    ask(sdk(mock), "not a debug key, no thread")

    page.click("#tabs a[data-tab=threads]")
    threads = page.locator("#threads article.thread")
    expect(threads).to_have_count(1)
    thread = threads.filter(has_text=question)
    expect(thread.locator(".msg.user")).to_contain_text(question)
    expect(thread.locator(".msg.answer")).to_contain_text(answer)
    expect(thread.locator("header")).to_contain_text("Demo Support")
    expect(thread.locator("header")).to_contain_text("…ug#61f5")

    again = ask(sdk(mock, demo.DEBUG_KEY), "And to Norway?").choices[0].message.content
    expect(threads).to_have_count(2)  # live: a new thread shows without a refresh
    expect(threads.first.locator(".msg.user")).to_contain_text("And to Norway?")  # newest first
    expect(threads.first.locator(".msg.answer")).to_contain_text(again)

    page.select_option("#t-assistant", demo.SALES_ASSISTANT)
    expect(threads).to_have_count(0)
    page.select_option("#t-assistant", demo.SUPPORT_ASSISTANT)
    expect(threads).to_have_count(2)

    threads.last.locator("header a").click()  # to the request that made it
    expect(page.locator("#tab-journal")).to_be_visible()
    expect(page.locator("tr.detail .request")).to_contain_text(question)


def test_assistants_of_each_org_live(page: Page, mock: BackgroundServer) -> None:
    page.click("#tabs a[data-tab=assistants]")
    demo_org = page.locator(f'table.assistants[data-org="{demo.DEMO_ORG}"]')
    expect(demo_org).to_contain_text("Demo Support")
    expect(demo_org).to_contain_text("Demo Sales")
    expect(page.locator(f'table.assistants[data-org="{demo.OTHER_ORG}"]')).to_contain_text("Other Org Bot")

    created = sdk(mock).beta.assistants.create(model=demo.MODEL, name="Made by the browser test")
    expect(demo_org.locator(f'tr[data-id="{created.id}"]')).to_contain_text("Made by the browser test")
    expect(page.locator(f'table.assistants[data-org="{demo.OTHER_ORG}"]')).not_to_contain_text("Made by")


def test_screenshot_for_the_readme(page: Page, mock: BackgroundServer, control: httpx2.Client) -> None:
    """A representative view, saved as a test-run artefact (docs/dashboard.png is one of these)."""
    ask(sdk(mock), "What is our refund policy?")
    ask(sdk(mock, demo.DEBUG_KEY), "Summarize our onboarding process")
    with pytest.raises(openai.NotFoundError):
        sdk(mock).beta.assistants.retrieve("asst-does-not-exist")
    stream = ask(sdk(mock), "How long does shipping take?", stream=True)
    request_id = stream.response.headers["x-request-id"]
    for _ in stream:
        pass
    sdk(mock, demo.SALES_KEY).beta.assistants.list()
    control.post("/faults", json={"kind": "cut_stream", "after_chunks": 3}).raise_for_status()
    expect(page.locator("#journal-rows tr.entry")).to_have_count(5)
    expect(page.locator("#count-faults")).to_have_text("1")
    _row(page, request_id).click()
    expect(page.locator("tr.detail .assembled")).to_be_visible()
    page.wait_for_timeout(1700)  # the highlight of fresh rows fades
    path = screenshot(page, "dashboard.png")
    assert path.stat().st_size > 10_000
    assert re.search(r"5 of 5 shown", page.locator("#journal-shown").inner_text())
