"""The mock's side of the rules the source audit split off (each named after its id): the OpenAI
conventions it follows (SHOULD) and the choices it makes where the documents are silent (MAY)."""

from __future__ import annotations

import httpx2
from openai import OpenAI

from mockserver import demo
from mockserver.background import BackgroundServer
from tests.mockserver.conftest import SUPPORT, chat_body, checked_client

CHAT = "/v1/chat/completions"


def _error(response: httpx2.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    return error


def test_CHAT_REQ_12_numeric_content_is_400(http: httpx2.Client) -> None:
    body = {"assistant_id": SUPPORT, "messages": [{"role": "user", "content": 42}]}
    assert _error(http.post(CHAT, json=body), 400)["type"] == "invalid_request_error"


def test_CHAT_REQ_13_every_response_names_the_deployments_model(client: OpenAI) -> None:
    models = {
        client.chat.completions.create(
            model=sent, messages=[{"role": "user", "content": "Hi"}], extra_body={"assistant_id": SUPPORT}
        ).model
        for sent in ("gpt-4o", "no-such-model")
    }
    assert models == {"gpt-5.4"}


def test_CHAT_LEN_4_an_answer_cut_by_max_tokens_ends_with_length(http: httpx2.Client) -> None:
    body = chat_body("Explain your refund policy in detail, step by step.", max_tokens=1)
    answer = http.post(CHAT, json=body).json()
    assert answer["choices"][0]["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] <= 1


def test_ERR_BODY_2_json_sent_as_text_plain_is_rejected(http: httpx2.Client) -> None:
    response = http.post("/v1/assistants", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    assert _error(response, 400)["code"] == "unsupported_content_type"
    sent_as_json = http.post(
        "/v1/assistants", content=b'{"name": "x"}', headers={"content-type": "application/vnd.api+json"}
    )
    assert sent_as_json.status_code == 200


def test_AUTH_6_a_valid_key_in_another_form_is_401(server: BackgroundServer) -> None:
    for header in (f"Basic {demo.KEY}", demo.KEY):
        with checked_client(server.url, key=None, headers={"Authorization": header}) as http:
            assert _error(http.get("/v1/assistants"), 401)["type"] == "authentication_error"


def test_ASST_OBJ_3_object_name_and_created_at(http: httpx2.Client) -> None:
    created = http.post("/v1/assistants", json={"name": "Shape"}).json()
    assert created["object"] == "assistant"
    assert isinstance(created["created_at"], int) and not isinstance(created["created_at"], bool)


def test_ASST_REQ_2_an_out_of_range_temperature_is_rejected(http: httpx2.Client) -> None:
    created = http.post("/v1/assistants", json={"name": "T", "temperature": 3})
    assert _error(created, 400)["param"] == "temperature"
    path = f"/v1/assistants/{SUPPORT}"
    before = http.get(path).json()
    assert _error(http.post(path, json={"name": "Renamed", "temperature": -1}), 400)["param"] == "temperature"
    assert http.get(path).json() == before


def test_ASST_REQ_3_an_empty_name_is_accepted(http: httpx2.Client) -> None:
    created = http.post("/v1/assistants", json={"name": "", "instructions": "żółw 🐢"}).json()
    assert (created["name"], created["instructions"]) == ("", "żółw 🐢")


def test_ASST_MODIFY_5_a_modify_without_a_body_is_400(http: httpx2.Client) -> None:
    empty = {"content": b"", "headers": {"content-type": "application/json"}}
    response = http.post(f"/v1/assistants/{SUPPORT}", **empty)
    assert _error(response, 400)["type"] == "invalid_request_error"


def test_ASST_LIST_6_openai_list_shape_order_limit_and_before(http: httpx2.Client) -> None:
    for i in range(3):
        assert http.post("/v1/assistants", json={"name": f"List {i}"}).status_code == 200
    page = http.get("/v1/assistants", params={"limit": 2, "order": "asc"}).json()
    assert page["object"] == "list" and len(page["data"]) == 2 and page["has_more"] is True
    assert (page["first_id"], page["last_id"]) == (page["data"][0]["id"], page["data"][-1]["id"])
    stamps = [a["created_at"] for a in page["data"]]
    assert stamps == sorted(stamps)
    everything = http.get("/v1/assistants", params={"limit": 100}).json()["data"]
    back = http.get("/v1/assistants", params={"before": everything[-1]["id"], "limit": 100}).json()["data"]
    assert [a["id"] for a in back] == [a["id"] for a in everything[:-1]]


def test_RATE_ALGO_1_a_sliding_window_never_holds_more_than_the_limit(
    http: httpx2.Client, inspect: httpx2.Client
) -> None:
    statuses = [http.post(CHAT, json=chat_body("Hi")).status_code for _ in range(10)]
    inspect.post("/clock/advance", json={"seconds": 59}).raise_for_status()
    # A fixed window aligned to the clock might admit again here; the mock's sliding log does not.
    statuses.append(http.post(CHAT, json=chat_body("Hi")).status_code)
    inspect.post("/clock/advance", json={"seconds": 2}).raise_for_status()
    statuses.append(http.post(CHAT, json=chat_body("Hi")).status_code)
    assert statuses == [200] * 10 + [429, 200]


def test_REQ_EDGE_1_edge_values_the_schema_allows_are_answered(http: httpx2.Client) -> None:
    for question in ("", "ß" * 2000 + " 🙂", "  \t "):
        response = http.post(CHAT, json=chat_body(question, frobnicate={"deep": [1, 2]}, temperature=0))
        assert response.status_code == 200, response.text
