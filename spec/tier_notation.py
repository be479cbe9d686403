"""How a rate tier is written on every command line: ``LIMIT/WINDOW``.

``10/60`` (seconds), ``10/60s``, ``10/1m`` or ``10/1min``: the same in ``ragen-mock
--chat-tier``, ``ragen-conformance --chat-tier`` and ``ragen-load --chat-tier``.
"""

from __future__ import annotations

import re

__all__ = ["TIER_SYNTAX", "format_tier", "parse_tier"]

TIER_SYNTAX = "LIMIT/WINDOW such as 10/60 or 10/1m"
_TIER = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(s|m|min)?\s*")


def parse_tier(text: str) -> tuple[int, float]:
    """``(limit, window in seconds)``; ValueError naming the expected form otherwise."""
    match = _TIER.fullmatch(text)
    if not match:
        raise ValueError(f"bad tier {text!r}: expected {TIER_SYNTAX}")
    limit = int(match.group(1))
    window = float(match.group(2)) * (60 if match.group(3) in {"m", "min"} else 1)
    if limit < 1 or window <= 0:
        raise ValueError(f"bad tier {text!r}: limit and window must be positive")
    return limit, window


def format_tier(limit: int, window: float) -> str:
    return f"{limit}/{window:g}"
