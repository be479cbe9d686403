"""``ragen-mock``: flags, environment, the demo banner, graceful shutdown on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from mockserver.__main__ import main
from mockserver.settings import Settings, SettingsError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_settings_from_env_and_overrides() -> None:
    env = {
        "RAGEN_MOCK_CHAT_LIMIT": "3",
        "RAGEN_MOCK_RATE_LIMITS": "false",
        "RAGEN_MOCK_CORS_ORIGINS": "http://a.example, http://b.example",
        "RAGEN_MOCK_STREAM_DELAY_MS": "12.5",
        "RAGEN_MOCK_STATE": "",
    }
    settings = Settings.from_env(env, chat_limit=4)
    assert settings.chat_limit == 4 and settings.rate_limits is False and settings.stream_delay_ms == 12.5
    assert settings.cors_origins == ("http://a.example", "http://b.example") and settings.state is None
    with pytest.raises(SettingsError):
        Settings.from_env({"RAGEN_MOCK_CHAT_LIMIT": "ten"})
    with pytest.raises(SettingsError):
        Settings(rate_limit_scope="planet")


@pytest.mark.parametrize(
    ("word", "value"), [("on", True), ("YES", True), ("1", True), ("off", False), ("no", False)]
)
def test_env_booleans_are_the_shared_vocabulary(word: str, value: bool) -> None:
    assert Settings.from_env({"RAGEN_MOCK_RATE_LIMITS": word}).rate_limits is value
    assert Settings.from_env({"RAGEN_MOCK_RATE_LIMITS": ""}).rate_limits is True  # empty: not set


def test_bad_env_boolean_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGEN_MOCK_RATE_LIMITS", "y")  # argparse/click words are not the shared ones
    assert main(["--port", "0"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "ragen-mock: RAGEN_MOCK_RATE_LIMITS: 'y' is not a boolean (expected 1/0, true/false, yes/no, on/off)"
    ]


def test_bad_flags_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--chat-limit", "0"]) == 2
    assert main(["--config", str(tmp_path / "missing.yaml")]) == 2
    assert "ragen-mock:" in capsys.readouterr().err


def test_serves_the_demo_prints_keys_and_shuts_down_gracefully() -> None:
    port = _free_port()
    env = {**os.environ, "RAGEN_MOCK_PORT": str(port), "RAGEN_MOCK_CHAT_LIMIT": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--no-retry-after"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx2.get(url + "/healthz").status_code == 200:
                    break
            except httpx2.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        headers = {"Authorization": "Bearer rg-demo-key"}
        body = {
            "assistant_id": "asst-00000000-0000-4000-8000-000000000001",
            "messages": [{"role": "user", "content": "hi"}],
        }
        statuses = [httpx2.post(url + "/v1/chat/completions", json=body, headers=headers) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]  # the env var reached the settings
        assert "retry-after" not in statuses[-1].headers  # and the flag
        # an open journal stream must not hold up the shutdown
        watcher = httpx2.Client(timeout=10)
        watching = watcher.send(watcher.build_request("GET", url + "/__mock/journal/stream"), stream=True)
        lines = watching.iter_lines()
        assert next(lines) == ": connected"
    finally:
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert time.monotonic() - stopping < 5
    assert [line for line in lines if line] == []  # the stream ended cleanly
    watching.close()
    watcher.close()
    assert process.returncode == 0, err
    for needle in (
        "rg-demo-key",
        "rg-demo-debug",
        "rg-demo-deactivated",
        "rg-other-key",
        "asst-00000000-0000-4000-8000-000000000001",
        "curl ",
    ):
        assert needle in out
    assert '"status":200' in err and "rg-demo-key" not in err  # the access log masks keys
