"""``python -m ragen_spec``: print the requirement catalogue as a Markdown table (docs/requirements.md).

``python -m ragen_spec --proxy``: the same for spec/openai-proxy.yaml (docs/openai-proxy-requirements.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ragen_spec import PROXY_SPEC_PATH, requirements


def catalogue_markdown(path: Path | None = None) -> str:
    proxy = path is not None
    source, command = ("openai-proxy.yaml", "ragen_spec --proxy") if proxy else ("openapi.yaml", "ragen_spec")
    lines = [
        "# Requirements catalogue" + (" (openai-proxy profile)" if proxy else ""),
        "",
        f"Generated from `x-requirements` in spec/{source} by `python -m {command}`; do not edit.",
        "",
        "| id | level | requirement | where the documents are silent: mock's choice / also conformant |",
        "|---|---|---|---|",
    ]
    for req in requirements(path).values():
        text = req["text"] + (" *(not observable over the API)*" if req.get("observable") is False else "")
        silent = f"{req['mock']} / {req['conformant']}" if req["level"] == "MAY" else ""
        cells = [req["id"], req["level"], text, silent]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(catalogue_markdown(PROXY_SPEC_PATH if "--proxy" in sys.argv[1:] else None))
