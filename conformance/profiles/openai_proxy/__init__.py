"""The ``openai-proxy`` profile: spec/openai-proxy.yaml, verified against any OpenAI-compatible proxy."""

from __future__ import annotations

from conformance.profiles.openai_proxy import probes as _probes  # noqa: F401  (registers the checks)
from conformance.profiles.openai_proxy import responses as _responses  # noqa: F401
from conformance.profiles.openai_proxy import schema as _schema  # noqa: F401
from conformance.profiles.openai_proxy.registry import CHECKS, GROUPS, RESPONSE_CHECKS, SPEC, discover_model
from conformance.profiles.profile import Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    name="openai-proxy",
    spec_path=SPEC,
    checks=CHECKS,
    response_checks=RESPONSE_CHECKS,
    groups=GROUPS,
    preflight=discover_model,
    param_requirement="PROXY-ERR-PARAM-1",
    pace=False,
)
