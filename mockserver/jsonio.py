"""JSON in and out of the hot path: orjson when installed (several times faster), else the stdlib.

Both reject what is not JSON (``NaN``, ``Infinity``); a body orjson refuses is re-read by the
stdlib, so the accepted language is the stdlib's (lone surrogate escapes included).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "dumps_str", "loads", "loads_utf8"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _std_loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


# UTF-8 JSON bytes to a value; ValueError for anything that is not JSON
loads_utf8: Callable[[bytes], Any]

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency

    def loads(text: str) -> Any:
        return _std_loads(text)

    def _std_loads_utf8(raw: bytes) -> Any:
        return _std_loads(raw.decode("utf-8"))  # UnicodeDecodeError is a ValueError

    loads_utf8 = _std_loads_utf8

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

    # UTF-8 JSON bytes; ValueError (orjson.JSONDecodeError) for anything orjson refuses (callers
    # then use ``loads``). orjson's own function, not a wrapper: this runs on every request.
    loads_utf8 = orjson.loads

    def dumps(value: Any) -> bytes:
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:
            # A lone surrogate a client sent (a valid JSON escape, not UTF-8): echo it back escaped.
            return json.dumps(value, separators=(",", ":")).encode()

    def dumps_str(value: Any) -> str:
        return dumps(value).decode()
