"""``/docs`` and ``/redoc`` work without the internet: every URL their HTML names is on
this origin, and the app serves it (issue [2/8] item 6)."""

import re

import httpx
import pytest

from syllabus.edge import DOCS_CSP

URL_IN_HTML = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|\burl: ?["']([^"']+)["']""")
EXPECTED_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


@pytest.mark.parametrize(("page", "assets"), [("/docs", 4), ("/redoc", 3)])
async def test_the_docs_pages_name_only_local_assets_and_they_are_served(
    probe_client: httpx.AsyncClient, page: str, assets: int
) -> None:
    response = await probe_client.get(page)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == DOCS_CSP
    html = response.text
    urls = sorted({a or b for a, b in URL_IN_HTML.findall(html)})
    assert len(urls) == assets, urls  # scripts, stylesheet, favicon, the OpenAPI document
    assert re.search(r"https?://", html) is None, html
    for url in urls:
        assert re.match(r"/[^/]", url), url
        served = await probe_client.get(url)
        assert served.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert served.headers["content-type"].startswith(EXPECTED_TYPES[suffix]), url
        assert len(served.content) > 1000, url


def test_the_docs_policy_allows_this_origin_only() -> None:
    assert "http" not in DOCS_CSP
    assert "script-src 'self' 'unsafe-inline';" in DOCS_CSP
