"""Importing this package registers every check in the catalogue."""

from __future__ import annotations

from conformance.checks import (  # noqa: F401
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
