"""The ``ragen`` profile: spec/openapi.yaml, verified against a Ragen deployment (the default).

Importing this package registers every check of the profile in its registry."""

from __future__ import annotations

from conformance.profiles.profile import Profile
from conformance.profiles.ragen import (  # noqa: F401  (each module registers its checks)
    assistants,
    auth,
    chat,
    errors,
    native,
    ratelimit,
    responses,
    schema,
    sdk,
    streaming,
)
from conformance.profiles.ragen.lifecycle import cleanup, preflight
from conformance.profiles.ragen.registry import CHECKS, GROUPS, RESPONSE_CHECKS

__all__ = ["PROFILE"]

PROFILE = Profile(
    name="ragen",
    spec_path=None,
    checks=CHECKS,
    response_checks=RESPONSE_CHECKS,
    groups=GROUPS,
    preflight=preflight,
    cleanup=cleanup,
    param_requirement="ERR-PARAM-1",
)
