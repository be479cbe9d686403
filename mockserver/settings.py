"""The mock's settings: one frozen object, read once at start-up.

Every field is also a ``ragen-mock`` flag (``--chat-limit 5``) and an environment variable
(``RAGEN_MOCK_CHAT_LIMIT=5``); flags win over the environment, the environment over defaults.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ragen_spec import tiers
from ragen_spec.layering import LayeringError, parse_bool

__all__ = ["ENV_PREFIX", "Settings", "SettingsError"]

ENV_PREFIX = "RAGEN_MOCK_"
PROFILES = ("ragen", "openai-proxy")
SCOPES = ("ip", "global")
_TIERS = tiers()


class SettingsError(ValueError):
    """A setting has a value the mock cannot run with."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    config: str | None = None
    state: str | None = None
    rate_limits: bool = True
    # The spec's tiers (x-rate-limit-tiers) unless set otherwise.
    chat_limit: int = _TIERS["chat"].limit
    chat_window: float = _TIERS["chat"].window
    assistants_limit: int = _TIERS["assistants"].limit
    assistants_window: float = _TIERS["assistants"].window
    rate_limit_scope: str = "ip"
    retry_after: bool = True
    stream_delay_ms: float = 0.0
    max_body_bytes: int = 1048576
    cors_origins: tuple[str, ...] = ("*",)
    control_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    model: str = "gpt-5.4"
    validate_responses: bool = False
    profile: str = "ragen"
    # Proxy mode (mockserver.upstream): forward /v1/ to a real deployment, judge, record, replay.
    upstream: str | None = None
    upstream_timeout: float = 60.0
    record: str | None = None
    replay: str | None = None
    replay_speed: float = 1.0
    # Bounds (issue 18): what one mock may hold, whatever its clients send.
    max_header_bytes: int = 65536  # a request's header names and values together; larger: 431
    journal_entries: int = 1000  # the journal keeps the newest entries ...
    journal_bytes: int = 33554432  # ... while they hold at most this many bytes (32 MiB)
    journal_body_bytes: int = 65536  # each body kept up to this, then truncated with a marker
    max_faults: int = 100  # armed faults at once (each request looks through them)
    cache_entries: int = 256  # per-assistant caches (knowledge index and answer memo per id and name)
    idle_timeout: float = 60.0  # s a connection may wait for its (next) request head to be complete
    read_timeout: float = 60.0  # s a request's body may take to arrive once its head has; then 408
    max_connections: int = 4096  # open connections (also kept below the descriptor limit)
    state_busy_timeout: float = 5.0  # s a --state write waits for a lock held elsewhere; then 503

    def __post_init__(self) -> None:
        if self.rate_limit_scope not in SCOPES:
            raise SettingsError(f"rate_limit_scope must be one of {SCOPES}, not {self.rate_limit_scope!r}")
        if self.profile not in PROFILES:
            raise SettingsError(f"profile must be one of {PROFILES}, not {self.profile!r}")
        for name in (
            "chat_limit",
            "assistants_limit",
            "max_body_bytes",
            "max_header_bytes",
            "journal_entries",
            "journal_bytes",
            "journal_body_bytes",
            "max_faults",
            "cache_entries",
            "max_connections",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        for name in ("chat_window", "assistants_window", "idle_timeout", "read_timeout"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive")
        for name in ("stream_delay_ms", "state_busy_timeout"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} must not be negative")
        self._check_proxy_mode()

    def _check_proxy_mode(self) -> None:
        if self.upstream is not None and not self.upstream.startswith(("http://", "https://")):
            raise SettingsError(f"upstream must be an http:// or https:// URL, not {self.upstream!r}")
        if self.upstream is not None and self.replay is not None:
            raise SettingsError("upstream and replay exclude each other: replay serves without an upstream")
        if self.record is not None and self.upstream is None:
            raise SettingsError("record needs an upstream to record (--upstream URL)")
        if (self.upstream or self.replay) and self.profile != "ragen":
            raise SettingsError("upstream and replay work with the ragen profile only")
        if self.upstream_timeout <= 0:
            raise SettingsError("upstream_timeout must be positive")
        if self.replay_speed < 0:
            raise SettingsError("replay_speed must not be negative (0 = no pacing)")

    @property
    def proxying(self) -> bool:
        """Whether /v1/ goes to a real deployment or its recordings instead of the mock's handlers."""
        return self.upstream is not None or self.replay is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``RAGEN_MOCK_*`` variables, then ``overrides`` (already typed)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw == "" and field.type == "bool":
                continue  # an empty boolean variable is not set, as for every ragen command
            if raw is not None:
                values[field.name] = parse_value(field.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def parse_value(name: str, raw: str) -> Any:
    """Convert a flag or environment string to the type of field ``name``."""
    kind = Settings.__dataclass_fields__[name].type
    if kind == "bool":
        try:
            return parse_bool(raw, ENV_PREFIX + name.upper())  # the three commands' one vocabulary
        except LayeringError as exc:
            raise SettingsError(str(exc)) from None
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            return value
        if kind == "tuple[str, ...]":
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if kind == "str | None":
            return raw or None
        return raw
    except ValueError:
        raise SettingsError(f"{name}: cannot read {raw!r} as {kind}") from None
