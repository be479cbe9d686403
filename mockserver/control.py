"""Who may use the control API (``/__mock/``): the guard in front of every control route.

The control API is a developer's tool: its journal holds full prompts and answers, and its
faults, reset and clock change what every client gets. So it answers only

- **this machine** (loopback clients), unless a control token is configured; then every control
  request needs the token, from anywhere: the ``x-mock-token`` header, or the dashboard's cookie
  (set when the page is opened with the token, see ``ControlGuard.login``);
- **names of this listener** in ``Host`` (localhost, 127.0.0.1, [::1], the address the connection
  arrived at, ``--allowed-hosts``): a DNS-rebinding page re-resolves its own name to 127.0.0.1,
  but its requests still say ``Host: evil.example``;
- **its own origin**: a browser request carrying another ``Origin`` is refused (and ``cors.py``
  never grants CORS here);
- **deliberate state changes**: POST/PUT/PATCH/DELETE need a non-simple header (``x-mock-control``
  or ``x-mock-token``) and a JSON body, which no cross-site form or "simple" request can send
  without a CORS preflight, and preflights are refused.

Only control routes are wrapped (``mockserver.inspection``, for both mock apps): the API's routes
pay nothing for it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from mockserver.errors import AuthenticationError, InvalidRequestError, PermissionDeniedError
from mockserver.settings import Settings, SettingsError

__all__ = [
    "CONTROL",
    "CONTROL_HEADER",
    "TOKEN_HEADER",
    "ControlGuard",
    "exposure_warning",
    "is_control_path",
    "is_loopback_host",
]

CONTROL_PREFIX = "/__mock"
DASHBOARD_PATH = "/__mock/"
CONTROL_HEADER = "x-mock-control"  # any value; "1" by convention
TOKEN_HEADER = "x-mock-token"
TOKEN_QUERY = "token"  # only on the dashboard's page load, which then moves it into the cookie
TOKEN_COOKIE = "ragen_mock_control"
LOOPBACK_NETWORKS: tuple[IPv4Network | IPv6Network, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Header-safe and cookie-safe: visible ASCII, no spaces, quotes, commas, semicolons or backslashes.
_TOKEN_CHARS = re.compile(r"[!#-+\--:<-\[\]-~]+")
_LOGIN_PAGE = Path(__file__).resolve().parent / "static" / "login.html"
_WRONG_TOKEN = '<p class="bad">That is not the token this mock was started with.</p>'
# A control page is never framed by another site (clickjacking the dashboard's buttons).
_HARDENING = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(DASHBOARD_PATH)


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` keeps the mock on this machine ("" and 0.0.0.0 mean every interface)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may name a network interface


def _host_name(authority: str) -> str:
    """The name in a ``Host`` header: without the port, the brackets or a trailing dot; lowercase."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else authority
    if authority.count(":") == 1:
        authority = authority.split(":", 1)[0]
    return authority.rstrip(".")


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


