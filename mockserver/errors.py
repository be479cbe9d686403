"""The spec's error types and ``error_response``, which renders the OpenAI error envelope.

    ApiError                      (status, type: ERR-TYPE-1)
    ├── InvalidRequestError       400 invalid_request_error
    │   ├── RequestTooLargeError  413 invalid_request_error  request_too_large
    │   └── MethodNotAllowedError 405 invalid_request_error  method_not_allowed
    ├── AuthenticationError       401 authentication_error
    ├── PermissionDeniedError     403 permission_error
    ├── NotFoundError             404 not_found_error
    ├── RateLimitError            429 rate_limit_error
    └── ServerError               5xx api_error              (status per instance: 500/502/503)

The types are the ones the spec's documented error responses pin (``ragen_spec.error_types()``);
413 and 405 are not pinned there and take ``invalid_request_error`` as the mock's choice.

Every 4xx/5xx leaving the app, aiohttp's own (404 route, 405 method, 413 body) and unexpected
exceptions included, goes through ``error_response`` (the pipeline's errors stage,
``mockserver.pipeline``) and gets ``{"error": {message, type, code, param}}`` (ERR-ENV-1). A
traceback is logged, never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar

from aiohttp import web
from ragen_spec import error_types

from mockserver import jsonio

__all__ = [
    "ApiError",
    "AuthenticationError",
    "InvalidRequestError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "ServerError",
    "envelope",
    "error_response",
]

log = logging.getLogger("ragen_mock")

# ERR-TYPE-1, as the spec's documented error responses pin it (the first type of each status).
_SPEC_TYPES = {status: types[0] for status, types in error_types().items()}


def envelope(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


class ApiError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = _SPEC_TYPES[500]

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.headers = dict(headers or {})

    @property
    def status_code(self) -> int:
        return self.status

    def body(self) -> dict[str, object]:
        return envelope(self.message, self.type, self.code, self.param)

    def response(self) -> web.Response:
        return web.Response(
            body=jsonio.dumps(self.body()),
            status=self.status_code,
            headers=self.headers,
            content_type="application/json",
        )

    def __str__(self) -> str:
        return f"{self.status_code} {self.type} ({self.code}, param={self.param}): {self.message}"


class InvalidRequestError(ApiError):
    status = 400
    type = _SPEC_TYPES[400]


class RequestTooLargeError(InvalidRequestError):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than {limit} bytes.", code="request_too_large")


class MethodNotAllowedError(InvalidRequestError):
    status = 405


class AuthenticationError(ApiError):
    status = 401
    type = _SPEC_TYPES[401]


class PermissionDeniedError(ApiError):
    status = 403
    type = _SPEC_TYPES[403]


class NotFoundError(ApiError):
    status = 404
    type = _SPEC_TYPES[404]


class RateLimitError(ApiError):
    status = 429
    type = _SPEC_TYPES[429]


class ServerError(ApiError):
    status = 500
    type = _SPEC_TYPES[500]

    def __init__(self, message: str, *, status: int = 500, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self._status = status

    @property
    def status_code(self) -> int:
        return self._status


def _translate(exc: web.HTTPException, request: web.Request) -> ApiError:
    """aiohttp's own HTTP exceptions (routing, body size) as spec errors."""
    if isinstance(exc, web.HTTPNotFound):
        return NotFoundError(f"Unknown route {request.method} {request.path}.", code="unknown_route")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return MethodNotAllowedError(
            f"Method {request.method} is not allowed on {request.path}; allowed: {allowed}.",
            code="method_not_allowed",
            headers={"Allow": allowed},
        )
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return RequestTooLargeError(request.app._client_max_size)
    if exc.status >= 500:
        return ServerError(exc.reason, status=exc.status)
    error = InvalidRequestError(exc.reason or "Bad request.", code=None)
    error.status = exc.status  # type: ignore[misc]  # keep aiohttp's 4xx status on this instance
    return error


def error_response(request: web.Request, exc: Exception) -> web.Response:
    """The envelope for an exception that escaped a handler; an HTTPException below 400 (a
    redirect) is not an error and is raised again."""
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        return _translate(exc, request).response()
    if isinstance(exc, OSError):  # ConnectionResetError included
        # The client went away; nobody reads this response.
        log.debug("connection lost during %s %s: %s", request.method, request.path, exc)
        return ServerError("Connection lost.", status=500).response()
    log.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return ServerError("The mock failed unexpectedly; see its log.", code="internal_error").response()
