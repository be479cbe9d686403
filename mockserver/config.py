"""Organizations, API keys and assistants the mock serves: the demo, or a YAML file (``--config``).

YAML format (every key but ``id``/``key``/``name`` optional)::

    orgs:
      - id: org-acme
        model: gpt-5.4            # the deployment model every response carries (default: --model)
        temperature: 1.0          # read-through default of its assistants
        assistants:
          - id: asst-00000000-0000-4000-8000-0000000000aa   # "asst-" is added when missing
            name: Acme Support
            instructions: Respond concisely.
            created_at: 1744664400
            snippets:             # the knowledge base; the best token overlap answers
              - title: Refunds
                text: Refunds are available within 30 days of purchase.
            rules:                # checked first, in order; the first match answers
              - regex: '(?i)\\bhuman\\b'
                answer: I am connecting you with a human agent.
              - contains: pricing   # case-insensitive substring
                answer: See https://acme.example/pricing.
            fallback: I do not know that yet.
    keys:
      - key: rg-acme-key
        org: org-acme
        assistant: asst-00000000-0000-4000-8000-0000000000aa   # bound default assistant
        active: true
        scopes: [chat, assistants]
        debug: false              # save every conversation as a thread
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "AssistantSeed",
    "ConfigError",
    "KeySpec",
    "MockConfig",
    "OrgSpec",
    "Rule",
    "Snippet",
    "load_config",
]

SCOPES = frozenset({"chat", "assistants"})


class ConfigError(ValueError):
    """The configuration file is not usable."""


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
    try:
        with open(path, encoding="utf-8") as fh:
            document = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return parse_config(document)
