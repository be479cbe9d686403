"""The run configuration: file < environment < flags, and usage errors."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from conformance import config as configuration
from conformance.cli import main
from conformance.config import Tier
from conformance.errors import HarnessError


def test_config_layers_file_env_flags(tmp_path: Any) -> None:
    toml = tmp_path / "ragen.toml"
    toml.write_text(
        'base_url = "http://file"\napi_key = "k-file"\nmax_examples = 3\n[tiers]\nchat = "5/30"\n'
    )
    yaml_file = tmp_path / "ragen.yaml"
    yaml_file.write_text("base_url: http://yaml\napi_key: k\npace: false\ntiers: {assistants: 7/1m}\n")
    env = configuration.from_env({"RAGEN_API_KEY": "k-env", "RAGEN_CHAT_TIER": "6/60", "RAGEN_STRICT": "yes"})
    config = configuration.load(
        configuration.from_file(toml), env, {"base_url": "http://flag/", "seed": None}
    )
    assert config.target.base_url == "http://flag"
    assert config.target.api_key == "k-env"
    assert config.target.tiers["chat"] == Tier(6, 60.0)
    assert config.max_examples == 3 and config.strict is True
    from_yaml = configuration.load(configuration.from_file(yaml_file))
    assert from_yaml.target.pace is False
    assert from_yaml.target.tiers["assistants"] == Tier(7, 60.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"base_url": "http://x"},
        {"base_url": "http://x", "api_key": "k", "pace": "maybe"},
        {"base_url": "http://x", "api_key": "k", "tiers": {"chat": "ten"}},
        {"base_url": "http://x", "api_key": "k", "groups": "schema,nope"},
    ],
)
def test_config_rejects_bad_input(bad: dict[str, Any]) -> None:
    with pytest.raises(HarnessError):
        configuration.load(bad)


def test_config_file_rejects_unknown_keys(tmp_path: Any) -> None:
    path = tmp_path / "c.toml"
    path.write_text('base_url = "http://x"\napi_kee = "typo"\n')
    with pytest.raises(HarnessError, match="api_kee"):
        configuration.from_file(path)


def test_config_layers_in_the_other_order(tmp_path: Any) -> None:
    """What comes later wins, whatever the layer: flags over env over file, and back."""
    path = tmp_path / "ragen.toml"
    path.write_text('base_url = "http://file"\napi_key = "k-file"\npace = "off"\n[tiers]\nchat = "5/30"\n')
    file_layer = configuration.from_file(path)
    env = configuration.from_env(
        {"RAGEN_BASE_URL": "http://env", "RAGEN_PACE": "on", "RAGEN_CHAT_TIER": "6/60"}
    )
    flags = {"base_url": "http://flag", "pace": None, "tiers": {"assistants": "9/60"}}
    forward = configuration.load(file_layer, env, flags)
    assert (forward.target.base_url, forward.target.pace) == ("http://flag", True)
    assert forward.target.tiers == {"chat": Tier(6, 60.0), "assistants": Tier(9, 60.0)}
    backward = configuration.load(flags, env, file_layer)
    assert (backward.target.base_url, backward.target.pace) == ("http://file", False)
    assert backward.target.tiers["chat"] == Tier(5, 30.0)


@pytest.mark.parametrize(
    ("word", "value"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("False", False),
     ("no", False), (" off ", False)],
)  # fmt: skip
def test_config_reads_the_shared_boolean_vocabulary(word: str, value: bool) -> None:
    env = configuration.from_env({"RAGEN_BASE_URL": "http://x", "RAGEN_API_KEY": "k", "RAGEN_STRICT": word})
    assert configuration.load(env).strict is value


@pytest.mark.parametrize("word", ["maybe", "y", "t", "2"])
def test_config_bad_boolean_names_its_variable(word: str) -> None:
    with pytest.raises(
        HarnessError, match=rf"^RAGEN_PACE: '{word}' is not a boolean \(expected 1/0, true/false"
    ):
        configuration.from_env({"RAGEN_PACE": word})


def test_cli_bad_boolean_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("RAGEN_RATE_LIMITS", "sometimes")
    result = CliRunner().invoke(main, ["--base-url", "http://127.0.0.1:1", "--api-key", "k"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "ragen-conformance: RAGEN_RATE_LIMITS: 'sometimes' is not a boolean "
        "(expected 1/0, true/false, yes/no, on/off)"
    ]
    monkeypatch.delenv("RAGEN_RATE_LIMITS")
    path = tmp_path / "ragen.yaml"
    path.write_text("base_url: http://127.0.0.1:1\napi_key: k\nstrict: sometimes\n")
    result = CliRunner().invoke(main, ["--config", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"ragen-conformance: config {path}: strict: 'sometimes' is not a boolean "
        "(expected 1/0, true/false, yes/no, on/off)"
    ]


def test_config_file_rejects_unknown_tiers_listing_the_known(tmp_path: Any) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[tiers]\nembeddings = "5/60"\n')
    with pytest.raises(HarnessError, match=r"unknown key embeddings \(known: assistants, chat\)"):
        configuration.from_file(path)
