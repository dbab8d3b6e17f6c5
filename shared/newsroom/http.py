"""HTTP wiring shared by the API functions: the one error shape and conditional GETs.

Every error leaves the API as ``{"error": {"code", "message", "details": [...]}}``
(`newsroom.models.common.ErrorBody`); `install_error_handlers` is the one place domain errors
become HTTP answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel

from newsroom.errors import (
    MalformedRequestError,
    NewsroomError,
    PayloadTooLargeError,
    ServiceMisconfiguredError,
    ServiceUnavailableError,
)
from newsroom.models.common import ErrorBody, ErrorDetail, ErrorInfo
from newsroom.observability import logger, metrics
from newsroom.secrets import SecretMissingError, SecretTooShortError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from newsroom.pages import Quote

_LOCATIONS = {"path", "query", "header", "body", "cookie"}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """A response in the API's one error shape."""
    body = ErrorBody(error=ErrorInfo(code=code, message=message, details=details or []))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _validation_detail(error: Any) -> ErrorDetail:
    loc = [str(part) for part in error.get("loc", ())]
    location = loc[0] if loc and loc[0] in _LOCATIONS else "body"
    field = ".".join(loc[1:] if loc and loc[0] in _LOCATIONS else loc) or location
    # Pydantic's message says what is wrong without echoing the input back.
    return ErrorDetail(location=location, field=field, message=str(error.get("msg", "invalid")))


def _invalid_request(exc: RequestValidationError) -> Response[str]:
    details = [_validation_detail(e) for e in exc.errors()]
    fields = ", ".join(sorted({d.field for d in details}))
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", f"Invalid {fields}.", details
    )


def _domain_error(exc: NewsroomError) -> Response[str]:
    details = []
    if exc.field is not None:
        details.append(
            ErrorDetail(location=exc.location or "body", field=exc.field, message=exc.message)
        )
    if isinstance(exc, ServiceUnavailableError):
        logger.warning("dependency unavailable", cause=repr(exc.__cause__))
    return error_response(exc.status_code, exc.code, exc.message, details, exc.headers())


def _no_route(exc: NotFoundError) -> Response[str]:
    return error_response(HTTPStatus.NOT_FOUND, "route_not_found", "No such resource.")


def _service_error(exc: ServiceError) -> Response[str]:
    status = HTTPStatus(exc.status_code)
    return error_response(status, status.phrase.lower().replace(" ", "_"), str(exc.msg))


def _secret_unavailable(exc: SecretMissingError | SecretTooShortError) -> Response[str]:
    """The project's secret cannot be read or is too short: every request needing it fails
    alike, so the operator is told (an error log naming the parameter, the alarmed
    `SecretUnavailable` metric) and the reader is answered 503, never 500."""
    logger.error(
        "the project's secret cannot be used: set it in SSM (docs/operations.md)",
        error=type(exc).__name__,
        cause=str(exc),
    )
    metrics.add_metric(name="SecretUnavailable", unit="Count", value=1)
    error = ServiceMisconfiguredError()
    return error_response(error.status_code, error.code, error.message, [], error.headers())


def _unexpected(exc: Exception) -> Response[str]:
    """A bug: answered 500, counted (`UnhandledErrors`, alarmed: Lambda's own Errors metric
    never sees an exception answered here) and logged with its type and where it was raised,
    not its message, which can quote what the code was given (Pydantic's quotes the input, a
    commenter's address among it)."""
    logger.error("unhandled error", error=type(exc).__name__, raised_at=_raised_at(exc))
    metrics.add_metric(name="UnhandledErrors", unit="Count", value=1)
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side."
    )


