"""The code base stays lint-clean and formatted (tox -e lint runs the same); mypy --strict is tox -e type.

ruff is pinned in the test extra, so every machine formats alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")  # the one the test extra installed beside this Python
TREE = ("mockserver", "conformance", "loadtests", "spec", "tests", "bench")


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    if not RUFF.exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    return subprocess.run([str(RUFF), *args, *TREE], cwd=ROOT, capture_output=True, text=True)


def test_ruff_is_clean() -> None:
    result = _ruff("check")
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_format_leaves_the_tree_as_it_is() -> None:
    result = _ruff("format", "--check")
    assert result.returncode == 0, "run `ruff format` on:\n" + result.stdout[-4000:]
