"""``/docs`` (Swagger UI) and ``/redoc`` that work without the internet.

FastAPI's own pages load their scripts, stylesheet and favicon from jsDelivr and
fastapi.tiangolo.com, so on a closed network (or behind a strict proxy) they stay blank.
Here the same pages load them from this app: the files ship inside the ``fastapi-offline``
package (pinned in uv.lock, so the Swagger UI and ReDoc versions change only with it) and
are served under :data:`ASSETS_URL`. ReDoc is told not to fetch Google Fonts.
"""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
PAGES = (DOCS_URL, OAUTH2_REDIRECT_URL, REDOC_URL)
"""The HTML pages, which get the docs' Content-Security-Policy (see ``edge.DOCS_CSP``)."""


def install_docs(app: FastAPI) -> None:
    """Mount the assets and add the three pages (none of them in the OpenAPI document)."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            # No badge from validator.swagger.io: the page makes no request elsewhere.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def docs_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
