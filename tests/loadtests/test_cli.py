"""ragen-load's usage and connection errors exit 2 before any load is sent."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadtests.cli import build_config, cli, main
from loadtests.runner import LoadConfig
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


# --- file < environment < flags, through ragen_spec.layering -------------------------------------------
CONFIG_TOML = f"""
base-url = "http://127.0.0.1:7"
api_key = "rg-file"
assistant_id = "{ASSISTANT}"
users = 3
wait-time = 0.5
strict = true
source_ips = ["127.0.0.2", "127.0.0.3"]
[tiers]
chat = "5/1m"
assistants = "7/30"
"""


def _load(argv: list[str]) -> LoadConfig:
    config = build_config(argv)
    assert isinstance(config, LoadConfig)
    return config


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("BASE_URL", "API_KEY", "LOAD_API_KEY", "ASSISTANT_ID", "CHAT_TIER", "ASSISTANTS_TIER",
                 "TIMEOUT", "STRICT", "PACE"):  # fmt: skip
        monkeypatch.delenv(f"RAGEN_{name}", raising=False)
    return monkeypatch


def test_cli_config_file_sets_every_kind_of_option(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    path = tmp_path / "load.toml"
    path.write_text(CONFIG_TOML)
    config = _load(["--config", str(path)])
    assert config.api_key == "rg-file" and config.strict is True
    assert [(s.tier, s.limit, s.window) for s in config.scenarios] == [
        ("chat", 5, 60.0),
        ("assistants", 7, 30.0),
    ]
    chat = config.scenarios[0]
    assert (chat.base_url, chat.users, chat.wait_time) == ("http://127.0.0.1:7", 3, 0.5)
    assert chat.source_ips == ("127.0.0.2", "127.0.0.3")


def test_cli_config_file_in_yaml_is_the_same_format(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    path = tmp_path / "load.yaml"
    path.write_text(
        f"base_url: http://127.0.0.1:7\napi-key: rg-file\nassistant_id: {ASSISTANT}\ntier: chat\n"
        "strict: 'off'\ntiers: {chat: 4/2}\n"
    )
    config = _load(["--config", str(path)])
    assert config.strict is False
    assert [(s.tier, s.limit, s.window) for s in config.scenarios] == [("chat", 4, 2.0)]


def test_cli_environment_over_file_flags_over_both(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    path = tmp_path / "load.toml"
    path.write_text(CONFIG_TOML)
    clean_env.setenv("RAGEN_API_KEY", "rg-env")
    clean_env.setenv("RAGEN_CHAT_TIER", "6/60")
    clean_env.setenv("RAGEN_STRICT", "no")
    clean_env.setenv("RAGEN_TIMEOUT", "9")
    config = _load(["--config", str(path)])
    assert config.api_key == "rg-env" and config.strict is False
    chat, assistants = config.scenarios
    assert (chat.limit, chat.timeout, assistants.limit) == (6, 9.0, 7)  # env's chat tier, file's assistants
    config = _load(["--config", str(path), "--api-key", "rg-flag", "--chat-tier", "8/60", "--strict",
                    "--timeout", "4", "--users", "2"])  # fmt: skip
    assert config.api_key == "rg-flag" and config.strict is True
    assert (config.scenarios[0].limit, config.scenarios[0].timeout, config.scenarios[0].users) == (8, 4.0, 2)


def test_cli_a_flag_turns_a_file_boolean_off(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    path = tmp_path / "load.toml"
    path.write_text(CONFIG_TOML)
    assert _load(["--config", str(path), "--no-strict"]).strict is False


@pytest.mark.parametrize(("word", "strict"), [("1", True), ("yes", True), ("ON", True), ("false", False),
                                              ("0", False), ("off", False)])  # fmt: skip
def test_cli_reads_the_shared_boolean_vocabulary(
    clean_env: pytest.MonkeyPatch, word: str, strict: bool
) -> None:
    clean_env.setenv("RAGEN_STRICT", word)
    config = _load(["--base-url", "http://h", "--api-key", "k", "--tier", "assistants"])
    assert config.strict is strict


@pytest.mark.parametrize("word", ["maybe", "y", "t"])  # y and t are click's words, not the shared ones
def test_cli_bad_boolean_is_one_line_exit_2(clean_env: pytest.MonkeyPatch, word: str) -> None:
    clean_env.setenv("RAGEN_STRICT", word)
    code, output = invoke("--base-url", "http://h", "--api-key", "k", "--tier", "assistants")
    assert code == 2
    assert output.strip().splitlines() == [
        f"ragen-load: RAGEN_STRICT: {word!r} is not a boolean (expected 1/0, true/false, yes/no, on/off)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("users = 0\n", "users: 0 is not in the range"),
        ("pace = 0.5\n", "unknown key pace (known: api_key, assistant_id,"),
        ('strict = "sometimes"\n', "strict: 'sometimes' is not a boolean"),
        ('[tiers]\nchat = "ten"\n', "chat_tier: bad tier 'ten'"),
        ("base_url = \n", "cannot parse config"),
    ],
)
def test_cli_bad_config_file_is_one_line_exit_2(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    path = tmp_path / "load.toml"
    path.write_text(text)
    code, output = invoke("--config", str(path), "--base-url", "http://h", "--api-key", "k")
    assert code == 2
    (line,) = output.strip().splitlines()
    assert line.startswith("ragen-load: ") and expected in line


def test_cli_missing_config_file_exit_2(tmp_path: Path) -> None:
    code, output = invoke("--config", str(tmp_path / "absent.toml"))
    assert code == 2 and "cannot read config" in output


@pytest.mark.parametrize(
    "argv", [["--pace", "0.5"], ["--pace"], ["--no-pace"], ["--base-url", "http://h", "--pace=1"]]
)
def test_cli_pace_is_the_gates_switch(argv: list[str]) -> None:
    code, output = invoke(*argv)
    assert code == 2
    assert output.strip().splitlines() == [
        "ragen-load: --pace is ragen-conformance's switch for pacing requests to the tiers; "
        "the wait between a user's requests is --wait-time SECONDS"
    ]


def test_cli_wait_time_is_the_users_wait(clean_env: pytest.MonkeyPatch) -> None:
    config = _load(
        ["--base-url", "http://h", "--api-key", "k", "--tier", "assistants", "--wait-time", "0.25"]
    )
    assert config.scenarios[0].wait_time == 0.25
    assert (
        _load(["--base-url", "http://h", "--api-key", "k", "--tier", "assistants"]).scenarios[0].wait_time
        == 0.1
    )


def test_cli_ignores_the_gates_pace_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RAGEN_PACE", "off")  # the gate's switch; ragen-load has none
    assert _load(["--base-url", "http://h", "--api-key", "k", "--tier", "assistants"]).scenarios


def test_cli_base_url_is_read_as_the_gate_reads_it(clean_env: pytest.MonkeyPatch) -> None:
    for url in ("http://h:8/v1", "http://h:8/v1/", "http://h:8"):
        config = _load(["--base-url", url, "--api-key", "k", "--tier", "assistants"])
        assert config.scenarios[0].base_url == "http://h:8"
    code, output = invoke("--base-url", "h:8", "--api-key", "k", "--tier", "assistants")
    assert code == 2
    assert "bad base URL 'h:8'" in output
