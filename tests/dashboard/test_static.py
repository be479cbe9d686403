"""The dashboard's files: served by the mock itself and self-contained (no CDN, works offline)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx2
import pytest

from mockserver.background import BackgroundServer
from mockserver.routes.inspect import STATIC_DIR

ASSETS = ("index.html", "dashboard.css", "dashboard.js", "login.html")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_dashboard_index_links_only_its_own_files() -> None:
    parser = _Links()
    parser.feed((STATIC_DIR / "index.html").read_text())
    local = [u for u in parser.urls if u.startswith("/__mock/static/")]
    assert len(local) == 2  # the stylesheet and the script
    for url in parser.urls:
        assert url in local or url.startswith(("#", "data:")), url
        if url in local:
            assert (STATIC_DIR / url.removeprefix("/__mock/static/")).is_file(), url


@pytest.mark.parametrize("name", ASSETS)
def test_dashboard_asset_loads_nothing_from_outside(name: str) -> None:
    text = (STATIC_DIR / name).read_text()
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), "an external URL"
    assert "@import" not in text
    assert "innerHTML" not in text  # journal bodies are untrusted: the page renders with textContent


def test_dashboard_served_by_the_mock(mock: BackgroundServer) -> None:
    page = httpx2.get(mock.url + "/__mock/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="/__mock/static/dashboard.js"' in page.text
    for name, kind in (("dashboard.js", "javascript"), ("dashboard.css", "text/css")):
        asset = httpx2.get(f"{mock.url}/__mock/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"], name
        assert asset.text == (STATIC_DIR / name).read_text()
