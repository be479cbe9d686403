"""How every command reads its settings: a file, then the environment, then flags — later wins.

Each source becomes the same flat mapping ``{field name: value}`` with ``None`` for "not given",
and ``merge`` layers them (file < env < flags). Booleans have one vocabulary here for all three
tools (``parse_bool``); typing every other value (numbers, tiers, groups) stays with the tool,
which knows its fields. Every problem is a ``LayeringError``: one line naming where the bad value
came from, which the commands print as their usage error (exit 2).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "BOOLEAN_WORDS",
    "LayeringError",
    "merge",
    "normalise_base_url",
    "parse_bool",
    "read_env",
    "read_file",
]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
BOOLEAN_WORDS = ", ".join(f"{t}/{f}" for t, f in zip(_TRUE, _FALSE, strict=True))


class LayeringError(ValueError):
    """A setting the command cannot use; the message is one line naming its source."""


def parse_bool(value: str | bool, where: str = "value") -> bool:
    """``1/0``, ``true/false``, ``yes/no``, ``on/off`` (any case, surrounding blanks ignored)."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise LayeringError(f"{where}: {value!r} is not a boolean (expected {BOOLEAN_WORDS})")


def normalise_base_url(url: str) -> str:
    """The server's root: ``https://host/v1`` (the openai SDK's convention) and ``https://host``
    alike, since every path the tools send starts with ``/v1``."""
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/]+", url):
        raise LayeringError(f"bad base URL {url!r}: expected http(s)://host[:port][/prefix]")
    return url.removesuffix("/v1").rstrip("/")


def read_file(
    path: str | Path,
    known: Collection[str],
    *,
    tables: Mapping[str, Collection[str]] | None = None,
    booleans: Collection[str] = (),
) -> dict[str, Any]:
    """A flat mapping from a TOML (``.toml``) or YAML (any other suffix) file.

    Keys may be written with ``-`` or ``_`` (``api-key`` is ``api_key``); a key outside ``known``
    is refused with the list of known ones. ``tables`` names the keys that hold a table and the
    keys that table may have (``{"tiers": ("chat", "assistants")}``); ``booleans`` are read with
    ``parse_bool``.
    """
    path = Path(path)
    tables = tables or {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LayeringError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())  # YAML's messages span lines
        raise LayeringError(f"cannot parse config {path}: {reason}") from None
    if data is None:
        return {}  # an empty file sets nothing
    if not isinstance(data, dict):
        raise LayeringError(f"config {path} must be a mapping of settings, not {type(data).__name__}")
    flat = _known_keys(data, set(known) | set(tables), f"config {path}")
    for name, allowed in tables.items():
        if name in flat:
            if not isinstance(flat[name], dict):
                raise LayeringError(f"config {path}: {name} must be a table ({', '.join(allowed)})")
            flat[name] = _known_keys(flat[name], set(allowed), f"config {path}: [{name}]")
    for name in set(booleans) & set(flat):
        flat[name] = parse_bool(flat[name], f"config {path}: {name}")
    return flat


def _known_keys(data: Mapping[Any, Any], known: set[str], where: str) -> dict[str, Any]:
    flat = {str(key).replace("-", "_"): value for key, value in data.items()}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise LayeringError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    return flat


def read_env(
    names: Iterable[str],
    prefix: str,
    environ: Mapping[str, str] | None = None,
    *,
    booleans: Collection[str] = (),
    also: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """``{name: value}`` from ``PREFIX<NAME>`` variables (``RAGEN_API_KEY`` for ``api_key``).

    An empty variable counts as not set. ``also`` names older variables read when the first is
    not set (``{"api_key": ["RAGEN_LOAD_API_KEY"]}``); ``booleans`` are read with ``parse_bool``.
    """
    environ = os.environ if environ is None else environ
    also = also or {}
    out: dict[str, Any] = {}
    for name in names:
        for variable in (prefix + name.upper(), *also.get(name, ())):
            value = environ.get(variable)
            if value:
                out[name] = parse_bool(value, variable) if name in booleans else value
                break
    return out


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win, value by value; ``None`` is "not given" and never overrides.

    A table (a mapping value such as ``tiers``) merges key by key, so a file's chat tier and the
    environment's assistants tier both hold.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if value is None:
                continue
            if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = merge(merged[key], value)
            else:
                merged[key] = dict(value) if isinstance(value, Mapping) else value
    return merged
