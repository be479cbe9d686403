"""``--config`` YAML, ``--state`` SQLite persistence, and validation derived from the spec."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest
from ragen_spec import load_spec

from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.config import ConfigError, load_config, parse_config
from mockserver.persist import SqlitePersistence
from mockserver.selfcheck import VIOLATION_HEADER
from mockserver.settings import Settings
from mockserver.state import Store
from tests.mockserver.conftest import CONTROL_HEADERS, checked_client

CONFIG = """
orgs:
  - id: org-acme
    model: acme-large
    temperature: 0.4
    assistants:
      - id: 0000aaaa
        name: Acme Support
        instructions: Be brief.
        snippets:
          - title: Returns
            text: Acme takes returns for 60 days.
          - title: Warranty
            text: Every Acme anvil has a 2-year warranty against cracks.
        rules:
          - regex: '(?i)\\bcoyote\\b'
            answer: We do not discuss individual customers.
          - contains: price list
            answer: See acme.example/prices.
        fallback: Ask Acme.
keys:
  - key: acme-key-123456
    org: org-acme
    assistant: asst-0000aaaa
  - key: acme-readonly-999
    org: org-acme
    scopes: [assistants]
    debug: true
"""


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(CONFIG)
    return path


def _ask(http: httpx2.Client, question: str) -> str:
    body = {"assistant_id": "asst-0000aaaa", "messages": [{"role": "user", "content": question}]}
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "acme-large"
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def test_yaml_config_replaces_the_demo(acme: Path) -> None:
    with (
        BackgroundServer(lambda: create_app(Settings(config=str(acme)))) as server,
        checked_client(server.url, key="acme-key-123456") as http,
    ):
        assert (
            _ask(http, "How long is the warranty on an anvil?")
            == "Every Acme anvil has a 2-year warranty against cracks."
        )
        assert _ask(http, "Can I make returns?") == "Acme takes returns for 60 days."
        assert (
            _ask(http, "Is the Coyote a customer? What about returns?")
            == "We do not discuss individual customers."
        )
        assert _ask(http, "send me the PRICE LIST") == "See acme.example/prices."
        assert _ask(http, "Is the moon made of cheese?") == "Ask Acme."
        assistant = http.get("/v1/assistants/asst-0000aaaa").json()
        assert (assistant["model"], assistant["temperature"], assistant["instructions"]) == (
            "acme-large",
            0.4,
            "Be brief.",
        )
        assert http.post("/v1/chat", json={"content": "returns?"}).json()["assistant_id"] == "asst-0000aaaa"
        with checked_client(server.url, key="rg-demo-key") as demo_key:
            assert demo_key.get("/v1/assistants").status_code == 401
        with checked_client(server.url, key="acme-readonly-999") as readonly:
            assert readonly.post("/v1/chat", json={"content": "x"}).status_code == 403
            assert readonly.get("/v1/assistants").status_code == 200


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "orgs"),
        ({"orgs": [{"id": "a"}], "keys": [{"key": "k", "org": "b"}]}, "unknown organization"),
        (
            {
                "orgs": [{"id": "a", "assistants": [{"id": "x", "name": "n"}]}, {"id": "b"}],
                "keys": [{"key": "k", "org": "b", "assistant": "x"}],
            },
            "not one of its assistants",
        ),
        (
            {
                "orgs": [
                    {
                        "id": "a",
                        "assistants": [{"id": "x", "name": "n", "rules": [{"regex": "(", "answer": "a"}]}],
                    }
                ]
            },
            "bad regex",
        ),
        ({"orgs": [{"id": "a"}], "keys": [{"key": "k", "org": "a", "scopes": ["admin"]}]}, "unknown scopes"),
        ({"orgs": [{"id": "a"}, {"id": "a"}]}, "duplicate"),
    ],
)
def test_bad_config_is_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(document)


def test_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("orgs: [")
    with pytest.raises(ConfigError):
        load_config(tmp_path / "bad.yaml")


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    settings = Settings(state=state)
    with BackgroundServer(lambda: create_app(settings)) as first, checked_client(first.url) as http:
        created = http.post("/v1/assistants", json={"name": "Persistent", "instructions": "Stay."}).json()
        http.post(f"/v1/assistants/{created['id']}", json={"name": "Renamed"})
        with checked_client(first.url, key="rg-demo-sales") as sales:
            sales.delete("/v1/assistants/asst-00000000-0000-4000-8000-000000000001")
        with checked_client(first.url, key="rg-demo-debug") as debug:
            debug.post(
                "/v1/chat",
                json={"content": "refund?", "assistant_id": "asst-00000000-0000-4000-8000-000000000003"},
            )
    with BackgroundServer(lambda: create_app(settings)) as second, checked_client(second.url) as http:
        ids = [a["id"] for a in http.get("/v1/assistants", params={"order": "asc"}).json()["data"]]
        assert ids == ["asst-00000000-0000-4000-8000-000000000003", created["id"]]
        assert http.get(f"/v1/assistants/{created['id']}").json()["name"] == "Renamed"
        threads = httpx2.get(second.url + "/__mock/threads").json()["data"]
        assert len(threads) == 1 and threads[0]["messages"] == [{"role": "user", "content": "refund?"}]
        httpx2.post(second.url + "/__mock/reset", headers=CONTROL_HEADERS).raise_for_status()
    with BackgroundServer(lambda: create_app(settings)) as third, checked_client(third.url) as http:
        assert len(http.get("/v1/assistants").json()["data"]) == 2  # the reset was persisted too


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    from mockserver.demo import demo_config

    persistence = SqlitePersistence(tmp_path / "s.db")
    store = Store(demo_config(), default_model="m", persistence=persistence)
    record = store.find("org-demo", "asst-00000000-0000-4000-8000-000000000003")
    assert record is not None
    persistence._db.execute(
        "CREATE TRIGGER no_renames BEFORE UPDATE ON assistants BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    persistence._db.execute(
        "CREATE TRIGGER no_inserts BEFORE INSERT ON assistants BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    with pytest.raises(sqlite3.DatabaseError):
        asyncio.run(store.modify(record, {"name": "changed"}))
    with pytest.raises(sqlite3.DatabaseError):
        asyncio.run(store.create("org-demo", name="new", instructions=None))
    assert store.find("org-demo", record.id) == record
    assert len(store.ordered("org-demo", descending=False)) == 2
    persistence.close()  # its lock, before the file is opened again
    reloaded = SqlitePersistence(tmp_path / "s.db").load()
    assert reloaded is not None and {r.name for r in reloaded[0]} == {
        "Demo Support",
        "Demo Sales",
        "Other Org Bot",
    }


def test_validation_follows_the_spec_document() -> None:
    """Change a range in a loaded spec and the mock enforces the new one: nothing is re-typed by hand."""
    spec = load_spec()
    properties = spec["components"]["schemas"]["CreateChatCompletionRequest"]["properties"]
    properties["temperature"]["maximum"] = 1
    properties["messages"]["maxItems"] = 2
    spec["paths"]["/v1/assistants"]["get"]["parameters"][0]["schema"]["maximum"] = 5
    body: dict[str, Any] = {
        "assistant_id": "asst-00000000-0000-4000-8000-000000000001",
        "messages": [{"role": "user", "content": "hi"}],
    }
    with (
        BackgroundServer(lambda: create_app(Settings(rate_limits=False), spec=spec)) as changed,
        httpx2.Client(base_url=changed.url, headers={"Authorization": "Bearer rg-demo-key"}) as http,
    ):
        assert http.post("/v1/chat/completions", json={**body, "temperature": 1.5}).status_code == 400
        assert (
            http.post("/v1/chat/completions", json={**body, "messages": body["messages"] * 3}).status_code
            == 400
        )
        assert http.get("/v1/assistants", params={"limit": 6}).status_code == 400
        assert http.post("/v1/chat/completions", json={**body, "temperature": 1}).status_code == 200
    with (
        BackgroundServer(lambda: create_app(Settings(rate_limits=False))) as shipped,
        httpx2.Client(base_url=shipped.url, headers={"Authorization": "Bearer rg-demo-key"}) as http,
    ):
        assert http.post("/v1/chat/completions", json={**body, "temperature": 1.5}).status_code == 200
        assert http.get("/v1/assistants", params={"limit": 6}).status_code == 200


def test_validate_responses_flags_what_the_spec_forbids() -> None:
    spec = load_spec()
    spec["components"]["schemas"]["Assistant"]["required"].append("owner")  # a field the mock never sends
    settings = Settings(rate_limits=False, validate_responses=True)
    with (
        BackgroundServer(lambda: create_app(settings, spec=spec)) as strict,
        httpx2.Client(base_url=strict.url, headers={"Authorization": "Bearer rg-demo-key"}) as http,
    ):
        flagged = http.get("/v1/assistants/asst-00000000-0000-4000-8000-000000000001")
        assert flagged.status_code == 200 and "owner" in flagged.headers[VIOLATION_HEADER]
        fine = http.post("/v1/chat/completions", json={"assistant_id": "x", "messages": []})
        assert VIOLATION_HEADER not in fine.headers
    with (
        BackgroundServer(lambda: create_app(settings)) as shipped,
        httpx2.Client(base_url=shipped.url, headers={"Authorization": "Bearer rg-demo-key"}) as http,
    ):
        assert VIOLATION_HEADER not in http.get("/v1/assistants").headers


def test_state_file_keeps_lone_surrogates_intact(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite3")
    raw = b'{"name": "a\\udc00b", "instructions": "\\ud800"}'
    headers = {"Authorization": "Bearer rg-demo-key", "Content-Type": "application/json"}
    with BackgroundServer(lambda: create_app(Settings(state=state))) as server:
        created = httpx2.post(server.url + "/v1/assistants", content=raw, headers=headers).json()
    with BackgroundServer(lambda: create_app(Settings(state=state))) as server:
        again = httpx2.get(server.url + f"/v1/assistants/{created['id']}", headers=headers).json()
    assert (again["name"], again["instructions"]) == ("a\udc00b", "\ud800")
