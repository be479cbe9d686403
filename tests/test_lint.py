"""The code base stays lint-clean (tox -e lint runs the same); mypy --strict is tox -e type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")  # the one the test extra installed beside this Python


def test_ruff_is_clean() -> None:
    if not RUFF.exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [str(RUFF), "check", "mockserver", "conformance", "loadtests", "spec", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
