"""One exchange as the rules read it (``ragen_spec.judge``): the request, the response, the operation.

``Exchange`` is what a rule may ask of an exchange; the gate's recorded exchanges
(``conformance.client.Exchange``) have it, and ``Observation`` builds it from plain values for
the mock's validating proxy and its recordings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import urlsplit

from ragen_spec.operations import Operation, operations
from ragen_spec.operations import operation_for as _operation_for
from ragen_spec.sse import ParsedStream, parse

__all__ = ["BodyReadings", "Exchange", "Observation", "operation_for", "tier_of"]

_MISSING = object()


class Exchange(Protocol):
    """What the rules read of one exchange (the gate's ``conformance.client.Exchange`` is one)."""

    method: str
    status: int
    body: bytes
    truncated: bool  # cut short by the observer (deadline, size cap, an injected fault), not the server
    dropped: bool  # the server dropped the connection before the body was complete

    @property
    def headers(self) -> Mapping[str, str]: ...  # looked up by lower-case names
    @property
    def operation(self) -> str: ...  # "POST /v1/assistants/{assistant_id}", or method and path
    @property
    def ours(self) -> bool: ...  # the operation is this project's own shape (x-ragen-defined)
    @property
    def content_type(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def is_json(self) -> bool: ...
    def json(self) -> Any: ...
    @property
    def error(self) -> dict[str, Any] | None: ...
    @property
    def stream(self) -> ParsedStream: ...
    @property
    def request_json(self) -> Any: ...


def operation_for(method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(``"POST /v1/assistants/{assistant_id}"``, the operation) for a concrete request path."""
    op = _operation_for(method.upper(), urlsplit(path).path)
    return (op.name, dict(op.raw)) if op else (None, None)


class BodyReadings:
    """What every exchange offers the rules from its headers and bytes (the gate's recorded
    exchanges and ``Observation`` both inherit it, so the readings are written once)."""

    headers: Mapping[str, str]
    body: bytes
    request_body: bytes | None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @cached_property
    def _json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return _MISSING

    def json(self) -> Any:
        """The parsed JSON body; None when the body is not JSON (``is_json`` tells null apart)."""
        value = self._json
        return None if value is _MISSING else value

    @property
    def is_json(self) -> bool:
        return self._json is not _MISSING

    @property
    def error(self) -> dict[str, Any] | None:
        """The ``error`` object of an envelope, when the body has one."""
        body = self.json()
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else None

    @cached_property
    def stream(self) -> ParsedStream:
        return parse(self.body)

    @cached_property
    def request_json(self) -> Any:
        try:
            return json.loads(self.request_body or b"")
        except ValueError:
            return None


@dataclass
class Observation(BodyReadings):
    """One exchange as a proxy or a recording saw it: the ``Exchange`` the rules read."""

    method: str
    path: str
    request_body: bytes | None
    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False
    dropped: bool = False
    request_headers: Mapping[str, str] = field(default_factory=dict)
    _lower: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Header names are matched case-insensitively: the rules look them up in lower case.
        self._lower = {k.lower(): v for k, v in self.headers.items()}
        self.headers = self._lower
        self.request_headers = {k.lower(): v for k, v in self.request_headers.items()}

    @cached_property
    def _op(self) -> Operation | None:
        return _operation_for(self.method.upper(), urlsplit(self.path).path)

    @property
    def operation(self) -> str:
        return self._op.name if self._op else f"{self.method} {urlsplit(self.path).path}"

    @property
    def operation_id(self) -> str | None:
        return self._op.operation_id if self._op else None

    @property
    def tier(self) -> str | None:
        return self._op.tier if self._op else None

    @property
    def ours(self) -> bool:
        return bool(self._op and self._op.ours)


def tier_of(operation: str) -> str | None:
    """The rate-limit tier (``x-rate-limit-tier``) of an operation named like ``"POST /v1/chat"``."""
    op = operations().named(operation)
    return op.tier if op else None