class ControlGuard:
    """The rules above for one app; ``wrap`` a control handler (``wrap_unrouted`` the catch-all)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        allowed_hosts: Iterable[str] = (),
        local_networks: tuple[IPv4Network | IPv6Network, ...] = LOOPBACK_NETWORKS,
    ) -> None:
        if token is not None and not _TOKEN_CHARS.fullmatch(token):
            raise SettingsError(
                "control_token must be visible ASCII without spaces, quotes, commas, semicolons "
                "or backslashes"
            )
        self.token = token
        self._token_digest = _digest(token) if token is not None else b""
        # The dashboard's cookie holds a value derived from the token, not the token itself.
        self._cookie = hashlib.sha256(b"ragen-mock dashboard\0" + (token or "").encode()).hexdigest()
        self._cookie_digest = _digest(self._cookie)
        self.host_names = LOOPBACK_NAMES | {_host_name(h) for h in allowed_hosts if h.strip()}
        self.local_networks = local_networks  # tests narrow it to act "another machine" on loopback

    @classmethod
    def from_settings(cls, settings: Settings) -> ControlGuard:
        # The bound address, 0.0.0.0 included (the banner's links use it; an IP literal cannot be
        # rebound); for the other addresses of "every interface", see host_allowed's sockname.
        names = [*settings.allowed_hosts, settings.host]
        return cls(token=settings.control_token, allowed_hosts=names)

    # --- the decisions ---------------------------------------------------------------------------
    def is_local(self, remote: str | None) -> bool:
        """Whether a peer address is this machine's (an IPv4 client of a dual-stack socket included)."""
        if not remote:
            return False
        try:
            address = ip_address(remote)
        except ValueError:
            return False
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.local_networks)

    def host_allowed(self, request: web.BaseRequest) -> bool:
        raw = request.headers.get("Host")
        if raw is None:  # HTTP/1.0 without Host: refused too, the rule is "names this listener"
            return False
        name = _host_name(raw)
        if name in self.host_names:
            return True
        # The address the connection arrived at: names the listener however it was bound (0.0.0.0
        # included), and an IP literal cannot be rebound to another machine.
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if not isinstance(sockname, tuple):
            return False
        try:
            here = ip_address(str(sockname[0]).split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(here, IPv6Address) and here.ipv4_mapped is not None:
            here = here.ipv4_mapped
        return name == str(here)

    def token_presented(self, request: web.BaseRequest) -> bool:
        header = request.headers.get(TOKEN_HEADER)
        if header is not None:
            return hmac.compare_digest(_digest(header), self._token_digest)
        cookie = request.cookies.get(TOKEN_COOKIE)
        return cookie is not None and hmac.compare_digest(_digest(cookie), self._cookie_digest)

    def check_access(self, request: web.BaseRequest) -> None:
        """Raise unless this client may use the control API at all. The client comes first, so a
        stranger learns nothing else (not even which Host names would do)."""
        if self.token is None:
            if not self.is_local(request.remote):
                raise PermissionDeniedError(
                    "The control API (/__mock/) answers clients on this machine only; "
                    "start the mock with --control-token to use it from elsewhere.",
                    code="control_loopback_only",
                )
        elif not self.token_presented(request):
            raise AuthenticationError(
                f"The control API (/__mock/) needs the control token in the {TOKEN_HEADER} header.",
                code="control_token_required",
            )
        if not self.host_allowed(request):
            raise PermissionDeniedError(
                "The control API answers only to Host names of this mock (localhost, 127.0.0.1, [::1], "
                "the bound address); add others with --allowed-hosts.",
                code="control_host_not_allowed",
            )
        origin = request.headers.get("Origin")
        if origin is not None and not _same_origin(origin, request.headers["Host"]):
            raise PermissionDeniedError(
                "The control API takes no requests from web pages of other origins.",
                code="control_origin_not_allowed",
            )

    def check_intent(self, request: web.BaseRequest) -> None:
        """Raise unless a state-changing request could not have come from a cross-site form."""
        if request.method not in STATE_CHANGING:
            return
        if CONTROL_HEADER not in request.headers and TOKEN_HEADER not in request.headers:
            raise PermissionDeniedError(
                f"State-changing control requests need the header '{CONTROL_HEADER}: 1' "
                f"(or {TOKEN_HEADER}), which no cross-site form can send.",
                code="control_header_required",
            )
        if request.body_exists and request.content_type != "application/json":
            raise InvalidRequestError(
                f"Unsupported content type {request.content_type!r}; send the body as 'application/json'.",
                code="unsupported_content_type",
            )

    # --- the dashboard's token ------------------------------------------------------------------
    def login(self, request: web.BaseRequest) -> web.StreamResponse | None:
        """For a browser's page load of the dashboard without a valid token: the token from the
        login form (``?token=``) moved into a cookie, or the form itself (401). None otherwise."""
        if self.token is None or request.path != DASHBOARD_PATH or request.method not in ("GET", "HEAD"):
            return None
        if self.token_presented(request) and TOKEN_QUERY not in request.query:
            return None
        given = request.query.get(TOKEN_QUERY)
        if given is not None and hmac.compare_digest(_digest(given), self._token_digest):
            answer = web.Response(status=303, headers={"Location": DASHBOARD_PATH, **_HARDENING})
            answer.set_cookie(
                TOKEN_COOKIE, self._cookie, path=DASHBOARD_PATH, httponly=True, samesite="Strict"
            )
            return answer
        if given is None and "text/html" not in request.headers.get("Accept", ""):
            return None  # not a browser: the JSON envelope (check_access)
        page = _LOGIN_PAGE.read_text(encoding="utf-8")
        if given is not None:
            page = page.replace("<!--notice-->", _WRONG_TOKEN)
        return web.Response(status=401, text=page, content_type="text/html", headers=_HARDENING)

    # --- wiring -----------------------------------------------------------------------------------
    def wrap(self, handler: Handler) -> Handler:
        """``handler`` (a control route's) behind every rule."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            return await self.guarded(request, handler)

        guarded.__name__ = getattr(handler, "__name__", guarded.__name__)
        return guarded

    async def guarded(
        self, request: web.Request, handler: Handler, *, routed: bool = True
    ) -> web.StreamResponse:
        """``handler``'s answer to ``request`` if the rules admit it (else an ``ApiError``). For an
        unrouted request the intent rule is left out: it changes nothing, and gets its 404/405."""
        page = self.login(request)
        if page is not None:
            return page
        self.check_access(request)
        if routed:
            self.check_intent(request)
        response = await handler(request)
        if not response.prepared:  # a stream (journal/stream) has sent its headers already
            response.headers.update(_HARDENING)
        return response

    def wrap_unrouted(self, handler: Handler) -> Handler:
        """The catch-all route's handler: a stranger's 404/405 under /__mock/ is a refusal too."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if is_control_path(request.path):
                return await self.guarded(request, handler, routed=False)
            return await handler(request)

        return guarded


def _same_origin(origin: str, host: str) -> bool:
    """Whether a browser's ``Origin`` is the page at ``Host`` (``null`` never is)."""
    scheme, sep, authority = origin.strip().lower().partition("://")
    if not sep or scheme not in ("http", "https"):
        return False
    default = ":443" if scheme == "https" else ":80"
    return authority.removesuffix(default) == host.strip().lower().removesuffix(default)


CONTROL = web.AppKey("control_guard", ControlGuard)


def exposure_warning(settings: Settings) -> str | None:
    """What binding ``settings.host`` exposes, for the console; None on loopback."""
    if is_loopback_host(settings.host):
        return None
    where = settings.host or "every interface"
    lines = [
        f"ragen-mock: WARNING: listening on {where} (port {settings.port}): other machines can reach it.",
        "  Exposed: the API (/v1), to anyone who can reach this port and holds one of the API keys",
        "  listed in the banner (the demo's keys are published in its README).",
    ]
    if settings.control_token is None:
        lines += [
            "  The control API (/__mock/: the journal with full prompts and answers, debug threads, fault",
            "  injection, reset, the clock) answers loopback clients only. To use it from elsewhere, set",
            "  --control-token (or RAGEN_MOCK_CONTROL_TOKEN) and send it in the x-mock-token header.",
        ]
    else:
        lines += [
            "  The control API (/__mock/: the journal with full prompts and answers, debug threads, fault",
            "  injection, reset, the clock) is open to anyone with the control token (x-mock-token header,",
            "  or the dashboard's login), not only to loopback clients. The token travels in clear over",
            "  plain HTTP: use it on a network you trust, or bind 127.0.0.1 and tunnel (ssh -L).",
        ]
    return "\n".join(lines)
