"""The openai-proxy profile's contract: valid OpenAPI with its external refs into openapi.yaml
resolved (openapi-spec-validator, schemathesis, ragen_spec.schemas), well-formed requirements,
shared components not copied, and examples that are OpenAI wire format."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.shared import ErrorObject
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from ragen_spec import PROXY_SPEC_PATH, SPEC_PATH, error_types, load_spec, requirements, resolve
from ragen_spec.__main__ import catalogue_markdown
from ragen_spec.bundle import BundleError, load_bundled
from ragen_spec.schemas import media_schema, operations, sse_event_errors, validator_for
from referencing.exceptions import Unresolvable
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response

DOC = PROXY_SPEC_PATH
LEVELS = {"MUST", "SHOULD", "MAY"}
ID_PATTERN = re.compile(r"^PROXY(-[A-Z0-9]+)*-[0-9]+$")
# Shapes that are the Ragen API's too: the proxy document must $ref them, never copy them.
SHARED = {
    "ErrorResponse",
    "Error",
    "CompletionUsage",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionStreamEvent",
    "ChatMessage",
    "StreamOptions",
    "FinishReason",
}
CHAT = "/v1/chat/completions"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _op(path: str, method: str) -> dict[str, Any]:
    return next(op for p, m, op in operations(document=DOC) if (p, m) == (path, method))


def test_proxy_spec_is_valid_openapi_with_external_refs_resolved(tmp_path: Path) -> None:
    spec, base_uri = read_from_filename(str(DOC))
    validate(spec, base_uri=base_uri)
    # The validator really follows the external refs: a dangling one fails it.
    broken = tmp_path / DOC.name
    broken.write_text(DOC.read_text().replace("schemas/ErrorResponse", "schemas/NoSuchThing", 1))
    (tmp_path / SPEC_PATH.name).write_text(SPEC_PATH.read_text())
    spec, base_uri = read_from_filename(str(broken))
    with pytest.raises((OpenAPIValidationError, Unresolvable)):
        validate(spec, base_uri=base_uri)


def test_proxy_spec_shares_components_instead_of_copying_them() -> None:
    own = set(load_spec(DOC)["components"]["schemas"])
    assert not own & SHARED, f"copied instead of $ref'd: {own & SHARED}"
    external = {r for r in _refs(load_spec(DOC)) if r.startswith("openapi.yaml#")}
    assert {r.rsplit("/", 1)[-1] for r in external} >= {"ErrorResponse", "ChatCompletion", "ChatMessage"}
    main = load_spec(SPEC_PATH)
    for ref in external:
        target: Any = main
        for part in ref.split("#/", 1)[1].split("/"):
            target = target[part]  # KeyError = a ref into nothing


def test_schemathesis_loads_the_proxy_spec_and_validates_through_external_refs() -> None:
    schema = schemathesis.openapi.from_path(str(DOC))
    labels = sorted(result.ok().label for result in schema.get_all_operations())  # type: ignore[union-attr]
    assert labels == ["GET /v1/models", "POST /v1/chat/completions"]
    operation = schema["/v1/chat/completions"]["POST"]
    case = operation.Case(body={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})

    def response(status: int, body: dict[str, Any]) -> Response:
        request = requests.Request("POST", "http://127.0.0.1/v1/chat/completions").prepare()
        return Response(
            status_code=status,
            headers={"content-type": ["application/json"]},
            content=json.dumps(body).encode(),
            request=request,
            elapsed=0.01,
            verify=True,
        )

    envelope = {"error": {"message": "down", "type": "bad_gateway", "code": None, "param": None}}
    case.validate_response(response(502, envelope), checks=[schemathesis.checks.response_schema_conformance])
    # ErrorResponse lives in openapi.yaml: a body missing its required `code`/`param` must fail.
    with pytest.raises(FailureGroup) as failed:
        case.validate_response(
            response(502, {"error": {"message": "down", "type": "bad_gateway"}}),
            checks=[schemathesis.checks.response_schema_conformance],
        )
    assert '"code" is a required property' in str(failed.value.exceptions[0])


def test_proxy_validators_resolve_external_refs() -> None:
    request = validator_for("#/components/schemas/CreateChatCompletionRequest", document=DOC)
    errors = sorted(
        e.message
        for e in request.iter_errors(
            {
                "model": "m",
                "messages": [{"role": "robot", "content": "x"}],
                "presence_penalty": -3,
                "stop": [1],
            }
        )
    )
    assert len(errors) == 3, errors  # role via openapi.yaml's ChatMessage, the penalty range, stop's type
    _key, error_schema = media_schema(_op(CHAT, "POST"), "401", "application/json", document=DOC)
    assert list(validator_for(error_schema, document=DOC).iter_errors({"error": {"message": "m"}}))
    with pytest.raises(Unresolvable):
        list(validator_for({"$ref": "openapi.yaml#/components/schemas/Nope"}, document=DOC).iter_errors({}))


def test_proxy_requirements_have_unique_prefixed_ids_and_levels() -> None:
    raw = load_spec(DOC)["x-requirements"]
    ids = [r["id"] for r in raw]
    assert len(ids) == len(set(ids)), "duplicate requirement ids"
    assert not set(ids) & set(requirements()), "ids collide with the Ragen spec's"
    for req in raw:
        assert ID_PATTERN.match(req["id"]), req["id"]
        assert req["level"] in LEVELS, req
        if req["level"] == "MAY":
            assert req.get("mock") and req.get("conformant"), f"{req['id']}: a MAY states both choices"
        text = re.sub(r"`[^`]*`|\"[^\"]*\"|e\.g\.", "", req["text"])
        assert text.rstrip().endswith("."), req["id"]
        assert not re.search(r"[.!?] +[A-Z]", text.rstrip()[:-1]), f"{req['id']} has more than one sentence"


def test_proxy_operations_cite_existing_requirements() -> None:
    known = requirements(DOC)
    for path, method, op in operations(document=DOC):
        ids = op.get("x-requirement-ids", [])
        assert ids and set(ids) <= set(known), f"{method} {path}: {set(ids) - set(known)}"


def test_proxy_error_table_is_documented() -> None:
    """The document's error table: every status is a documented response of the chat operation."""
    responses = _op(CHAT, "POST")["responses"]
    assert {"200", "400", "401", "404", "429", "500", "502", "503"} <= set(responses)
    # The table itself is pinned in the responses' schemas (tests/spec/test_facts.py ties it to the
    # vendor's quoted table); each documented example carries the table's type.
    pinned = error_types(DOC)
    for status in ("400", "401", "404", "429", "500", "502", "503"):
        media = resolve(responses[status], DOC)["content"]["application/json"]
        types = {ex["value"]["error"]["type"] for ex in media["examples"].values()}
        assert types == {pinned[int(status)][0]}, status


