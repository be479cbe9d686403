"""The proxy document's error table on top of the Ragen mock's errors (PROXY-ERR-TYPE-1).

The shared machinery (``mockserver.errors``, auth, validation, faults) raises Ragen types; the
proxy's table (its documented error responses, ``ragen_spec.error_types(PROXY_SPEC_PATH)``)
differs for 429 and 5xx. One middleware, inside ``error_middleware``, re-types
every ``ApiError`` by status and words the injected 5xx faults as a provider outage:

    400 invalid_request_error   401 authentication_error   404 not_found_error
    429 rate_limit_exceeded     500 internal_server_error  502 bad_gateway
    503 service_unavailable (+ Retry-After)                504 gateway_timeout
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from ragen_spec import PROXY_SPEC_PATH, error_types

from mockserver.errors import ApiError

__all__ = ["PROXY_TYPES", "ProxyError", "proxy_errors_middleware"]

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


def proxy_errors_middleware() -> Callable[[web.Request, Handler], Any]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            raise _retyped(exc) from None
        except web.HTTPException:
            raise  # routing/size errors: error_middleware renders them (same 4xx types)
        except (ConnectionError, OSError):
            raise
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            raise ProxyError(
                500,
                "internal_server_error",
                "The proxy mock failed unexpectedly; see its log.",
                code="internal_error",
            ) from None

    return middleware