def _raised_at(exc: BaseException, frames: int = 8) -> list[str]:
    """The innermost `frames` of the exception's traceback, as ``file:line in function``."""
    return [
        f"{'/'.join(frame.filename.rsplit('/', 2)[-2:])}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)[-frames:]
    ]


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Register the handlers that turn every failure into the API's error shape.

    Powertools picks the handler of the closest class in the exception's MRO, so the more
    specific domain errors win over `NewsroomError` and everything else lands in `_unexpected`.
    """
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(NewsroomError)(_domain_error)
    app.not_found(_no_route)
    app.exception_handler(ServiceError)(_service_error)
    app.exception_handler([SecretMissingError, SecretTooShortError])(_secret_unavailable)
    app.exception_handler(Exception)(_unexpected)


def precheck_json_body(
    event: dict[str, Any], *, max_bytes: int, resources: frozenset[str]
) -> dict[str, Any] | None:
    """Refuse the body of a request to one of the JSON `resources` before routing: too large
    (413), not declared as JSON or not a JSON object (400). Returns an API Gateway proxy
    response, or None to go on.

    Runs before the resolver because Powertools validates the body before any middleware,
    and an oversized body must be refused as such, not as an invalid field.
    """
    raw = event.get("body")
    if event.get("resource") not in resources or event.get("httpMethod") not in (
        "POST",
        "PUT",
        "PATCH",
    ):
        return None
    raw = raw or ""
    body = _bytes_of(raw, base64_encoded=bool(event.get("isBase64Encoded")))
    error: NewsroomError | None = None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body is None:
        error = MalformedRequestError("The body is marked as base64 but is not.")
    elif len(body) > max_bytes:
        error = PayloadTooLargeError(max_bytes)
    elif media_type != "application/json":
        error = MalformedRequestError(
            "Send the body as JSON with Content-Type: application/json.",
            field="Content-Type",
            location="header",
        )
    else:
        try:
            parsed = json.loads(body.decode("utf-8"), object_pairs_hook=_refuse_duplicate_keys)
        except (UnicodeDecodeError, ValueError) as exc:
            error = MalformedRequestError(f"The body is not valid JSON: {_reason(exc)}")
        except RecursionError:  # Python's JSON reader recurses once per level of nesting
            error = MalformedRequestError(_TOO_DEEP)
        else:
            if not isinstance(parsed, dict):
                error = MalformedRequestError("The body must be a JSON object.")
            elif _depth(parsed) > MAX_JSON_DEPTH:
                # Refused here, so that no later reader of the body runs out of stack.
                error = MalformedRequestError(_TOO_DEEP)
    if error is None:
        return None
    response = _domain_error(error)
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": {
            "Content-Type": [content_types.APPLICATION_JSON],
            **{k: [str(v)] for k, v in response.headers.items()},
        },
        "body": response.body,
        "isBase64Encoded": False,
    }


def _bytes_of(raw: str, *, base64_encoded: bool) -> bytes | None:
    """The body's bytes; None when it claims to be base64 and is not."""
    if not base64_encoded:
        return raw.encode()
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        return None


# The comment form is flat; no JSON body of the API nests deeper than this.
MAX_JSON_DEPTH = 20
_TOO_DEEP = f"The body nests more than {MAX_JSON_DEPTH} levels deep."


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0); iterative,
    so a deep value cannot exhaust the stack."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


class _DuplicateKeyError(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The JSON object of `pairs`, refusing the first key given twice; one pass, so a body of
    many keys costs no more than reading it."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKeyError(f"duplicate key {key!r}")
        seen.add(key)
    return dict(pairs)


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)


def relative_reference(base_path: str, target_path: str) -> str:
    """A relative URL reference that, resolved against the URL a client used to reach
    `base_path` (a path as the routes see it, `route_path`), leads to `target_path` behind
    the same front: the stage (`/v1`), a custom domain's base path, or nothing.

    The function never sees that front, so an absolute path (`/articles/...`) would leave it
    and meet API Gateway's 403. Only the segments after it differ between the two URLs.
    """
    base_directory = base_path.split("/")[1:-1]
    target = target_path.split("/")[1:]
    common = 0
    while (
        common < min(len(base_directory), len(target) - 1)
        and base_directory[common] == target[common]
    ):
        common += 1
    ups = len(base_directory) - common
    # "./" keeps a first segment with a colon from reading as a scheme.
    return ("../" * ups or "./") + "/".join(target[common:])


