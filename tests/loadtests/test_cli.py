"""ragen-load's usage and connection errors exit 2 before any load is sent."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadtests.cli import cli, main
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings

ASSISTANT = "asst-00000000-0000-4000-8000-000000000001"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_cli_chat_tier_needs_an_assistant() -> None:
    code, output = invoke("--base-url", "http://127.0.0.1:1", "--api-key", "k", "--tier", "chat")
    assert code == 2
    assert "--assistant-id" in output


def test_cli_duration_shorter_than_the_scenario() -> None:
    code, output = invoke(
        "--base-url", "http://127.0.0.1:1", "--api-key", "k", "--tier", "assistants",
        "--window", "2", "--duration", "3",
    )  # fmt: skip
    assert code == 2
    assert "too short" in output


def test_cli_bad_per_tier_limit() -> None:
    code, output = invoke("--base-url", "http://127.0.0.1:1", "--api-key", "k", "--limit", "chat=ten")
    assert code == 2
    assert "chat=N" in output


def test_cli_processes_and_remote_workers_exclude_each_other() -> None:
    code, _ = invoke(
        "--base-url", "http://h", "--api-key", "k", "--assistant-id", ASSISTANT,
        "--processes", "2", "--expect-workers", "2",
    )  # fmt: skip
    assert code == 2


def test_cli_unreachable_server_is_a_connection_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    assert (
        main(["--base-url", url, "--api-key", "k", "--assistant-id", ASSISTANT, "--out", str(tmp_path)]) == 2
    )
    assert not (tmp_path / "verdicts.json").exists()


@pytest.mark.parametrize("address", ["not-an-ip", "192.0.2.1"])  # 192.0.2.0/24: TEST-NET, never local
def test_cli_source_address_that_cannot_be_bound(tmp_path: Path, address: str) -> None:
    with BackgroundServer(lambda: create_app(Settings())) as server:
        code = main(
            ["--base-url", server.url, "--api-key", "k", "--tier", "assistants", "--source-ips", address,
             "--out", str(tmp_path)]
        )  # fmt: skip
    assert code == 2


@pytest.mark.slow
def test_cli_rejected_credentials_are_a_usage_error(tmp_path: Path) -> None:
    settings = Settings(assistants_window=1.0)
    with BackgroundServer(lambda: create_app(settings)) as server:
        code = main(
            ["--base-url", server.url, "--api-key", "rg-wrong", "--tier", "assistants", "--window", "1",
             "--users", "1", "--out", str(tmp_path)]
        )  # fmt: skip
    assert code == 2
    assert not (tmp_path / "verdicts.json").exists()
