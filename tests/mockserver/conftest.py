"""One real mock on a loopback port for the session; state is reset before every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from openai import OpenAI

from mockserver import demo
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings
from tests.mockserver.speccheck import spec_hook

SUPPORT = demo.SUPPORT_ASSISTANT


def checked_client(base_url: str, key: str | None = demo.KEY, **kwargs: Any) -> httpx2.Client:
    """An httpx client whose every response is validated against the spec."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    headers.update(kwargs.pop("headers", {}))
    return httpx2.Client(
        base_url=base_url, headers=headers, event_hooks={"response": [spec_hook]}, timeout=10, **kwargs
    )


@pytest.fixture(scope="session")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(lambda: create_app(Settings())) as background:
        yield background


@pytest.fixture(scope="session")
def unlimited(server: BackgroundServer) -> Iterator[BackgroundServer]:
    """A second mock with rate limits off, for tests that send many requests."""
    with BackgroundServer(lambda: create_app(Settings(rate_limits=False))) as background:
        yield background


# State-changing control requests carry a non-simple header, as no cross-site form can (mockserver.control).
CONTROL_HEADERS = {"x-mock-control": "1"}


@pytest.fixture(autouse=True)
def _reset(server: BackgroundServer) -> None:
    httpx2.post(server.url + "/__mock/reset", headers=CONTROL_HEADERS).raise_for_status()


@pytest.fixture
def http(server: BackgroundServer) -> Iterator[httpx2.Client]:
    with checked_client(server.url) as client:
        yield client


@pytest.fixture
def inspect(server: BackgroundServer) -> Iterator[httpx2.Client]:
    """The inspection API (no auth, not spec-checked: it is not part of the Ragen API)."""
    with httpx2.Client(base_url=server.url + "/__mock", headers=CONTROL_HEADERS, timeout=10) as client:
        yield client


def make_openai(server: BackgroundServer, key: str = demo.KEY) -> OpenAI:
    return OpenAI(
        base_url=server.url + "/v1",
        api_key=key,
        max_retries=0,
        http_client=httpx2.Client(event_hooks={"response": [spec_hook]}, timeout=10),
    )


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[OpenAI]:
    sdk = make_openai(server)
    yield sdk
    sdk.close()


def chat_body(question: str = "What is our refund policy?", /, **extra: Any) -> dict[str, Any]:
    return {"assistant_id": SUPPORT, "messages": [{"role": "user", "content": question}], **extra}


def error_of(response: httpx2.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body
