"""Validate any response of the mock against spec/openapi.yaml (status, media type, schema, SSE events).

Installed as an httpx response hook on every client the tests use (the openai SDK's included),
so every mock response a test sees has been checked against the spec.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from ragen_spec.operations import operation_for
from ragen_spec.schemas import sse_event_errors, validator_for
from ragen_spec.sse import parse

__all__ = ["SpecViolation", "check_response", "parse_sse", "spec_hook"]


class SpecViolation(AssertionError):
    """A mock response that the spec does not allow."""


_ENVELOPE = validator_for("#/components/schemas/ErrorResponse")


def parse_sse(text: str) -> list[dict[str, Any]]:
    """Events as the spec's itemSchema describes them (``{data, event?, id?, retry?}``), read by the
    spec package's own parser: an event a browser would not dispatch is not returned either."""
    return [event.as_dict() for event in parse(text.encode("utf-8")).events]


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
    """Every way this response breaks the spec (empty: it conforms)."""
    if path.startswith("/__mock") or path == "/healthz":
        return []
    if method == "OPTIONS" and status == 204:
        return []  # CORS preflight, answered before routing
    media = content_type.split(";")[0].strip().lower()
    problems: list[str] = []
    operation = operation_for(method, path)
    if operation is None:
        # Not an operation of the spec (unknown route or method): only the envelope is promised.
        if status < 400:
            return [f"{method} {path} is not in the spec but answered {status}"]
        if media != "application/json":
            return [f"error {status} has content type {content_type!r}"]
        errors = [e.message for e in _ENVELOPE.iter_errors(json.loads(body))]
        return [f"error {status} envelope: {e}" for e in errors]
    key = operation.response_key(status)
    if key is None:
        return [f"{method} {path}: status {status} is not documented"]
    try:
        kind, schema = operation.media_schema(status, media)
    except KeyError:
        return [f"{method} {path} {status}: content type {content_type!r} is not documented"]
    if kind == "itemSchema":
        events = parse_sse(body.decode("utf-8"))
        for i, event in enumerate(events):
            problems += [f"event {i}: {e}" for e in sse_event_errors(event, schema)]
        return problems
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return [f"{method} {path} {status}: body is not JSON: {exc}"]
    return [
        f"{method} {path} {status}: {e.message} at {list(e.absolute_path)}"
        for e in validator_for(schema).iter_errors(payload)
    ]


def spec_hook(response: httpx2.Response) -> None:
    """httpx response hook: read the body and fail on any spec violation or missing x-request-id."""
    response.read()
    request = response.request
    problems = check_response(
        request.method,
        request.url.path,
        response.status_code,
        response.headers.get("content-type", ""),
        response.content,
    )
    if not response.headers.get("x-request-id"):
        problems.append("no x-request-id header (HDR-REQID-1)")
    if problems:
        raise SpecViolation(
            f"{request.method} {request.url.path} -> {response.status_code}: " + "; ".join(problems)
        )
