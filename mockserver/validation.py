"""Request validation derived from the spec at start-up: body schemas and query parameters.

Each operation's ``requestBody`` schema and query ``parameters`` become validators once, when the
app is built. Valid requests (the hot path) are checked by ``jsonschema_rs`` (compiled, ~1 µs);
an invalid one is re-checked by ``jsonschema`` (``ragen_spec.schemas.validator_for``) for a
precise error, mapped to 400 ``invalid_request_error`` with ``code`` and the top-level ``param``
(ERR-PARAM-1). Change a range in the spec and the mock enforces the new one.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from multidict import MultiMapping
from ragen_spec import load_spec
from ragen_spec.refs import resolve_local
from ragen_spec.schemas import DOCUMENT_URI, validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver import jsonio
from mockserver.errors import InvalidRequestError, RequestTooLargeError

__all__ = ["BodyValidator", "QueryValidator", "SchemaSource", "parse_json_body"]


def _absolute_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: DOCUMENT_URI + v
            if k == "$ref" and isinstance(v, str) and v.startswith("#")
            else _absolute_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


class SchemaSource:
    """Builds validators for fragments of one spec document (the shipped one by default)."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.default = spec is None
        self.spec = load_spec() if spec is None else spec
        self._rs_registry = jsonschema_rs.Registry([(DOCUMENT_URI, self.spec)])
        self._registry: Registry | None = None

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = resolve_local(self.spec, node)
        return resolved

    def precise(self, schema: dict[str, Any]) -> Draft202012Validator:
        if self.default:
            return validator_for(schema)
        if self._registry is None:
            resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
            self._registry = Registry().with_resource(DOCUMENT_URI, resource)
        return Draft202012Validator(_absolute_refs(schema), registry=self._registry)

    def fast(self, schema: dict[str, Any]) -> Any:
        return jsonschema_rs.Draft202012Validator(_absolute_refs(schema), registry=self._rs_registry)


def _path(error: ValidationError) -> list[str | int]:
    return list(error.absolute_path)


def _as_request_error(error: ValidationError, *, location: str) -> InvalidRequestError:
    path = _path(error)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next((r for r in error.validator_value if r not in error.instance), None)
        path = [*path, missing] if missing is not None else path
        code = "missing_required_parameter"
    elif error.validator == "type":
        code = "invalid_type"
    else:
        code = "invalid_value"
    param = str(path[0]) if path else None
    shown = "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path)
    )
    if error.validator == "required":
        message = f"Missing required {location} parameter '{shown}'."
    else:
        message = f"{shown or location}: {error.message}"
    return InvalidRequestError(message, code=code, param=param)


class BodyValidator:
    def __init__(self, schema: dict[str, Any], source: SchemaSource) -> None:
        self._fast = source.fast(schema)
        self._precise = source.precise(schema)

    def check(self, body: Any) -> None:
        try:
            if self._fast.is_valid(body):
                return
        except UnicodeEncodeError:
            pass  # a lone surrogate the Rust validator cannot take; the precise one decides

        error = best_match(self._precise.iter_errors(body))
        if error is not None:
            raise _as_request_error(error, location="body")


class QueryValidator:
    """Query parameters as one object schema; values coerced to the parameter types first."""

    def __init__(self, parameters: list[dict[str, Any]], source: SchemaSource) -> None:
        properties: dict[str, Any] = {}
        required: list[str] = []
        self.types: dict[str, str] = {}
        self.defaults: dict[str, Any] = {}
        for raw in parameters:
            param = source.resolve(raw)
            if param.get("in") != "query":
                continue
            schema = param.get("schema", {})
            properties[param["name"]] = schema
            resolved = source.resolve(schema)
            kind = resolved.get("type")
            self.types[param["name"]] = kind if isinstance(kind, str) else "string"
            if "default" in resolved:
                self.defaults[param["name"]] = resolved["default"]
            if param.get("required"):
                required.append(param["name"])
        schema = {"type": "object", "properties": properties, "required": required}
        self.names = frozenset(properties)
        self._body = BodyValidator(schema, source)

    def parse(self, query: MultiMapping[str]) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.defaults)
        for name in self.names:
            raw = query.get(name)
            if raw is None:
                continue
            values[name] = _coerce(raw, self.types[name])
        try:
            self._body.check(values)
        except InvalidRequestError as exc:
            exc.message = exc.message.replace("body parameter", "query parameter")
            raise
        return values


def _coerce(raw: str, kind: str) -> Any:
    """Query strings to the declared type; an unconvertible value stays a string and fails validation."""
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def parse_json_body(raw: bytes, content_type: str, charset: str | None, *, max_bytes: int) -> dict[str, Any]:
    """ERR-BODY-1: JSON content type, UTF-8, valid JSON, a JSON object; ERR-SIZE-1 past ``max_bytes``."""
    if content_type != "application/json" and not (
        content_type.startswith("application/") and content_type.endswith("+json")
    ):
        raise InvalidRequestError(
            f"Unsupported content type {content_type!r}; send the body as 'application/json'.",
            code="unsupported_content_type",
        )
    if not raw:
        raise InvalidRequestError("The request body is empty; send a JSON object.", code="invalid_json")
    if len(raw) > max_bytes:
        raise RequestTooLargeError(max_bytes)
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise InvalidRequestError(f"Unsupported charset {charset!r}; send UTF-8.", code="invalid_encoding")
    try:
        body = jsonio.loads_utf8(raw)  # the usual case: one pass, no decoded copy
    except ValueError:
        body = _decode_json(raw)  # the stdlib's reading, and the precise error
    if not isinstance(body, dict):
        raise InvalidRequestError(
            f"The request body must be a JSON object, not {type(body).__name__}.", code="invalid_type"
        )
    return body


def _decode_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError("The request body is not valid UTF-8.", code="invalid_encoding") from None
    try:
        body = jsonio.loads(text)
    except ValueError as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}", code="invalid_json") from None
    except RecursionError:
        raise InvalidRequestError("The request body nests too deeply.", code="invalid_json") from None
    return body