def location_of(app: APIGatewayRestResolver, path: str) -> str:
    """A `Location` for `path` of this API, relative to the request's own URL (see
    `relative_reference`)."""
    return relative_reference(route_path(app.current_event), path)


# The custom domain's base path mapping (template parameter DomainBasePath): API Gateway
# passes it in the event's `path` (``/api/articles/...``), unlike the stage of the invoke URL.
BASE_PATH_VARIABLE = "BASE_PATH"
# The header our CloudFront distribution adds to every origin request (template parameter Cdn):
# CloudFront replaces a viewer's header of that name, so only the distribution sends the value.
EDGE_HEADER = "X-Newsroom-Edge"


def _base_path_prefix() -> str:
    """``/api`` when the API is mapped at ``api`` on its custom domain, else empty."""
    base_path = os.environ.get(BASE_PATH_VARIABLE, "").strip("/")
    return f"/{base_path}" if base_path else ""


def mapped_prefixes() -> list[str | re.Pattern[str]]:
    """What the resolvers strip from a path before matching routes (their `strip_prefixes`):
    the base path the API is mapped at on its custom domain, if any."""
    prefix = _base_path_prefix()
    return [prefix] if prefix else []


def route_path(event: APIGatewayProxyEvent) -> str:
    """The request's path as the routes see it: without the custom domain's base path."""
    prefix = _base_path_prefix()
    if prefix and (event.path == prefix or event.path.startswith(prefix + "/")):
        return event.path[len(prefix) :] or "/"
    return event.path


def request_sender(
    app: APIGatewayRestResolver, *, trusted_edge_secret: str = ""
) -> tuple[str, str]:
    """(reader's IP, user agent) of the request.

    The IP is API Gateway's source IP: the reader's, or, behind our CloudFront distribution, its
    edge's. There the reader's is in `CloudFront-Viewer-Address` (``ip:port``) and in the entry
    of X-Forwarded-For CloudFront added before API Gateway's own (the edge); both are read only
    when the request carries `EDGE_HEADER` with `trusted_edge_secret`, else a client that
    calls the API directly could name any address.
    """
    identity = app.current_event.request_context.identity
    source_ip = identity.source_ip or ""
    user_agent = identity.user_agent or ""
    headers = app.current_event.headers
    offered = headers.get(EDGE_HEADER) or ""
    if not trusted_edge_secret or not hmac.compare_digest(
        offered.encode(), trusted_edge_secret.encode()
    ):
        return source_ip, user_agent
    viewer = (headers.get("CloudFront-Viewer-Address") or "").strip()
    if viewer:
        return viewer.rsplit(":", 1)[0].strip("[]"), user_agent
    hops = [hop.strip() for hop in (headers.get("X-Forwarded-For") or "").split(",") if hop.strip()]
    if hops and hops[-1] == source_ip:
        hops.pop()
    return (hops[-1] if hops else source_ip), user_agent


def api_base_url(event: APIGatewayProxyEvent) -> str:
    """The URL the caller reached the API at, up to its routes, for links in emails when
    `PublicBaseUrl` names none: the host API Gateway saw, and whatever its path had before the
    route's (the stage on the execute-api host, a base path mapping on a custom domain)."""
    context = event.request_context
    prefix = (context.path or "").removesuffix(route_path(event)).rstrip("/")
    return f"https://{context.domain_name}{prefix}"


def public_base_url(event: APIGatewayProxyEvent, configured: str) -> str:
    """The base of absolute links to this API (feeds): `PublicBaseUrl` when the deployment
    names one, else where this request reached the API (`api_base_url`)."""
    return configured.rstrip("/") or api_base_url(event)


