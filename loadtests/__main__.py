"""``ragen-load`` and ``python -m loadtests``: the entry point.

It checks for the ``[load]`` extra before the CLI imports Locust, so a plain install says in one
line what to install instead of a traceback.
"""

from __future__ import annotations

import sys

from ragen_spec.product import print_version, require_extra

__all__ = ["main"]


def main() -> None:
    print_version("ragen-load", sys.argv[1:])
    require_extra("ragen-load", "load")
    from loadtests.cli import main as cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
