"""The request rules: what makes one request invalid under the spec, and which rule demands that
the server reject it. The gate's schema-driven check asks it which answer a generated request
deserves; the mock's validating proxy asks it about each request an app sends.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from ragen_spec import load_spec
from ragen_spec.schemas import validator_for
from ragen_spec.validity import quick_check

__all__ = ["RequestViolation", "request_schemas", "request_violations", "unrejected_request"]

Problem = tuple[str, str]


@dataclass(frozen=True)
class RequestViolation:
    """Why a request is invalid; ``requirement`` is set when a rule demands its rejection."""

    where: str
    message: str
    requirement: str | None
    statuses: frozenset[int] = frozenset({400, 413})
    kind: str = ""  # the JSON Schema keyword broken (type, minimum, required, ...)


def _mandate(operation_id: str, path: list[Any], validator: str) -> tuple[str | None, frozenset[int]]:
    head = path[0] if path else None
    reject = frozenset({400, 413})
    if operation_id == "createChatCompletion":
        if head is None and validator == "required":
            return "CHAT-REQ-1", reject
        if head == "assistant_id":
            return "CHAT-REQ-1", frozenset({400, 404, 413})
        if head == "messages" and len(path) == 1:
            return "CHAT-REQ-1", reject
        if head == "messages" and len(path) >= 3 and path[2] == "role":
            return "CHAT-REQ-3", reject
        # messages/<i> itself (not an object, or without role/content), or its content.
        if head == "messages" and (len(path) == 2 or (len(path) >= 3 and path[2] == "content")):
            return "CHAT-REQ-10", reject
        if head in ("stream", "stream_options"):
            return "CHAT-REQ-10", reject
        if head in ("temperature", "max_tokens"):
            return "CHAT-REQ-2", reject
    if operation_id == "createAssistant" and (
        (head is None and validator == "required") or head in ("name", "temperature")
    ):
        return "ASST-CREATE-1", reject
    if operation_id in ("modifyAssistant", "patchAssistant") and head in ("name", "temperature"):
        return "ASST-MODIFY-4", reject
    return None, reject


def _content_parts(path: list[Any], instance: Any) -> bool:
    """A message ``content`` given as a list (OpenAI content parts): accepting it is conformant."""
    return len(path) >= 3 and path[0] == "messages" and path[2] == "content" and isinstance(instance, list)


def _query_mandate(operation_id: str, name: str, validator: str) -> str | None:
    """ASST-LIST-5 (SHOULD): a list limit outside 1–100 or an order other than asc/desc gets 400."""
    if operation_id != "listAssistants":
        return None
    if (name == "limit" and validator in ("minimum", "maximum")) or name == "order":
        return "ASST-LIST-5"
    return None


@functools.cache
def request_schemas() -> dict[str, dict[str, Any]]:
    """operationId -> its JSON body schema, query parameter schemas and method."""
    out: dict[str, dict[str, Any]] = {}
    for item in load_spec()["paths"].values():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                params = {p["name"]: p["schema"] for p in op.get("parameters", []) if p.get("in") == "query"}
                out[op["operationId"]] = {"body": body, "query": params, "method": method}
    return out


def _precise(schema: dict[str, Any]) -> Draft202012Validator:
    key = json.dumps(schema, sort_keys=True)
    found = _PRECISE.get(key)
    if found is None:
        found = _PRECISE[key] = validator_for(schema)
    return found


_PRECISE: dict[str, Draft202012Validator] = {}


def _coerce_query(value: Any, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer" and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def request_violations(
    operation_id: str,
    body: Any,
    query: Mapping[str, Any] | None,
    media_type: str | None = "application/json",
    has_body: bool = True,
) -> list[RequestViolation]:
    """What makes a request invalid under the spec, each with the requirement demanding rejection (if any)."""
    schemas = request_schemas().get(operation_id, {})
    out: list[RequestViolation] = []
    if schemas.get("body") is not None:
        if media_type is not None and "json" not in media_type:
            out.append(RequestViolation("body", f"sent as {media_type}", "ERR-BODY-1"))
        elif not has_body:
            out.append(RequestViolation("body", "no body", "ERR-BODY-1"))
        elif not isinstance(body, dict):
            out.append(RequestViolation("body", f"a JSON {type(body).__name__}, not an object", "ERR-BODY-1"))
        else:
            errors = [] if quick_check(schemas["body"], body) else _precise(schemas["body"]).iter_errors(body)
            for error in errors:
                path = list(error.absolute_path)
                rid, statuses = _mandate(operation_id, path, str(error.validator))
                if _content_parts(path, error.instance):
                    rid = None  # CHAT-REQ-11 (MAY): OpenAI-style content parts may be accepted
                where = "/".join(map(str, path)) or "body"
                out.append(RequestViolation(where, error.message[:160], rid, statuses, str(error.validator)))
    for name, value in (query or {}).items():
        schema = schemas.get("query", {}).get(name)
        if schema is None:
            continue
        # A bad cursor next to a bad limit may be answered first (ASST-LIST-4 allows 404).
        statuses = frozenset({400, 404}) if {"after", "before"} & set(query or {}) else frozenset({400})
        for error in _precise(schema).iter_errors(_coerce_query(value, schema)):
            rid = _query_mandate(operation_id, name, str(error.validator))
            out.append(RequestViolation(name, error.message[:160], rid, statuses, str(error.validator)))
    return out


def unrejected_request(
    violations: list[RequestViolation], status: int, error: Mapping[str, Any] | None
) -> list[Problem]:
    """A request a rule demands be rejected, answered otherwise: that rule's violation.

    Only a success (2xx) or a status outside the rule's allowed ones counts; an error answer with
    the right status and type is the server doing its job (the client's mistake is reported apart).
    """
    problems: list[Problem] = []
    for v in violations:
        if v.requirement is None:
            continue
        if 200 <= status < 300:
            problems.append(
                (v.requirement, f"accepted an invalid request with {status}: {v.where}: {v.message}")
            )
        elif status < 500 and status not in v.statuses:
            problems.append(
                (
                    v.requirement,
                    f"an invalid request ({v.where}: {v.message}) answered {status}, expected "
                    f"{' or '.join(map(str, sorted(v.statuses)))}",
                )
            )
        elif status == 400 and error is not None and error.get("type") != "invalid_request_error":
            problems.append((v.requirement, f"rejected with type {error.get('type')!r}"))
    return problems