def bearer_token(app: APIGatewayRestResolver) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750; the scheme in any
    case), or None when there is none or another scheme (a SigV4 signature)."""
    scheme, _, token = (app.current_event.headers.get("Authorization") or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _etag_of(body: Any) -> str:
    canonical = (
        body
        if isinstance(body, str)
        else json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    )
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _not_modified_since(if_modified_since: str | None, last_modified: str | None) -> bool:
    """Whether a `Last-Modified` (an HTTP date) is at or before `If-Modified-Since`; False
    when either is missing or not a date (RFC 9110 §13.1.3: an invalid date is ignored)."""
    if not if_modified_since or not last_modified:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
        modified = parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None or modified.tzinfo is None:  # "-0000": not a valid HTTP date
        return False
    return modified <= since


def http_date(moment: datetime) -> str:
    """`moment` as an HTTP date (RFC 9110 §5.6.7: IMF-fixdate, GMT, whole seconds)."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def cacheable(
    max_age: Callable[[], int],
) -> Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]:
    """Route middleware: ETag and Cache-Control on a 200 read, 304 when If-None-Match matches,
    or, for a route that says when its answer last changed (`Last-Modified`) and a request
    without If-None-Match, when If-Modified-Since is not before it (RFC 9110 §13.2.2).

    `max_age` is called per request so settings are read lazily, never at import; a route
    that sets its own Cache-Control keeps it.
    """

    def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        response = next_middleware(app)
        if response.status_code != HTTPStatus.OK:
            return response
        etag = _etag_of(response.body)
        cache_control = response.headers.get("Cache-Control") or f"public, max-age={max_age()}"
        headers = {"ETag": etag, "Cache-Control": str(cache_control)}
        last_modified = response.headers.get("Last-Modified")
        if last_modified:
            headers["Last-Modified"] = str(last_modified)
        request_headers = app.current_event.headers
        if_none_match = request_headers.get("If-None-Match")
        if _matches(if_none_match, etag) or (
            not if_none_match
            and _not_modified_since(
                request_headers.get("If-Modified-Since"), headers.get("Last-Modified")
            )
        ):
            return Response(status_code=HTTPStatus.NOT_MODIFIED, body="", headers=headers)
        response.headers.update(headers)
        return response

    return middleware


def never_cached(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Route middleware: ``Cache-Control: no-store`` on every answer (moderation answers carry
    commenters' emails; no browser or proxy may keep them)."""
    response = next_middleware(app)
    response.headers["Cache-Control"] = "no-store"
    return response


def wants_json(app: APIGatewayRestResolver) -> bool:
    """True when the client asked for JSON (`Accept: application/json`), not a page."""
    return "application/json" in (app.current_event.headers.get("Accept") or "").lower()


def html_response(
    status: int,
    title: str,
    message: str,
    *,
    button: str | None = None,
    quote: Quote | None = None,
) -> Response[str]:
    """A page for a person (`newsroom.pages.page`); its button posts to the page's own URL."""
    from newsroom.pages import page

    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=page(title, message, button=button, quote=quote),
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer",
        },
    )


def pages_for_people(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Route middleware: a domain error becomes an HTML page unless the client asked for JSON."""
    try:
        return next_middleware(app)
    except NewsroomError as exc:
        if wants_json(app):
            raise
        response = html_response(exc.status_code, "This link cannot be used", exc.message)
        response.headers.update(exc.headers())
        return response


def page_or_json(
    app: APIGatewayRestResolver,
    model: BaseModel,
    *,
    title: str,
    message: str,
    button: str | None = None,
    quote: Quote | None = None,
) -> Response[Any]:
    """The model as JSON when the client asked for it, else as a page for a person; a page's
    button POSTs back to the same URL (the one the client used, stage and all)."""
    if wants_json(app):
        return Response(
            status_code=HTTPStatus.OK,
            content_type=content_types.APPLICATION_JSON,
            body=model.model_dump_json(),
            headers={"Cache-Control": "no-store"},
        )
    return html_response(HTTPStatus.OK, title, message, button=button, quote=quote)
