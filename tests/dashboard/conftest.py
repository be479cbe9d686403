"""A real mock on loopback and Debian's headless Chromium driven by Playwright.

The browser tests skip (with the reason) only when /usr/bin/chromium or Playwright is absent:
`.ci/install-browser` installs both, so they run in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import pytest
from openai import OpenAI

from mockserver import demo
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never a downloaded build; no network side channels, a fresh profile per launch.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"
CHAT_LIMIT = 4  # small, so a test can spend a whole budget quickly
STREAM_DELAY_MS = 8.0  # chunks a few ms apart, so their timings mean something


@pytest.fixture(scope="session")
def mock() -> Iterator[BackgroundServer]:
    settings = Settings(chat_limit=CHAT_LIMIT, stream_delay_ms=STREAM_DELAY_MS)
    with BackgroundServer(lambda: create_app(settings)) as server:
        yield server


@pytest.fixture
def control(mock: BackgroundServer) -> Iterator[httpx2.Client]:
    """The inspection API; every test starts from the demo state (journal, faults, budgets)."""
    # the non-simple header state changes need (mockserver.control)
    with httpx2.Client(base_url=mock.url + "/__mock", headers={"x-mock-control": "1"}, timeout=10) as client:
        client.post("/reset").raise_for_status()
        yield client


def sdk(mock: BackgroundServer, key: str = demo.KEY) -> OpenAI:
    return OpenAI(base_url=mock.url + "/v1", api_key=key, max_retries=0, timeout=10)


def ask(client: OpenAI, question: str, **extra: Any) -> Any:
    return client.chat.completions.create(
        model=demo.MODEL,
        messages=[{"role": "user", "content": question}],
        extra_body={"assistant_id": demo.SUPPORT_ASSISTANT},
        **extra,
    )


@pytest.fixture(scope="module")  # playwright's sync API holds an event loop in the main thread
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: run .ci/install-browser (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is absent: run .ci/install-browser"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, mock: BackgroundServer, control: httpx2.Client) -> Iterator[Page]:
    """The dashboard, loaded and connected; fails the test on any script error in the page."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB", timezone_id="UTC")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.set_default_timeout(5000)
    opened.goto(mock.url + "/__mock/")
    opened.wait_for_selector("body[data-ready]")
    opened.wait_for_selector("#live.on")  # the journal's SSE stream is connected
    yield opened
    context.close()
    assert not errors, f"errors in the page: {errors}"


def screenshot(page: Page, name: str) -> Path:
    """A test-run artefact under artifacts/dashboard/ (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path
