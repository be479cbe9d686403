"""The conformance gate: verifies any implementation of the Ragen API against spec/openapi.yaml.

from conformance import RunConfig, Target, run
report = run(RunConfig(Target(base_url=..., api_key=..., assistant_id=...)))
report.exit_code  # 0 conformant, 1 violations, 2 could not decide

The names load on first use, so ``ragen-conformance --version`` and the missing-extra message of
a plain install (``conformance.__main__``) import none of schemathesis, hypothesis or openai.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.config import RunConfig, Target, Tier
    from conformance.results import Report, Verdict, VerdictKind
    from conformance.runner import run

__all__ = ["Report", "RunConfig", "Target", "Tier", "Verdict", "VerdictKind", "run"]

_HOMES = {
    "RunConfig": "conformance.config",
    "Target": "conformance.config",
    "Tier": "conformance.config",
    "Report": "conformance.results",
    "Verdict": "conformance.results",
    "VerdictKind": "conformance.results",
    "run": "conformance.runner",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
