"""Profiles: which document, which checks. ``ragen`` (spec/openapi.yaml, the catalogue) is the
default; ``openai-proxy`` (spec/openai-proxy.yaml) verifies any OpenAI-compatible proxy.

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
        from conformance import checks as _checks  # noqa: F401  (registers the catalogue)
        from conformance.catalogue import CHECKS, RESPONSE_CHECKS
        from conformance.checks import lifecycle
        from conformance.config import GROUPS

        return Profile(
            "ragen",
            None,
            CHECKS,
            RESPONSE_CHECKS,
            GROUPS,
            preflight=lifecycle.preflight,
            cleanup=lifecycle.cleanup,
        )
    raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILE_NAMES)}")
