"""The API's documentation for people: Swagger UI on the API's contract, served by the API
itself when a deployment asks for it (template parameter `ApiDocs`, off by default).

The contract is `openapi.json` beside this module, a copy of docs/openapi.json that
`make openapi` writes and a test keeps identical. Swagger UI's script and stylesheet are the
ones Powertools ships, served as files so the page runs under a Content-Security-Policy that
allows no inline script.
"""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from importlib.resources import files
from importlib.resources.abc import Traversable

from aws_lambda_powertools.event_handler import Response

from newsroom.errors import ApiDocsNotPublishedError, NoSuchFileError

# file name -> (where it is, its content type)
_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "openapi.json": (("newsroom", "apidocs", "openapi.json"), "application/json"),
    "start.js": (("newsroom", "apidocs", "start.js"), "text/javascript; charset=utf-8"),
    "swagger-ui.js": (
        (
            "aws_lambda_powertools",
            "event_handler",
            "openapi",
            "swagger_ui",
            "swagger-ui-bundle.min.js",
        ),
        "text/javascript; charset=utf-8",
    ),
    "swagger-ui.css": (
        ("aws_lambda_powertools", "event_handler", "openapi", "swagger_ui", "swagger-ui.min.css"),
        "text/css; charset=utf-8",
    ),
}
FILE_NAMES = tuple(_FILES)
# Where each file is inside a built layer (its packages are under python/).
LAYER_PATHS = tuple("/".join(("python", *parts)) for parts, _ in _FILES.values())

# Scripts and styles only from this API, nothing inline but Swagger UI's style attributes;
# "Try it out" calls this same origin.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Links are relative, so the page works under a stage ("/v1") or a custom domain's base path.
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>newsroom API</title>
<link rel="stylesheet" href="api-docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui">Loading the API description&hellip;</div>
<script src="api-docs/swagger-ui.js"></script>
<script src="api-docs/start.js"></script>
</body>
</html>
"""


def page(*, published: bool) -> Response[str]:
    """The Swagger UI page (at `.../api-docs`; API Gateway routes no `/api-docs/` to it).

    Raises
    ------
    ApiDocsNotPublishedError
        When the deployment does not publish its documentation.
    """
    if not published:
        raise ApiDocsNotPublishedError()
    return _answer(_PAGE, "text/html; charset=utf-8")


def file(name: str, *, published: bool) -> Response[str]:
    """One of the files the page loads: the contract, Swagger UI's script and stylesheet,
    and the script that starts it.

    Raises
    ------
    ApiDocsNotPublishedError
        When the deployment does not publish its documentation.
    NoSuchFileError
        When there is no such file.
    """
    if not published:
        raise ApiDocsNotPublishedError()
    if name not in _FILES:
        raise NoSuchFileError("API documentation", name, FILE_NAMES)
    parts, content_type = _FILES[name]
    return _answer(_read(parts), content_type)


@cache
def _read(parts: tuple[str, ...]) -> str:
    """A file's text, read once per container (Swagger UI's script is 1.5 MB)."""
    resource: Traversable = files(parts[0])
    for part in parts[1:]:
        resource = resource / part
    return resource.read_text(encoding="utf-8")


def _answer(body: str, content_type: str) -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_type,
        body=body,
        headers={
            "Content-Security-Policy": _POLICY,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )
