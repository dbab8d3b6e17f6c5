"""The error shape and conditional GETs, on a small resolver with hand-made events."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urljoin

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query
from hypothesis import given
from hypothesis import strategies as st

from newsroom.errors import ArticleNotFoundError, ServiceUnavailableError
from newsroom.http import (
    _refuse_duplicate_keys,
    cacheable,
    install_error_handlers,
    relative_reference,
)
from newsroom.models.common import ErrorBody
from newsroom_tools.template import PROJECT_ROOT
from tests.apigw import LambdaContext, rest_event

app = APIGatewayRestResolver(enable_validation=True)
install_error_handlers(app)


@app.get("/things", middlewares=[cacheable(lambda: 42)])
def handle_list_things(n: Annotated[int, Query(ge=1)] = 1) -> dict[str, int]:
    return {"n": n}


@app.get("/missing")
def handle_get_missing() -> None:
    raise ArticleNotFoundError("gone")


@app.get("/busy")
def handle_get_busy() -> None:
    raise ServiceUnavailableError()


@app.get("/broken")
def handle_get_broken() -> None:
    raise RuntimeError("bug with secret detail")


@app.get("/broken-with-an-address")
def handle_get_broken_with_an_address() -> None:
    raise ValueError("no profile for reader@example.org")


def call(path: str, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = app.resolve(rest_event("GET", path, **kwargs), LambdaContext())
    return result


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("/things", {"n": "0"}, 422, "invalid_request"),
        ("/missing", None, 404, "article_not_found"),
        ("/busy", None, 503, "service_unavailable"),
        ("/broken", None, 500, "internal_error"),
        ("/nowhere", None, 404, "route_not_found"),
    ],
)
def test_every_error_has_the_one_shape(
    path: str, query: dict[str, str] | None, status: int, code: str
) -> None:
    result = call(path, query=query)

    assert result["statusCode"] == status
    body = ErrorBody.model_validate_json(result["body"])
    assert body.error.code == code


def test_unexpected_error_does_not_leak_its_detail() -> None:
    result = call("/broken")

    assert "secret" not in result["body"]


def test_unexpected_error_is_counted_and_logged_by_type_and_place_never_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from newsroom.observability import metrics

    metrics.clear_metrics()
    try:
        result = call("/broken-with-an-address")

        assert result["statusCode"] == 500
        (logged,) = [r for r in caplog.records if r.getMessage() == "unhandled error"]
        assert getattr(logged, "error", None) == "ValueError"
        assert getattr(logged, "raised_at", [])[-1].startswith("unit/test_http.py:")
        assert logged.exc_info is None
        assert "reader@example.org" not in caplog.text
        assert "UnhandledErrors" in metrics.metric_set  # UnhandledErrorsAlarm's metric
    finally:
        metrics.clear_metrics()


def test_unavailable_dependency_asks_to_retry_later() -> None:
    result = call("/busy")

    assert result["statusCode"] == 503
    assert result["multiValueHeaders"]["Retry-After"] == ["2"]


def test_validation_error_names_parameter_and_location() -> None:
    body = json.loads(call("/things", query={"n": "x"})["body"])

    assert body["error"]["details"][0]["field"] == "n"
    assert body["error"]["details"][0]["location"] == "query"


def test_read_gets_etag_and_max_age_and_a_match_gets_304() -> None:
    first = call("/things")
    headers = first["multiValueHeaders"]
    etag = headers["ETag"][0]

    again = call("/things", headers={"If-None-Match": f'W/{etag}, "other"'})

    assert headers["Cache-Control"] == ["public, max-age=42"]
    assert again["statusCode"] == 304
    assert again["body"] == ""


def test_different_content_gets_a_different_etag() -> None:
    one = call("/things", query={"n": "1"})["multiValueHeaders"]["ETag"]
    two = call("/things", query={"n": "2"})["multiValueHeaders"]["ETag"]

    assert one != two


def test_error_answers_are_not_cached() -> None:
    result = call("/missing")

    assert result["multiValueHeaders"]["Cache-Control"] == ["no-store"]


def test_body_flagged_base64_that_is_not_base64_is_400_not_a_crash() -> None:
    from newsroom.http import precheck_json_body

    event = rest_event(
        "POST",
        "/articles/{slug}/comments",
        path_params={"slug": "s"},
        headers={"Content-Type": "application/json"},
        body="%%% not base64 %%%",
    )
    event["isBase64Encoded"] = True

    answer = precheck_json_body(
        event, max_bytes=65_536, resources=frozenset({"/articles/{slug}/comments"})
    )

    assert answer is not None
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["code"] == "malformed_request"


class CountedKey(str):
    """A JSON key that counts how often it is compared for equality."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountedKey.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_duplicate_key_check_compares_keys_a_bounded_number_of_times() -> None:
    # Given an object of 2,000 distinct keys (well within a 64 KB body)
    pairs = [(CountedKey(f"k{n}"), n) for n in range(2_000)]
    CountedKey.comparisons = 0

    # When the body reader checks it for duplicate keys
    checked = _refuse_duplicate_keys(pairs)  # type: ignore[arg-type]

    # Then it looked at each key about once, not once per other key (quadratic)
    assert len(checked) == 2_000
    assert CountedKey.comparisons <= 2 * len(pairs)


