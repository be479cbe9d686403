"""What makes a 429 well-formed (components/responses/TooManyRequests) and headers consistent."""

from __future__ import annotations

import json

from ragen_spec.judge import ERROR_TYPES, retry_after_problems, schema_errors

from loadtests.checks import advisory_problems, envelope_problems, header_mismatches, rate_limit_problems
from tests.loadtests.fabricate import RATE_LIMITED_BODY

GOOD = {
    "retry-after": "3",
    "x-ratelimit-limit-requests": "10",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "3s",
}


def test_rate_limit_problems_well_formed_429_is_clean() -> None:
    assert rate_limit_problems(GOOD, RATE_LIMITED_BODY) == []


def test_rate_limit_problems_missing_retry_after() -> None:
    headers = {k: v for k, v in GOOD.items() if k != "retry-after"}
    assert rate_limit_problems(headers, RATE_LIMITED_BODY) == [
        "429 with Retry-After None, expected whole seconds"
    ]


def test_rate_limit_problems_retry_after_not_whole_seconds() -> None:
    assert rate_limit_problems({**GOOD, "retry-after": "1.5"}, RATE_LIMITED_BODY) == [
        "429 with Retry-After '1.5', expected whole seconds"
    ]
    assert rate_limit_problems({**GOOD, "retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, RATE_LIMITED_BODY)


def test_rate_limit_problems_missing_ratelimit_headers() -> None:
    headers = {"retry-after": "1"}
    (problem,) = rate_limit_problems(headers, RATE_LIMITED_BODY)
    assert "x-ratelimit-limit-requests" in problem and "x-ratelimit-reset-requests" in problem


def test_rate_limit_problems_wrong_error_type() -> None:
    body = json.dumps({"error": {"message": "m", "type": "api_error", "code": None, "param": None}})
    assert rate_limit_problems(GOOD, body) == ["error.type is 'api_error', not 'rate_limit_error'"]


def test_rate_limit_problems_body_not_envelope() -> None:
    assert rate_limit_problems(GOOD, json.dumps({"detail": "slow down"}))[0].startswith(
        "body is not the error envelope"
    )
    assert rate_limit_problems(GOOD, "Too Many Requests") == ["body is not JSON"]
    assert rate_limit_problems(GOOD, None) == ["body is not JSON"]


def test_header_mismatches_advertised_limit_differs_from_tier() -> None:
    assert header_mismatches(GOOD, 429, limit=10) == []
    assert header_mismatches(GOOD, 429, limit=20) == ["x-ratelimit-limit-requests 10 (the tier is 20)"]


def test_header_mismatches_remaining_on_429_must_be_zero() -> None:
    headers = {**GOOD, "x-ratelimit-remaining-requests": "4"}
    assert header_mismatches(headers, 429, limit=10) == ["x-ratelimit-remaining-requests 4 on a 429"]
    assert header_mismatches(headers, 200, limit=10) == []


def test_the_429_rules_are_the_gates() -> None:
    """One reading of a 429 for the gate and the load tests: the same Retry-After, envelope and type."""
    headers = {k: v for k, v in GOOD.items() if k != "retry-after"}
    (gate_problem,) = retry_after_problems(429, headers, "RATE-RETRY-1")
    assert advisory_problems(headers) == [gate_problem[1]]
    assert rate_limit_problems({**GOOD, "retry-after": " 3 "}, RATE_LIMITED_BODY) == []
    assert ERROR_TYPES[429] == "rate_limit_error"
    missing_param = json.dumps({"error": {"message": "m", "type": "rate_limit_error", "code": None}})
    (problem,) = envelope_problems(missing_param)
    assert (
        problem
        == f"body is not the error envelope: {schema_errors(json.loads(missing_param), 'ErrorResponse')[0]}"
    )


def test_must_and_should_stay_apart() -> None:
    """The envelope and its type are MUST (a failed verdict); the headers SHOULD (a warning)."""
    assert envelope_problems(RATE_LIMITED_BODY) == [] and advisory_problems({}) != []
    assert advisory_problems(GOOD) == [] and envelope_problems("nope") == ["body is not JSON"]
