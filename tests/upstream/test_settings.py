"""``ragen-mock --upstream/--record/--replay``: the flags, their environment variables, their errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from mockserver.__main__ import main
from mockserver.settings import Settings, SettingsError
from tests.upstream import servers as ups
from tests.upstream.conftest import Servers


def test_the_environment_names_the_upstream() -> None:
    settings = Settings.from_env({"RAGEN_MOCK_UPSTREAM": "http://127.0.0.1:9", "RAGEN_MOCK_RECORD": "x"})
    assert settings.upstream == "http://127.0.0.1:9" and settings.record == "x" and settings.proxying


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--upstream", "ftp://x"], "http:// or https://"),
        (["--upstream", "http://a", "--replay", "d"], "exclude each other"),
        (["--record", "d"], "needs an upstream"),
        (["--replay", "/no/such/directory"], "no recordings directory"),
        (["--replay-speed", "-1", "--replay", "d"], "must not be negative"),
        (["--upstream", "http://a", "--upstream-timeout", "0"], "must be positive"),
    ],
)
def test_bad_proxy_settings_are_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--port", "0"]) == 2
    assert says in capsys.readouterr().err


def test_a_broken_recording_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "0001-GET-v1.json").write_text("{not json")
    assert main(["--replay", str(tmp_path), "--port", "0"]) == 2
    assert "replay:" in capsys.readouterr().err
    with pytest.raises(SettingsError):
        Settings(record="d")


def test_a_client_leaving_before_the_upstream_answers_is_journaled(servers: Servers) -> None:
    upstream = servers.start(lambda: ups.slow_app(3.0))
    proxy = servers.proxy(upstream.url)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(proxy.url + "/v1/assistants", timeout=0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        entries = requests.get(proxy.url + "/__mock/journal", timeout=5).json()["data"]
        if entries:
            break
        time.sleep(0.1)
    assert entries[0]["status"] == 499 and entries[0]["violations"] == []
