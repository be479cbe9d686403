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
from ragen_spec import mandates
from ragen_spec.operations import operations
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


@functools.cache
def request_schemas() -> dict[str, dict[str, Any]]:
    """operationId -> its JSON body schema, query parameters (the whole parameter objects, with their
    annotations) and method."""
    return {
        op.operation_id: {
            "body": op.request_schema(),
            "query": {p["name"]: p for p in op.query_parameters()},
            "method": op.method.lower(),
        }
        for op in operations()
    }


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
    """What makes a request invalid under the spec, each with the requirement (read from the spec's
    ``x-*-rejected-by`` annotations, see ``ragen_spec.mandates``) demanding its rejection, if any."""
    schemas = request_schemas().get(operation_id, {})
    out: list[RequestViolation] = []
    root = schemas.get("body")
    if root is not None:
        json_media = media_type is None or "json" in media_type
        if not json_media:
            # Parsing JSON sent under another content type is the server's choice (ERR-BODY-2).
            out.append(RequestViolation("body", f"sent as {media_type}", None))
        elif not has_body:
            body = {}  # judged as an empty object: create misses its required fields, modify changes nothing
        elif not isinstance(body, dict):
            out.append(RequestViolation("body", f"a JSON {type(body).__name__}, not an object", "ERR-BODY-1"))
        if isinstance(body, dict) and json_media:
            errors = [] if quick_check(root, body) else _precise(root).iter_errors(body)
            for error in errors:
                mandate = mandates.body_mandate(root, error)
                where = "/".join(map(str, error.absolute_path)) or "body"
                rid, statuses = (mandate.requirement, mandate.statuses) if mandate else (None, frozenset())
                out.append(RequestViolation(where, error.message[:160], rid, statuses, str(error.validator)))
    for name, value in (query or {}).items():
        parameter = schemas.get("query", {}).get(name)
        if parameter is None:
            continue
        mandate = mandates.parameter_mandate(parameter)
        # A bad cursor next to a bad limit may be answered first (ASST-LIST-4 allows 404).
        statuses = frozenset({400, 404}) if {"after", "before"} & set(query or {}) else frozenset({400})
        schema = parameter["schema"]
        for error in _precise(schema).iter_errors(_coerce_query(value, schema)):
            rid = mandate.requirement if mandate else None
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
