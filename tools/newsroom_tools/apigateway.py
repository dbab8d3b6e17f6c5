"""API Gateway (REST API, Lambda proxy) in miniature: routes, the v1 event, the proxy result.

Only the standard library: the local server imports this before any handler is loaded.
What it mirrors from API Gateway, on purpose:

- a path matches a resource of the template (``/articles/{slug}``; ``{name+}`` is greedy);
  literal resources win over parameterised ones, as in API Gateway;
- ``path`` and ``pathParameters`` are passed as sent (still percent-encoded), while the query
  string is decoded; a header or query parameter given twice keeps its last value in the
  single-value maps and every value in the ``multiValue*`` maps; empty maps are ``None``;
- a body that is not UTF-8 arrives base64-encoded with ``isBase64Encoded`` true;
- a proxy result that is not a valid ``{"statusCode": ...}`` answers 502;
- under the stage (``/v1/articles``, as on the API's invoke URL) ``path`` has no stage and
  ``requestContext.path`` has it; served at the root (as a custom domain mapped there) both
  are the path as sent; under a custom domain's base path mapping (``/api/articles``) both
  are the path as sent, the base path included (API Gateway strips it only to pick the route);
- X-Forwarded-For gets the client's address appended to what the client sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from newsroom_tools.template import FunctionSpec

ACCOUNT_ID = "123456789012"
API_ID = "local"
STAGE = "v1"  # the template's StageName default; the local run passes the template's value
ANY_METHOD = "ANY"

_log = logging.getLogger(__name__)
_PARAMETER = re.compile(r"\{([^{}+]+)(\+?)\}")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# What API Gateway answers when the integration's result is not a proxy result.
_BAD_GATEWAY_BODY = {"message": "Internal server error"}


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as the local server received it."""

    method: str
    target: str  # the request line's target: path and query, e.g. "/articles?limit=2"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    client_ip: str = "127.0.0.1"

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    def header(self, name: str) -> str | None:
        """The last value of a header, whatever its case, or None."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None

    def below(self, prefix: str) -> HttpRequest | None:
        """The same request with `prefix` (``/v1``) taken off the front of its path, or None
        when the path is not `prefix` or below it. ``/v1`` alone is the root, ``/``."""
        parts = urlsplit(self.target)
        path = parts.path or "/"
        if path != prefix and not path.startswith(prefix + "/"):
            return None
        rest = path[len(prefix) :] or "/"
        return replace(self, target=rest + (f"?{parts.query}" if parts.query else ""))


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP answer; the server adds Content-Length, Date and Server."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    # Set on an answer API Gateway makes itself ("MISSING_AUTHENTICATION_TOKEN", "DEFAULT_5XX",
    # ...): the template's GatewayResponses of that type add their headers (`GatewayResponses`).
    gateway_response_type: str | None = None

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()
    ) -> HttpResponse:
        return cls(
            status=status,
            headers=(("Content-Type", "application/json"), *headers),
            body=json.dumps(payload, separators=(",", ":")).encode(),
        )

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


def gateway_error(
    status: int,
    code: str,
    message: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    response_type: str | None = None,
) -> HttpResponse:
    """An answer the gateway gives itself, in the API's one error shape; `response_type` is
    API Gateway's name for it when the deployed API gives it too (None for local-only routes)."""
    answer = HttpResponse.json(
        status,
        {"error": {"code": code, "message": message, "details": []}},
        headers=(("Cache-Control", "no-store"), *headers),
    )
    return replace(answer, gateway_response_type=response_type)


def missing_authentication_token() -> HttpResponse:
    """API Gateway's answer to an unknown route or an unsigned request to an AWS_IAM route."""
    return gateway_error(
        HTTPStatus.FORBIDDEN,
        "missing_authentication_token",
        "Missing Authentication Token",
        response_type="MISSING_AUTHENTICATION_TOKEN",
    )


