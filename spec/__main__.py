"""``python -m ragen_spec``: print the requirement catalogue as a Markdown table (docs/requirements.md).

``python -m ragen_spec --proxy``: the same for spec/openai-proxy.yaml (docs/openai-proxy-requirements.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ragen_spec import PROXY_SPEC_PATH, requirements

VENDOR_LABEL = "**vendor's own table**"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sources(req: dict[str, Any]) -> str:
    """The quoted words a rule rests on, each with its document: «quote» (file)."""
    found = req.get("source") or []
    cites = [found] if isinstance(found, dict) else found
    return "<br>".join(f"«{c['quote']}» ({c['document']})" for c in cites)


def _level(req: dict[str, Any]) -> str:
    return req["level"] + (f" — {VENDOR_LABEL}" if req.get("vendor_specific") else "")


def catalogue_markdown(path: Path | None = None) -> str:
    proxy = path is not None
    spec, command = ("openai-proxy.yaml", "ragen_spec --proxy") if proxy else ("openapi.yaml", "ragen_spec")
    lines = [
        "# Requirements catalogue" + (" (openai-proxy profile)" if proxy else ""),
        "",
        f"Generated from `x-requirements` in spec/{spec} by `python -m {command}`; do not edit.",
        "",
        "A MUST quotes the vendor document it rests on (*source*); a SHOULD follows only the OpenAI",
        "convention; a MAY is a point the documents leave open (the mock's choice / what else conforms).",
    ]
    if proxy:
        lines += [
            f"Rows labelled {VENDOR_LABEL} are stated only by this proxy's document, where OpenAI's own",
            "API answers otherwise: a server failing only those is OpenAI-compatible but not this vendor's",
            "table.",
        ]
    lines += [
        "",
        "| id | level | requirement | source (the document's words) "
        "| where the documents are silent: mock's choice / also conformant |",
        "|---|---|---|---|---|",
    ]
    for req in requirements(path).values():
        text = req["text"] + (" *(not observable over the API)*" if req.get("observable") is False else "")
        silent = f"{req['mock']} / {req['conformant']}" if req["level"] == "MAY" else ""
        cells = [req["id"], _level(req), text, _sources(req), silent]
        lines.append("| " + " | ".join(map(_cell, cells)) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(catalogue_markdown(PROXY_SPEC_PATH if "--proxy" in sys.argv[1:] else None))
