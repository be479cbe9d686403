"""The spec ships inside the installed distribution, so an installed tool needs no checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_the_spec_and_it_loads_without_a_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
    )
    wheel = next((tmp_path / "dist").glob("ragen_conformance-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ragen_spec/openapi.yaml" in names
    assert any(n.endswith("entry_points.txt") for n in names)

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    probe = "import ragen_spec; print(ragen_spec.SPEC_PATH); print(len(ragen_spec.requirements()))"
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0].startswith(str(target)), out
    assert int(out[1]) > 50