@dataclass(frozen=True)
class Route:
    """One `Api` event of a function: a method on a resource of the template."""

    method: str  # upper case, or ANY
    resource: str  # the template path, e.g. /articles/{slug}
    function: str  # the function's logical id
    pattern: re.Pattern[str] = field(compare=False)
    parameters: tuple[str, ...] = ()
    greedy: bool = False
    authorizer: str | None = None  # "AWS_IAM" when API Gateway must see a SigV4 signature

    @classmethod
    def of(cls, method: str, resource: str, function: str, authorizer: str | None = None) -> Route:
        pattern, parameters, greedy = compile_resource(resource)
        return cls(method.upper(), resource, function, pattern, parameters, greedy, authorizer)

    @property
    def specificity(self) -> tuple[int, int, int]:
        """Sorts the most specific resource first: literal beats `{x}`, `{x}` beats `{x+}`."""
        literal = len(_PARAMETER.sub("", self.resource))
        return (int(self.greedy), len(self.parameters), -literal)


def compile_resource(resource: str) -> tuple[re.Pattern[str], tuple[str, ...], bool]:
    """A regex matching the raw paths of a resource, its parameter names, and its greediness.

    ``{name}`` matches one path segment; ``{name+}`` matches one or more.
    """
    parts: list[str] = []
    names: list[str] = []
    greedy = False
    position = 0
    for found in _PARAMETER.finditer(resource):
        parts.append(re.escape(resource[position : found.start()]))
        names.append(found.group(1))
        greedy = greedy or bool(found.group(2))
        # Groups are numbered: a template name need not be a Python identifier.
        parts.append("(.+)" if found.group(2) else "([^/]+)")
        position = found.end()
    parts.append(re.escape(resource[position:]))
    return re.compile("".join(parts)), tuple(names), greedy


@dataclass(frozen=True)
class Cors:
    """What the template's `Cors` setting makes API Gateway answer to a preflight request: SAM
    adds an OPTIONS method with a mock integration answering 200 with the body ``{}`` from
    its response template."""

    allow_origin: str
    allow_methods: str | None = None
    allow_headers: str | None = None
    max_age: str | None = None
    allow_credentials: bool = False

    def preflight(self, methods: Iterable[str]) -> HttpResponse:
        allow_methods = self.allow_methods or ",".join(sorted({*methods, "OPTIONS"}))
        headers = [
            ("Access-Control-Allow-Origin", self.allow_origin),
            ("Access-Control-Allow-Methods", allow_methods),
        ]
        if self.allow_headers:
            headers.append(("Access-Control-Allow-Headers", self.allow_headers))
        if self.max_age:
            headers.append(("Access-Control-Max-Age", self.max_age))
        if self.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        headers.append(("Content-Type", "application/json"))
        return HttpResponse(HTTPStatus.OK, tuple(headers), b"{}\n")


