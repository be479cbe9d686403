"""What no route of the API handles still goes through the pipeline (the app has no middleware:
``mockserver.fallback`` and ``mockserver.staticfiles`` are wrapped like every handler).

Each answer below needs the stages: a bare aiohttp 404/405/403 has a plain-text body, no
``x-request-id``, no CORS preflight answer and no journal entry.
"""

from __future__ import annotations

import httpx2

from mockserver.background import BackgroundServer
from mockserver.routes.inspect import STATIC_DIR

ORIGIN = "http://localhost:5173"


def _envelope(response: httpx2.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"]
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, object] = response.json()["error"]
    return error


def test_unknown_route_is_journaled_with_its_request_id(
    server: BackgroundServer, inspect: httpx2.Client
) -> None:
    response = httpx2.get(server.url + "/v1/nothing-here?x=1")
    assert _envelope(response, 404)["code"] == "unknown_route"
    entry = inspect.get(f"/journal/{response.headers['x-request-id']}").json()
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == (
        "GET",
        "/v1/nothing-here",
        "x=1",
        404,
    )
    assert entry["response"]["body"]["error"]["code"] == "unknown_route"


def test_405_lists_the_methods_of_the_path_inspection_routes_included(server: BackgroundServer) -> None:
    response = httpx2.put(server.url + "/__mock/journal")
    assert _envelope(response, 405)["code"] == "method_not_allowed"
    assert set(response.headers["allow"].split(", ")) == {"DELETE", "GET", "HEAD"}
    response = httpx2.delete(server.url + "/healthz")
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert _envelope(response, 405)["type"] == "invalid_request_error"


def test_preflight_to_a_path_without_an_options_route(server: BackgroundServer) -> None:
    response = httpx2.options(
        server.url + "/v1/nothing-here",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["x-request-id"]


def test_static_files_keep_add_static_rules_inside_the_pipeline(server: BackgroundServer) -> None:
    name = next(p.name for p in sorted(STATIC_DIR.iterdir()) if p.is_file())
    head = httpx2.head(f"{server.url}/__mock/static/{name}")
    assert head.status_code == 200 and head.headers["x-request-id"] and head.content == b""
    for directory in ("/__mock/static", "/__mock/static/"):
        assert _envelope(httpx2.get(server.url + directory), 403)["type"] == "invalid_request_error"
    # %2e%2e is not normalized away by the client: never a file outside the directory
    escaped = httpx2.get(server.url + "/__mock/static/%2e%2e/app.py")
    assert _envelope(escaped, 404)["type"] == "not_found_error"
    assert b"create_app" not in escaped.content
