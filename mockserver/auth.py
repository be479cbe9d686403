"""Bearer API keys: 401 missing / malformed / unknown (AUTH-1..3), 403 deactivated / scope (AUTH-4/5).

Keys are found by their BLAKE2s digest and then compared with ``hmac.compare_digest``, so the
time taken does not depend on how much of a guessed key is right. BLAKE2s rather than SHA-256:
Python 3.11's ``hashlib.sha256`` goes through OpenSSL 3, whose per-call digest lookup cost a
couple of microseconds per request under load; ``blake2s`` is built into Python. A key is only ever shown
masked (``mask``: ``…ey#8c1d``).

The usual header, exactly ``Bearer <key>`` for an active key with the route's scope, is found by
one dict lookup on the whole header first (``KeyRing.ready``). That is as blind to a near-miss as
the digest: a ``str`` hash is keyed SipHash, and the strings are compared only when the full
hashes match, i.e. for the right key. Anything else takes the full path and its precise error.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from mockserver.config import KeySpec
from mockserver.errors import AuthenticationError, PermissionDeniedError

__all__ = ["Caller", "KeyRing", "mask"]

_MISSING = "Missing API key. Send it as 'Authorization: Bearer YOUR_API_KEY'."
_MALFORMED = "Malformed Authorization header. Send it as 'Authorization: Bearer YOUR_API_KEY'."
_UNKNOWN = "Incorrect API key provided."


def mask(key: str) -> str:
    """A key as it may be shown: at most 4 of its characters (2 + 2 for keys of 16 or more, the
    last 2 from 8, none below), then a 16-bit fingerprint so that two keys with the same ends
    still read apart (``rg…ed#3f0c``). The fingerprint says nothing useful about a real key."""
    fingerprint = hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=2).hexdigest()
    if len(key) >= 16:
        return f"{key[:2]}…{key[-2:]}#{fingerprint}"
    return f"…{key[-2:] if len(key) >= 8 else ''}#{fingerprint}"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated key, as handlers see it."""

    spec: KeySpec
    masked: str
    # copies of the spec's fields, not properties: read on every request
    org_id: str = field(init=False)
    assistant_id: str | None = field(init=False)
    debug: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "org_id", self.spec.org_id)
        object.__setattr__(self, "assistant_id", self.spec.assistant_id)
        object.__setattr__(self, "debug", self.spec.debug)


class KeyRing:
    def __init__(self, keys: tuple[KeySpec, ...]) -> None:
        callers = [(k, Caller(k, mask(k.key))) for k in keys]
        self._by_digest = {hashlib.blake2s(k.key.encode()).digest(): (k.key.encode(), c) for k, c in callers}
        scopes = {scope for k in keys for scope in k.scopes}
        # scope -> {"Bearer <key>": caller}: the callers that header may pass as, without parsing.
        self.ready = {
            scope: {f"Bearer {k.key}": c for k, c in callers if k.active and scope in k.scopes}
            for scope in scopes
        }

    def authenticate(self, header: str | None, scope: str) -> Caller:
        ready = self.ready.get(scope)
        if ready is not None and header is not None:
            caller = ready.get(header)
            if caller is not None:
                return caller
        if header is None or not header.strip():
            raise AuthenticationError(_MISSING, code="invalid_api_key")
        scheme, _, key = header.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key or " " in key:
            raise AuthenticationError(_MALFORMED, code="invalid_api_key")
        presented = key.encode("utf-8", "surrogateescape")
        found = self._by_digest.get(hashlib.blake2s(presented).digest())
        if found is None or not hmac.compare_digest(found[0], presented):
            raise AuthenticationError(_UNKNOWN, code="invalid_api_key")
        caller = found[1]
        if not caller.spec.active:
            raise PermissionDeniedError("This API key has been deactivated.", code="key_deactivated")
        if scope not in caller.spec.scopes:
            raise PermissionDeniedError(
                f"This API key does not have the '{scope}' scope this endpoint needs.", code="missing_scope"
            )
        return caller
