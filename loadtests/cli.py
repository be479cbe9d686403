from __future__ import annotations

import sys


def main() -> int:
    print("ragen-loadtests: not yet implemented", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
