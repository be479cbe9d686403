"""The spec documents themselves: where they are, loading them, their requirements.

A leaf module: every other module of ``ragen_spec`` builds on it (the package re-exports it).
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PROXY_SPEC_PATH", "SPEC_PATH", "Requirement", "load_spec", "requirements"]

SPEC_PATH = Path(str(resources.files("ragen_spec").joinpath("openapi.yaml")))
# The second profile (a generic OpenAI-compatible proxy); it $refs shared components of SPEC_PATH.
PROXY_SPEC_PATH = SPEC_PATH.with_name("openai-proxy.yaml")

Requirement = dict[str, Any]


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        # libyaml's loader when present: the same safe subset, several times faster at start-up.
        document: dict[str, Any] = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return document


def load_spec(path: Path | None = None) -> dict[str, Any]:
    """A fresh deep copy of the parsed spec (callers may mutate it)."""
    return copy.deepcopy(_load(path or SPEC_PATH))


def requirements(path: Path | None = None) -> dict[str, Requirement]:
    """The spec's ``x-requirements`` keyed by id, in document order."""
    return {req["id"]: dict(req) for req in _load(path or SPEC_PATH)["x-requirements"]}
