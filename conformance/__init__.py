"""The conformance gate: verifies any implementation of the Ragen API against spec/openapi.yaml.

from conformance import RunConfig, Target, run
report = run(RunConfig(Target(base_url=..., api_key=..., assistant_id=...)))
report.exit_code  # 0 conformant, 1 violations, 2 could not decide
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.config import RunConfig, Target, Tier
from conformance.results import Report, Verdict, VerdictKind

if TYPE_CHECKING:
    from conformance.runner import run

__all__ = ["Report", "RunConfig", "Target", "Tier", "Verdict", "VerdictKind", "run"]


def __getattr__(name: str) -> Any:
    # The runner imports schemathesis, hypothesis and openai: only when asked for (the CLI's
    # --help must not pay for them).
    if name == "run":
        from conformance.runner import run

        return run
    raise AttributeError(name)
