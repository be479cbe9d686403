"""What to test and how: the target description and the run's limits.

Sources, lowest precedence first: a TOML or YAML file, ``RAGEN_*`` environment variables, flags.
Every source produces the same flat mapping (keys = the field names below), read and merged by
``ragen_spec.layering`` (the one reading all three commands share, booleans included) and typed
by ``load``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ragen_spec import layering, tier_notation
from ragen_spec import tiers as spec_tiers

from conformance.errors import HarnessError

__all__ = [
    "ENV_PREFIX",
    "GROUPS",
    "RunConfig",
    "Target",
    "Tier",
    "examples",
    "load",
    "normalise_base_url",
    "parse_tier",
]

ENV_PREFIX = "RAGEN_"
# The check groups, in the order a run executes them (rate limits last: they spend the budget).
GROUPS = ("schema", "chat", "streaming", "errors", "auth", "assistants", "native", "sdk", "ratelimit")
# Each profile's groups, in run order (the CLI validates --only/--skip against them without
# importing the profile's checks).
PROFILE_GROUPS = {
    "ragen": GROUPS,
    "openai-proxy": ("models", "schema", "chat", "streaming", "errors", "auth"),
}


@dataclass(frozen=True)
class Tier:
    """A rate tier: at most ``limit`` requests per ``window`` seconds."""

    limit: int
    window: float

    def __str__(self) -> str:
        return f"{self.limit}/{self.window:g}s"


def parse_tier(text: str | Mapping[str, Any] | Tier) -> Tier:
    """``"10/60"``, ``"10/60s"``, ``"10/1m"`` or ``{"limit": 10, "window": 60}``."""
    if isinstance(text, Tier):
        return text
    if isinstance(text, Mapping):
        return Tier(int(text["limit"]), float(text["window"]))
    try:
        limit, window = tier_notation.parse_tier(str(text))
    except ValueError as exc:
        raise HarnessError(str(exc)) from None
    return Tier(limit, window)


# Generation is seeded and derandomized by default: the same server gets the same verdicts on every
# run. ``--seed random`` (None) explores.
DEFAULT_SEED = 20260101

# The tiers the spec promises (x-rate-limit-tiers): what a run expects unless told otherwise.
DEFAULT_TIERS = {name: Tier(t.limit, t.window) for name, t in spec_tiers().items()}


@dataclass(frozen=True)
class Target:
    """A server under test and the credentials a run may use on it."""

    base_url: str
    api_key: str
    assistant_id: str | None = None
    # The key is bound to ``assistant_id`` (needed by the self-delete check, ASST-DEL-2).
    assistant_bound: bool = True
    second_org_key: str | None = None
    deactivated_key: str | None = None
    chat_only_key: str | None = None
    tiers: Mapping[str, Tier] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    # The server enforces rate limits (False: a deployment with limits off; the rate-limit checks
    # and the rate headers check are then skipped for it).
    rate_limits: bool = True
    # Pace every request to the tiers (a real server counts even the rejected ones).
    pace: bool = True
    timeout: float = 30.0

    def secrets(self) -> dict[str, str]:
        """Key value -> the environment variable a reproduction names instead."""
        pairs = [
            (self.api_key, "RAGEN_API_KEY"),
            (self.second_org_key, "RAGEN_SECOND_ORG_KEY"),
            (self.deactivated_key, "RAGEN_DEACTIVATED_KEY"),
            (self.chat_only_key, "RAGEN_CHAT_ONLY_KEY"),
        ]
        return {value: name for value, name in pairs if value}


@dataclass(frozen=True)
class RunConfig:
    target: Target
    # Where the rate-limit checks run; None = the target itself. --against-mock points it at a
    # second mock instance with short windows so the bulk can run with rate limits off.
    ratelimit_target: Target | None = None
    # Generated examples per operation and mode (-n); 0 = planned: as many as the pacing windows
    # the essential requests need anyway leave room for (10 with --thorough). The runner hands
    # checks a config where it is always >= 1.
    max_examples: int = 0
    max_time: float | None = None
    strict: bool = False
    groups: tuple[str, ...] = GROUPS
    seed: int | None = DEFAULT_SEED
    spec_path: Path | None = None
    # Run every case of every probe and the full generated examples (the default run sends the
    # essential cases and fills the pacing windows it pays for anyway with generated ones).
    thorough: bool = False
    # Accept a run in which an observable MUST could not be checked for lack of input (exit 0
    # instead of 2 "incomplete").
    allow_incomplete: bool = False


_TARGET_FIELDS = {f.name for f in fields(Target)}
_RUN_FIELDS = {"max_examples", "max_time", "strict", "groups", "seed", "thorough", "allow_incomplete"}
_BOOLS = {"assistant_bound", "pace", "strict", "rate_limits", "thorough", "allow_incomplete"}
_FLOATS = {"timeout", "max_time"}
_INTS = {"max_examples", "seed"}


def from_file(path: str | Path) -> dict[str, Any]:
    """A flat mapping from a TOML (``.toml``) or YAML file; ``[tiers]`` holds ``chat``/``assistants``."""
    with _usage_errors():
        layer: dict[str, Any] = layering.read_file(
            path, _TARGET_FIELDS | _RUN_FIELDS, tables={"tiers": tuple(DEFAULT_TIERS)}, booleans=_BOOLS
        )
    return layer


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``RAGEN_<FIELD>`` variables, and ``RAGEN_CHAT_TIER``/``RAGEN_ASSISTANTS_TIER`` as ``tiers``."""
    tier_names = {f"{t}_tier": t for t in DEFAULT_TIERS}
    names = (_TARGET_FIELDS | _RUN_FIELDS | set(tier_names)) - {"tiers"}
    with _usage_errors():
        out: dict[str, Any] = layering.read_env(sorted(names), ENV_PREFIX, environ, booleans=_BOOLS)
    tiers = {tier_names[name]: out.pop(name) for name in list(out) if name in tier_names}
    if tiers:
        out["tiers"] = tiers
    return out


