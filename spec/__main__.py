"""``python -m ragen_spec``: print the requirement catalogue as a Markdown table (docs/requirements.md)."""

from __future__ import annotations

import sys

from ragen_spec import requirements


def catalogue_markdown() -> str:
    lines = [
        "# Requirements catalogue",
        "",
        "Generated from `x-requirements` in spec/openapi.yaml by `python -m ragen_spec`; do not edit.",
        "",
        "| id | level | requirement | where the documents are silent: mock's choice / also conformant |",
        "|---|---|---|---|",
    ]
    for req in requirements().values():
        text = req["text"] + (" *(not observable over the API)*" if req.get("observable") is False else "")
        silent = f"{req['mock']} / {req['conformant']}" if req["level"] == "MAY" else ""
        cells = [req["id"], req["level"], text, silent]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(catalogue_markdown())
