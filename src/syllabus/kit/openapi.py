"""The OpenAPI document as generators want it: every schema named, response headers
declared. Rules over the whole document, so a route added later follows them without
declaring anything (tests/test_openapi.py generates a client from the result)."""

import json
import re
from typing import Any

PAGE_HEADERS = {
    "Link": {
        "description": 'The next page: `<…?cursor=…>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }
}
CACHE_HEADERS = {
    "ETag": {
        "description": "Strong validator of this answer; send it back as `If-None-Match`.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"schema": {"type": "string", "example": "private, no-cache"}},
}
RETRY_HEADERS = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
AUTH_HEADERS = {
    "WWW-Authenticate": {
        "description": "`Bearer` when a token is missing or invalid.",
        "schema": {"type": "string"},
    }
}
LOCATION_HEADERS = {
    "Location": {
        "description": "Where the created resource can be read.",
        "schema": {"type": "string", "format": "uri"},
    }
}
_REF = "#/components/schemas/"
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def name_schemas_by_title(document: dict[str, Any]) -> dict[str, Any]:
    """A component whose key is not its title (a generic, ``Page_CoursePublic_``) takes
    its title (``CoursePublicPage``, see ``Page.model_parametrized_name``), every
    reference following it."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renames = {
        key: schema["title"]
        for key, schema in schemas.items()
        if key != schema.get("title")
        and _IDENTIFIER.fullmatch(str(schema.get("title", "")))
        and schema["title"] not in schemas
        and not _IDENTIFIER.fullmatch(key)
    }
    if not renames:
        return document
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"{_REF}{old}"', f'"{_REF}{new}"')
    renamed: dict[str, Any] = json.loads(text)
    components = renamed["components"]["schemas"]
    for old, new in renames.items():
        components[new] = components.pop(old)
    renamed["components"]["schemas"] = dict(sorted(components.items()))
    return renamed


def _returns_page(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("Page")


def declare_headers(document: dict[str, Any]) -> None:
    """The headers the API sends, on the responses that carry them: ``Link`` on every
    page of a list, ``ETag`` (and ``Cache-Control``) on reads that answer ``304``,
    ``Retry-After`` on 429 and 503, ``WWW-Authenticate`` on 401."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses: dict[str, Any] = operation.get("responses", {})
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                if status == "200" and _returns_page(response):
                    headers.update(PAGE_HEADERS)
                if status in ("200", "304") and "304" in responses:
                    headers.update(CACHE_HEADERS)
                if status in ("429", "503"):
                    headers.update(RETRY_HEADERS)
                if status == "401":
                    headers.update(AUTH_HEADERS)
                if not headers:
                    del response["headers"]
