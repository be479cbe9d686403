"""The proxy document's error table on top of the Ragen mock's errors (PROXY-ERR-TYPE-1).

The shared machinery (``mockserver.errors``, auth, validation, faults) raises Ragen types; the
proxy's table (its documented error responses, ``ragen_spec.error_types(PROXY_SPEC_PATH)``)
differs for 429 and 5xx. ``retyped``, the pipeline's ``retype`` stage (``mockserver.pipeline``),
re-types every ``ApiError`` by status before ``error_response`` renders it, words the injected
5xx faults as a provider outage, and answers an unexpected exception as the proxy's 500:

    400 invalid_request_error   401 authentication_error   404 not_found_error
    429 rate_limit_exceeded     500 internal_server_error  502 bad_gateway
    503 service_unavailable (+ Retry-After)                504 gateway_timeout
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from ragen_spec import PROXY_SPEC_PATH, error_types

from mockserver.errors import ApiError

__all__ = ["PROXY_TYPES", "ProxyError", "retyped"]

log = logging.getLogger("ragen_mock")

# The statuses whose type the proxy document names differently from the Ragen table (429, 5xx),
# read from its documented responses; 504 is not in the document: `gateway_timeout` is the mock's.
PROXY_TYPES = {
    status: types[0]
    for status, types in error_types(PROXY_SPEC_PATH).items()
    if types[0] != error_types().get(status, ("",))[0]
} | {504: "gateway_timeout"}
_OUTAGE = {
    502: ("The provider serving this model answered with an error.", "provider_error"),
    503: ("All providers for this model are unavailable.", "providers_unavailable"),
    504: ("The provider serving this model timed out.", "provider_timeout"),
}
RETRY_AFTER_503 = "1"


class ProxyError(ApiError):
    """An ApiError whose status and type are set per instance (the proxy's table)."""

    def __init__(self, status: int, type_: str, message: str, **fields: Any) -> None:
        super().__init__(message, **fields)
        self._status = status
        self._type = type_

    @property
    def status_code(self) -> int:
        return self._status

    def body(self) -> dict[str, object]:
        body = super().body()
        error = body["error"]
        assert isinstance(error, dict)
        error["type"] = self._type
        return body


def _retyped(exc: ApiError) -> ApiError:
    status = exc.status_code
    if status not in PROXY_TYPES:
        return exc  # 4xx types are the same in both tables
    message, code = exc.message, exc.code
    if status in _OUTAGE and code in {"upstream_error", None}:
        outage, code = _OUTAGE[status]
        message = outage + (" (injected fault)" if "injected" in exc.message else "")
    headers = dict(exc.headers)
    if status == 503:
        headers.setdefault("Retry-After", RETRY_AFTER_503)  # PROXY-RATE-1
    return ProxyError(status, PROXY_TYPES[status], message, code=code, param=exc.param, headers=headers)


def retyped(request: web.Request, exc: Exception) -> Exception:
    """What to render for ``exc``, an exception that escaped a handler of the proxy mock."""
    if isinstance(exc, ApiError):
        return _retyped(exc)
    if isinstance(exc, web.HTTPException | OSError):
        return exc  # routing/size errors (the same 4xx types), a client gone: rendered as they are
    log.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return ProxyError(
        500,
        "internal_server_error",
        "The proxy mock failed unexpectedly; see its log.",
        code="internal_error",
    )
