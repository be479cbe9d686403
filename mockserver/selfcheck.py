"""``--validate-responses``: check every JSON response against the spec before it leaves (a debug aid).

A mismatch is logged and flagged with an ``x-mock-spec-violation`` header; the response is still
sent, so a developer sees both what the mock said and why the spec disagrees.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator
from ragen_spec.operations import status_keys

from mockserver.validation import SchemaSource

__all__ = ["VIOLATION_HEADER", "response_check"]

VIOLATION_HEADER = "x-mock-spec-violation"
log = logging.getLogger("ragen_mock")


class _ResponseSchemas:
    def __init__(self, source: SchemaSource) -> None:
        self.source = source
        self._cache: dict[tuple[int, str], Draft202012Validator | None] = {}

    def validator(self, responses: dict[str, Any], status: int) -> Draft202012Validator | None:
        key = next((k for k in status_keys(status) if k in responses), None)
        if key is None:
            return None
        cache_key = (id(responses), key)
        if cache_key not in self._cache:
            media = self.source.resolve(responses[key]).get("content", {}).get("application/json")
            schema = media.get("schema") if media else None
            self._cache[cache_key] = self.source.precise(schema) if schema is not None else None
        return self._cache[cache_key]


def response_check(
    source: SchemaSource, responses: dict[object, dict[str, Any]]
) -> Callable[[web.Request, web.StreamResponse], None]:
    """The check of one response; ``responses`` maps routes to their operation's ``responses``."""
    schemas = _ResponseSchemas(source)

    def check(request: web.Request, response: web.StreamResponse) -> None:
        documented = responses.get(request.match_info.route)
        if (
            documented is None
            or not isinstance(response, web.Response)
            or response.content_type != "application/json"
        ):
            return
        problems: list[str] = []
        key_found = any(k in documented for k in status_keys(response.status))
        if not key_found:
            problems.append(f"status {response.status} is not documented")
        else:
            validator = schemas.validator(documented, response.status)
            body = response.body
            if validator is not None and isinstance(body, bytes):
                payload = json.loads(body)
                problems += [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
        if problems:
            log.warning(
                "response of %s %s breaks the spec: %s", request.method, request.path, "; ".join(problems)
            )
            response.headers[VIOLATION_HEADER] = problems[0][:200]

    return check
