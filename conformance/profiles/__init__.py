"""Profiles: which document, which checks. ``ragen`` (spec/openapi.yaml, the catalogue) is the
default; ``openai-proxy`` (spec/openai-proxy.yaml) verifies any OpenAI-compatible proxy.

A profile hands the runner everything that differs between the two: the requirements its
verdicts are about, its probe and response checks (the catalogue's own ``Check`` and
``ResponseCheck`` types), the groups they run in, and the preflight request. Runner, client,
context, results and reporters are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragen_spec import requirements as _requirements

if TYPE_CHECKING:
    from conformance.catalogue import Check, ResponseCheck
    from conformance.context import Context

__all__ = ["PROFILE_NAMES", "Profile", "get_profile"]

PROFILE_NAMES = ("ragen", "openai-proxy")


@dataclass(frozen=True)
class Profile:
    name: str
    spec_path: Path | None  # None = spec/openapi.yaml
    checks: Mapping[str, Check]
    response_checks: Mapping[str, ResponseCheck]
    groups: tuple[str, ...]  # run order
    preflight: Callable[[Context], None] | None = None
    # Pace requests to the Ragen tiers (a proxy documents no rate limit; 429s are still honoured).
    pace: bool = True

    def requirements(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = _requirements(self.spec_path)
        return found

    def covered(self) -> dict[str, list[str]]:
        """Requirement id -> the names of this profile's checks citing it."""
        out: dict[str, list[str]] = {}
        entries: list[Check | ResponseCheck] = [*self.checks.values(), *self.response_checks.values()]
        for entry in entries:
            for rid in entry.requirements:
                out.setdefault(rid, []).append(entry.name)
        return out


def get_profile(name: str) -> Profile:
    """The named profile (imports its checks on first use)."""
    if name == "openai-proxy":
        from conformance.profiles.openai_proxy import PROFILE

        return PROFILE
    if name == "ragen":
        from conformance import checks as _checks  # noqa: F401  (registers the catalogue)
        from conformance.catalogue import CHECKS, RESPONSE_CHECKS
        from conformance.config import GROUPS

        return Profile("ragen", None, CHECKS, RESPONSE_CHECKS, GROUPS)
    raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILE_NAMES)}")
