"""Organizations, API keys and assistants the mock serves: the demo, or a YAML file (``--config``).

The format is ``CONFIG_SCHEMA`` (JSON Schema); ``examples/ragen-mock.example.yaml`` (shipped
with the package, ``EXAMPLE_CONFIG``) shows every key with a comment. A file is checked against
the schema first: an unknown key is refused with its path and the closest known key
(``orgs[0].assistants[0]: unknown key 'snipets' (did you mean 'snippets'?)``), so a typo never
passes silently. Then the meaning is checked (ids unique, keys naming existing assistants,
regexes that compile). Every error is one line.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

__all__ = [
    "CONFIG_SCHEMA",
    "EXAMPLE_CONFIG",
    "AssistantSeed",
    "ConfigError",
    "KeySpec",
    "MockConfig",
    "OrgSpec",
    "Rule",
    "Snippet",
    "check_schema",
    "load_config",
    "read_yaml",
]

SCOPES = frozenset({"chat", "assistants"})
EXAMPLE_CONFIG = Path(__file__).resolve().parent / "examples" / "ragen-mock.example.yaml"

_TEXT = {"type": ["string", "null"]}
CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ragen-mock configuration",
    "type": "object",
    "required": ["orgs"],
    "additionalProperties": False,
    "properties": {
        "orgs": {"type": "array", "items": {"$ref": "#/$defs/org"}},
        "keys": {"type": ["array", "null"], "items": {"$ref": "#/$defs/key"}},
    },
    "$defs": {
        "org": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "model": _TEXT,
                "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                "assistants": {"type": ["array", "null"], "items": {"$ref": "#/$defs/assistant"}},
            },
        },
        "assistant": {
            "type": "object",
            "required": ["id", "name"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "name": {"type": "string"},
                "instructions": _TEXT,
                "created_at": {"type": "integer"},
                "snippets": {"type": ["array", "null"], "items": {"$ref": "#/$defs/snippet"}},
                "rules": {"type": ["array", "null"], "items": {"$ref": "#/$defs/rule"}},
                "fallback": _TEXT,
            },
        },
        "snippet": {
            "type": "object",
            "required": ["text"],
            "additionalProperties": False,
            "properties": {"title": _TEXT, "text": {"type": "string"}},
        },
        "rule": {
            "type": "object",
            "required": ["answer"],
            "additionalProperties": False,
            "properties": {
                "answer": {"type": "string"},
                "regex": {"type": "string"},
                "contains": {"type": "string"},
            },
            "anyOf": [{"required": ["regex"]}, {"required": ["contains"]}],
        },
        "key": {
            "type": "object",
            "required": ["key", "org"],
            "additionalProperties": False,
            "properties": {
                "key": {"type": "string", "minLength": 1},
                "org": {"type": "string"},
                "assistant": _TEXT,
                "active": {"type": "boolean"},
                "scopes": {"type": "array", "items": {"enum": sorted(SCOPES)}},
                "debug": {"type": "boolean"},
            },
        },
    },
}


class ConfigError(ValueError):
    """The configuration file is not usable."""


def _where(error: ValidationError) -> str:
    """``orgs[0].assistants[1]``: where in the document ``error`` is."""
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path]
    return "".join(parts).lstrip(".") or "the top level"


def _suggest(word: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(word), known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"


def _explain(error: ValidationError) -> str:
    where = _where(error)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in known)
        return f"{where}: unknown key '{unknown[0]}'{_suggest(unknown[0], known)}"
    if error.validator == "enum":
        known = [str(v) for v in error.validator_value]
        return f"{where}: {error.instance!r} is not one of {known}{_suggest(error.instance, known)}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"{where}: {error.message}"


def check_schema(document: Any, schema: dict[str, Any], *, source: str) -> None:
    """Raise ``ConfigError`` (one line) for the first way ``document`` breaks ``schema``;
    unknown keys (typos) are reported before anything else."""
    errors = list(Draft202012Validator(schema).iter_errors(document))
    if not errors:
        return
    typos = [e for e in errors if e.validator == "additionalProperties"]
    error = min(typos, key=lambda e: [str(p) for p in e.absolute_path]) if typos else best_match(errors)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise ConfigError(f"{source}: {_explain(error)}{more}")


def read_yaml(path: str | Path) -> Any:
    """The YAML document at ``path``; any problem reading it is one line of ``ConfigError``."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"cannot read {path}: invalid YAML{at}: {problem}") from None


@dataclass(frozen=True)
class Snippet:
    title: str
    text: str


@dataclass(frozen=True)
class Rule:
    answer: str
    regex: re.Pattern[str] | None = None
    contains: str | None = None

    def matches(self, question: str) -> bool:
        if self.regex is not None:
            return self.regex.search(question) is not None
        return self.contains is not None and self.contains.lower() in question.lower()


@dataclass(frozen=True)
class AssistantSeed:
    id: str
    name: str
    instructions: str | None = None
    created_at: int = 1744664400
    snippets: tuple[Snippet, ...] = ()
    rules: tuple[Rule, ...] = ()
    fallback: str | None = None


@dataclass(frozen=True)
class OrgSpec:
    id: str
    model: str | None = None
    temperature: float = 1.0
    assistants: tuple[AssistantSeed, ...] = ()


