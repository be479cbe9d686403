"""``Profile``: what a profile hands the runner. A leaf, so a profile's package can build one
without importing the registry that imports it (``conformance.profiles.get_profile``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragen_spec import requirements as _requirements

if TYPE_CHECKING:
    from conformance.catalogue import Check, ResponseCheck
    from conformance.context import Context

__all__ = ["Profile"]


@dataclass(frozen=True)
class Profile:
    name: str
    spec_path: Path | None  # None = spec/openapi.yaml
    checks: Mapping[str, Check]
    response_checks: Mapping[str, ResponseCheck]
    groups: tuple[str, ...]  # run order
    # Before any other request: prove the target can be tested (raise SetupError, one line).
    preflight: Callable[[Context], None] | None = None
    # Remove what the run created on the target (best effort): before a check that needs it done
    # (``after_cleanup``) and again at the end, for what was created since (so: idempotent).
    cleanup: Callable[[Context], None] | None = None
    # The rule an error's ``param`` is judged under (``Context.expect_error(param=...)``).
    param_requirement: str | None = None
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
