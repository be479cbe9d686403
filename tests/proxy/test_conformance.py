"""``ragen-conformance --profile openai-proxy``: passes against the proxy mock, and catches proxy
faults in deliberately broken copies of it (each check is proven by a server that violates it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from conformance.cli import main
from conformance.config import RunConfig, Target
from conformance.profiles import get_profile
from conformance.results import Report, VerdictKind
from conformance.runner import run
from mockserver.background import BackgroundServer
from mockserver.proxy import PROXY_KEY, create_proxy_app, routes
from mockserver.proxy import errors as proxy_errors
from mockserver.proxy.config import ProxyConfig, ProxyModel
from mockserver.settings import Settings

PROFILE = get_profile("openai-proxy")


@pytest.fixture
def proxy() -> Iterator[BackgroundServer]:
    with BackgroundServer(lambda: create_proxy_app(Settings())) as running:
        yield running


def run_against(url: str) -> Report:
    # seed: the schema-driven cases are the same on every run (no flaky verdicts).
    config = RunConfig(target=Target(base_url=url, api_key=PROXY_KEY, pace=False), max_examples=2, seed=1)
    return run(config, profile=PROFILE)


def verdict(report: Report, requirement: str) -> VerdictKind:
    return report.verdict(requirement).verdict


def test_the_proxy_mock_is_conformant(proxy: BackgroundServer) -> None:
    report = run_against(proxy.url)
    bad = {
        v.requirement: v.reason
        for v in report.verdicts
        if v.verdict in (VerdictKind.FAIL, VerdictKind.WARN, VerdictKind.ERROR)
    }
    assert bad == {}
    assert report.exit_code == 0 and not report.harness_errors
    skipped = {v.requirement for v in report.verdicts if v.verdict is VerdictKind.SKIP}
    # Only what no black-box run can provoke: a provider outage, a 429/503, a mid-stream failure.
    assert skipped == {"PROXY-FAULT-1"}
    unobserved = {v.requirement for v in report.verdicts if v.verdict is VerdictKind.UNOBSERVED}
    assert unobserved == {"PROXY-RATE-1", "PROXY-STREAM-5"}
    assert {v.requirement for v in report.verdicts} == set(PROFILE.requirements())


def _broken(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, replacement: Any) -> None:
    monkeypatch.setattr(target, name, replacement)


def test_catches_n_ignored(proxy: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    original = routes.complete
    _broken(monkeypatch, routes, "complete", lambda *a, **kw: original(*a, **{**kw, "n": 1}))
    report = run_against(proxy.url)
    assert verdict(report, "PROXY-N-1") is VerdictKind.FAIL
    assert "indexes [0]" in report.verdict("PROXY-N-1").reason


def test_catches_stop_not_applied(proxy: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    original = routes.complete
    _broken(monkeypatch, routes, "complete", lambda *a, **kw: original(*a, **{**kw, "stop": None}))
    report = run_against(proxy.url)
    assert verdict(report, "PROXY-STOP-1") is VerdictKind.FAIL
    assert verdict(report, "PROXY-N-1") is VerdictKind.PASS


def test_catches_max_tokens_without_length(proxy: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    original = routes.complete
    _broken(monkeypatch, routes, "complete", lambda *a, **kw: original(*a, **{**kw, "max_tokens": None}))
    assert verdict(run_against(proxy.url), "PROXY-LEN-1") is VerdictKind.FAIL


def test_catches_unknown_model_not_404(proxy: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    lenient = ProxyConfig.resolve
    _broken(
        monkeypatch, ProxyConfig, "resolve", lambda self, name: lenient(self, name) or self.models[0]
    )  # routes anything to a default model
    report = run_against(proxy.url)
    assert verdict(report, "PROXY-MODEL-1") is VerdictKind.FAIL
    assert "expected 404, got 200" in report.verdict("PROXY-MODEL-1").reason


def test_catches_a_wrong_502_type(proxy: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _broken(monkeypatch, proxy_errors, "PROXY_TYPES", {**proxy_errors.PROXY_TYPES, 502: "api_error"})
    fault: Any = {"kind": "status", "status": 502, "match": {"body_contains": "conformance_unknown_field"}}
    assert requests.post(
        proxy.url + "/__mock/faults", json=fault, headers={"x-mock-control": "1"}, timeout=5
    ).ok
    report = run_against(proxy.url)
    assert verdict(report, "PROXY-ERR-TYPE-1") is VerdictKind.FAIL
    assert "502 with type 'api_error', expected 'bad_gateway'" in report.verdict("PROXY-ERR-TYPE-1").reason


def test_a_right_502_passes_the_type_check_but_counts_as_a_5xx(proxy: BackgroundServer) -> None:
    fault: Any = {"kind": "status", "status": 502, "match": {"body_contains": "conformance_unknown_field"}}
    assert requests.post(
        proxy.url + "/__mock/faults", json=fault, headers={"x-mock-control": "1"}, timeout=5
    ).ok
    report = run_against(proxy.url)
    assert verdict(report, "PROXY-ERR-TYPE-1") is VerdictKind.PASS
    assert verdict(report, "PROXY-5XX-1") is VerdictKind.FAIL


def test_catches_a_stream_that_drops_a_choices_finish(
    proxy: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The LiteLLM-like stream: the usage chunk keeps a choice and choice 1 never finishes."""
    original = routes._delta

    def litellm_like(index: int, delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return original(index, delta, None if index == 1 else finish)

    _broken(monkeypatch, routes, "_delta", litellm_like)
    report = run_against(proxy.url)
    assert verdict(report, "PROXY-STREAM-3") is VerdictKind.WARN  # a SHOULD: warns, fails only with --strict
    assert report.exit_code == 0


def test_catches_missing_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    config = ProxyConfig((ProxyModel("only-model"),), {}, (PROXY_KEY,))
    with BackgroundServer(
        lambda: _without_request_id(create_proxy_app(Settings(), config=config))
    ) as running:
        report = run_against(running.url)
    assert verdict(report, "PROXY-HDR-REQID-1") is VerdictKind.WARN
    assert verdict(report, "PROXY-MODEL-3") is VerdictKind.INFO


def _without_request_id(app: Any) -> Any:
    async def strip(request: Any, response: Any) -> None:
        response.headers.popall("x-request-id", None)

    app.on_response_prepare.append(strip)
    return app


def test_cli_profile_against_the_proxy_mock(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["--profile", "openai-proxy", "--against-mock", "-q", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["exit_code"] == 0
    assert {r["requirement"] for r in report["requirements"]} == set(PROFILE.requirements())
    listed = CliRunner().invoke(main, ["--profile", "openai-proxy", "--list-checks"])
    assert (
        "proxy_stop_cuts_the_answer" in listed.output and "chat_rejects_missing_fields" not in listed.output
    )


def test_cli_profile_against_a_url(proxy: BackgroundServer) -> None:
    result = CliRunner().invoke(
        main, ["--profile", "openai-proxy", "--base-url", proxy.url, "--api-key", PROXY_KEY, "-q"]
    )
    assert result.exit_code == 0, result.output
    wrong_key = CliRunner().invoke(
        main, ["--profile", "openai-proxy", "--base-url", proxy.url, "--api-key", "nope", "-q"]
    )
    assert wrong_key.exit_code == 2


def test_only_and_skip_select_the_proxy_profiles_groups(tmp_path: Path) -> None:
    report_json = tmp_path / "report.json"
    args = [
        "--profile",
        "openai-proxy",
        "--against-mock",
        "--only",
        "models,auth",
        "--skip",
        "auth",
        "-q",
        "--json",
        str(report_json),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(report_json.read_text())
    assert {c["group"] for c in data["checks"]} == {"models"}
    assert data["profile"] == "openai-proxy"
    unknown = CliRunner().invoke(main, ["--profile", "openai-proxy", "--against-mock", "--only", "native"])
    assert unknown.exit_code == 2 and "unknown check groups" in unknown.output


def test_the_proxy_mock_gets_the_same_table_three_times(proxy: BackgroundServer) -> None:
    tables = [[(v.requirement, v.verdict.value) for v in run_against(proxy.url).verdicts] for _ in range(3)]
    assert tables[0] == tables[1] == tables[2]
