"""``ragen_spec.operations``: the one view of the spec's operations the tools read."""

from __future__ import annotations

import pytest
from ragen_spec import PROXY_SPEC_PATH, load_spec, resolve
from ragen_spec.bundle import load_bundled
from ragen_spec.exchange import Observation, operation_for, tier_of
from ragen_spec.operations import operations, operations_of
from ragen_spec.schemas import validator_for


def test_the_view_lists_every_operation_of_paths_in_document_order() -> None:
    paths = load_spec()["paths"]
    expected = [
        (m.upper(), p) for p, item in paths.items() for m in item if m in {"get", "post", "patch", "delete"}
    ]
    assert [(op.method, op.path) for op in operations()] == expected
    assert len({op.operation_id for op in operations()}) == len(expected)


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("POST", "/v1/chat/completions", "createChatCompletion"),
        ("post", "/v1/chat", "createNativeChat"),
        ("GET", "/v1/assistants?limit=2", "listAssistants"),
        ("GET", "/v1/assistants/asst-1", "getAssistant"),
        ("DELETE", "/v1/assistants/asst-1", "deleteAssistant"),
        ("GET", "/v1/assistants/asst-1/extra", None),  # a parameter is one path segment
        ("PUT", "/v1/assistants/asst-1", None),
        ("GET", "/v1/chat/completions", None),
    ],
)
def test_a_concrete_request_finds_its_operation(method: str, path: str, operation_id: str | None) -> None:
    op = operations().match(method, path)
    assert (op.operation_id if op else None) == operation_id
    assert operation_for(method, path)[0] == (op.name if op else None)


def test_an_operation_carries_its_tier_ids_and_documented_responses() -> None:
    op = operations().by_id("getAssistant")
    assert op.name == "GET /v1/assistants/{assistant_id}" and op.tier == "assistants"
    assert "ASST-GET-1" in op.requirement_ids and not op.ours
    assert op.response_key(404) == "404" and op.response_key(502) == "5XX" and op.response_key(418) is None
    assert op.response(503) == resolve({"$ref": "#/components/responses/ServerError"})
    assert op.response(418) is None
    assert operations().by_id("createNativeChat").ours
    assert tier_of("POST /v1/chat") == "chat" and tier_of("GET /nowhere") is None


def test_request_side_parameters_and_bodies_are_resolved() -> None:
    listing = operations().by_id("listAssistants")
    assert {p["name"] for p in listing.query_parameters()} >= {"limit", "order", "after", "before"}
    assert listing.request_body is None and listing.request_schema() is None
    create = operations().by_id("createAssistant")
    assert create.body_required
    assert create.request_schema() == {"$ref": "#/components/schemas/CreateAssistantRequest"}


def test_the_proxy_document_and_its_bundled_form_give_the_same_view() -> None:
    on_disk = operations(PROXY_SPEC_PATH)
    bundled = operations_of(load_bundled(PROXY_SPEC_PATH))
    assert (
        [op.name for op in on_disk]
        == [op.name for op in bundled]
        == [
            "POST /v1/chat/completions",
            "GET /v1/models",
        ]
    )
    # The 401 is a component of openapi.yaml: followed across the documents on disk.
    assert (
        on_disk.by_id("listModels").response(401)["description"]
        == bundled.by_id("listModels").response(401)["description"]
    )


def test_an_observation_reads_its_operation_from_the_view() -> None:
    seen = Observation("DELETE", "/v1/assistants/asst-9?x=1", None, 200, {}, b"{}")
    assert (seen.operation, seen.operation_id, seen.tier) == (
        "DELETE /v1/assistants/{assistant_id}",
        "deleteAssistant",
        "assistants",
    )
    unknown = Observation("GET", "/v2/x", None, 404, {}, b"{}")
    assert (unknown.operation, unknown.operation_id, unknown.tier) == ("GET /v2/x", None, None)


def test_a_response_schema_behind_another_document_validates_with_its_pinned_type() -> None:
    op = operations(PROXY_SPEC_PATH).by_id("listModels")
    kind, schema = op.media_schema(401, "application/json")  # openapi.yaml's Unauthorized
    validator = validator_for(schema, document=PROXY_SPEC_PATH)
    good = {"error": {"message": "m", "type": "authentication_error", "code": None, "param": None}}
    assert kind == "schema" and validator.is_valid(good)
    assert not validator.is_valid({"error": {**good["error"], "type": "invalid_request_error"}})
    with pytest.raises(KeyError):
        op.media_schema(418, "application/json")