def test_proxy_request_examples_validate() -> None:
    media = _op(CHAT, "POST")["requestBody"]["content"]["application/json"]
    for name, example in media["examples"].items():
        validator = validator_for(media["schema"], document=DOC)
        errors = [e.message for e in validator.iter_errors(example["value"])]
        assert not errors, f"{name}: {errors}"


def _response_examples() -> list[tuple[str, str, str, str, dict[str, Any], Any]]:
    found = []
    for path, method, op in operations(document=DOC):
        for status, response in op["responses"].items():
            for media_type, media in (resolve(response, DOC).get("content") or {}).items():
                key, schema = media_schema(op, status, media_type, document=DOC)
                for name, example in (media.get("examples") or {}).items():
                    schema_of = {"key": key, "schema": schema}
                    found.append((f"{method} {path}", status, media_type, name, schema_of, example["value"]))
    return found


EXAMPLES = _response_examples()


@pytest.mark.parametrize("entry", EXAMPLES, ids=[f"{e[0]}-{e[1]}-{e[3]}" for e in EXAMPLES])
def test_proxy_response_examples_validate_and_parse_into_sdk_models(entry: tuple[Any, ...]) -> None:
    label, status, _media_type, _name, schema, value = entry
    if schema["key"] == "itemSchema":
        assert sse_event_errors(value, schema["schema"], document=DOC) == []
        if value["data"] != "[DONE]":
            ChatCompletionChunk.model_validate(json.loads(value["data"]))
        return
    assert [e.message for e in validator_for(schema["schema"], document=DOC).iter_errors(value)] == []
    if not status.startswith("2"):
        ErrorObject.model_validate(value["error"])
    elif label == "GET /v1/models":
        for model in value["data"]:
            Model.model_validate(model)
    else:
        ChatCompletion.model_validate(value)


def test_a_broken_proxy_stream_example_fails_validation() -> None:
    role_chunk = next(e for e in EXAMPLES if e[3] == "role_chunk")
    broken = {"data": role_chunk[5]["data"].replace('"index":0', '"index":"0"')}
    assert sse_event_errors(broken, role_chunk[4]["schema"], document=DOC)


def test_bundled_proxy_spec_is_self_contained_valid_and_loads_in_schemathesis() -> None:
    bundled = load_bundled(DOC)
    assert all(ref.startswith("#/") for ref in _refs(bundled))
    validate(bundled)
    loaded = schemathesis.openapi.from_dict(bundled)
    labels = sorted(r.ok().label for r in loaded.get_all_operations())  # type: ignore[union-attr]
    assert labels == ["GET /v1/models", "POST /v1/chat/completions"]
    # The proxy's own Unauthorized response and the copied Ragen one keep apart on a name clash.
    responses = bundled["components"]["responses"]
    assert responses["Unauthorized"] == {"$ref": "#/components/responses/openapi_Unauthorized"}
    assert "ErrorResponse" in bundled["components"]["schemas"]


def test_bundling_a_dangling_external_ref_fails(tmp_path: Path) -> None:
    (tmp_path / SPEC_PATH.name).write_text(SPEC_PATH.read_text())
    broken = tmp_path / DOC.name
    broken.write_text(DOC.read_text().replace("schemas/ErrorResponse", "schemas/NoSuchThing", 1))
    with pytest.raises(BundleError, match="NoSuchThing"):
        load_bundled(broken)


def test_proxy_requirement_catalogue_is_up_to_date() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "openai-proxy-requirements.md"
    assert doc.read_text() == catalogue_markdown(DOC), (
        "run: python -m ragen_spec --proxy > docs/openai-proxy-requirements.md"
    )
