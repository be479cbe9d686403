"""Issue 18: the YAML configurations have a schema. A typo is refused with its path and the
closest known key; the shipped example configuration is valid and serves as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
import yaml

from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.config import CONFIG_SCHEMA, EXAMPLE_CONFIG, ConfigError, load_config
from mockserver.proxy.config import load_proxy_config
from mockserver.settings import Settings

MINIMAL = """
orgs:
  - id: org-a
    model: gpt-5.4
    assistants:
      - id: asst-1
        name: A
        snippets:
          - {title: Refunds, text: Refunds take 30 days.}
keys:
  - {key: rg-a-key-0123456789, org: org-a, assistant: asst-1, scopes: [chat]}
"""


def _write(tmp_path: Path, text: str, name: str = "mock.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_minimal_config_is_valid(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    assert config.orgs[0].model == "gpt-5.4" and config.keys[0].scopes == frozenset({"chat"})


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ("    model: gpt-5.4", "    modle: gpt-5.4", "orgs[0]: unknown key 'modle' (did you mean 'model'?)"),
        (
            "        snippets:",
            "        snipets:",
            "orgs[0].assistants[0]: unknown key 'snipets' (did you mean 'snippets'?)",
        ),
        ("scopes: [chat]", "scope: [chat]", "keys[0]: unknown key 'scope' (did you mean 'scopes'?)"),
        (
            "scopes: [chat]",
            "scopes: [chatt]",
            "keys[0].scopes[0]: 'chatt' is not one of ['assistants', 'chat']",
        ),
        ("text: Refunds", "txt: Refunds", "orgs[0].assistants[0].snippets[0]: unknown key 'txt'"),
        ("orgs:", "orgz:", "the top level: unknown key 'orgz' (did you mean 'orgs'?)"),
    ],
)
def test_a_typo_is_refused_with_its_path_and_a_suggestion(
    tmp_path: Path, before: str, after: str, message: str
) -> None:
    assert before in MINIMAL
    path = _write(tmp_path, MINIMAL.replace(before, after, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text


def test_a_typo_stops_the_mock_with_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("    model:", "    modle:"))
    process = subprocess.run(
        [sys.executable, "-m", "mockserver", "--config", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        f"ragen-mock: {path}: orgs[0]: unknown key 'modle' (did you mean 'model'?)"
    ]


def test_meaning_errors_name_the_file_too(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("org: org-a", "org: org-b"))
    with pytest.raises(ConfigError, match="unknown organization 'org-b'") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_the_proxy_config_has_a_schema_too(tmp_path: Path) -> None:
    path = _write(tmp_path, "models: [{id: m1}]\nalias: {fast: m1}\nkeys: [sk-1]\n", "proxy.yaml")
    with pytest.raises(ConfigError, match=r"unknown key 'alias' \(did you mean 'aliases'\?\)"):
        load_proxy_config(path)
    fixed = _write(tmp_path, "models: [{id: m1}]\naliases: {fast: m1}\nkeys: [sk-1]\n", "proxy.yaml")
    assert load_proxy_config(fixed).resolve("fast") is not None


def test_the_example_config_is_valid_shipped_and_serves_as_documented() -> None:
    assert EXAMPLE_CONFIG.is_file()
    document = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    from jsonschema import Draft202012Validator

    assert list(Draft202012Validator(CONFIG_SCHEMA).iter_errors(document)) == []
    # every key of the schema appears in the example, so it documents the whole format
    text = EXAMPLE_CONFIG.read_text()
    for definition in CONFIG_SCHEMA["$defs"].values():
        for name in definition["properties"]:
            assert f"{name}:" in text, name
    settings = Settings(config=str(EXAMPLE_CONFIG), rate_limits=False)
    with BackgroundServer(lambda: create_app(settings)) as background:
        answer = httpx2.post(
            background.url + "/v1/chat/completions",
            json={
                "assistant_id": "asst-00000000-0000-4000-8000-0000000000aa",
                "messages": [{"role": "user", "content": "How do refunds work?"}],
            },
            headers={"Authorization": "Bearer rg-acme-key"},
        )
        assert answer.status_code == 200
        assert "30 days" in answer.json()["choices"][0]["message"]["content"]
        chat_only = httpx2.get(
            background.url + "/v1/assistants", headers={"Authorization": "Bearer rg-globex-key"}
        )
        assert chat_only.status_code == 403


def test_the_example_is_in_the_package_data() -> None:
    setup = (Path(__file__).resolve().parents[2] / "setup.py").read_text()
    assert '"mockserver": ["**/*.yaml"' in setup  # examples/*.yaml ship with the package
    assert EXAMPLE_CONFIG.suffix == ".yaml" and EXAMPLE_CONFIG.parent.name == "examples"
