"""The models, aliases and keys the proxy mock serves: the demo, or a YAML file (``--config``).

YAML format::

    models:                       # what the proxy routes to; `id` is required
      - id: gpt-4o-mini
        owned_by: openai          # the provider (GET /v1/models `owned_by`)
        created: 1721172741
      - id: claude-3-5-sonnet-20241022
        owned_by: anthropic
    aliases:                      # alias -> a model id above (resolved before routing)
      fast-chat: gpt-4o-mini
      claude-3-sonnet: claude-3-5-sonnet-20241022
    keys: [sk-proxy-demo]         # the service API keys (`Authorization: Bearer ...`)
    blocked_words: [forbidden]    # a prompt containing one ends with finish_reason content_filter

Checked against ``PROXY_CONFIG_SCHEMA`` first: an unknown key is refused with its path and the
closest known key (``mockserver.config.check_schema``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.config import ConfigError, KeySpec, check_schema, read_yaml

__all__ = [
    "DEMO_ALIASES",
    "DEMO_MODELS",
    "PROXY_CONFIG_SCHEMA",
    "PROXY_KEY",
    "ProxyConfig",
    "ProxyModel",
    "demo_proxy_config",
    "load_proxy_config",
    "parse_proxy_config",
]

PROXY_KEY = "sk-proxy-demo"
PROXY_ORG = "org-proxy"  # keys need an organization in the shared KeyRing; the proxy has one

_NAMES = {"type": ["array", "null"], "items": {"type": "string", "minLength": 1}}
PROXY_CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ragen-mock --profile openai-proxy configuration",
    "type": "object",
    "required": ["models"],
    "additionalProperties": False,
    "properties": {
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "owned_by": {"type": ["string", "null"]},
                    "created": {"type": "integer"},
                },
            },
        },
        "aliases": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "keys": _NAMES,
        "blocked_words": _NAMES,
    },
}


@dataclass(frozen=True)
class ProxyModel:
    id: str
    owned_by: str = "proxy"
    created: int = 1721172741


@dataclass(frozen=True)
class ProxyConfig:
    models: tuple[ProxyModel, ...]
    aliases: dict[str, str]
    keys: tuple[str, ...]
    blocked_words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ids = [m.id for m in self.models]
        if not ids:
            raise ConfigError("the proxy needs at least one model")
        if len(set(ids)) != len(ids):
            raise ConfigError("duplicate model id")
        for alias, target in self.aliases.items():
            if alias in ids:
                raise ConfigError(f"alias {alias!r} hides the model of the same name")
            if target not in ids:
                raise ConfigError(f"alias {alias!r} points to unknown model {target!r}")
        if not self.keys or len(set(self.keys)) != len(self.keys):
            raise ConfigError("the proxy needs at least one API key, each once")

    def resolve(self, name: str) -> ProxyModel | None:
        """The model a name or an alias routes to (PROXY-MODEL-1); None when neither."""
        target = self.aliases.get(name, name)
        return next((m for m in self.models if m.id == target), None)

    def listing(self) -> list[dict[str, Any]]:
        """``GET /v1/models`` data: every model, then every alias under its target's owner."""
        rows: list[tuple[str, ProxyModel | None]] = [(m.id, m) for m in self.models]
        rows += [(alias, self.resolve(alias)) for alias in self.aliases]
        return [
            {"id": name, "object": "model", "created": model.created, "owned_by": model.owned_by}
            for name, model in rows
            if model is not None
        ]

    def key_specs(self) -> tuple[KeySpec, ...]:
        return tuple(KeySpec(key=k, org_id=PROXY_ORG, scopes=frozenset({"chat"})) for k in self.keys)


DEMO_MODELS = (
    ProxyModel("gpt-4o-mini", "openai", 1721172741),
    ProxyModel("deepseek-chat", "deepseek", 1735689600),
    ProxyModel("deepseek-coder", "deepseek", 1735689600),
    ProxyModel("claude-3-5-sonnet-20241022", "anthropic", 1729555200),
)
# The document's examples: a custom alias and a friendly name for an Anthropic model.
DEMO_ALIASES = {"fast-chat": "gpt-4o-mini", "claude-3-sonnet": "claude-3-5-sonnet-20241022"}


def demo_proxy_config() -> ProxyConfig:
    return ProxyConfig(DEMO_MODELS, dict(DEMO_ALIASES), (PROXY_KEY,), ("forbidden",))


def _strings(document: dict[str, Any], name: str) -> tuple[str, ...]:
    value = document.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"'{name}' must be a list of non-empty strings")
    return tuple(value)


def parse_proxy_config(document: Any) -> ProxyConfig:
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        raise ConfigError("the proxy configuration needs a 'models' list")
    models = []
    for i, node in enumerate(document["models"]):
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not node["id"]:
            raise ConfigError(f"models[{i}]: needs an 'id' string")
        created = node.get("created", 1721172741)
        if not isinstance(created, int) or isinstance(created, bool):
            raise ConfigError(f"models[{i}]: 'created' must be an integer")
        models.append(ProxyModel(node["id"], str(node.get("owned_by") or "proxy"), created))
    aliases = document.get("aliases") or {}
    pairs = aliases.items() if isinstance(aliases, dict) else []
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise ConfigError("'aliases' must map alias names to model ids")
    keys, blocked = _strings(document, "keys"), _strings(document, "blocked_words")
    return ProxyConfig(tuple(models), dict(aliases), keys, blocked)


def load_proxy_config(path: str | Path | None) -> ProxyConfig:
    if path is None:
        return demo_proxy_config()
    document = read_yaml(path)
    check_schema(document, PROXY_CONFIG_SCHEMA, source=str(path))
    try:
        return parse_proxy_config(document)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
