"""The Ragen OpenAPI contract, shipped inside the installed package as ``ragen_spec``.

``spec/openapi.yaml`` in the repository is the source of truth; setuptools maps this directory to
the import name ``ragen_spec`` so an installed tool finds the same file without a checkout.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "PROXY_SPEC_PATH",
    "SPEC_PATH",
    "Requirement",
    "Tier",
    "error_types",
    "load_spec",
    "requirements",
    "resolve",
    "self_delete_message",
    "tiers",
]

SPEC_PATH = Path(str(resources.files(__name__).joinpath("openapi.yaml")))
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


# The spec's facts and the ref resolver, importable from the package itself (defined after _load,
# which they use).
from ragen_spec.facts import Tier, error_types, self_delete_message, tiers  # noqa: E402
from ragen_spec.refs import resolve  # noqa: E402
