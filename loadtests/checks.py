"""Per-response checks shared by the Locust users (to mark failures live) and the analysis.

A 429 is a pass only when it is the spec's ``TooManyRequests`` response: the error envelope with
``rate_limit_error``, ``Retry-After`` in whole seconds (RATE-RETRY-1) and the ``x-ratelimit-*``
headers (HDR-RATE-1). spec/openapi.yaml components/responses/TooManyRequests.

The rules themselves are the gate's (``ragen_spec.judge``): the envelope schema, the status → type
table, the Retry-After reading and the header names. Here they are only split into what a 429
MUST carry (the envelope and its type) and what it SHOULD (the headers), as the verdicts need.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ragen_spec.judge import ERROR_TYPES, RATE_HEADERS, retry_after_problems, schema_errors

__all__ = [
    "RATE_HEADERS",
    "advisory_problems",
    "envelope_problems",
    "header_mismatches",
    "rate_limit_problems",
]

TOO_MANY_REQUESTS = 429
_LIMIT, _REMAINING = RATE_HEADERS[:2]


def envelope_problems(body: str | None) -> list[str]:
    """MUST-level defects of a 429 body: the envelope with ``rate_limit_error`` (ERR-ENV-1, ERR-TYPE-1)."""
    try:
        payload = json.loads(body or "")
    except ValueError:
        return ["body is not JSON"]
    errors = schema_errors(payload, "ErrorResponse")
    if errors:
        return [f"body is not the error envelope: {errors[0]}"]
    expected = ERROR_TYPES[TOO_MANY_REQUESTS]
    if payload["error"]["type"] != expected:
        return [f"error.type is {payload['error']['type']!r}, not {expected!r}"]
    return []


def advisory_problems(headers: Mapping[str, str]) -> list[str]:
    """SHOULD-level defects of a 429 (``headers`` keys lower-case): RATE-RETRY-1 and HDR-RATE-1."""
    problems = [message for _, message in retry_after_problems(TOO_MANY_REQUESTS, headers, "RATE-RETRY-1")]
    missing = [name for name in RATE_HEADERS if name not in headers]
    if missing:
        problems.append("no " + ", ".join(missing))
    return problems


def rate_limit_problems(headers: Mapping[str, str], body: str | None) -> list[str]:
    """Everything wrong with a 429; empty when it is the spec's TooManyRequests response."""
    return envelope_problems(body) + advisory_problems(headers)


def header_mismatches(headers: Mapping[str, str], status: int, *, limit: int) -> list[str]:
    """Where the ``x-ratelimit-*`` values disagree with the declared tier (HDR-RATE-1)."""
    problems: list[str] = []
    advertised = headers.get(_LIMIT)
    if advertised is not None and advertised.strip() != str(limit):
        problems.append(f"{_LIMIT} {advertised} (the tier is {limit})")
    remaining = headers.get(_REMAINING)
    if status == TOO_MANY_REQUESTS and remaining is not None and remaining.strip() != "0":
        problems.append(f"{_REMAINING} {remaining} on a 429")
    return problems