def _api_properties(template: Mapping[str, Any], api: str | None) -> Mapping[str, Any]:
    """The properties of an `AWS::Serverless::Api` (with `api` None, the template's only one),
    or {} for the implicit API."""
    resources = template.get("Resources", {})
    apis = {k: v for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Api"}
    if api is None and len(apis) == 1:
        api = next(iter(apis))
    properties: Mapping[str, Any] = apis.get(api or "", {}).get("Properties", {})
    return properties


def _header_value(resolved: Any) -> str | None:
    # SAM wants header values in single quotes, as API Gateway mapping templates do.
    return None if resolved is None else str(resolved).strip("'")


def _parameters(template: Mapping[str, Any], given: Mapping[str, str] | None) -> Mapping[str, str]:
    from newsroom_tools.template import parameter_defaults

    return parameter_defaults(dict(template)) if given is None else given


def cors_of(
    template: Mapping[str, Any],
    parameters: Mapping[str, str] | None = None,
    api: str | None = None,
) -> Cors | None:
    """The `Cors` of an `AWS::Serverless::Api` (or of `Globals.Api`), evaluated with the
    template `parameters` (their defaults when None), or None.

    With `api` None, the template's only API is used (or the implicit one's Globals).
    """
    from newsroom_tools.template import evaluate

    setting = _api_properties(template, api).get("Cors")
    if setting is None:
        setting = template.get("Globals", {}).get("Api", {}).get("Cors")
    if setting is None:
        return None
    if not isinstance(setting, Mapping):
        setting = {"AllowOrigin": setting}
    values = _parameters(template, parameters)

    def value(key: str) -> str | None:
        return _header_value(evaluate(template, setting.get(key), values))

    origin = value("AllowOrigin")
    if origin is None:
        return None
    return Cors(
        allow_origin=origin,
        allow_methods=value("AllowMethods"),
        allow_headers=value("AllowHeaders"),
        max_age=value("MaxAge"),
        allow_credentials=bool(setting.get("AllowCredentials", False)),
    )


@dataclass(frozen=True)
class GatewayResponses:
    """The headers the template's `GatewayResponses` add to API Gateway's own answers
    (response type, such as ``DEFAULT_4XX``, to its headers)."""

    headers: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        api: str | None = None,
    ) -> GatewayResponses:
        """Those of the template's API, evaluated with `parameters` (defaults when None)."""
        from newsroom_tools.template import evaluate

        values = _parameters(template, parameters)
        configured = _api_properties(template, api).get("GatewayResponses", {})
        return cls(
            {
                kind: tuple(
                    (name, _header_value(evaluate(template, value, values)) or "")
                    for name, value in setting.get("ResponseParameters", {})
                    .get("Headers", {})
                    .items()
                )
                for kind, setting in configured.items()
            }
        )

    def apply(self, response: HttpResponse) -> HttpResponse:
        """`response` with the headers of its type when API Gateway made it: the type's own,
        or else those of ``DEFAULT_4XX`` / ``DEFAULT_5XX`` by its status."""
        if response.gateway_response_type is None:
            return response
        default = (
            "DEFAULT_5XX" if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR else "DEFAULT_4XX"
        )
        extra = self.headers.get(response.gateway_response_type, self.headers.get(default, ()))
        return replace(response, headers=(*response.headers, *extra))


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class Router:
    """Picks the function route for a method and path, as API Gateway would."""

    def __init__(
        self,
        routes: Iterable[Route],
        cors: Cors | None = None,
        gateway_responses: GatewayResponses | None = None,
    ) -> None:
        self.routes = sorted(routes, key=lambda route: route.specificity)
        self.cors = cors
        self.gateway_responses = gateway_responses or GatewayResponses()

    @classmethod
    def of(
        cls,
        specs: Iterable[FunctionSpec],
        cors: Cors | None = None,
        gateway_responses: GatewayResponses | None = None,
    ) -> Router:
        """Every `Api` route of every function."""
        return cls(
            (
                Route.of(route.method, route.path, spec.name, route.auth)
                for spec in specs
                for route in spec.routes
            ),
            cors,
            gateway_responses,
        )

    def match(self, method: str, path: str) -> RouteMatch | HttpResponse:
        """The route to invoke, or the answer API Gateway gives without invoking anything.

        API Gateway answers a path or method it does not know with 403 "Missing Authentication
        Token" (it does not reveal which paths exist), in the API's error shape as the template's
        GatewayResponses set it; OPTIONS on a known path is the CORS preflight when the API has
        `Cors`.
        """
        method = method.upper()
        resource: str | None = None
        on_resource: list[tuple[Route, re.Match[str]]] = []
        for route in self.routes:  # most specific resource first
            if resource is not None and route.resource != resource:
                continue
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            resource = route.resource
            on_resource.append((route, found))
        if not on_resource:
            return missing_authentication_token()
        for route, found in on_resource:
            if route.method in (method, ANY_METHOD):
                return RouteMatch(route, dict(zip(route.parameters, found.groups(), strict=True)))
        methods = sorted({route.method for route, _ in on_resource})
        if method == "OPTIONS" and self.cors is not None:
            return self.cors.preflight(methods)
        return missing_authentication_token()


