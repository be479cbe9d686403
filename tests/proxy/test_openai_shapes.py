"""A proxy that answers errors exactly as OpenAI's API does fails the openai-proxy profile only on
rows its vendor document states itself, and every report labels those rows as such: a user of
another proxy can tell "not OpenAI-compatible" from "not this vendor's table"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from xml.etree import ElementTree as ET

import aiohttp
import pytest
from aiohttp import web

from conformance.config import RunConfig, Target
from conformance.profiles import get_profile
from conformance.reporters import VENDOR_LABEL, terminal, write_junit
from conformance.results import VerdictKind
from conformance.runner import run
from mockserver.background import BackgroundServer
from mockserver.proxy import PROXY_KEY, create_proxy_app
from mockserver.settings import Settings

# How OpenAI's API types its errors (see ../shared/NOTES.md, "How OpenAI itself answers errors").
_OPENAI_TYPES = {401: "invalid_request_error", 404: "invalid_request_error", 429: "requests"}
_OPENAI_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}
SESSION = web.AppKey("session", aiohttp.ClientSession)


def _as_openai(status: int, error: dict[str, object]) -> dict[str, object]:
    error = dict(error)
    error["type"] = "server_error" if status >= 500 else _OPENAI_TYPES.get(status, error.get("type"))
    error["code"] = _OPENAI_CODES.get(status, error.get("code"))
    if error.get("param") == "model":
        error["param"] = None  # OpenAI names no param for a missing or unknown model
    return error


def _openai_shaped(upstream: str) -> web.Application:
    """Forwards everything to ``upstream``; rewrites only the error bodies into OpenAI's shapes."""

    async def forward(request: web.Request) -> web.StreamResponse:
        session: aiohttp.ClientSession = request.app[SESSION]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with session.request(
            request.method, upstream + request.rel_url.path_qs, headers=headers, data=await request.read()
        ) as answer:
            body = await answer.read()
            keep = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
            }
            if answer.status >= 400 and answer.content_type == "application/json":
                payload = json.loads(body)
                if isinstance(payload.get("error"), dict):
                    payload["error"] = _as_openai(answer.status, payload["error"])
                    body = json.dumps(payload).encode()
            return web.Response(status=answer.status, body=body, headers=keep)

    async def start(app: web.Application) -> None:
        app[SESSION] = aiohttp.ClientSession(auto_decompress=False)

    async def stop(app: web.Application) -> None:
        await app[SESSION].close()

    app = web.Application()
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


@pytest.fixture
def openai_shaped() -> Iterator[str]:
    with (
        BackgroundServer(lambda: create_proxy_app(Settings())) as proxy,
        BackgroundServer(lambda: _openai_shaped(proxy.url)) as front,
    ):
        yield front.url


def test_openai_shaped_errors_fail_only_vendor_rows_and_say_so(openai_shaped: str, tmp_path: object) -> None:
    config = RunConfig(target=Target(base_url=openai_shaped, api_key=PROXY_KEY, pace=False), max_examples=2)
    report = run(config, profile=get_profile("openai-proxy"))
    failed = [v for v in report.verdicts if v.verdict is VerdictKind.FAIL]
    assert failed, "OpenAI's own 401/404/429 shapes differ from the proxy document's table"
    assert [v.requirement for v in failed if not v.vendor_specific] == [], [
        (v.requirement, v.reason) for v in failed if not v.vendor_specific
    ]
    # Every report says which rows are the vendor's own.
    import io

    out = io.StringIO()
    terminal(report, out)
    for v in failed:
        line = next(line for line in out.getvalue().splitlines() if line.startswith(f"FAIL {v.requirement}"))
        assert VENDOR_LABEL in line
    junit = tmp_path / "junit.xml"  # type: ignore[operator]
    write_junit(report, junit)
    classes = {c.get("name"): c.get("classname") for c in ET.parse(junit).getroot().iter("testcase")}
    assert all(classes[v.requirement].endswith(".vendor") for v in failed)
    assert all(
        r["vendor_specific"]
        for r in report.as_dict()["requirements"]
        if r["requirement"] in {v.requirement for v in failed}
    )