@contextmanager
def _usage_errors() -> Iterator[None]:
    """The shared reader's errors are the gate's usage errors (exit 2)."""
    try:
        yield
    except layering.LayeringError as exc:
        raise HarnessError(str(exc)) from None


def _coerce(name: str, value: Any) -> Any:
    if name == "seed" and isinstance(value, str) and value.strip().lower() == "random":
        return random.SystemRandom().randrange(1, 2**31)  # printed in the report, so it can be replayed
    if name in _BOOLS:
        with _usage_errors():
            return layering.parse_bool(value, name)
    try:
        if name in _FLOATS:
            return float(value)
        if name in _INTS:
            return int(value)
    except (TypeError, ValueError) as exc:
        raise HarnessError(f"bad value for {name}: {value!r}") from exc
    if name == "groups":
        items = value.split(",") if isinstance(value, str) else list(value)
        groups = tuple(g.strip() for g in items if g.strip())
        known = {g for groups in PROFILE_GROUPS.values() for g in groups}
        unknown = set(groups) - known
        if unknown:
            raise HarnessError(f"unknown check groups {sorted(unknown)}; known: {', '.join(sorted(known))}")
        return groups
    return value


def load(*layers: Mapping[str, Any]) -> RunConfig:
    """Merge flat mappings (later wins; ``None`` values are ignored) into a RunConfig."""
    merged: dict[str, Any] = layering.merge(*layers)
    tiers: dict[str, Tier] = dict(DEFAULT_TIERS)
    for tier, spec in dict(merged.pop("tiers", {})).items():
        if tier not in DEFAULT_TIERS:
            raise HarnessError(f"unknown tier {tier!r}; known: {', '.join(DEFAULT_TIERS)}")
        tiers[tier] = parse_tier(spec)
    merged = {key: _coerce(key, value) for key, value in merged.items()}
    for required in ("base_url", "api_key"):
        if not merged.get(required):
            raise HarnessError(
                f"missing {required}: give --{required.replace('_', '-')}, "
                f"{ENV_PREFIX}{required.upper()} or a config file (or use --against-mock)"
            )
    merged["base_url"] = normalise_base_url(str(merged["base_url"]))
    target = Target(tiers=tiers, **{k: v for k, v in merged.items() if k in _TARGET_FIELDS and k != "tiers"})
    run = {k: v for k, v in merged.items() if k in _RUN_FIELDS}
    return RunConfig(target=target, **run)


def normalise_base_url(url: str) -> str:
    """The server's root (``ragen_spec.layering.normalise_base_url``, as ragen-load reads it)."""
    with _usage_errors():
        root: str = layering.normalise_base_url(url)
    return root


def examples(config: RunConfig, planned: int) -> int:
    """Generated examples per operation and mode: ``-n`` when given, 10 with --thorough, else ``planned``."""
    if config.max_examples > 0:
        return config.max_examples
    return 10 if config.thorough else planned
