"""Authentication and scopes: AUTH-1..5, AUTH-ORDER-1."""

from __future__ import annotations

import httpx2
import openai
import pytest

from mockserver import demo
from mockserver.auth import KeyRing, mask
from mockserver.background import BackgroundServer
from mockserver.errors import AuthenticationError
from tests.mockserver.conftest import chat_body, checked_client, error_of, make_openai


def _raw(server: BackgroundServer, headers: dict[str, str]) -> httpx2.Response:
    with checked_client(server.url, key=None, headers=headers) as http:
        return http.get("/v1/assistants")


def test_AUTH_1_missing_header_is_401(server: BackgroundServer) -> None:
    response = _raw(server, {})
    assert response.status_code == 401
    assert error_of(response)["type"] == "authentication_error"


@pytest.mark.parametrize(
    "header", ["rg-demo-key", "Basic cmctZGVtby1rZXk=", "Bearer", "Bearer a b", "Token rg-demo-key"]
)
def test_AUTH_2_malformed_header_is_401(server: BackgroundServer, header: str) -> None:
    response = _raw(server, {"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["type"] == "authentication_error"


def test_AUTH_3_unknown_key_is_401(server: BackgroundServer) -> None:
    with make_openai(server, "rg-demo-kex") as client, pytest.raises(openai.AuthenticationError) as caught:
        client.beta.assistants.list()
    assert caught.value.status_code == 401
    assert "rg-demo-kex" not in caught.value.message  # the key is never echoed


def test_AUTH_4_deactivated_key_is_403(server: BackgroundServer) -> None:
    with (
        make_openai(server, demo.DEACTIVATED_KEY) as client,
        pytest.raises(openai.PermissionDeniedError) as caught,
    ):
        client.chat.completions.create(
            model="x",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"assistant_id": demo.SUPPORT_ASSISTANT},
        )
    assert caught.value.type == "permission_error"
    assert caught.value.code == "key_deactivated"


def test_AUTH_5_missing_scope_is_403(server: BackgroundServer) -> None:
    with make_openai(server, demo.CHAT_ONLY_KEY) as client:
        assert client.chat.completions.create(
            model="x",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"assistant_id": demo.SUPPORT_ASSISTANT},
        ).choices
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.beta.assistants.list()
    assert caught.value.code == "missing_scope"


def test_AUTH_ORDER_1_rate_limit_then_auth_then_validation_then_lookup(server: BackgroundServer) -> None:
    with checked_client(server.url, key=None) as anonymous, checked_client(server.url) as http:
        # auth before validation: a bad body without a key is 401, not 400
        assert anonymous.post("/v1/chat/completions", json={"messages": []}).status_code == 401
        # validation before lookup: an unknown assistant with a bad body is 400, not 404
        bad = {**chat_body(temperature=5), "assistant_id": "asst-nope"}
        assert http.post("/v1/chat/completions", json=bad).status_code == 400
        assert (
            http.post("/v1/chat/completions", json={**chat_body(), "assistant_id": "asst-nope"}).status_code
            == 404
        )
        for _ in range(7):
            anonymous.post("/v1/chat/completions", json={})
        # rate limit before auth: with the budget used up, even an anonymous request is 429
        assert anonymous.post("/v1/chat/completions", json={}).status_code == 429


def test_keys_never_reach_the_journal(server: BackgroundServer, inspect: httpx2.Client) -> None:
    with checked_client(server.url) as http:
        http.get("/v1/assistants")
    response = inspect.get("/journal")
    assert demo.KEY not in response.text
    (entry,) = response.json()["data"]
    assert entry["key"] == mask(demo.KEY) == "…ey#e5a7"
    assert entry["request"]["headers"]["Authorization"] == "Bearer …ey#e5a7"


def test_keyring_compares_whole_keys() -> None:
    ring = KeyRing(demo.demo_config().keys)
    assert ring.authenticate("Bearer rg-demo-key", "chat").org_id == demo.DEMO_ORG
    assert ring.authenticate("bearer   rg-demo-key  ", "chat").org_id == demo.DEMO_ORG
    for near in ("rg-demo-ke", "rg-demo-key2", "RG-DEMO-KEY", "rg-demo-key\u00e9"):
        with pytest.raises(AuthenticationError):
            ring.authenticate(f"Bearer {near}", "chat")
