"""The one HTTP client of a run: every request (our probes, schemathesis through a recording
``requests`` session, the openai SDK through an httpx transport) is paced to the target's tiers
(``conformance.pacing``), recorded as an Exchange, and offered to the response checks.

Real servers allow 10 chat requests a minute and may count rejected requests too, so pacing
counts every request sent, and a 429 outside the rate-limit checks is waited out (Retry-After)
and retried rather than reported.
"""

from __future__ import annotations

import collections
import io
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx2
import requests
from ragen_spec.operations import operations
from requests.structures import CaseInsensitiveDict

from conformance.config import Target
from conformance.errors import Skip, TargetUnreachable, UnsendableRequest
from conformance.exchange import Exchange, operation_for
from conformance.pacing import Pacer

__all__ = ["Exchange", "HttpClient", "OverPlan", "operation_for"]

_MAX_BODY = 8 * 1024 * 1024
_PACED_RETRIES = 3
_MISSING = object()


def _retry_after(headers: Mapping[str, str], default: float) -> float:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


class _Replay(io.BytesIO):
    """A body already read, offered again to code that reads ``response.raw`` (schemathesis)."""

    def __init__(self, body: bytes, original: Any) -> None:
        super().__init__(body)
        self.headers = original.headers
        self.version = getattr(original, "version", 11)
        self.status = getattr(original, "status", None)
        self.reason = getattr(original, "reason", None)

    def read1(self, size: int = -1, decode_content: bool = True) -> bytes:  # type: ignore[override]
        return super().read1(size)


class _RecordingSession(requests.Session):
    """The requests session every HTTP/1.1 call of a run goes through (schemathesis's too)."""

    def __init__(self, client: HttpClient) -> None:
        super().__init__()
        self._client = client
        self.trust_env = False

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        return self._client._send(
            self, str(method if isinstance(method, str) else method.decode()), str(url), kwargs
        )

    def super_request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        return super().request(method, url, **kwargs)


class OverPlan(UnsendableRequest):
    """An extra (planned-filler) request that would need budget the essential checks still need."""


