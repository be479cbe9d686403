"""The openai-proxy profile's registry: a catalogue ``Registry`` of its own, so a Ragen run never
runs a proxy check (and vice versa)."""

from __future__ import annotations

import os
from typing import Any

from ragen_spec import PROXY_SPEC_PATH

from conformance.catalogue import Registry
from conformance.config import PROFILE_GROUPS
from conformance.context import Context
from conformance.errors import Skip

__all__ = [
    "CHECKS",
    "GROUPS",
    "MODEL_ENV",
    "REGISTRY",
    "RESPONSE_CHECKS",
    "SPEC",
    "check",
    "model",
    "response_check",
]

SPEC = PROXY_SPEC_PATH
GROUPS = PROFILE_GROUPS["openai-proxy"]
MODEL_ENV = "RAGEN_PROXY_MODEL"  # the model the probes ask; default: the first of GET /v1/models

REGISTRY = Registry(GROUPS)
CHECKS = REGISTRY.checks
RESPONSE_CHECKS = REGISTRY.response_checks
check = REGISTRY.check
response_check = REGISTRY.response_check


def model(ctx: Context) -> str:
    """The model every probe asks for (found by the preflight)."""
    found = ctx.facts.get("proxy_model")
    if not isinstance(found, str):
        raise Skip(f"no model to ask: GET /v1/models listed none; set {MODEL_ENV}")
    return found


def discover_model(ctx: Context) -> None:
    """Preflight: the key works, and which model to ask (``RAGEN_PROXY_MODEL`` or the first listed)."""
    from conformance.errors import HarnessError

    exchange = ctx.request("GET", "/v1/models")
    if exchange.status in (401, 403):
        raise HarnessError(
            f"the API key was rejected by {ctx.target.base_url} ({exchange.status}); "
            "check --api-key / RAGEN_API_KEY"
        )
    body = exchange.json()
    listed = (
        [m.get("id") for m in body.get("data") or [] if isinstance(m, dict)] if isinstance(body, dict) else []
    )
    ctx.facts["proxy_models"] = [m for m in listed if isinstance(m, str) and m]
    ctx.facts["proxy_model"] = os.environ.get(MODEL_ENV) or next(iter(ctx.facts["proxy_models"]), None)


def body(
    ctx: Context, question: str = "Tell me a short story about a robot.", **fields: Any
) -> dict[str, Any]:
    return {"model": model(ctx), "messages": [{"role": "user", "content": question}], **fields}
