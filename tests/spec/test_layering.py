"""ragen_spec.layering: the one reading of a file, the environment and flags the three commands share."""

from __future__ import annotations

from pathlib import Path

import pytest
from ragen_spec.layering import LayeringError, merge, parse_bool, read_env, read_file

KNOWN = ("base_url", "api_key", "strict", "users")


@pytest.mark.parametrize("word", ["1", "true", "yes", "on", "TRUE", " Yes ", "On"])
def test_parse_bool_true_words(word: str) -> None:
    assert parse_bool(word) is True


@pytest.mark.parametrize("word", ["0", "false", "no", "off", "False", " OFF "])
def test_parse_bool_false_words(word: str) -> None:
    assert parse_bool(word) is False


@pytest.mark.parametrize("word", ["maybe", "", "t", "y", "2", "enabled"])
def test_parse_bool_refuses_other_words_in_one_line(word: str) -> None:
    with pytest.raises(LayeringError) as caught:
        parse_bool(word, "RAGEN_STRICT")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("RAGEN_STRICT: ") and "1/0, true/false, yes/no, on/off" in message


def test_layering_error_is_a_value_error() -> None:
    assert issubclass(LayeringError, ValueError)


def test_parse_bool_keeps_real_booleans() -> None:
    assert parse_bool(True) is True and parse_bool(False) is False


def test_read_file_toml_and_yaml_give_the_same_flat_mapping(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('base-url = "http://h"\nstrict = "on"\nusers = 3\n[tiers]\nchat = "10/60"\n')
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("base_url: http://h\nstrict: 'on'\nusers: 3\ntiers:\n  chat: 10/60\n")
    tables = {"tiers": ("chat", "assistants")}
    expected = {"base_url": "http://h", "strict": True, "users": 3, "tiers": {"chat": "10/60"}}
    for path in (toml, yaml_file):
        assert read_file(path, KNOWN, tables=tables, booleans=("strict",)) == expected


def test_read_file_refuses_unknown_keys_listing_the_known(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('base_url = "http://h"\napi_kee = "typo"\n')
    with pytest.raises(LayeringError) as caught:
        read_file(path, KNOWN)
    message = str(caught.value)
    assert "\n" not in message
    assert "unknown key api_kee" in message and "known: api_key, base_url, strict, users" in message


def test_read_file_refuses_unknown_table_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("tiers: {chat: 10/60, embeddings: 5/60}\n")
    with pytest.raises(LayeringError, match=r"\[tiers\]: unknown key embeddings \(known: assistants, chat\)"):
        read_file(path, KNOWN, tables={"tiers": ("chat", "assistants")})
    path.write_text("tiers: 10/60\n")
    with pytest.raises(LayeringError, match="tiers must be a table"):
        read_file(path, KNOWN, tables={"tiers": ("chat", "assistants")})


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.toml", "base_url = \n", "cannot parse config"),
        ("bad.yaml", "base_url: [unclosed\n", "cannot parse config"),
        ("list.yaml", "- base_url\n", "must be a mapping"),
        ("bool.toml", 'strict = "sometimes"\n', "strict: 'sometimes' is not a boolean"),
    ],
)
def test_read_file_errors_are_one_line(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(LayeringError) as caught:
        read_file(path, KNOWN, booleans=("strict",))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_read_file_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(LayeringError, match="cannot read config"):
        read_file(tmp_path / "absent.toml", KNOWN)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert read_file(empty, KNOWN) == {}


def test_read_env_prefix_booleans_fallbacks_and_empty_values() -> None:
    environ = {
        "RAGEN_BASE_URL": "http://h",
        "RAGEN_STRICT": "off",
        "RAGEN_USERS": "",  # empty: not set
        "RAGEN_LOAD_API_KEY": "old",
        "OTHER_API_KEY": "ignored",
    }
    got = read_env(KNOWN, "RAGEN_", environ, booleans=("strict",), also={"api_key": ["RAGEN_LOAD_API_KEY"]})
    assert got == {"base_url": "http://h", "strict": False, "api_key": "old"}
    newer = read_env(
        ["api_key"], "RAGEN_", {**environ, "RAGEN_API_KEY": "new"}, also={"api_key": ["RAGEN_LOAD_API_KEY"]}
    )
    assert newer == {"api_key": "new"}  # the prefixed name wins over the older one


def test_read_env_names_the_variable_of_a_bad_boolean() -> None:
    with pytest.raises(LayeringError, match=r"^RAGEN_STRICT: 'maybe' is not a boolean"):
        read_env(KNOWN, "RAGEN_", {"RAGEN_STRICT": "maybe"}, booleans=("strict",))


def test_merge_later_wins_and_none_is_not_given() -> None:
    file_layer = {"base_url": "http://file", "users": 3, "strict": True, "tiers": {"chat": "5/30"}}
    env_layer = {"base_url": "http://env", "tiers": {"assistants": "7/60"}}
    flags = {"base_url": None, "users": 9, "strict": False}
    assert merge(file_layer, env_layer, flags) == {
        "base_url": "http://env",  # the flag was not given
        "users": 9,
        "strict": False,  # a flag's False is given, not absent
        "tiers": {"chat": "5/30", "assistants": "7/60"},  # tables merge key by key
    }
    # the other order: what comes last wins
    assert merge(flags, env_layer, file_layer)["base_url"] == "http://file"
    assert merge(flags, env_layer, file_layer)["users"] == 3
