"""Writes (or checks) docs/openapi.json, the API's contract, from the functions' resolvers.

Powertools describes each function's routes; this merges them into one OpenAPI 3.1 document
and states what Powertools cannot know: every error answer has the project's one shape
(`ErrorBody`), cacheable reads may answer 304, deletes answer 204, and moderation routes need
a SigV4 signature (API Gateway's AWS_IAM authorization). Routes that take a comment's edit token
say so themselves (`security=[{"editToken": []}]`); the scheme is declared here.

The same document is written twice: docs/openapi.json for readers of the repository, and
shared/newsroom/apidocs/openapi.json, which the layer ships for the Swagger UI page.

    python -m newsroom_tools.openapi           # write both copies
    python -m newsroom_tools.openapi --check   # fail if either differs from the code
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from newsroom.models.common import ErrorBody
from newsroom_tools.template import PROJECT_ROOT, functions, load_template

SPEC_PATH = PROJECT_ROOT / "docs" / "openapi.json"
LAYER_SPEC_PATH = PROJECT_ROOT / "shared" / "newsroom" / "apidocs" / "openapi.json"
_POWERTOOLS_ERRORS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
_ERROR: dict[str, Any] = {
    "description": "An error, in the API's one error shape (docs/api.md)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
_SIGV4 = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "description": "AWS Signature Version 4 (API Gateway AWS_IAM authorization)",
    "x-amazon-apigateway-authtype": "awsSigv4",
}

_EDIT_TOKEN = {
    "type": "http",
    "scheme": "bearer",
    "description": "The edit_token a comment's post was answered with "
    "(Authorization: Bearer <edit_token>), while the comment's editable_until lasts",
}


def _resolvers() -> list[tuple[Any, set[tuple[str, str]]]]:
    """(resolver, its AWS_IAM routes) of every function that serves API routes."""
    found = []
    for spec in functions(load_template()).values():
        if not spec.routes:
            continue
        module_path = spec.module_file.relative_to(PROJECT_ROOT).with_suffix("")
        module = importlib.import_module(".".join(module_path.parts))
        signed = {(r.method.lower(), r.path) for r in spec.routes if r.auth == "AWS_IAM"}
        found.append((module.app, signed))
    return found


def _routes_with(resolver: Any, middleware: str) -> set[tuple[str, str]]:
    """The (method, path) of routes that carry the middleware of that name (`cacheable` for
    the conditional-GET one, a closure, so its qualified name starts with it)."""
    routes = [*resolver._static_routes, *resolver._dynamic_routes]
    return {
        (route.method.lower(), route.openapi_path)
        for route in routes
        if any(
            getattr(m, "__qualname__", "").split(".")[0] == middleware for m in route.middlewares
        )
    }


def _operation(
    operation: dict[str, Any], *, cacheable: bool, pages: bool, signed: bool
) -> dict[str, Any]:
    responses = {
        code: answer
        for code, answer in operation["responses"].items()
        if not _refers_to(answer, _POWERTOOLS_ERRORS)
    }
    ok = responses.get("200", {})
    if ok.get("content", {}).get("application/json", {}).get("schema", {}).get("type") == "null":
        responses["204"] = {"description": "Done; no content"}
        del responses["200"]
    for answer in responses.values():
        answer.setdefault("description", "Success")
    if cacheable:
        responses["304"] = {
            "description": "Not modified: If-None-Match holds the current ETag (or, without "
            "it, If-Modified-Since is not before a feed's Last-Modified)"
        }
    error = _ERROR
    if pages:
        # Pages for people (email links) answer errors as a page too, unless JSON is asked for.
        error = {**_ERROR, "content": {**_ERROR["content"], "text/html": {}}}
    responses["4XX"] = error
    responses["5XX"] = error
    operation["responses"] = dict(sorted(responses.items()))
    if signed:
        operation["security"] = [{"sigv4": []}]
    return operation


def _refers_to(answer: dict[str, Any], schemas: tuple[str, ...]) -> bool:
    text = json.dumps(answer)
    return any(f'#/components/schemas/{name}"' in text for name in schemas)


def build() -> dict[str, Any]:
    """The whole API's OpenAPI document."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for resolver, signed in _resolvers():
        part = json.loads(
            resolver.get_openapi_json_schema(
                title="newsroom",
                version="1",
                security_schemes={"editToken": HTTPBearer.model_validate(_EDIT_TOKEN)},
            )
        )
        cacheable = _routes_with(resolver, "cacheable")
        pages = _routes_with(resolver, "pages_for_people")
        for path, operations in part["paths"].items():
            for method, operation in operations.items():
                paths.setdefault(path, {})[method] = _operation(
                    operation,
                    cacheable=(method, path) in cacheable,
                    pages=(method, path) in pages,
                    signed=(method, path) in signed,
                )
        schemas |= part.get("components", {}).get("schemas", {})
    for name in _POWERTOOLS_ERRORS:
        schemas.pop(name, None)
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas |= error_schema.pop("$defs", {})
    schemas["ErrorBody"] = error_schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newsroom",
            "version": "1",
            "description": "Articles, reader comments and their moderation. "
            "Generated from the functions by `make openapi`; see docs/api.md.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"editToken": _EDIT_TOKEN, "sigv4": _SIGV4},
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    wanted = render()
    copies = (SPEC_PATH, LAYER_SPEC_PATH)
    if args.check:
        stale = [p for p in copies if not p.exists() or p.read_text() != wanted]
        for path in stale:
            print(
                f"{path.relative_to(PROJECT_ROOT)} is out of step with the code; "
                "run `make openapi`.",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for path in copies:
        path.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
