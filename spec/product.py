"""The installed distribution: its version, and the extras its commands need.

A plain ``pip install ragen-conformance`` is the spec and the mock. ``ragen-conformance`` needs
the ``[gate]`` extra and ``ragen-load`` the ``[load]`` extra; without it a command says which
extra to install, in one line, instead of failing on an import deep inside.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib import metadata

__all__ = ["DISTRIBUTION", "EXTRAS", "missing_extra", "require_extra", "version"]

DISTRIBUTION = "ragen-conformance"

# The top-level modules each extra brings that its command imports (pyproject.toml lists the
# distributions; tests/test_plain_install.py proves a plain install lacks them).
EXTRAS: dict[str, tuple[str, ...]] = {
    "gate": ("schemathesis", "hypothesis", "openai", "httpx2", "requests", "click"),
    "load": ("locust", "urllib3", "click"),
}

USAGE_ERROR = 2


def version() -> str:
    """The installed version, or ``"unknown"`` when run from a checkout that was never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def missing_extra(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def require_extra(command: str, extra: str) -> None:
    """Exit 2 with a one-line hint when ``extra`` is not installed."""
    if missing_extra(extra):
        print(f"{command}: needs the [{extra}] extra: pip install '{DISTRIBUTION}[{extra}]'", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def print_version(command: str, argv: list[str]) -> None:
    """``--version`` answers before anything heavy is imported (and without the command's extra)."""
    if "--version" in argv:
        print(f"{command} {version()}")
        sys.exit(0)
