"""Interoperability: the openai-proxy profile against LiteLLM's proxy, a server nobody here wrote.

Optional (``tox -e litellm``, or ``RAGEN_LITELLM=1`` with a ``litellm`` binary on PATH or in
``RAGEN_LITELLM_BIN``): LiteLLM's pins clash with ours, so it lives in a venv of its own. It runs
offline on loopback with two models: ``mock-gpt`` answers with ``mock_response`` (no provider at
all), ``upstream-gpt`` routes to the openai-proxy mock as its OpenAI-compatible provider, so what
the proxy layer does to a real provider's answers is visible. The expected verdicts below are the
deviations checked by hand with curl (README, "Tested against"); a change here means LiteLLM changed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from conformance.config import RunConfig, Target
from conformance.profiles import get_profile
from conformance.profiles.openai_proxy.registry import MODEL_ENV
from conformance.results import Report, VerdictKind
from conformance.runner import run
from mockserver.background import BackgroundServer
from mockserver.proxy import PROXY_KEY, create_proxy_app
from mockserver.settings import Settings

LITELLM = os.environ.get("RAGEN_LITELLM_BIN") or shutil.which("litellm")
MASTER_KEY = "sk-ragen-litellm-master"
# LiteLLM fetches a price map and other data at start-up unless told to use its bundled copies.
OFFLINE = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "DISABLE_ADMIN_UI": "True",
    "LITELLM_MASTER_KEY": MASTER_KEY,
}
START_TIMEOUT_S = 120.0

pytestmark = [
    pytest.mark.litellm,
    pytest.mark.skipif(
        os.environ.get("RAGEN_LITELLM") != "1" or LITELLM is None,
        reason="optional: set RAGEN_LITELLM=1 and put litellm on PATH (tox -e litellm)",
    ),
]

FAIL, WARN = VerdictKind.FAIL, VerdictKind.WARN
# Deviations of LiteLLM's proxy itself, each reproduced by hand with curl.
PROXY_LAYER = {
    "PROXY-MODEL-1": FAIL,  # unknown model: 400 invalid_request_error, code "400" (not 404 model_not_found)
    "PROXY-RESP-1": FAIL,  # a model name with a comma fans out: 200 with a JSON array (of errors, if unknown)
    "PROXY-BODY-1": FAIL,  # a JSON array or string body: 500 (AttributeError in the auth code)
    "PROXY-5XX-1": FAIL,  # the same 500s
    "PROXY-ERR-ENV-1": FAIL,  # those 500s lack `code` and `param`
    "PROXY-ERR-TYPE-1": FAIL,  # the document's own names (vendor_specific): 401 type "auth_error"
    "PROXY-ERR-TYPE-2": FAIL,  # unknown key: 400 with type "no_db_connection", not invalid_request_error
    "PROXY-AUTH-2": FAIL,  # unknown key: 400 "No connected db." (no database: only the master key is known)
    "PROXY-REQ-2": FAIL,  # stream: "yes" answered 200 (dropped before the provider sees it)
    "PROXY-REQ-3": WARN,  # a message without role is sent on as role "assistant"
    "PROXY-AUTH-4": WARN,  # the master key sent as "Basic <key>" is accepted
    "PROXY-ERR-PARAM-1": WARN,  # a request without model: param null
    "PROXY-STREAM-3": WARN,  # n: 2 streamed: choice 1 loses its role chunk and its finish_reason
    "PROXY-STREAM-4": WARN,  # the include_usage chunk has choices [{"index": 0, "delta": {}}], not []
    "PROXY-HDR-REQID-1": WARN,  # no x-request-id (x-litellm-call-id instead)
}
# With mock_response there is no provider: what a provider enforces (ranges, stop, max_tokens, n
# distinct answers) is not enforced. Artefacts of the configuration, not deviations of LiteLLM.
MOCK_RESPONSE_ONLY = {"PROXY-STOP-1", "PROXY-LEN-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def upstream() -> Iterator[BackgroundServer]:
    with BackgroundServer(lambda: create_proxy_app(Settings())) as running:
        yield running


@pytest.fixture(scope="module")
def litellm(upstream: BackgroundServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert LITELLM is not None
    workdir = tmp_path_factory.mktemp("litellm")
    config = {
        "model_list": [
            {
                "model_name": "mock-gpt",
                "litellm_params": {
                    "model": "openai/gpt-4o-mini",
                    "api_key": "sk-offline",
                    "api_base": "http://127.0.0.1:9/v1",  # never called: mock_response answers
                    "mock_response": "Hello! This is the offline answer of mock_response, in many words.",
                },
            },
            {
                "model_name": "upstream-gpt",
                "litellm_params": {
                    "model": "openai/gpt-4o-mini",
                    "api_key": PROXY_KEY,
                    "api_base": upstream.url + "/v1",
                },
            },
        ],
        "router_settings": {"model_group_alias": {"fast-chat": "upstream-gpt"}},
        "litellm_settings": {"telemetry": False},
        "general_settings": {"master_key": MASTER_KEY},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    log = (workdir / "litellm.log").open("w")
    process = subprocess.Popen(
        [LITELLM, "--config", str(workdir / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env={**env, **OFFLINE},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, workdir / "litellm.log")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"litellm exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url + "/health/liveliness", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"litellm did not start within {START_TIMEOUT_S:.0f}s:\n{log.read_text()[-3000:]}")


def _run(url: str, model: str, monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.setenv(MODEL_ENV, model)
    config = RunConfig(target=Target(base_url=url, api_key=MASTER_KEY, pace=False), max_examples=5, seed=1)
    report = run(config, profile=get_profile("openai-proxy"))
    assert report.harness_errors == []
    assert not [v for v in report.verdicts if v.verdict is VerdictKind.ERROR]
    return report


def _problems(report: Report) -> dict[str, VerdictKind]:
    return {v.requirement: v.verdict for v in report.verdicts if v.verdict in (FAIL, WARN)}


def test_litellm_with_a_provider_deviates_exactly_as_checked_by_hand(
    litellm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _run(litellm, "upstream-gpt", monkeypatch)
    assert _problems(report) == PROXY_LAYER
    # What the proxy layer passes through from a conformant provider conforms.
    for rid in (
        "PROXY-N-1",
        "PROXY-STOP-1",
        "PROXY-LEN-1",
        "PROXY-STREAM-2",
        "PROXY-STREAM-1",
        "PROXY-USAGE-1",
    ):
        assert report.verdict(rid).verdict is VerdictKind.PASS, report.verdict(rid).reason


def test_litellm_with_mock_response_adds_only_provider_artefacts(
    litellm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = _problems(_run(litellm, "mock-gpt", monkeypatch))
    assert PROXY_LAYER.items() <= problems.items()
    assert set(problems) - set(PROXY_LAYER) == MOCK_RESPONSE_ONLY
