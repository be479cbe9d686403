"""The Ragen profile's registry: its own catalogue ``Registry``, so a Ragen run never runs a proxy
check (and vice versa)."""

from __future__ import annotations

from conformance.catalogue import Registry
from conformance.config import PROFILE_GROUPS

__all__ = ["CHECKS", "GROUPS", "REGISTRY", "RESPONSE_CHECKS", "check", "response_check"]

GROUPS = PROFILE_GROUPS["ragen"]
REGISTRY = Registry(GROUPS)
CHECKS = REGISTRY.checks
RESPONSE_CHECKS = REGISTRY.response_checks
check = REGISTRY.check
response_check = REGISTRY.response_check
