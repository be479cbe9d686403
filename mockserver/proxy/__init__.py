"""The ``openai-proxy`` profile of the mock: a generic OpenAI-compatible proxy (spec/openai-proxy.yaml)."""

from __future__ import annotations

from mockserver.proxy.app import create_proxy_app
from mockserver.proxy.banner import proxy_banner
from mockserver.proxy.config import PROXY_KEY

__all__ = ["PROXY_KEY", "create_proxy_app", "proxy_banner"]
