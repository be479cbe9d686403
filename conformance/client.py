"""The one HTTP client of a run: every request (our probes, schemathesis, the openai SDK) is paced
to the target's tiers, recorded as an Exchange, and offered to the response checks.

Real servers allow 10 chat requests a minute and may count rejected requests too, so pacing
counts every request sent, and a 429 outside the rate-limit checks is waited out (Retry-After)
and retried rather than reported.
"""

from __future__ import annotations

import collections
import io
import json
import re
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import httpx2
import requests
from ragen_spec.schemas import operations
from requests.structures import CaseInsensitiveDict

from conformance import sse
from conformance.config import Target, Tier
from conformance.errors import Skip, TargetUnreachable, UnsendableRequest

__all__ = ["Exchange", "HttpClient", "Pacer", "operation_for"]

_MAX_BODY = 8 * 1024 * 1024
_PACED_RETRIES = 3
_MISSING = object()


def _template_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


_OPERATIONS = [(method, _template_regex(path), path, op) for path, method, op in operations()]


def operation_for(method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(``"POST /v1/assistants/{assistant_id}"``, the operation) for a concrete request path."""
    path = urlsplit(path).path
    for op_method, regex, template, op in _OPERATIONS:
        if op_method == method.upper() and regex.match(path):
            return f"{op_method} {template}", op
    return None, None


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


class Pacer:
    """Keeps each tier's sends within ``limit`` per ``window`` (sliding log), plus any Retry-After."""

    def __init__(
        self,
        tiers: Mapping[str, Tier],
        *,
        enabled: bool,
        on_wait: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tiers = dict(tiers)
        self.enabled = enabled
        self.on_wait = on_wait
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, collections.deque[float]] = {t: collections.deque() for t in self.tiers}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.waited = 0.0

    def _margin(self, tier: Tier) -> float:
        # The server's clock and ours start the window at slightly different instants.
        return tier.window * 0.05 + 0.05

    def delay(self, tier_name: str) -> float:
        tier = self.tiers.get(tier_name)
        if tier is None:
            return 0.0
        now = self._clock()
        wait = max(0.0, self._blocked_until.get(tier_name, 0.0) - now)
        if self.enabled:
            sent = self._sent[tier_name]
            while sent and sent[0] <= now - tier.window - self._margin(tier):
                sent.popleft()
            if len(sent) >= tier.limit:
                wait = max(wait, sent[len(sent) - tier.limit] + tier.window + self._margin(tier) - now)
        return wait

    def acquire(self, tier_name: str | None) -> None:
        if tier_name is None:
            return
        with self._lock:
            wait = self.delay(tier_name)
            if wait > 0:
                if self.on_wait:
                    self.on_wait(tier_name, wait)
                self._sleep(wait)
                self.waited += wait
            if tier_name in self._sent:
                self._sent[tier_name].append(self._clock())

    def block(self, tier_name: str | None, seconds: float) -> None:
        if tier_name is not None:
            self._blocked_until[tier_name] = max(
                self._blocked_until.get(tier_name, 0.0), self._clock() + seconds
            )

    def idle_until_fresh(self, tier_name: str) -> float:
        """Seconds until a full window has passed since this tier's last send (for burst checks)."""
        tier = self.tiers.get(tier_name)
        sent = self._sent.get(tier_name)
        if tier is None or not sent:
            return max(0.0, self._blocked_until.get(tier_name, 0.0) - self._clock())
        return max(0.0, sent[-1] + tier.window + self._margin(tier) - self._clock())

    def note_sent(self, tier_name: str | None) -> None:
        """Count a send that bypassed ``acquire`` (unpaced bursts) so later pacing knows of it."""
        if tier_name in self._sent:
            self._sent[tier_name].append(self._clock())


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


class HttpClient:
    def __init__(self, target: Target, *, on_wait: Callable[[str, float], None] | None = None) -> None:
        self.target = target
        self.pacer = Pacer(target.tiers, enabled=target.pace, on_wait=on_wait)
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
        _, op = operation_for(method, url)
        return op.get("x-rate-limit-tier") if op else None

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
