"""The dashboard in proxy mode: a violating exchange is marked in the journal and, opened, shows the
requirement it breaks with the requirement's text. Drives Debian's headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import openai
import pytest

from tests.conformance import altserver
from tests.dashboard.conftest import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.upstream.conftest import Servers
from tests.upstream.servers import alt_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: run .ci/install-browser (apt-get install chromium)")
    reason = "Playwright is absent: run .ci/install-browser"
    sync_api = pytest.importorskip("playwright.sync_api", reason=reason)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def test_a_violation_is_marked_with_its_requirement(servers: Servers, browser: Browser) -> None:
    upstream = servers.start(lambda: alt_app(frozenset({"usage_chunk_with_choices"})))
    proxy = servers.proxy(upstream.url)
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=altserver.MAIN_KEY, max_retries=0)
    extra = {"assistant_id": altserver.ASSISTANT_A}
    question = [{"role": "user", "content": "What is your refund policy?"}]
    client.chat.completions.create(model="m", messages=question, extra_body=extra)
    stream = client.chat.completions.create(
        model="m", messages=question, stream=True, stream_options={"include_usage": True}, extra_body=extra
    )
    assert [chunk for chunk in stream]

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(5000)
    page.goto(proxy.url + "/__mock/")
    page.wait_for_selector("body[data-ready]")
    rows = page.locator("#journal-rows tr.entry")
    rows.first.wait_for()
    assert rows.count() == 2
    violating = page.locator("#journal-rows tr.entry.violating")
    assert violating.count() == 1
    assert "CHAT-USAGE-STREAM-2" in violating.locator(".chip.violation").inner_text()
    violating.click()
    block = page.locator("tr.detail .violations")
    block.wait_for()
    text = block.inner_text()
    assert "CHAT-USAGE-STREAM-2" in text and "the usage chunk does not have choices: []" in text
    assert "exactly one chunk carries usage" in text  # the requirement's own words
    screenshot(page, "proxy-violation.png")
    context.close()
    assert not errors, errors
