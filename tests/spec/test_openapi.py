"""The contract itself: valid OpenAPI, loadable by our tools, well-formed requirements, and
examples that are OpenAI wire format (own schemas, the openai SDK's typed models, and OpenAI's
official schemas when ../shared/reference is present)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pydantic
import pytest
import schemathesis
from jsonschema import Draft202012Validator
from openai.pagination import SyncCursorPage
from openai.types.beta import Assistant, AssistantDeleted
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.shared import ErrorObject
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from ragen_spec import SPEC_PATH, load_spec, requirements, resolve
from ragen_spec.schemas import media_schema, operations, sse_event_errors, validator_for

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "openai-schemas.json"
LEVELS = {"MUST", "SHOULD", "MAY", "OURS"}
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-[0-9]+$")

# Which openai SDK model a response schema must parse into.
SDK_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "ChatCompletion": ChatCompletion,
    "ChatCompletionChunk": ChatCompletionChunk,
    "Assistant": Assistant,
    "DeleteAssistantResponse": AssistantDeleted,
    "ListAssistantsResponse": SyncCursorPage[Assistant],
}
# Which of OpenAI's official schemas a response schema corresponds to.
REFERENCE_SCHEMAS = {
    "ChatCompletion": "CreateChatCompletionResponse",
    "ChatCompletionChunk": "CreateChatCompletionStreamResponse",
    "Assistant": "AssistantObject",
    "DeleteAssistantResponse": "DeleteAssistantResponse",
    "ListAssistantsResponse": "ListAssistantsResponse",
    "ErrorResponse": "ErrorResponse",
}


def _response_examples() -> list[tuple[str, str, str, str, dict[str, Any], Any]]:
    """(operationId, status, media type, example name, schema-or-itemSchema ref, value) for every example."""
    found = []
    for _path, _method, op in operations():
        for status, response in op["responses"].items():
            for media_type, media in (resolve(response).get("content") or {}).items():
                key, schema = media_schema(op, status, media_type)
                for name, example in (media.get("examples") or {}).items():
                    value = resolve(example)["value"]
                    found.append(
                        (op["operationId"], status, media_type, name, {"key": key, "schema": schema}, value)
                    )
    return found


def _schema_name(schema: dict[str, Any]) -> str | None:
    """The component a schema is, or extends (``allOf`` with the envelope and a pinned ``type``)."""
    ref = schema.get("$ref", "") or next((b["$ref"] for b in schema.get("allOf", []) if "$ref" in b), "")
    return ref.rsplit("/", 1)[-1] if ref else None


def _payloads(entry: tuple[str, str, str, str, dict[str, Any], Any]) -> list[tuple[str, Any]]:
    """(schema name, JSON payload) pairs an example carries; SSE events are unwrapped."""
    op, _status, media_type, _name, schema, value = entry
    if op == "createNativeChat":
        return [("NativeChat", value)]  # our own shape: no SDK model or OpenAI schema exists
    if media_type == "text/event-stream":
        if value["data"] == "[DONE]":
            return []
        payload = json.loads(value["data"])
        name = "ErrorResponse" if "error" in payload else "ChatCompletionChunk"
        return [(name, payload)]
    return [(_schema_name(schema["schema"]) or "", value)]


EXAMPLES = _response_examples()
EXAMPLE_IDS = [f"{e[0]}-{e[1]}-{e[2]}-{e[3]}" for e in EXAMPLES]


def test_spec_is_valid_openapi() -> None:
    validate(load_spec())


def test_spec_validator_rejects_a_broken_copy() -> None:
    broken = load_spec()
    broken["paths"]["/v1/assistants"]["get"]["parameters"][0]["in"] = "body"  # not an OpenAPI 3 location
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_schemathesis_loads_every_operation() -> None:
    schema = schemathesis.openapi.from_path(str(SPEC_PATH))
    results = list(schema.get_all_operations())
    labels = sorted(result.ok().label for result in results)
    assert len(labels) == sum(1 for _ in operations())
    assert "POST /v1/chat/completions" in labels


def test_requirements_have_unique_well_formed_ids_and_levels() -> None:
    raw = load_spec()["x-requirements"]
    ids = [r["id"] for r in raw]
    assert len(ids) == len(set(ids)), "duplicate requirement ids"
    for req in raw:
        assert ID_PATTERN.match(req["id"]), req["id"]
        assert req["level"] in LEVELS, req
        if req["level"] == "MAY":
            assert req.get("mock") and req.get("conformant"), (
                f"{req['id']}: a silent point states both choices"
            )


def test_each_requirement_is_one_sentence() -> None:
    for req in requirements().values():
        text = re.sub(r"`[^`]*`|\"[^\"]*\"|e\.g\.", "", req["text"])
        assert text.rstrip().endswith("."), req["id"]
        assert not re.search(r"[.!?] +[A-Z]", text.rstrip()[:-1]), f"{req['id']} has more than one sentence"


def test_operations_cite_existing_requirements() -> None:
    known = requirements()
    for path, method, op in operations():
        ids = op.get("x-requirement-ids", [])
        assert ids, f"{method} {path} cites no requirement"
        assert set(ids) <= set(known), f"{method} {path}: unknown {set(ids) - set(known)}"


def test_every_operation_has_request_and_response_examples() -> None:
    for path, method, op in operations():
        body = op.get("requestBody")
        if body:
            assert body["content"]["application/json"].get("examples"), f"{method} {path} request"
        ok = next(s for s in op["responses"] if s.startswith("2"))
        for media_type, media in (resolve(op["responses"][ok]).get("content") or {}).items():
            assert media.get("examples"), f"{method} {path} {ok} {media_type}"


@pytest.mark.parametrize(
    "op", [op for _p, _m, op in operations() if "requestBody" in op], ids=lambda op: op["operationId"]
)
def test_request_examples_validate_against_request_schema(op: dict[str, Any]) -> None:
    media = op["requestBody"]["content"]["application/json"]
    for name, example in media["examples"].items():
        errors = [e.message for e in validator_for(media["schema"]).iter_errors(example["value"])]
        assert not errors, f"{name}: {errors}"


@pytest.mark.parametrize("entry", EXAMPLES, ids=EXAMPLE_IDS)
def test_response_examples_validate_against_their_schema(entry: tuple[Any, ...]) -> None:
    _op, _status, _media_type, _name, schema, value = entry
    if schema["key"] == "itemSchema":
        assert sse_event_errors(value, schema["schema"]) == []
    else:
        assert [e.message for e in validator_for(schema["schema"]).iter_errors(value)] == []


def test_a_broken_example_fails_validation() -> None:
    completion = next(e for e in EXAMPLES if e[0] == "createChatCompletion" and e[2] == "application/json")
    broken = copy.deepcopy(completion[5])
    del broken["usage"]
    broken["object"] = "chat.completions"
    assert len(list(validator_for(completion[4]["schema"]).iter_errors(broken))) == 2
    stream_item = next(e for e in EXAMPLES if e[2] == "text/event-stream" and e[3] == "role_chunk")
    assert sse_event_errors(
        {"data": stream_item[5]["data"].replace('"index":0', '"index":"0"')}, stream_item[4]["schema"]
    )


@pytest.mark.parametrize("entry", EXAMPLES, ids=EXAMPLE_IDS)
def test_response_examples_parse_into_openai_sdk_models(entry: tuple[Any, ...]) -> None:
    payloads = _payloads(entry)
    for name, payload in payloads:
        if name == "ErrorResponse":
            ErrorObject.model_validate(payload["error"])
        elif name in SDK_MODELS:
            parsed = SDK_MODELS[name].model_validate(payload)
            # Nothing the SDK knows is left unset: every SDK field we sent round-trips.
            dumped = parsed.model_dump(exclude_unset=True)
            assert set(dumped) >= set(payload) & set(type(parsed).model_fields)
        elif name == "NativeChat":
            continue
        else:
            pytest.fail(f"no SDK model mapped for schema {name!r}")


def test_sdk_model_check_catches_a_missing_required_field() -> None:
    assistant = next(e[5] for e in EXAMPLES if e[0] == "getAssistant" and e[1] == "200")
    incomplete = {k: v for k, v in assistant.items() if k != "created_at"}
    with pytest.raises(pydantic.ValidationError):
        Assistant.model_validate(incomplete)


def _nullable_to_31(node: Any) -> Any:
    """OpenAI's document still uses the 3.0 ``nullable`` keyword; make it mean what it says."""
    if isinstance(node, dict):
        node = {k: _nullable_to_31(v) for k, v in node.items()}
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable_to_31(v) for v in node]
    return node


@pytest.fixture(scope="module")
def openai_reference() -> dict[str, Any]:
    if not REFERENCE.exists():
        pytest.skip(f"OpenAI reference schemas not found at {REFERENCE}")
    return dict(_nullable_to_31(json.loads(REFERENCE.read_text())))


@pytest.mark.parametrize("entry", EXAMPLES, ids=EXAMPLE_IDS)
def test_response_examples_validate_against_openai_official_schemas(
    entry: tuple[Any, ...], openai_reference: dict[str, Any]
) -> None:
    for name, payload in _payloads(entry):
        if name not in REFERENCE_SCHEMAS:
            continue
        schema = {"$ref": f"#/components/schemas/{REFERENCE_SCHEMAS[name]}", **openai_reference}
        errors = [
            f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(payload)
        ]
        assert errors == []


def test_requirements_doc_is_generated_from_the_spec() -> None:
    from ragen_spec.__main__ import catalogue_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "requirements.md"
    assert doc.read_text() == catalogue_markdown(), "run: python -m ragen_spec > docs/requirements.md"
