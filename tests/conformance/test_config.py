"""The run configuration: file < environment < flags, and usage errors."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import config as configuration
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