class HttpClient:
    def __init__(
        self,
        target: Target,
        *,
        on_wait: Callable[[str, float], None] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.target = target
        self.pacer = pacer or Pacer(target.tiers, enabled=target.pace, on_wait=on_wait)
        # Consulted before each paced send with its tier; raises OverPlan to refuse it (the
        # planner's filler rule). None = every request goes.
        self.gate: Callable[[str | None], None] | None = None
        self.session = _RecordingSession(self)
        self.listeners: list[Callable[[Exchange], None]] = []
        self.count = 0
        self.exchanges_by_tier: collections.Counter[str] = collections.Counter()
        self.purpose = ""
        self._raw = threading.local()
        self._lock = threading.Lock()
        self.last: Exchange | None = None

    # -- modes -------------------------------------------------------------------------------------
    @contextmanager
    def unpaced(self) -> Iterator[None]:
        """Send without pacing or 429 retries (the rate-limit checks want to see the 429s)."""
        self._raw.on = True
        try:
            yield
        finally:
            self._raw.on = False

    @property
    def _is_raw(self) -> bool:
        return bool(getattr(self._raw, "on", False))

    def tier_of(self, method: str, url: str) -> str | None:
        """The request's rate tier; a path the spec does not route (a wrong base URL, an unknown
        method) still counts against the tier of the operation whose path it extends, or else the
        scarcest tier: a real server may count it, and nothing leaves unpaced."""
        _, op = operation_for(method, url)
        if op is not None:
            return str(op["x-rate-limit-tier"]) if op.get("x-rate-limit-tier") else None
        path = urlsplit(url).path
        prefixed = [op for op in operations() if op.tier and path.startswith(op.path.split("{")[0])]
        if prefixed:
            tier = max(prefixed, key=lambda op: len(op.path.split("{")[0])).tier
            return tier if tier in self.target.tiers else None
        tiers = self.target.tiers
        return min(tiers, key=lambda name: tiers[name].limit / tiers[name].window) if tiers else None

    # -- sending -----------------------------------------------------------------------------------
    def _send(
        self, session: _RecordingSession, method: str, url: str, kwargs: dict[str, Any]
    ) -> requests.Response:
        tier = self.tier_of(method, url)
        kwargs.setdefault("timeout", self.target.timeout)
        kwargs["stream"] = True
        kwargs.setdefault("allow_redirects", False)
        attempts = 0
        reconnected = False
        while True:
            attempts += 1
            if self._is_raw:
                self.pacer.note_sent(tier)
            else:
                if self.gate is not None:
                    self.gate(tier)
                self.pacer.acquire(tier)
            started = time.monotonic()
            try:
                response = session.super_request(method, url, **kwargs)
                body, truncated, dropped = self._read_body(response, started)
            except requests.ConnectionError as exc:
                # One dropped connection may be a stale keep-alive socket: retry once on a fresh one.
                if not reconnected:
                    reconnected = True
                    continue
                raise TargetUnreachable(f"{method} {url}: {exc}") from exc
            except requests.Timeout as exc:
                raise TargetUnreachable(f"{method} {url}: {exc}") from exc
            except requests.RequestException as exc:  # e.g. a generated URL requests cannot encode
                raise UnsendableRequest(f"{method} {url}: {exc}") from exc
            exchange = self._record(response, body, truncated, time.monotonic() - started, tier)
            exchange.dropped = dropped
            if response.status_code == 429 and not self._is_raw and tier is not None:
                window = self.target.tiers[tier].window if tier in self.target.tiers else 60.0
                wait = min(_retry_after(response.headers, window), window + 1.0)
                self.pacer.block(tier, wait)
                if attempts <= _PACED_RETRIES:
                    continue
                raise Skip(f"still 429 after {_PACED_RETRIES} retries honouring Retry-After ({method} {url})")
            response.exchange = exchange  # type: ignore[attr-defined]
            return response

    def _read_body(self, response: requests.Response, started: float) -> tuple[bytes, bool, bool]:
        """(body, cut short by our deadline or size cap, dropped by the server)."""
        content_type = response.headers.get("content-type", "")
        deadline = started + self.target.timeout
        chunks = bytearray()
        truncated = dropped = False
        try:
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                chunks += chunk
                if len(chunks) > _MAX_BODY or (
                    "event-stream" in content_type and time.monotonic() > deadline
                ):
                    truncated = True
                    break
        except Exception:  # a reset mid-body is the server's doing: keep what arrived
            dropped = True
        finally:
            response.close()
        body = bytes(chunks)
        response.raw = _Replay(body, response.raw)
        response._content = body
        response._content_consumed = True
        return body, truncated, dropped

    def _record(
        self, response: requests.Response, body: bytes, truncated: bool, elapsed: float, tier: str | None
    ) -> Exchange:
        prepared = response.request
        raw_body = prepared.body
        if isinstance(raw_body, str):
            raw_body = raw_body.encode()
        exchange = Exchange(
            method=str(prepared.method),
            url=str(prepared.url),
            request_headers={
                k: v if isinstance(v, str) else v.decode("latin-1") for k, v in prepared.headers.items()
            },
            request_body=raw_body if isinstance(raw_body, bytes) else None,
            status=response.status_code,
            headers=CaseInsensitiveDict(response.headers),
            body=body,
            elapsed=elapsed,
            secrets=self.target.secrets(),
            truncated=truncated,
            tier=tier,
            purpose=self.purpose,
        )
        with self._lock:
            self.count += 1
            self.exchanges_by_tier[tier or "-"] += 1
            self.last = exchange
        for listener in list(self.listeners):
            listener(exchange)
        return exchange

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | object | None = _MISSING,
        json_body: Any = _MISSING,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Exchange:
        """Send one request; ``key`` defaults to the target's API key (None = no Authorization)."""
        all_headers: dict[str, str] = {}
        api_key = self.target.api_key if key is _MISSING else key
        if api_key is not None:
            all_headers["Authorization"] = f"Bearer {api_key}"
        if json_body is not _MISSING:
            data = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        response = self.session.request(
            method, self.target.base_url + path, data=data, headers=all_headers, params=params
        )
        exchange: Exchange = response.exchange  # type: ignore[attr-defined]
        return exchange

    # -- the openai SDK ----------------------------------------------------------------------------
    def httpx_transport(self) -> httpx2.BaseTransport:
        return _PacedTransport(self)

    def close(self) -> None:
        self.session.close()


class _PacedTransport(httpx2.BaseTransport):
    """Paces the openai SDK's requests like ours; records status and headers (bodies stay streamed)."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client
        self._inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        client = self._client
        tier = client.tier_of(request.method, str(request.url))
        for attempt in range(_PACED_RETRIES + 1):
            if client.gate is not None:
                client.gate(tier)
            client.pacer.acquire(tier)
            try:
                response = self._inner.handle_request(request)
            except httpx2.TransportError as exc:
                raise TargetUnreachable(f"{request.method} {request.url}: {exc}") from exc
            with client._lock:
                client.count += 1
                client.exchanges_by_tier[tier or "-"] += 1
            if response.status_code == 429 and tier is not None and attempt < _PACED_RETRIES:
                window = client.target.tiers[tier].window if tier in client.target.tiers else 60.0
                client.pacer.block(tier, min(_retry_after(response.headers, window), window + 1.0))
                response.read()
                response.close()
                continue
            return response
        raise Skip("still rate limited after retries (openai SDK)")

    def close(self) -> None:
        self._inner.close()
