"""CORS for browser apps on another local origin: preflights answered, headers on every response.

Streaming works cross-origin because the headers are added when any response is prepared,
StreamResponses included (``add_cors_headers`` runs before any response is prepared).

Never on the control API (``/__mock/``), whatever ``--cors-origins`` says: its preflights are
refused and its responses carry no CORS headers, so no web page of another origin can read the
journal or send a state change (the dashboard is same-origin and needs none; ``mockserver.control``).
"""

from __future__ import annotations

from aiohttp import web

from mockserver.control import is_control_path
from mockserver.errors import PermissionDeniedError

__all__ = ["CorsPolicy", "add_cors_headers", "preflight"]

EXPOSED = ", ".join(
    [
        "x-request-id",
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
        "retry-after",
    ]
)
ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
DEFAULT_HEADERS = "authorization, content-type, x-mock-fault, openai-beta, x-stainless-lang"


class CorsPolicy:
    def __init__(self, origins: tuple[str, ...]) -> None:
        self.any = "*" in origins
        self.origins = frozenset(o.rstrip("/") for o in origins)

    def allowed(self, origin: str) -> bool:
        return self.any or origin.rstrip("/") in self.origins

    def headers(self, origin: str) -> dict[str, str]:
        # Echo the origin (not "*") so credentialed fetches work too; Vary keeps caches honest.
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED,
            "Vary": "Origin",
        }


def preflight(policy: CorsPolicy, request: web.BaseRequest) -> web.Response | None:
    """The answer to a CORS preflight, or None when ``request`` is not one."""
    if request.method != "OPTIONS":
        return None
    origin = request.headers.get("Origin")
    if origin is None or "Access-Control-Request-Method" not in request.headers:
        return None
    if is_control_path(request.path):
        return PermissionDeniedError(
            "The control API (/__mock/) takes no cross-origin requests.", code="cors_origin_not_allowed"
        ).response()
    if not policy.allowed(origin):
        return PermissionDeniedError(
            f"Origin {origin!r} is not allowed; see --cors-origins.", code="cors_origin_not_allowed"
        ).response()
    headers = policy.headers(origin)
    headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    headers["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", DEFAULT_HEADERS
    )
    headers["Access-Control-Max-Age"] = "600"
    return web.Response(status=204, headers=headers)


def add_cors_headers(policy: CorsPolicy, request: web.BaseRequest, response: web.StreamResponse) -> None:
    origin = request.headers.get("Origin")
    if origin is not None and policy.allowed(origin) and not is_control_path(request.path):
        response.headers.update(policy.headers(origin))
