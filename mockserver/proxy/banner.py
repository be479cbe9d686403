"""What ``ragen-mock --profile openai-proxy`` prints at start-up: models, aliases, keys, a first curl."""

from __future__ import annotations

import json

from mockserver.auth import mask
from mockserver.proxy.config import PROXY_KEY, load_proxy_config
from mockserver.settings import Settings

__all__ = ["proxy_banner"]


def proxy_banner(settings: Settings, url: str) -> str:
    config = load_proxy_config(settings.config)
    source = settings.config or "the demo configuration"
    lines = [
        f"ragen-mock: a generic OpenAI-compatible proxy (spec/openai-proxy.yaml) on {url}, {source}",
        f"  dashboard: {url}/__mock/",
        "",
        "Models:",
    ]
    lines += [f"  {m.id:<30} owned_by {m.owned_by}" for m in config.models]
    if config.aliases:
        lines += ["Aliases:"] + [f"  {alias:<30} -> {target}" for alias, target in config.aliases.items()]
    # Demo keys are public; keys from a configuration file are shown masked.
    shown = [k if settings.config is None else mask(k) for k in config.keys]
    lines += ["API keys:"] + [f"  {k}" for k in shown]
    lines += [
        "",
        "Provider outages: x-mock-fault: kind=status; status=502 (or 503), or POST /__mock/faults",
        "",
    ]
    key = PROXY_KEY if settings.config is None else "YOUR_KEY"
    example = {
        "model": next(iter(config.aliases), config.models[0].id),
        "n": 2,
        "messages": [{"role": "user", "content": "Hello, world!"}],
    }
    lines += [
        "Try:",
        f"  curl {url}/v1/chat/completions -H 'Authorization: Bearer {key}' "
        f"-H 'Content-Type: application/json' \\",
        f"    -d '{json.dumps(example)}'",
    ]
    return "\n".join(lines) + "\n"
