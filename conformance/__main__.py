"""``ragen-conformance`` and ``python -m conformance``: the entry point.

It checks for the ``[gate]`` extra before the CLI imports schemathesis, hypothesis and the openai
SDK, so a plain install says in one line what to install instead of a traceback.
"""

from __future__ import annotations

import sys

from ragen_spec.product import print_version, require_extra

__all__ = ["main"]


def main() -> None:
    print_version("ragen-conformance", sys.argv[1:])
    require_extra("ragen-conformance", "gate")
    from conformance.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
