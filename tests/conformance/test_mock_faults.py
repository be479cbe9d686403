"""The gate against the bundled mock's own fault switches (POST /__mock/faults): stream faults are
caught, and a failure after the stream started, sent the documented way, passes CHAT-STREAM-7."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from conformance import run
from conformance.config import RunConfig, Target
from conformance.mock import mock_config
from conformance.results import VerdictKind


@pytest.fixture
def mock_config_fresh() -> Iterator[RunConfig]:
    with mock_config(RunConfig(target=Target("http://unused", "unused"), max_examples=2, seed=1)) as config:
        yield config


def _arm(config: RunConfig, kind: str, **extra: object) -> None:
    fault: dict[str, Any] = {
        "kind": kind,
        "count": 1000,
        "match": {"path": "/v1/chat/completions"},
        "after_chunks": 2,
    }
    fault.update(extra)
    response = requests.post(
        config.target.base_url + "/__mock/faults", json=fault, headers={"x-mock-control": "1"}, timeout=5
    )
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(
    ("kind", "requirement", "expected"),
    [
        ("cut_stream", "CHAT-STREAM-5", VerdictKind.FAIL),
        ("malformed_chunk", "CHAT-STREAM-2", VerdictKind.FAIL),
        ("error_event", "CHAT-STREAM-7", VerdictKind.PASS),
    ],
)
def test_mock_stream_faults(
    mock_config_fresh: RunConfig, kind: str, requirement: str, expected: VerdictKind
) -> None:
    _arm(mock_config_fresh, kind)
    report = run(replace(mock_config_fresh, groups=("streaming",)))
    verdict = report.verdict(requirement)
    assert verdict.verdict is expected, verdict.reason


def test_mock_status_fault_is_a_5xx_violation(mock_config_fresh: RunConfig) -> None:
    _arm(mock_config_fresh, "status", status=503)
    report = run(replace(mock_config_fresh, groups=("chat",)))
    assert report.verdict("ERR-5XX-1").verdict is VerdictKind.FAIL
    assert report.exit_code == 1


def test_error_event_stream_is_not_a_missing_done(mock_config_fresh: RunConfig) -> None:
    _arm(mock_config_fresh, "error_event")
    report = run(replace(mock_config_fresh, groups=("streaming",)))
    assert report.verdict("CHAT-STREAM-5").verdict is VerdictKind.PASS
    assert report.verdict("CHAT-STREAM-7").verdict is VerdictKind.PASS
