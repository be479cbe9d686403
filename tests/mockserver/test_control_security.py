"""The control API (``/__mock/``) closed to strangers (issue 18), over real HTTP on loopback.

Each finding of the issue is reproduced here first: another machine reading the journal and
arming faults, CORS granted to any origin (``null`` included), cross-site "simple" requests
changing state, any ``Host`` accepted (DNS rebinding).

"Another machine" without a network: tests bind servers to loopback only. The guard's rule is
"clients whose address is in its local networks" (127.0.0.0/8 and ::1 in production, unit-tested
below). The ``lan`` servers here narrow that list to 127.0.0.1 alone and the client connects from
127.0.0.2, a distinct address Linux routes over ``lo``: the real peer address travels through
aiohttp's transport into the same decision a LAN client's would, and only the definition of
"local" differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_network
from typing import Any

import httpx2
import pytest
from aiohttp import web

from mockserver import demo
from mockserver.__main__ import main
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.proxy import create_proxy_app
from mockserver.settings import Settings, SettingsError
from tests.mockserver.conftest import chat_body

TOKEN = "s3cret-Control-Token"
ELSEWHERE = "127.0.0.2"  # "another machine": see the module's docstring
SECRET_PROMPT = "my salary is 123456, what is the refund policy?"
EVIL = "http://evil.example"
CONTROL_HEADERS = {"x-mock-control": "1"}


def _as_if_on_a_lan(app: web.Application) -> web.Application:
    from mockserver.control import CONTROL  # imported here: the findings reproduce without the module

    app[CONTROL].local_networks = (ip_network("127.0.0.1/32"),)
    return app


@pytest.fixture(scope="module")
def lan() -> Iterator[BackgroundServer]:
    with BackgroundServer(lambda: _as_if_on_a_lan(create_app(Settings(rate_limits=False)))) as server:
        yield server


@pytest.fixture(scope="module")
def lan_with_token() -> Iterator[BackgroundServer]:
    settings = Settings(rate_limits=False, control_token=TOKEN)
    with BackgroundServer(lambda: _as_if_on_a_lan(create_app(settings))) as server:
        yield server


@pytest.fixture(scope="module")
def local() -> Iterator[BackgroundServer]:
    """An ordinary mock (rate limits off) reached from 127.0.0.1."""
    with BackgroundServer(lambda: create_app(Settings(rate_limits=False))) as server:
        yield server


def _elsewhere(server: BackgroundServer, **kwargs: Any) -> httpx2.Client:
    transport = httpx2.HTTPTransport(local_address=ELSEWHERE)
    return httpx2.Client(base_url=server.url, transport=transport, timeout=10, **kwargs)


def _control(server: BackgroundServer) -> httpx2.Client:
    """The control API as a test on this machine uses it."""
    return httpx2.Client(base_url=server.url + "/__mock", headers=CONTROL_HEADERS, timeout=10)


def _envelope(response: httpx2.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    return error


def _armed(server: BackgroundServer) -> list[dict[str, Any]]:
    with _control(server) as control:
        data: list[dict[str, Any]] = control.get("/faults").json()["data"]
        return data


def _reset(server: BackgroundServer) -> None:
    with _control(server) as control:
        control.post("/reset").raise_for_status()


# --- another machine ------------------------------------------------------------------------------
CONTROL_CALLS = [
    ("GET", "/__mock/journal", None),
    ("GET", "/__mock/journal/stream", None),
    ("GET", "/__mock/threads", None),
    ("GET", "/__mock/assistants", None),
    ("GET", "/__mock/ratelimit", None),
    ("GET", "/__mock/faults", None),
    ("GET", "/__mock/stats", None),
    ("GET", "/__mock/", None),
    ("GET", "/__mock/static/dashboard.js", None),
    ("GET", "/__mock/no-such-route", None),
    ("POST", "/__mock/faults", {"kind": "status", "status": 503, "count": 1000000}),
    ("POST", "/__mock/clock/advance", {"seconds": 3600}),
    ("POST", "/__mock/ratelimit/reset", {}),
    ("POST", "/__mock/reset", None),
    ("DELETE", "/__mock/journal", None),
    ("DELETE", "/__mock/faults", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), CONTROL_CALLS, ids=[f"{m} {p}" for m, p, _ in CONTROL_CALLS]
)
def test_another_machine_gets_403_on_every_control_route_and_learns_nothing(
    lan: BackgroundServer, method: str, path: str, body: dict[str, Any] | None
) -> None:
    _reset(lan)
    with _elsewhere(lan) as stranger:
        asked = stranger.post(
            "/v1/chat/completions",
            json=chat_body(SECRET_PROMPT),
            headers={"Authorization": f"Bearer {demo.KEY}"},
        )
        assert asked.status_code == 200  # the API itself stays open to the network
        response = stranger.request(method, path, json=body, headers=CONTROL_HEADERS)
    error = _envelope(response, 403)
    assert (error["type"], error["code"]) == ("permission_error", "control_loopback_only")
    assert "--control-token" in error["message"]
    assert SECRET_PROMPT not in response.text and demo.KEY not in response.text
    assert _armed(lan) == []  # and nothing changed
    with _control(lan) as control:
        assert control.get("/stats").json()["clock_offset_s"] == 0
        assert len(control.get("/journal").json()["data"]) == 1


def test_the_api_and_healthz_stay_open_to_other_machines(lan: BackgroundServer) -> None:
    with _elsewhere(lan) as stranger:
        assert stranger.get("/healthz").json() == {"status": "ok"}
        listed = stranger.get("/v1/assistants", headers={"Authorization": f"Bearer {demo.KEY}"})
        assert listed.status_code == 200


def test_this_machine_is_still_served(lan: BackgroundServer) -> None:
    with _control(lan) as control:
        assert control.get("/journal").status_code == 200
        assert control.post("/faults", json={"kind": "delay", "delay_ms": 1}).status_code == 200
        assert control.delete("/faults").status_code == 200


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("127.45.6.7", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # an IPv4 client of a dual-stack socket
        ("10.0.0.5", False),
        ("192.168.1.20", False),
        ("::ffff:10.0.0.5", False),
        ("fe80::1%eth0", False),
        ("2001:db8::1", False),
        ("0.0.0.0", False),
        ("", False),
        (None, False),  # no peer address (a socket type without one): refused
        ("not-an-address", False),
    ],
)
def test_loopback_decision(address: str | None, local: bool) -> None:
    from mockserver.control import ControlGuard

    assert ControlGuard.from_settings(Settings()).is_local(address) is local


# --- the control token ------------------------------------------------------------------------------
def test_with_a_token_every_control_request_needs_it_from_anywhere(lan_with_token: BackgroundServer) -> None:
    here = httpx2.Client(base_url=lan_with_token.url, timeout=10)
    with _elsewhere(lan_with_token) as stranger, here:
        for client in (stranger, here):
            for token in (None, "wrong", TOKEN + "x", ""):
                headers = {} if token is None else {"x-mock-token": token}
                error = _envelope(client.get("/__mock/journal", headers=headers), 401)
                assert (error["type"], error["code"]) == ("authentication_error", "control_token_required")
            ok = client.get("/__mock/journal", headers={"x-mock-token": TOKEN})
            assert ok.status_code == 200 and ok.json()["data"] is not None
        armed = stranger.post(  # the token header is itself the non-simple header
            "/__mock/faults", json={"kind": "delay", "delay_ms": 1}, headers={"x-mock-token": TOKEN}
        )
        assert armed.status_code == 200
        assert stranger.delete("/__mock/faults", headers={"x-mock-token": TOKEN}).status_code == 200
        assert _envelope(stranger.get("/__mock/static/dashboard.js"), 401)["code"] == "control_token_required"
        for garbage in ({"x-mock-token": b"\xff\xfe"}, {"Cookie": b"ragen_mock_control=\xff"}):
            assert _envelope(stranger.get("/__mock/journal", headers=garbage), 401)["type"] == (
                "authentication_error"
            )  # bytes that are not UTF-8: a refusal, never a 500


def test_the_dashboard_asks_for_the_token_once_and_keeps_it_in_a_cookie(
    lan_with_token: BackgroundServer,
) -> None:
    with _elsewhere(lan_with_token) as browser:
        asked = browser.get("/__mock/", headers={"Accept": "text/html,*/*;q=0.8"})
        assert asked.status_code == 401 and asked.headers["content-type"].startswith("text/html")
        assert 'name="token"' in asked.text and "dashboard.js" not in asked.text
        scripted = browser.get("/__mock/", headers={"Accept": "application/json"})  # not a browser
        assert _envelope(scripted, 401)["code"] == "control_token_required"
        wrong = browser.get("/__mock/", params={"token": "guess"})
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        assert "not the token" in wrong.text

        given = browser.get("/__mock/", params={"token": TOKEN})
        assert given.status_code == 303 and given.headers["location"] == "/__mock/"  # no token in the URL
        cookie = given.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/__mock" in cookie
        assert TOKEN not in cookie  # the cookie holds a value derived from the token, not the token
        assert browser.cookies  # kept, as a browser would
        page = browser.get("/__mock/")
        assert page.status_code == 200 and "dashboard.js" in page.text
        assert page.headers["x-frame-options"] == "DENY"  # no clickjacking of the dashboard
        assert browser.get("/__mock/static/dashboard.js").status_code == 200
        assert browser.get("/__mock/journal").status_code == 200
        with browser.stream("GET", "/__mock/journal/stream") as stream:  # EventSource sends cookies only
            assert stream.status_code == 200
        # the cookie carries the token, not the intent: a state change still needs the header
        assert _envelope(browser.post("/__mock/reset"), 403)["code"] == "control_header_required"
        assert browser.post("/__mock/reset", headers=CONTROL_HEADERS).status_code == 200


def test_the_token_comes_from_flag_or_environment_and_must_be_header_safe() -> None:
    assert Settings.from_env({"RAGEN_MOCK_CONTROL_TOKEN": TOKEN}).control_token == TOKEN
    assert Settings.from_env({"RAGEN_MOCK_ALLOWED_HOSTS": "mock.internal, a.test"}).allowed_hosts == (
        "mock.internal",
        "a.test",
    )
    for bad in ("two words", "tab\there", "naïve"):
        with pytest.raises(SettingsError):
            create_app(Settings(control_token=bad))


# --- cross-site requests --------------------------------------------------------------------------
def test_a_cross_site_form_post_changes_nothing(local: BackgroundServer) -> None:
    """What a <form method=post enctype=text/plain> on any page sends: no custom header."""
    _reset(local)
    form = {"Content-Type": "text/plain", "Origin": EVIL}
    arm = httpx2.post(
        local.url + "/__mock/faults", content=b'{"kind":"status","count":1000000}', headers=form
    )
    assert _envelope(arm, 403)["type"] == "permission_error"
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}  # no Origin: an old browser
    for path, body in (
        ("/__mock/faults", b'{"kind":"status"}'),
        ("/__mock/clock/advance", b'{"seconds":99}'),
    ):
        refused = httpx2.post(local.url + path, content=body, headers=urlencoded)
        assert _envelope(refused, 403)["code"] == "control_header_required"
    assert _envelope(httpx2.post(local.url + "/__mock/reset"), 403)["code"] == "control_header_required"
    assert _armed(local) == []
    with _control(local) as control:
        assert control.get("/stats").json()["clock_offset_s"] == 0


def test_state_changes_need_the_header_and_a_json_body(local: BackgroundServer) -> None:
    _reset(local)
    with _control(local) as control:
        fault = b'{"kind":"delay","delay_ms":1}'
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            refused = control.post("/faults", content=fault, headers={"Content-Type": content_type})
            assert _envelope(refused, 400)["code"] == "unsupported_content_type"
        assert _armed(local) == []
        armed = control.post("/faults", content=fault, headers={"Content-Type": "application/json"})
        assert armed.status_code == 200
        assert (
            _envelope(httpx2.delete(local.url + "/__mock/faults"), 403)["code"] == "control_header_required"
        )
        assert len(_armed(local)) == 1
        assert control.delete("/faults").status_code == 200
        assert control.post("/reset").status_code == 200  # no body: no content type needed


def test_a_foreign_origin_is_refused_even_with_the_header(local: BackgroundServer) -> None:
    _reset(local)
    for origin in (EVIL, "null", "http://localhost:5173"):
        headers = {**CONTROL_HEADERS, "Origin": origin}
        arm = httpx2.post(local.url + "/__mock/faults", json={"kind": "status"}, headers=headers)
        assert _envelope(arm, 403)["code"] == "control_origin_not_allowed"
        read = httpx2.get(local.url + "/__mock/journal", headers={"Origin": origin})
        assert read.status_code == 403 and "access-control-allow-origin" not in read.headers
    assert _armed(local) == []
    own = local.url  # the dashboard's own requests carry its origin
    armed = httpx2.post(
        own + "/__mock/faults", json={"kind": "delay"}, headers={**CONTROL_HEADERS, "Origin": own}
    )
    assert armed.status_code == 200


# --- CORS ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cors_origins", [("*",), ("http://localhost:5173",)])
def test_cors_is_never_granted_on_the_control_api(cors_origins: tuple[str, ...]) -> None:
    with BackgroundServer(lambda: create_app(Settings(cors_origins=cors_origins))) as server:
        for origin in ("null", EVIL, "http://localhost:5173"):
            preflight = httpx2.options(
                server.url + "/__mock/faults",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type, x-mock-control",
                },
            )
            assert _envelope(preflight, 403)["code"] == "cors_origin_not_allowed"
            assert "access-control-allow-origin" not in preflight.headers
            for path in ("/__mock/journal", "/__mock/threads", "/__mock/"):
                read = httpx2.get(server.url + path, headers={"Origin": origin})
                assert "access-control-allow-origin" not in read.headers, (origin, path)
        # the API keeps its CORS (--cors-origins)
        api = httpx2.options(
            server.url + "/v1/chat/completions",
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        )
        assert (
            api.status_code == 204 and api.headers["access-control-allow-origin"] == "http://localhost:5173"
        )


# --- Host (DNS rebinding) ------------------------------------------------------------------------------
def test_only_host_names_of_the_listener_are_answered(local: BackgroundServer) -> None:
    port = local.port
    for host in (
        "evil.example",
        f"evil.example:{port}",
        f"127.0.0.1.nip.io:{port}",
        "localhost.evil.example",
    ):
        refused = httpx2.get(local.url + "/__mock/journal", headers={"Host": host})
        assert _envelope(refused, 403)["code"] == "control_host_not_allowed", host
        posted = httpx2.post(local.url + "/__mock/reset", headers={"Host": host, **CONTROL_HEADERS})
        assert _envelope(posted, 403)["code"] == "control_host_not_allowed", host
    for host in (f"localhost:{port}", "localhost", f"127.0.0.1:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert httpx2.get(local.url + "/__mock/journal", headers={"Host": host}).status_code == 200, host
    api = httpx2.get(
        local.url + "/v1/assistants", headers={"Host": "evil.example", "Authorization": f"Bearer {demo.KEY}"}
    )
    assert api.status_code == 200  # the API is not the control API


def test_the_bound_address_and_configured_names_are_answered() -> None:
    settings = Settings(allowed_hosts=("mock.internal",))
    with BackgroundServer(lambda: create_app(settings), host="127.0.0.3") as server:
        url = server.url + "/__mock/journal"
        assert httpx2.get(url).status_code == 200  # Host: 127.0.0.3:<port>, the bound address
        assert httpx2.get(url, headers={"Host": f"mock.internal:{server.port}"}).status_code == 200
        assert httpx2.get(url, headers={"Host": f"127.0.0.1:{server.port}"}).status_code == 200
        assert _envelope(httpx2.get(url, headers={"Host": "other.internal"}), 403)["code"] == (
            "control_host_not_allowed"
        )
    # --host 0.0.0.0: the banner's links say http://0.0.0.0:<port> (served here on loopback, as tests must)
    with BackgroundServer(lambda: create_app(Settings(host="0.0.0.0"))) as server:
        named = httpx2.get(server.url + "/__mock/journal", headers={"Host": f"0.0.0.0:{server.port}"})
        assert named.status_code == 200


# --- the proxy profile shares the guard ---------------------------------------------------------------
def test_the_proxy_profile_guards_its_control_api_too() -> None:
    def proxy() -> web.Application:
        return _as_if_on_a_lan(create_proxy_app(Settings(profile="openai-proxy")))

    with BackgroundServer(proxy) as server:
        with _elsewhere(server) as stranger:
            assert _envelope(stranger.get("/__mock/journal"), 403)["code"] == "control_loopback_only"
        form = httpx2.post(
            server.url + "/__mock/faults",
            content=b'{"kind":"status"}',
            headers={"Content-Type": "text/plain"},
        )
        assert _envelope(form, 403)["code"] == "control_header_required"
        rebinding = httpx2.get(server.url + "/__mock/journal", headers={"Host": "evil.example"})
        assert _envelope(rebinding, 403)["code"] == "control_host_not_allowed"
        preflight = httpx2.options(
            server.url + "/__mock/faults", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
        assert httpx2.get(server.url + "/__mock/journal", headers=CONTROL_HEADERS).status_code == 200
        assert httpx2.put(server.url + "/__mock/journal").status_code == 405  # as in the Ragen mock


# --- binding a non-loopback address ---------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.9"])
def test_no_warning_on_loopback(host: str) -> None:
    from mockserver.control import exposure_warning

    assert exposure_warning(Settings(host=host)) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "my-laptop.lan"])
def test_a_warning_names_what_a_network_address_exposes(host: str) -> None:
    from mockserver.control import exposure_warning

    warning = exposure_warning(Settings(host=host))
    assert warning is not None
    for needle in ("API keys", "/__mock/", "journal", "prompts", "fault", "--control-token", "loopback"):
        assert needle in warning, needle
    with_token = exposure_warning(Settings(host=host, control_token=TOKEN))
    assert with_token is not None and "x-mock-token" in with_token and TOKEN not in with_token


def test_the_cli_prints_the_warning_when_binding_a_network_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """main() up to the bind: serving on 0.0.0.0 is what tests must not do."""
    served: list[dict[str, Any]] = []
    monkeypatch.setattr("mockserver.__main__.serve", lambda app, **kwargs: served.append(kwargs))
    assert main(["--host", "0.0.0.0", "--port", "8080"]) == 0
    assert served and served[0]["host"] == "0.0.0.0"
    captured = capsys.readouterr()
    assert "WARNING" in captured.err and "--control-token" in captured.err
    assert main(["--host", "127.0.0.1", "--quiet"]) == 0
    assert "WARNING" not in capsys.readouterr().err
