"""A plain ``pip install ragen-conformance`` is the spec and the mock, nothing more.

A frontend developer who installs the package without extras gets a working ``ragen-mock`` and
none of Locust, gevent, Flask, schemathesis, hypothesis or the openai SDK; the gate's and the load
tests' commands then say in one line which extra they need. The install is real: a wheel of this
checkout into a fresh venv, its dependencies resolved by pip as a user's would be.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 300  # seconds per pip step; about 20 s in all with pip's cache or a nearby index
# What a wheel is built from (a copy: building in place would leave build/ in the checkout).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "spec", "mockserver", "conformance", "loadtests")
# Distributions only the extras bring (and their heavy dependencies): none may come with a plain install.
EXTRAS_ONLY = {"locust", "gevent", "flask", "schemathesis", "hypothesis", "openai", "httpx2", "click"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2 * INSTALL_TIMEOUT + 120)]


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plain")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root / "dist"), str(source)],
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    wheel = next((root / "dist").glob("ragen_conformance-*.whl"))
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel],
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    return venv / "bin"


def test_plain_install_brings_no_gate_or_load_dependency(plain_venv: Path) -> None:
    listing = subprocess.run(
        [str(plain_venv / "python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {entry["name"].lower().replace("_", "-") for entry in json.loads(listing)}
    assert "ragen-conformance" in installed
    assert {"aiohttp", "jsonschema-rs", "referencing", "multidict"} <= installed
    assert not installed & EXTRAS_ONLY, sorted(installed & EXTRAS_ONLY)


def test_plain_install_serves_the_mock(plain_venv: Path) -> None:
    with subprocess.Popen(
        [str(plain_venv / "ragen-mock"), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as mock:
        try:
            assert mock.stdout is not None
            first = mock.stdout.readline()  # the banner names the bound port once listening
            match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
            assert match, first
            with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/healthz", timeout=30) as answer:
                assert json.load(answer) == {"status": "ok"}
        finally:
            mock.terminate()  # by its PID: the process this test started
            mock.wait(timeout=30)


@pytest.mark.parametrize(("command", "extra"), [("ragen-conformance", "gate"), ("ragen-load", "load")])
def test_a_command_without_its_extra_names_it_in_one_line(plain_venv: Path, command: str, extra: str) -> None:
    result = subprocess.run([str(plain_venv / command), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{command}: needs the [{extra}] extra: pip install 'ragen-conformance[{extra}]'\n"
    )


@pytest.mark.parametrize("command", ["ragen-mock", "ragen-conformance", "ragen-load"])
def test_version_answers_without_the_extras(plain_venv: Path, command: str) -> None:
    result = subprocess.run(
        [str(plain_venv / command), "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(rf"{command} \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout
