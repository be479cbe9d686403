"""One request and its complete response, as the gate saw it: what every check and rule reads.

A leaf module (it imports nothing of the gate's but the SSE parser), so errors, catalogue and
client can all name ``Exchange`` without an import cycle.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from ragen_spec import sse
from ragen_spec.operations import operation_for as spec_operation_for
from requests.structures import CaseInsensitiveDict

__all__ = ["Exchange", "operation_for"]

_MISSING = object()


def operation_for(method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(``"POST /v1/assistants/{assistant_id}"``, the operation) for a concrete request path, as
    ``ragen_spec.operations`` matches it."""
    found = spec_operation_for(method, urlsplit(path).path)
    return (f"{found.method} {found.path}", found.raw) if found is not None else (None, None)


@dataclass
class Exchange:
    """One request and its complete response, as the server sent it."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    elapsed: float
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # True when the stream was cut by our deadline/size cap rather than ended by the server.
    truncated: bool = False
    # True when the server dropped the connection before the body was complete.
    dropped: bool = False
    # Seconds from sending to each received chunk of the body (streams only).
    tier: str | None = None
    purpose: str = ""

    @cached_property
    def _op(self) -> tuple[str | None, dict[str, Any] | None]:
        return operation_for(self.method, self.url_path)

    @property
    def ours(self) -> bool:
        """The operation is this project's own shape (``x-ragen-defined``), informational for others."""
        op = self._op[1]
        return bool(op and op.get("x-ragen-defined"))

    @property
    def url_path(self) -> str:
        return urlsplit(self.url).path

    @property
    def operation(self) -> str:
        return self._op[0] or f"{self.method} {self.url_path}"

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
        """The parsed JSON body; None when the body is not JSON (use ``is_json`` to tell null apart)."""
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
    def stream(self) -> sse.ParsedStream:
        return sse.parse(self.body)

    @property
    def request_json(self) -> Any:
        try:
            return json.loads(self.request_body or b"")
        except ValueError:
            return None

    def redact(self, text: str) -> str:
        for value, name in self.secrets.items():
            text = text.replace(value, f"${name}")
        return text

    def curl(self, *, max_body: int = 4000) -> str:
        """The request as a curl command, keys replaced by the environment variables naming them."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() in {"content-length", "accept-encoding", "connection", "user-agent", "accept"}:
                continue
            header = self.redact(f"{name}: {value}")
            # Double quotes so $RAGEN_API_KEY expands in the shell.
            quoted = '"' + header.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'
            parts += ["-H", quoted if "$RAGEN_" in header else shlex.quote(header)]
        if self.request_body is not None:
            body = self.request_body.decode("utf-8", errors="replace")
            if len(body) > max_body:
                parts += [
                    "--data-binary",
                    f"@body.json  # {len(self.request_body)} bytes; see the JSON report",
                ]
            else:
                parts += ["--data-raw", shlex.quote(self.redact(body))]
        return " ".join(parts)

    def summary(self) -> str:
        return f"{self.method} {self.url_path} -> {self.status}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "request_headers": {k: self.redact(v) for k, v in self.request_headers.items()},
            "request_body": self.redact(self.request_body[:20000].decode("utf-8", "replace"))
            if self.request_body
            else None,
            "response_headers": dict(self.headers),
            "response_body": self.text[:20000],
            "curl": self.curl(),
        }