@dataclass(frozen=True)
class KeySpec:
    key: str = field(repr=False)
    org_id: str
    assistant_id: str | None = None
    active: bool = True
    scopes: frozenset[str] = SCOPES
    debug: bool = False


@dataclass(frozen=True)
class MockConfig:
    orgs: tuple[OrgSpec, ...]
    keys: tuple[KeySpec, ...]

    def __post_init__(self) -> None:
        org_ids = [o.id for o in self.orgs]
        if len(set(org_ids)) != len(org_ids):
            raise ConfigError("duplicate organization id")
        asst_ids = [a.id for o in self.orgs for a in o.assistants]
        if len(set(asst_ids)) != len(asst_ids):
            raise ConfigError("duplicate assistant id")
        keys = [k.key for k in self.keys]
        if len(set(keys)) != len(keys):
            raise ConfigError("duplicate API key")
        owner = {a.id: o.id for o in self.orgs for a in o.assistants}
        for k in self.keys:
            if k.org_id not in org_ids:
                raise ConfigError(f"a key names unknown organization {k.org_id!r}")
            if k.assistant_id is not None and owner.get(k.assistant_id) != k.org_id:
                raise ConfigError(
                    f"a key of {k.org_id!r} is bound to {k.assistant_id!r}, not one of its assistants"
                )
            if not k.scopes <= SCOPES:
                raise ConfigError(f"unknown scopes {sorted(k.scopes - SCOPES)}; known: {sorted(SCOPES)}")


def asst_id(raw: str) -> str:
    return raw if raw.startswith("asst-") else "asst-" + raw


def _str(node: dict[str, Any], name: str, *, where: str, required: bool = False) -> str | None:
    value = node.get(name)
    if value is None:
        if required:
            raise ConfigError(f"{where}: '{name}' is required")
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{name}' must be a string")
    return value


def _rule(node: Any, where: str) -> Rule:
    if not isinstance(node, dict) or not isinstance(node.get("answer"), str):
        raise ConfigError(f"{where}: a rule needs an 'answer' string and 'regex' or 'contains'")
    if isinstance(node.get("regex"), str):
        try:
            return Rule(answer=node["answer"], regex=re.compile(node["regex"]))
        except re.error as exc:
            raise ConfigError(f"{where}: bad regex: {exc}") from None
    if isinstance(node.get("contains"), str):
        return Rule(answer=node["answer"], contains=node["contains"])
    raise ConfigError(f"{where}: a rule needs 'regex' or 'contains'")


def _assistant(node: Any, where: str) -> AssistantSeed:
    if not isinstance(node, dict):
        raise ConfigError(f"{where}: an assistant must be a mapping")
    snippets = []
    for i, s in enumerate(node.get("snippets") or []):
        if not isinstance(s, dict) or not isinstance(s.get("text"), str):
            raise ConfigError(f"{where}.snippets[{i}]: needs a 'text' string")
        snippets.append(Snippet(title=str(s.get("title") or ""), text=s["text"]))
    created = node.get("created_at", 1744664400)
    if not isinstance(created, int):
        raise ConfigError(f"{where}: 'created_at' must be an integer")
    return AssistantSeed(
        id=asst_id(_str(node, "id", where=where, required=True) or ""),
        name=_str(node, "name", where=where, required=True) or "",
        instructions=_str(node, "instructions", where=where),
        created_at=created,
        snippets=tuple(snippets),
        rules=tuple(_rule(r, f"{where}.rules[{i}]") for i, r in enumerate(node.get("rules") or [])),
        fallback=_str(node, "fallback", where=where),
    )


def parse_config(document: Any) -> MockConfig:
    if not isinstance(document, dict) or not isinstance(document.get("orgs"), list):
        raise ConfigError("the configuration needs an 'orgs' list")
    orgs = []
    for i, org in enumerate(document["orgs"]):
        where = f"orgs[{i}]"
        if not isinstance(org, dict):
            raise ConfigError(f"{where}: must be a mapping")
        temperature = org.get("temperature", 1.0)
        if not isinstance(temperature, int | float):
            raise ConfigError(f"{where}: 'temperature' must be a number")
        orgs.append(
            OrgSpec(
                id=_str(org, "id", where=where, required=True) or "",
                model=_str(org, "model", where=where),
                temperature=float(temperature),
                assistants=tuple(
                    _assistant(a, f"{where}.assistants[{j}]")
                    for j, a in enumerate(org.get("assistants") or [])
                ),
            )
        )
    keys = []
    for i, k in enumerate(document.get("keys") or []):
        where = f"keys[{i}]"
        if not isinstance(k, dict):
            raise ConfigError(f"{where}: must be a mapping")
        bound = _str(k, "assistant", where=where)
        scopes = k.get("scopes", sorted(SCOPES))
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ConfigError(f"{where}: 'scopes' must be a list of strings")
        keys.append(
            KeySpec(
                key=_str(k, "key", where=where, required=True) or "",
                org_id=_str(k, "org", where=where, required=True) or "",
                assistant_id=asst_id(bound) if bound else None,
                active=bool(k.get("active", True)),
                scopes=frozenset(scopes),
                debug=bool(k.get("debug", False)),
            )
        )
    return MockConfig(orgs=tuple(orgs), keys=tuple(keys))


def load_config(path: str | Path) -> MockConfig:
    document = read_yaml(path)
    check_schema(document, CONFIG_SCHEMA, source=str(path))
    try:
        return parse_config(document)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
