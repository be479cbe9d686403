"""Safe to start: the set-up mistakes a new user makes end in one line and exit 2, before any
unpaced request; --help imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from conformance import cli
from conformance.cli import main
from conformance.config import RunConfig, Target, Tier, load
from conformance.runner import SetupError, run
from mockserver import demo
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with BackgroundServer(lambda: create_app(Settings(rate_limits=False))) as running:
        yield running.url


def journal(url: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = requests.get(f"{url}/__mock/journal?limit=1000", timeout=10).json()[
        "data"
    ]
    return entries


def clear(url: str) -> None:
    requests.delete(f"{url}/__mock/journal", headers={"x-mock-control": "1"}, timeout=10).raise_for_status()


def args(url: str, *extra: str) -> list[str]:
    return [
        "--base-url", url, "--api-key", demo.KEY, "--second-org-key", demo.OTHER_KEY,
        "--deactivated-key", demo.DEACTIVATED_KEY, "--chat-only-key", demo.CHAT_ONLY_KEY,
        "--no-pace", "--no-rate-limits", "-q", *extra,
    ]  # fmt: skip


def test_the_sdk_style_base_url_is_the_same_server() -> None:
    for given in ("https://h.example/v1", "https://h.example/v1/", "https://h.example", "https://h.example/"):
        assert load({"base_url": given, "api_key": "k"}).target.base_url == "https://h.example"
    assert (
        load({"base_url": "https://h.example/api/v1", "api_key": "k"}).target.base_url
        == "https://h.example/api"
    )


def test_a_v1_base_url_runs_like_the_root(server: str) -> None:
    result = CliRunner().invoke(
        main, args(f"{server}/v1", "--assistant-id", demo.SUPPORT_ASSISTANT, "--only", "auth")
    )
    assert result.exit_code == 0, result.output
    assert "CONFORMANT" in result.output
    assert not [e for e in journal(server) if str(e["path"]).startswith("/v1/v1")]


def test_a_missing_assistant_id_is_incomplete_before_any_request(server: str) -> None:
    clear(server)
    result = CliRunner().invoke(main, args(server))
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "incomplete" in line and "--assistant-id" in line and "CHAT-REQ-1" in line
    assert journal(server) == []  # nothing was sent
    allowed = CliRunner().invoke(main, args(server, "--allow-incomplete", "--only", "auth,chat"))
    assert allowed.exit_code == 0, allowed.output
    assert "CHAT-REQ-1" in allowed.output and "needs assistant_id" in allowed.output


def test_a_wrong_assistant_id_is_a_one_line_set_up_error(server: str) -> None:
    clear(server)
    result = CliRunner().invoke(
        main, args(server, "--assistant-id", "asst-00000000-0000-4000-8000-00000000dead")
    )
    assert result.exit_code == 2
    assert (
        result.output.count("\n") == 1 and "not found" in result.output and "--assistant-id" in result.output
    )
    assert len(journal(server)) == 2  # the preflight's list and retrieve, nothing more


def test_a_wrong_key_stops_the_run_in_the_preflight_and_passes_nothing(server: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clear(server)
    junit = tmp_path / "junit.xml"
    bad = args(server, "--assistant-id", demo.SUPPORT_ASSISTANT, "--junit", str(junit))
    bad[bad.index("--api-key") + 1] = "rg-wrong-key"
    result = CliRunner().invoke(main, bad)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "rejected" in result.output and "401" in result.output
    assert len(journal(server)) == 1
    assert not junit.exists()  # no report that could show a requirement green
    target = Target(
        server, "rg-wrong-key", assistant_id=demo.SUPPORT_ASSISTANT, pace=False, rate_limits=False
    )
    with pytest.raises(SetupError, match="rejected"):
        run(RunConfig(target=target, allow_incomplete=True))


def test_an_unreachable_server_is_one_line() -> None:
    result = CliRunner().invoke(
        main, ["--base-url", "http://127.0.0.1:9", "--api-key", "k", "--allow-incomplete", "-q"]
    )
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "cannot reach" in result.output


def test_help_imports_neither_the_runner_nor_its_libraries() -> None:
    code = (
        "import sys, conformance.cli; "
        "print(sorted(m for m in ('openai', 'schemathesis', 'hypothesis', 'conformance.runner') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout.replace("'", '"')) == []
    helped = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "conformance.cli", "--help"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "--thorough" in helped.stdout and "--allow-incomplete" in helped.stdout
    assert "schemathesis" not in helped.stderr and "openai" not in helped.stderr


def test_the_cli_knows_every_profile() -> None:
    from conformance.profiles import PROFILE_NAMES

    assert cli.PROFILE_NAMES == PROFILE_NAMES


def test_default_tiers_are_the_real_ones() -> None:
    assert load({"base_url": "http://x", "api_key": "k"}).target.tiers == {
        "chat": Tier(10, 60.0),
        "assistants": Tier(20, 60.0),
    }