def to_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    stage: str = STAGE,
    stage_in_path: bool = True,
    base_path: str = "",
    now: datetime | None = None,
    request_id: str | None = None,
    caller_key: str | None = None,
    caller_arn: str | None = None,
) -> dict[str, Any]:
    """The REST API (payload 1.0) proxy event API Gateway sends the function for `request`,
    whose path is the one below the stage.

    `stage_in_path` says whether the client's URL had the stage in front (``/v1/articles``,
    the invoke URL), or not (a custom domain mapped at its root). `base_path` is the custom
    domain's base path mapping the request came under (``api``), if any: it stays in `path`.
    `requestContext.path` is the path the client used. `caller_key` and `caller_arn` identify
    the signer of an AWS_IAM-authorized request.
    """
    now = now or datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    route = match.route
    host = request.header("Host") or "localhost"
    headers = _gateway_headers(request, host, now)
    single_headers = {name: values[-1] for name, values in headers.items()}
    query = _multi(parse_qsl(request.query, keep_blank_values=True))
    body, is_base64 = _event_body(request.body)
    user_agent = request.header("User-Agent")
    mapped_path = f"/{base_path}{request.path}" if base_path else request.path
    return {
        "resource": route.resource,
        "path": mapped_path,
        "httpMethod": request.method.upper(),
        "headers": single_headers or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": hashlib.sha256(route.resource.encode()).hexdigest()[:6],
            "resourcePath": route.resource,
            "httpMethod": request.method.upper(),
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "requestTime": _request_time(now),
            "path": f"/{stage}{request.path}" if stage_in_path and not base_path else mapped_path,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": ACCOUNT_ID if caller_key else None,
                "cognitoIdentityId": None,
                "caller": caller_key,
                "sourceIp": request.client_ip,
                "principalOrgId": None,
                "accessKey": caller_key,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": caller_arn,
                "userAgent": user_agent,
                "user": caller_key,
            },
            "domainName": host,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _gateway_headers(request: HttpRequest, host: str, now: datetime) -> dict[str, list[str]]:
    """The client's headers plus those API Gateway adds on the way in."""
    headers = _multi(request.headers)
    present = {name.lower() for name in headers}
    port = host.rsplit(":", 1)[1] if ":" in host else "80"
    # API Gateway appends the address it saw to the X-Forwarded-For the client sent.
    sent = [value for name, value in request.headers if name.lower() == "x-forwarded-for"]
    for name in [name for name in headers if name.lower() == "x-forwarded-for"]:
        del headers[name]
    headers["X-Forwarded-For"] = [", ".join([*sent[-1:], request.client_ip])]
    added = {
        "X-Forwarded-Port": port,
        "X-Forwarded-Proto": "http",
        "X-Amzn-Trace-Id": f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}",
    }
    for name, value in added.items():
        if name.lower() not in present:
            headers[name] = [value]
    return headers


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _event_body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def _request_time(now: datetime) -> str:
    # API Gateway's format, with English month names whatever the locale.
    now = now.astimezone(UTC)
    return f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000"


def from_proxy_result(result: Any) -> HttpResponse:
    """The HTTP answer for a function's proxy result, or 502 when it is not one.

    As in API Gateway, `multiValueHeaders` wins over `headers` for a name present in both.
    """
    if not isinstance(result, Mapping) or not _is_status(result.get("statusCode")):
        _log.error("the function returned no valid proxy result (statusCode missing)")
        return HttpResponse.json(HTTPStatus.BAD_GATEWAY, _BAD_GATEWAY_BODY)
    multi: Mapping[str, Any] = result.get("multiValueHeaders") or {}
    single: Mapping[str, Any] = result.get("headers") or {}
    headers = [(name, str(value)) for name, values in multi.items() for value in values or ()]
    headers += [(name, str(value)) for name, value in single.items() if name not in multi]
    raw = result.get("body")
    try:
        body = _result_body(raw, bool(result.get("isBase64Encoded")))
    except ValueError:
        _log.error("the function's body is not valid base64 although isBase64Encoded is true")
        return bad_gateway()
    return HttpResponse(int(result["statusCode"]), tuple(headers), body)


def bad_gateway() -> HttpResponse:
    """API Gateway's answer when the function failed (raised, timed out, ...)."""
    answer = HttpResponse.json(HTTPStatus.BAD_GATEWAY, _BAD_GATEWAY_BODY)
    return replace(answer, gateway_response_type="DEFAULT_5XX")


def _is_status(value: Any) -> bool:
    try:
        return 100 <= int(value) <= 599
    except (TypeError, ValueError):
        return False


def _result_body(raw: Any, is_base64: bool) -> bytes:
    if raw is None:
        return b""
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if is_base64:
        return base64.b64decode(text, validate=True)
    return text.encode("utf-8")
