"""One self-contained document from a spec that ``$ref``s components of a sibling file.

``openai-proxy.yaml`` shares its envelope, usage and chunk schemas with ``openapi.yaml`` through
external refs (``openapi.yaml#/components/schemas/ErrorResponse``). Tools that take one document
(a dict, local ``#/`` refs only) get the bundled form: every externally referenced component is
copied into ``components`` (renamed ``<file stem>_<name>`` on a name clash) and every ref made
local. Bundling is mechanical; the files on disk stay the source of truth.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

from ragen_spec.document import load_spec

__all__ = ["BundleError", "load_bundled"]


class BundleError(ValueError):
    """An external ref that does not name a component of an existing sibling document."""


def load_bundled(path: Path) -> dict[str, Any]:
    """A fresh deep copy of ``path`` with every external ref inlined as a local component."""
    bundled: dict[str, Any] = copy.deepcopy(_bundle(path.resolve()))
    return bundled


@functools.cache
def _bundle(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = load_spec(root)
    components: dict[str, dict[str, Any]] = document.setdefault("components", {})
    copied: dict[tuple[Path, str], str] = {}

    def localize(ref: str, current: Path) -> str:
        file, pointer = urldefrag(ref)
        target = (current.parent / file).resolve() if file else current
        if target == root:
            return "#" + pointer
        if (target, pointer) in copied:
            return copied[(target, pointer)]
        parts = pointer.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "components":
            raise BundleError(f"{ref!r} (in {current.name}) does not name a component")
        _, section, name = parts
        try:
            content = copy.deepcopy(load_spec(target)["components"][section][name])
        except (OSError, KeyError) as exc:
            raise BundleError(f"{ref!r} (in {current.name}) points to nothing") from exc
        local = name if name not in components.get(section, {}) else f"{target.stem}_{name}"
        copied[(target, pointer)] = f"#/components/{section}/{local}"
        components.setdefault(section, {})[local] = visit(content, target)
        return copied[(target, pointer)]

    def visit(node: Any, current: Path) -> Any:
        if isinstance(node, dict):
            for key, value in list(node.items()):
                if key == "$ref" and isinstance(value, str):
                    node[key] = localize(value, current)
                else:
                    node[key] = visit(value, current)
        elif isinstance(node, list):
            node[:] = [visit(item, current) for item in node]
        return node

    for section in list(components):
        for name in list(components[section]):
            components[section][name] = visit(components[section][name], root)
    for key in [k for k in document if k != "components"]:
        document[key] = visit(document[key], root)
    return document