def test_duplicate_key_is_still_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="duplicate key 'b'"):
        _refuse_duplicate_keys([("a", 1), ("b", 2), ("c", 3), ("b", 4)])


# Relative references: a URL the API hands out must lead back under whatever the client used
# in front of the API's paths (a stage, a custom domain's base path, nothing).

_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=8)
_PATH = st.lists(_SEGMENT.filter(lambda s: s not in (".", "..")), min_size=1, max_size=5)


@given(
    prefix=st.lists(_SEGMENT.filter(lambda s: s not in (".", "..")), max_size=3),
    base=_PATH,
    target=_PATH,
    trailing_slash=st.booleans(),
)
def test_relative_reference_resolves_to_the_target_under_any_prefix(
    prefix: list[str], base: list[str], target: list[str], trailing_slash: bool
) -> None:
    # Given the path a function saw and the one it means, and a client URL with a prefix
    base_path = "/" + "/".join(base) + ("/" if trailing_slash else "")
    target_path = "/" + "/".join(target)
    front = "https://api.example" + "".join("/" + p for p in prefix)

    # When the relative reference is resolved against the URL the client used
    reference = relative_reference(base_path, target_path)
    resolved = urljoin(front + base_path, reference)

    # Then it is the target, under the same prefix
    assert resolved == front + target_path
    assert not reference.startswith("/")
    assert "://" not in reference


@pytest.mark.parametrize(
    ("base", "target", "reference"),
    [
        ("/articles/s/comments", "/articles/s/comments/c1", "./comments/c1"),
        ("/articles/s/comments/", "/articles/s/comments/c1", "./c1"),
        ("/links/tok", "/links/tok", "./tok"),
        ("/a/b/c", "/x", "../../x"),
    ],
)
def test_relative_reference_is_the_shortest_one(base: str, target: str, reference: str) -> None:
    assert relative_reference(base, target) == reference


# API Gateway's REST proxy event keeps a custom domain's base path mapping in `path` and in
# `requestContext.path`, and strips only the invoke URL's stage from `path`
# (localstack/localstack#12296, aws-powertools/powertools-lambda-python#576).
@pytest.mark.parametrize(
    ("domain", "event_path", "received_path", "base_path", "base"),
    [
        # the execute-api host: the stage before the route
        (
            "abc123defg.execute-api.eu-west-1.amazonaws.com",
            "/privacy/requests",
            "/v1/privacy/requests",
            "",
            "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1",
        ),
        # the same host when the API also has a domain with a base path mapping
        (
            "abc123defg.execute-api.eu-west-1.amazonaws.com",
            "/privacy/requests",
            "/v1/privacy/requests",
            "news",
            "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1",
        ),
        # a custom domain with a base path mapping, and one mapped at its root
        (
            "api.example.com",
            "/news/privacy/requests",
            "/news/privacy/requests",
            "news",
            "https://api.example.com/news",
        ),
        (
            "api.example.com",
            "/privacy/requests",
            "/privacy/requests",
            "",
            "https://api.example.com",
        ),
    ],
)
def test_the_api_base_url_is_where_the_request_reached_the_api(
    monkeypatch: pytest.MonkeyPatch,
    domain: str,
    event_path: str,
    received_path: str,
    base_path: str,
    base: str,
) -> None:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from newsroom.http import api_base_url, route_path

    monkeypatch.setenv("BASE_PATH", base_path)
    event = json.loads((PROJECT_ROOT / "events" / "get_article.json").read_text())
    event["path"] = event_path
    event["requestContext"] |= {"domainName": domain, "path": received_path}

    assert api_base_url(APIGatewayProxyEvent(event)) == base
    assert route_path(APIGatewayProxyEvent(event)) == "/privacy/requests"


