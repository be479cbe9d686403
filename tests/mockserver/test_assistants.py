"""The Assistants API: ASST-*."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import httpx2
import openai
import pytest
from openai import OpenAI
from ragen_spec import self_delete_message

from mockserver import demo
from mockserver.background import BackgroundServer
from tests.mockserver.conftest import CONTROL_HEADERS, checked_client, error_of, make_openai

CONSTANTS: dict[str, Any] = {
    "description": None,
    "metadata": {},
    "tool_resources": {},
    "top_p": 1.0,
    "response_format": "auto",
}


@pytest.fixture
def many(unlimited: BackgroundServer) -> Iterator[OpenAI]:
    """An SDK client on the unlimited mock, reset, holding 2 demo + 9 created assistants."""
    httpx2.post(unlimited.url + "/__mock/reset", headers=CONTROL_HEADERS).raise_for_status()
    with make_openai(unlimited) as client:
        for i in range(9):
            client.beta.assistants.create(model="gpt-5.4", name=f"bot {i}")
        yield client


def test_ASST_OBJ_1_object_shape(client: OpenAI) -> None:
    assistant = client.beta.assistants.retrieve(demo.SUPPORT_ASSISTANT)
    assert assistant.id.startswith("asst-") and assistant.object == "assistant"
    assert isinstance(assistant.created_at, int)
    assert assistant.name == "Demo Support" and assistant.instructions
    assert assistant.model == "gpt-5.4"
    assert [t.type for t in assistant.tools] == ["file_search"]


def test_ASST_OBJ_2_ignored_fields_read_back_as_constants(http: httpx2.Client) -> None:
    sent = {
        "name": "Bot",
        "model": "gpt-4o",
        "temperature": 0.3,
        "description": "desc",
        "metadata": {"a": "b"},
        "tool_resources": {"file_search": {}},
        "top_p": 0.5,
        "response_format": {"type": "json_object"},
        "tools": [{"type": "code_interpreter"}],
    }
    created = http.post("/v1/assistants", json=sent).json()
    for field, value in CONSTANTS.items():
        assert created[field] == value, field
    assert created["model"] == "gpt-5.4" and created["temperature"] == 1.0  # org defaults, read through
    assert created["tools"] == [{"type": "file_search"}]
    modified = http.post(
        f"/v1/assistants/{created['id']}", json={k: v for k, v in sent.items() if k != "name"}
    ).json()
    assert {k: modified[k] for k in CONSTANTS} == CONSTANTS


def test_ASST_CREATE_1_name_required_and_temperature_range(http: httpx2.Client) -> None:
    for body, param in [
        ({}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": "a", "temperature": 2.5}, "temperature"),
    ]:
        response = http.post("/v1/assistants", json=body)
        assert response.status_code == 400, body
        assert (error_of(response)["type"], error_of(response)["param"]) == ("invalid_request_error", param)


def test_ASST_CREATE_2_create_then_retrieve_same_object(client: OpenAI) -> None:
    created = client.beta.assistants.create(model="gpt-5.4", name="Support Bot", instructions="Be kind.")
    assert (created.name, created.instructions) == ("Support Bot", "Be kind.")
    assert client.beta.assistants.retrieve(created.id) == created


def test_ASST_CREATE_3_create_answers_200(http: httpx2.Client) -> None:
    assert http.post("/v1/assistants", json={"name": "x"}).status_code == 200


def test_ASST_GET_1_unknown_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.assistants.retrieve("asst-00000000-0000-4000-8000-0000000000ff")
    assert caught.value.type == "not_found_error"


def test_ASST_MODIFY_1_post_and_patch_alike_absent_fields_kept(client: OpenAI, http: httpx2.Client) -> None:
    created = client.beta.assistants.create(model="m", name="A", instructions="Keep me.")
    renamed = client.beta.assistants.update(created.id, name="B")  # the SDK uses POST
    assert (renamed.name, renamed.instructions) == ("B", "Keep me.")
    patched = http.patch(f"/v1/assistants/{created.id}", json={"instructions": "New."}).json()
    assert (patched["name"], patched["instructions"]) == ("B", "New.")
    assert http.patch(f"/v1/assistants/{created.id}", json={}).json() == patched
    assert http.post(f"/v1/assistants/{created.id}", json={"name": 3}).status_code == 400


def test_ASST_MODIFY_2_empty_instructions_clear(client: OpenAI) -> None:
    created = client.beta.assistants.create(model="m", name="A", instructions="Old.")
    cleared = client.beta.assistants.update(created.id, instructions="")
    assert not cleared.instructions
    assert not client.beta.assistants.retrieve(created.id).instructions


def test_ASST_MODIFY_3_cleared_instructions_read_back_null(http: httpx2.Client) -> None:
    created = http.post("/v1/assistants", json={"name": "A", "instructions": "Old."}).json()
    for method in ("POST", "PATCH"):
        http.request(method, f"/v1/assistants/{created['id']}", json={"instructions": "x"})
        assert (
            http.request(method, f"/v1/assistants/{created['id']}", json={"instructions": ""}).json()[
                "instructions"
            ]
            is None
        )
    assert http.get(f"/v1/assistants/{created['id']}").json()["instructions"] is None


def test_ASST_LIST_1_list_object_order_and_limit(many: OpenAI) -> None:
    page = many.beta.assistants.list()
    raw = page.model_dump()
    assert raw["object"] == "list" and len(page.data) == 11 and raw["has_more"] is False
    created = [a.created_at for a in page.data]
    assert created == sorted(created, reverse=True)  # default desc
    assert raw["first_id"] == page.data[0].id and raw["last_id"] == page.data[-1].id
    ascending = many.beta.assistants.list(order="asc", limit=5)
    assert [a.created_at for a in ascending.data] == sorted(created)[:5]
    assert ascending.model_dump()["has_more"] is True


def test_ASST_LIST_1_default_limit_is_20(unlimited: BackgroundServer, many: OpenAI) -> None:
    for i in range(10):
        many.beta.assistants.create(model="m", name=f"more {i}")
    with checked_client(unlimited.url) as http:
        body = http.get("/v1/assistants").json()
    assert len(body["data"]) == 20 and body["has_more"] is True


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_ASST_LIST_2_paging_visits_every_assistant_once(
    unlimited: BackgroundServer, many: OpenAI, order: Literal["asc", "desc"]
) -> None:
    everything = [a.id for a in many.beta.assistants.list(order=order, limit=100).data]
    with checked_client(unlimited.url) as http:
        seen: list[str] = []
        query: dict[str, Any] = {"limit": 5, "order": order}
        while True:
            body = http.get("/v1/assistants", params=query).json()
            seen += [a["id"] for a in body["data"]]
            if not body["has_more"]:
                break
            query["after"] = body["last_id"]
        assert seen == everything
        back: list[str] = []
        query = {"limit": 5, "order": order, "before": everything[-1]}
        while True:
            body = http.get("/v1/assistants", params=query).json()
            back = [a["id"] for a in body["data"]] + back
            if not body["has_more"]:
                break
            query["before"] = body["first_id"]
        assert back == everything[:-1]
    auto = [
        a.id for a in many.beta.assistants.list(order=order, limit=4)
    ]  # iterating, the SDK pages by `after`
    assert auto == everything


def test_ASST_LIST_3_empty_page_has_null_ids(http: httpx2.Client) -> None:
    everything = http.get("/v1/assistants", params={"order": "asc"}).json()["data"]
    body = http.get("/v1/assistants", params={"after": everything[-1]["id"], "order": "asc"}).json()
    assert body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def test_ASST_LIST_4_unknown_cursor_is_400_with_param(http: httpx2.Client) -> None:
    for cursor in ("after", "before"):
        for value in ("asst-nope", demo.OTHER_ASSISTANT):
            response = http.get("/v1/assistants", params={cursor: value})
            assert response.status_code == 400
            assert (error_of(response)["type"], error_of(response)["param"]) == (
                "invalid_request_error",
                cursor,
            )


def test_list_query_validation_is_the_specs(http: httpx2.Client) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"order": "up"}, "order"),
    ]
    for query, param in cases:
        response = http.get("/v1/assistants", params=query)
        assert response.status_code == 400 and error_of(response)["param"] == param
    assert len(http.get("/v1/assistants", params={"limit": 1}).json()["data"]) == 1


def test_ASST_DEL_1_delete_then_gone(client: OpenAI) -> None:
    created = client.beta.assistants.create(model="m", name="doomed")
    deleted = client.beta.assistants.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "assistant.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.delete(created.id)


def test_ASST_DEL_2_bound_assistant_cannot_be_deleted(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.assistants.delete(demo.SUPPORT_ASSISTANT)
    assert caught.value.type == "invalid_request_error"
    assert isinstance(caught.value.body, dict)
    # The documented words: the spec's example (deleteAssistant 400 `self_delete`), which the
    # requirement's vendor quote contains (tests/spec/test_facts.py).
    assert caught.value.body["message"] == self_delete_message()
    assert client.beta.assistants.retrieve(demo.SUPPORT_ASSISTANT).id == demo.SUPPORT_ASSISTANT


def test_ASST_DEL_2_another_key_of_the_org_may_delete_it(server: BackgroundServer) -> None:
    with make_openai(server, demo.SALES_KEY) as sales:
        assert sales.beta.assistants.delete(demo.SUPPORT_ASSISTANT).deleted


def test_ASST_ORG_1_other_orgs_assistant_is_404_everywhere(
    server: BackgroundServer, http: httpx2.Client
) -> None:
    other = demo.OTHER_ASSISTANT
    for method, body in [("GET", None), ("POST", {"name": "x"}), ("PATCH", {"name": "x"}), ("DELETE", None)]:
        response = http.request(method, f"/v1/assistants/{other}", json=body)
        assert response.status_code == 404, method
        assert error_of(response)["type"] == "not_found_error"
    chat = {"assistant_id": other, "messages": [{"role": "user", "content": "hi"}]}
    assert http.post("/v1/chat/completions", json=chat).status_code == 404
    assert http.post("/v1/chat", json={"assistant_id": other, "content": "hi"}).status_code == 404
    with checked_client(server.url, key=demo.OTHER_KEY) as owner:
        assert owner.get(f"/v1/assistants/{other}").json()["name"] == "Other Org Bot"


def test_ASST_ORG_2_list_is_the_whole_org_and_only_it(client: OpenAI, server: BackgroundServer) -> None:
    created = client.beta.assistants.create(model="m", name="new")
    ids = {a.id for a in client.beta.assistants.list().data}
    assert ids == {demo.SUPPORT_ASSISTANT, demo.SALES_ASSISTANT, created.id}
    with make_openai(server, demo.OTHER_KEY) as other:
        assert {a.id for a in other.beta.assistants.list().data} == {demo.OTHER_ASSISTANT}


def test_ASST_REQ_1_unknown_fields_ignored(http: httpx2.Client) -> None:
    created = http.post("/v1/assistants", json={"name": "x", "colour": "blue"})
    assert created.status_code == 200 and "colour" not in created.json()
    assert http.post(f"/v1/assistants/{created.json()['id']}", json={"colour": "red"}).status_code == 200
