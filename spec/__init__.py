"""The Ragen OpenAPI contract, shipped inside the installed package as ``ragen_spec``.

``spec/openapi.yaml`` in the repository is the source of truth; setuptools maps this directory to
the import name ``ragen_spec`` so an installed tool finds the same file without a checkout.
"""

from __future__ import annotations

from ragen_spec.document import PROXY_SPEC_PATH, SPEC_PATH, Requirement, load_spec, requirements
from ragen_spec.facts import Tier, error_types, self_delete_message, tiers
from ragen_spec.refs import resolve

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
