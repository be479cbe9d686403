"""The three commands feel like one tool: ``--version`` on each, one way to write a tier, the same
environment names for the same things, one entry-point convention (each package's ``__main__``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from ragen_spec.product import version
from ragen_spec.tier_notation import parse_tier

from loadtests.cli import build_config
from loadtests.runner import LoadConfig

BIN = Path(sys.executable).parent
COMMANDS = ("ragen-mock", "ragen-conformance", "ragen-load")
ASSISTANT = "asst-00000000-0000-4000-8000-000000000001"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_answers_version(command: str) -> None:
    result = subprocess.run([str(BIN / command), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{command} {version()}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", version())


@pytest.mark.parametrize("package", ["mockserver", "conformance", "loadtests"])
def test_python_dash_m_is_the_same_entry_point(package: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", package, "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f" {version()}\n")


@pytest.mark.parametrize(
    ("text", "tier"),
    [("10/60", (10, 60.0)), ("10/60s", (10, 60.0)), ("10/1m", (10, 60.0)), ("20/1min", (20, 60.0)),
     (" 5 / 2.5 ", (5, 2.5))],
)  # fmt: skip
def test_one_tier_notation(text: str, tier: tuple[int, float]) -> None:
    assert parse_tier(text) == tier


@pytest.mark.parametrize("text", ["10", "10/", "0/60", "10/0", "ten/60", "10/60h", "-1/60"])
def test_a_bad_tier_names_the_notation(text: str) -> None:
    with pytest.raises(ValueError, match=r"LIMIT/WINDOW|positive"):
        parse_tier(text)


def _load(argv: list[str]) -> LoadConfig:
    config = build_config(argv)
    assert isinstance(config, LoadConfig)
    return config


def test_ragen_load_takes_the_gates_tier_flags() -> None:
    config = _load(["--base-url", "http://127.0.0.1:1", "--api-key", "k", "--assistant-id", ASSISTANT,
                    "--chat-tier", "5/1m", "--assistants-tier", "7/30"])  # fmt: skip
    assert [(s.tier, s.limit, s.window) for s in config.scenarios] == [
        ("chat", 5, 60.0),
        ("assistants", 7, 30.0),
    ]


def test_ragen_load_limit_and_window_refine_the_tier() -> None:
    config = _load(["--base-url", "http://127.0.0.1:1", "--api-key", "k", "--tier", "assistants",
                    "--assistants-tier", "7/30", "--window", "assistants=2"])  # fmt: skip
    assert [(s.limit, s.window) for s in config.scenarios] == [(7, 2.0)]


def test_ragen_load_rejects_a_bad_tier() -> None:
    with pytest.raises(click.BadParameter, match="LIMIT/WINDOW"):
        build_config(["--base-url", "http://127.0.0.1:1", "--api-key", "k", "--chat-tier", "10 per minute"])


def test_ragen_load_reads_the_gates_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGEN_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("RAGEN_API_KEY", "rg-new")
    monkeypatch.setenv("RAGEN_LOAD_API_KEY", "rg-old")
    monkeypatch.setenv("RAGEN_ASSISTANT_ID", ASSISTANT)
    monkeypatch.setenv("RAGEN_CHAT_TIER", "3/1m")
    config = _load(["--tier", "chat"])
    assert config.api_key == "rg-new"  # the shared name wins over the old one
    chat = config.scenarios[0]
    assert (chat.base_url, chat.assistant_id) == ("http://127.0.0.1:9", ASSISTANT)
    assert (chat.limit, chat.window) == (3, 60.0)


def test_ragen_load_still_reads_its_old_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAGEN_API_KEY", raising=False)
    monkeypatch.setenv("RAGEN_LOAD_API_KEY", "rg-old")
    config = _load(["--base-url", "http://127.0.0.1:1", "--tier", "assistants"])
    assert config.api_key == "rg-old"


def test_ragen_mock_takes_the_same_tier_notation() -> None:
    """``--chat-tier 3/1m`` and ``RAGEN_MOCK_ASSISTANTS_TIER`` reach the served limits (the banner)."""
    env = {"RAGEN_MOCK_ASSISTANTS_TIER": "4/2m", "PATH": "/usr/bin:/bin"}
    with subprocess.Popen(
        [str(BIN / "ragen-mock"), "--port", "0", "--chat-tier", "3/1m"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as mock:
        try:
            assert mock.stdout is not None
            banner = ""
            for line in mock.stdout:  # the banner, printed once listening; EOF if the mock died
                banner += line
                if line.startswith("Rate limits:"):
                    break
        finally:
            mock.terminate()  # by its PID: the process this test started
            mock.wait(timeout=30)
    assert "Rate limits: chat 3/60s, assistants 4/120s per client IP" in banner, banner


def test_ragen_mock_refuses_a_bad_tier_in_one_line() -> None:
    result = subprocess.run(
        [str(BIN / "ragen-mock"), "--port", "0", "--chat-tier", "10/minute"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("ragen-mock: --chat-tier: bad tier '10/minute'")
    assert result.stderr.count("\n") == 1


def test_the_readme_commands_install_what_they_run() -> None:
    """The main job needs the gate's extra, the tests every extra; CI runs the README's test command."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    quickstart = readme[readme.index("## Quickstart") : readme.index("### Install")]
    commands = [line.strip() for line in quickstart.splitlines() if line.startswith("    python3 -m venv")]
    assert len(commands) == 2, commands  # two commands, stay two commands
    main_job, tests = commands
    assert "pip install -q -e '.[gate]'" in main_job and main_job.endswith("ragen-conformance --against-mock")
    assert "pip install -q -e '.[test]'" in tests
    assert tests in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
