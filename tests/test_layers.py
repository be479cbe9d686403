"""The layers of ARCHITECTURE.md hold: the "may import" table, no import cycles inside a package,
and each package imports only what its install brings (a plain install: the spec and the mock).

Imports are read with ``ast`` from every module, ``TYPE_CHECKING`` blocks and imports deferred
into functions included: a layer crossed lazily is still crossed.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from ragen_spec.product import EXTRAS

ROOT = Path(__file__).resolve().parents[1]
# import name -> directory (spec/ installs as ragen_spec; setup.py maps it)
PACKAGES = {
    "ragen_spec": ROOT / "spec",
    "mockserver": ROOT / "mockserver",
    "conformance": ROOT / "conformance",
    "loadtests": ROOT / "loadtests",
}
# Import cycles between the modules of one package that exist today, each with what ends it.
# Any other cycle fails the test.
# None left: the gate's client/config/errors cycle ended when Exchange moved to conformance.exchange.
KNOWN_CYCLES: set[frozenset[str]] = set()
# Third-party top-level modules each package may import: pyproject.toml's dependencies for all,
# plus the extra of the package's command (ragen_spec.product.EXTRAS, which the command checks for).
# distribution -> module, where the names differ
IMPORT_NAMES = {"pyyaml": "yaml", "jsonschema-rs": "jsonschema_rs"}


def _requirement_names(requirements: list[str]) -> set[str]:
    names = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].strip().lower() for r in requirements}
    return {IMPORT_NAMES.get(name, name.replace("-", "_")) for name in names}


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
BASE = _requirement_names(PYPROJECT["dependencies"])
THIRD_PARTY = {
    "ragen_spec": BASE,
    "mockserver": BASE,
    "conformance": BASE | set(EXTRAS["gate"]),
    "loadtests": BASE | set(EXTRAS["load"]),
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, directory in PACKAGES.items():
        for path in sorted(directory.rglob("*.py")):
            parts = [package, *path.relative_to(directory).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[str]:
    """Every module ``module`` names in an import: ``from pkg import sub`` counts as ``pkg.sub``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in MODULES else target


IMPORTS = {module: set(_imports(module, path)) for module, path in MODULES.items()}


def _package(module: str) -> str:
    return module.split(".")[0]


def _table() -> dict[str, tuple[set[str], dict[str, set[str]]]]:
    """ARCHITECTURE.md's table: package -> (packages it may import anywhere, {package: modules})."""
    rules: dict[str, tuple[set[str], dict[str, set[str]]]] = {}
    for line in (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[1].strip("`") not in PACKAGES:
            continue
        anywhere_text, *clauses = cells[3].split(";")
        anywhere = set(re.findall(r"`(\w+)`", anywhere_text)) & set(PACKAGES)
        only: dict[str, set[str]] = {}
        for clause in clauses:
            for package, module in re.findall(r"`(\w+)` only from `([\w.]+)`", clause):
                only.setdefault(package, set()).add(module)
        rules[cells[1].strip("`")] = (anywhere, only)
    return rules


def test_the_table_names_every_package() -> None:
    assert set(_table()) == set(PACKAGES)
    assert _table()["ragen_spec"] == (set(), {})  # "nothing of ours"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_package_imports_only_what_the_table_allows(package: str) -> None:
    anywhere, only = _table()[package]
    crossings = []
    for module, imported in IMPORTS.items():
        if _package(module) != package:
            continue
        for target in imported:
            other = _package(target)
            if other == package or other not in PACKAGES or other in anywhere:
                continue
            if any(module == m or module.startswith(m + ".") for m in only.get(other, ())):
                continue
            crossings.append(f"{module} imports {target}")
    assert not crossings, "ARCHITECTURE.md's table forbids:\n" + "\n".join(sorted(crossings))


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_package_imports_only_its_installs_third_party_modules(package: str) -> None:
    stdlib = sys.stdlib_module_names | {"__future__"}
    outside = sorted(
        f"{module} imports {target}"
        for module, imported in IMPORTS.items()
        if _package(module) == package
        for target in imported
        if target
        and _package(target) not in PACKAGES
        and _package(target) not in stdlib
        and _package(target) not in THIRD_PARTY[package]
    )
    assert not outside, "not brought by the package's install (pyproject.toml):\n" + "\n".join(outside)


def _members(package: str) -> set[str]:
    return {m for m in MODULES if _package(m) == package}


def _cycles(nodes: set[str]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(IMPORTS[node] & nodes - {node}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles_inside_a_package(package: str) -> None:
    cycles = _cycles(_members(package))
    new = [sorted(cycle) for cycle in cycles if cycle not in KNOWN_CYCLES]
    assert not new, f"import cycles in {package}: {new}"


def test_the_known_cycles_still_exist() -> None:
    """An exception outlives its cycle only until someone notices: then delete it from KNOWN_CYCLES."""
    every = {cycle for package in PACKAGES for cycle in _cycles(_members(package))}
    gone = sorted(map(sorted, KNOWN_CYCLES - every))
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


def test_the_checker_sees_a_cycle_and_a_crossing() -> None:
    """The checker itself: a planted cycle and a planted layer crossing are found."""
    planted = {"mockserver.a": {"mockserver.b"}, "mockserver.b": {"mockserver.a", "conformance.x"}}
    saved = dict(IMPORTS)
    try:
        IMPORTS.update(planted)
        assert frozenset(planted) in _cycles(set(planted))
        with pytest.raises(AssertionError, match=r"mockserver\.b imports conformance\.x"):
            test_a_package_imports_only_what_the_table_allows("mockserver")
    finally:
        IMPORTS.clear()
        IMPORTS.update(saved)


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_the_extras_a_command_checks_for_are_the_ones_pyproject_declares(extra: str) -> None:
    assert set(EXTRAS[extra]) <= _requirement_names(PYPROJECT["optional-dependencies"][extra])
    assert not set(EXTRAS[extra]) & BASE  # else a plain install would already have them
