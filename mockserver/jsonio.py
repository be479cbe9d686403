"""JSON in and out of the hot path: orjson when installed (several times faster), else the stdlib.

Both reject what is not JSON (``NaN``, ``Infinity``); a body orjson refuses is re-read by the
stdlib, so the accepted language is the stdlib's (lone surrogate escapes included).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps", "dumps_str", "loads"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _std_loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency

    def loads(text: str) -> Any:
        return _std_loads(text)

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def dumps_str(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

else:

    def loads(text: str) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return _std_loads(text)  # raises the stdlib's error when it is not JSON either

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    def dumps_str(value: Any) -> str:
        return orjson.dumps(value).decode()