def test_a_resolver_under_a_base_path_routes_and_locates_below_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsroom.http import location_of, mapped_prefixes

    # Given a resolver built where the domain maps the API at /news
    monkeypatch.setenv("BASE_PATH", "news")
    mapped = APIGatewayRestResolver(strip_prefixes=mapped_prefixes())

    @mapped.post("/articles/<slug>/comments")
    def handle_post(slug: str) -> dict[str, str]:
        return {"location": location_of(mapped, f"/articles/{slug}/comments/c1")}

    # When a request comes in as API Gateway passes it under the mapping
    event = rest_event(
        "POST", "/articles/{slug}/comments", path_params={"slug": "storm"}, body="{}"
    )
    event["path"] = "/news/articles/storm/comments"
    event["requestContext"]["path"] = "/news/articles/storm/comments"
    answer = mapped.resolve(event, LambdaContext())

    # Then the route is found, and its Location resolves below the mapping
    assert answer["statusCode"] == 200, answer
    location = json.loads(answer["body"])["location"]
    assert (
        urljoin("https://example.com/news/articles/storm/comments", location)
        == "https://example.com/news/articles/storm/comments/c1"
    )
    # And without the mapping's prefix the same route still answers (the execute-api host)
    event["path"] = "/articles/storm/comments"
    assert mapped.resolve(event, LambdaContext())["statusCode"] == 200
    monkeypatch.delenv("BASE_PATH")
    assert mapped_prefixes() == []


def sender_event(headers: dict[str, str], *, source_ip: str) -> APIGatewayRestResolver:
    """A resolver whose current request came from `source_ip` with `headers`."""
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    resolver = APIGatewayRestResolver()
    event = rest_event("POST", "/things", headers=headers, source_ip=source_ip)
    resolver.current_event = APIGatewayProxyEvent(event)
    return resolver


EDGE = "130.176.0.10"  # a CloudFront edge, API Gateway's source IP behind the distribution


@pytest.mark.parametrize(
    ("headers", "reader"),
    [
        # CloudFront-Viewer-Address: ip:port, IPv4 or IPv6
        (
            {"X-Newsroom-Edge": "s3cret", "CloudFront-Viewer-Address": "198.51.100.7:50312"},
            "198.51.100.7",
        ),
        (
            {"X-Newsroom-Edge": "s3cret", "CloudFront-Viewer-Address": "2001:db8::7:50312"},
            "2001:db8::7",
        ),
        # X-Forwarded-For: what the reader sent, the reader as CloudFront saw them, the edge
        (
            {"X-Newsroom-Edge": "s3cret", "X-Forwarded-For": f"10.0.0.1, 198.51.100.7, {EDGE}"},
            "198.51.100.7",
        ),
        # without the secret, or with another one: the source IP, whatever the headers say
        ({"CloudFront-Viewer-Address": "198.51.100.7:1"}, EDGE),
        ({"X-Newsroom-Edge": "guess", "X-Forwarded-For": f"198.51.100.7, {EDGE}"}, EDGE),
        ({"X-Newsroom-Edge": "", "CloudFront-Viewer-Address": "198.51.100.7:1"}, EDGE),
    ],
)
def test_the_readers_address_behind_the_distribution_is_believed_only_with_its_secret(
    headers: dict[str, str], reader: str
) -> None:
    from newsroom.http import request_sender

    resolver = sender_event(headers, source_ip=EDGE)

    assert request_sender(resolver, trusted_edge_secret="s3cret")[0] == reader
    # and a deployment without the distribution believes no header at all
    assert request_sender(resolver, trusted_edge_secret="")[0] == EDGE
