"""Profiles: which document, which checks. ``ragen`` (spec/openapi.yaml) is the default;
``openai-proxy`` (spec/openai-proxy.yaml) verifies any OpenAI-compatible proxy. Each lives in its
package beside this one (``profiles/ragen/``, ``profiles/openai_proxy/``) with a registry of its own.

A profile hands the runner everything that differs between the two: the requirements its
verdicts are about, its probe and response checks (the catalogue's own ``Check`` and
``ResponseCheck`` types), the groups they run in, and the preflight request. Runner, client,
context, results and reporters are shared.
"""

from __future__ import annotations

from conformance.profiles.profile import Profile

__all__ = ["PROFILE_NAMES", "Profile", "get_profile"]

PROFILE_NAMES = ("ragen", "openai-proxy")


def get_profile(name: str) -> Profile:
    """The named profile (imports its checks on first use)."""
    if name == "openai-proxy":
        from conformance.profiles.openai_proxy import PROFILE

        return PROFILE
    if name == "ragen":
        from conformance.profiles.ragen import PROFILE as RAGEN

        return RAGEN
    raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILE_NAMES)}")
