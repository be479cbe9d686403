"""The control API's guard as a browser meets it: a page of another origin can neither read nor
change the mock, and with a control token the dashboard asks for it once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx2
import pytest
from aiohttp import web

from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings
from tests.dashboard.conftest import ask, sdk

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
expect = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is absent: run .ci/install-browser"
).expect

TOKEN = "browser-test-token-1234"
SECRET = "the prompt another origin must not read"

# What any web page the developer opens could run against the mock on this machine.
ATTACK = """async (mock) => {
  const fault = JSON.stringify({kind: "status", status: 503, count: 1000000});
  const outcome = async (promise) => {
    try { const r = await promise; return r.type === "opaque" ? "opaque" : `${r.status} ${await r.text()}`; }
    catch (e) { return `blocked: ${e}`; }
  };
  const results = {};
  results.read = await outcome(fetch(mock + "/__mock/journal"));
  results.simple_post = await outcome(fetch(mock + "/__mock/faults",
      {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: fault}));
  results.json_post = await outcome(fetch(mock + "/__mock/faults",
      {method: "POST", headers: {"Content-Type": "application/json", "x-mock-control": "1"}, body: fault}));
  results.reset = await outcome(fetch(mock + "/__mock/clock/advance",
      {method: "POST", mode: "no-cors", body: '{"seconds": 3600}'}));
  return results;
}"""


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[BackgroundServer]:
    """Another origin on this machine (another port): a page the developer happens to open."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>some page</title>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    with BackgroundServer(app) as server:
        yield server


def test_a_page_of_another_origin_can_neither_read_nor_change_the_mock(
    browser: Browser, mock: BackgroundServer, elsewhere: BackgroundServer, control: httpx2.Client
) -> None:
    ask(sdk(mock), SECRET)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(elsewhere.url + "/")
        results: dict[str, Any] = page.evaluate(ATTACK, mock.url)
    finally:
        context.close()
    assert results["read"].startswith("blocked"), results  # no CORS on /__mock/
    assert results["json_post"].startswith("blocked"), results  # its preflight is refused
    assert SECRET not in str(results)
    assert control.get("/faults").json()["data"] == []  # the "simple" POSTs were refused
    assert control.get("/stats").json()["clock_offset_s"] == 0


@pytest.fixture(scope="module")
def guarded() -> Iterator[BackgroundServer]:
    with BackgroundServer(lambda: create_app(Settings(control_token=TOKEN))) as server:
        yield server


def test_with_a_control_token_the_dashboard_asks_once_and_keeps_it(
    browser: Browser, guarded: BackgroundServer
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(5000)
        page.goto(guarded.url + "/__mock/")
        token_field = page.locator("input[name=token]")
        expect(token_field).to_be_visible()
        token_field.fill("a wrong guess")
        page.click("button[type=submit]")
        expect(page.locator(".bad")).to_contain_text("not the token")

        page.locator("input[name=token]").fill(TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-ready]")
        page.wait_for_selector("#live.on")  # the journal's stream connected with the cookie
        assert page.url == guarded.url + "/__mock/"  # the token left the address bar
        ask(sdk(guarded), "refund?")
        expect(page.locator("#journal-rows tr.entry")).to_have_count(1)

        page.click("#tabs a[data-tab=faults]")  # a state change from the page
        page.select_option("#fault-kind", "rate_limit")
        page.click("#fault-form button[type=submit]")
        expect(page.locator("#fault-rows tr.fault")).to_have_count(1)
        armed = httpx2.get(guarded.url + "/__mock/faults", headers={"x-mock-token": TOKEN})
        assert [f["kind"] for f in armed.json()["data"]] == ["rate_limit"]

        page.reload()  # kept: no second question
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("input[name=token]")).to_have_count(0)
        stored = page.evaluate(
            "document.cookie + JSON.stringify(sessionStorage) + JSON.stringify(localStorage)"
        )
        assert TOKEN not in stored and TOKEN not in page.content()  # no script in the page can read it
    finally:
        context.close()
