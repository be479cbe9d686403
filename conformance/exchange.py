"""One request and its complete response, as the gate saw it: what every check and rule reads.

A leaf module (it imports nothing of the gate's), so errors, catalogue and client can all name
``Exchange`` without an import cycle. The body readings (JSON, error envelope, SSE events) are
``ragen_spec.exchange.BodyReadings``, shared with the mock's validating proxy.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from ragen_spec.exchange import BodyReadings, operation_for
from requests.structures import CaseInsensitiveDict

__all__ = ["Exchange", "operation_for"]


@dataclass
class Exchange(BodyReadings):  # type: ignore[misc]  # ragen_spec is untyped to mypy here
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
        found: tuple[str | None, dict[str, Any] | None] = operation_for(self.method, self.url_path)
        return found

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

    def request_header(self, name: str) -> str | None:
        """A header the request carried, by case-insensitive name."""
        return next((v for k, v in self.request_headers.items() if k.lower() == name.lower()), None)

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
