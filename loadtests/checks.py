"""Per-response checks shared by the Locust users (to mark failures live) and the analysis.

A 429 is a pass only when it is the spec's ``TooManyRequests`` response: the error envelope with
``rate_limit_error``, ``Retry-After`` in whole seconds (RATE-RETRY-1) and the ``x-ratelimit-*``
headers (HDR-RATE-1). spec/openapi.yaml components/responses/TooManyRequests.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping

from jsonschema import Draft202012Validator
from ragen_spec.schemas import validator_for

__all__ = [
    "RATE_HEADERS",
    "advisory_problems",
    "envelope_problems",
    "header_mismatches",
    "rate_limit_problems",
]

RATE_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
)
_SECONDS = re.compile(r"^[0-9]+$")


@functools.cache
def _envelope() -> Draft202012Validator:
    return validator_for("#/components/schemas/ErrorResponse")


def envelope_problems(body: str | None) -> list[str]:
    """MUST-level defects of a 429 body: the envelope with ``rate_limit_error`` (ERR-ENV-1, ERR-TYPE-1)."""
    try:
        payload = json.loads(body or "")
    except ValueError:
        return ["body is not JSON"]
    errors = [e.message for e in _envelope().iter_errors(payload)]
    if errors:
        return [f"body is not the error envelope: {errors[0]}"]
    if payload["error"]["type"] != "rate_limit_error":
        return [f"error.type is {payload['error']['type']!r}, not 'rate_limit_error'"]
    return []


def advisory_problems(headers: Mapping[str, str]) -> list[str]:
    """SHOULD-level defects of a 429 (``headers`` keys lower-case): RATE-RETRY-1 and HDR-RATE-1."""
    problems: list[str] = []
    retry_after = headers.get("retry-after")
    if retry_after is None:
        problems.append("no Retry-After")
    elif not _SECONDS.match(retry_after.strip()):
        problems.append(f"Retry-After {retry_after!r} is not whole seconds")
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
    advertised = headers.get("x-ratelimit-limit-requests")
    if advertised is not None and advertised.strip() != str(limit):
        problems.append(f"x-ratelimit-limit-requests {advertised} (the tier is {limit})")
    remaining = headers.get("x-ratelimit-remaining-requests")
    if status == 429 and remaining is not None and remaining.strip() != "0":
        problems.append(f"x-ratelimit-remaining-requests {remaining} on a 429")
    return problems
