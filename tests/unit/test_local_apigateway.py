"""The local API Gateway: which route a request reaches, and the event and answer it makes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from newsroom_tools.apigateway import (
    Cors,
    HttpRequest,
    HttpResponse,
    Route,
    RouteMatch,
    Router,
    cors_of,
    from_proxy_result,
    to_event,
)
from newsroom_tools.template import functions, load_template
from tests.apigw import EVENTS_DIR

ROUTER = Router(
    [
        Route.of("GET", "/articles", "ArticlesFunction"),
        Route.of("GET", "/articles/{slug}", "ArticlesFunction"),
        Route.of("GET", "/articles/featured", "FeaturedFunction"),
        Route.of("POST", "/articles/{slug}/comments", "CommentsFunction"),
        Route.of("ANY", "/files/{path+}", "FilesFunction"),
    ]
)


TEMPLATE_ROUTER = Router.of(functions(load_template()).values())


def matched(method: str, path: str, router: Router = ROUTER) -> RouteMatch:
    match = router.match(method, path)
    assert isinstance(match, RouteMatch), match
    return match


def answered(method: str, path: str, router: Router = ROUTER) -> HttpResponse:
    answer = router.match(method, path)
    assert isinstance(answer, HttpResponse), answer
    return answer


def event_for(
    method: str,
    target: str,
    *,
    headers: tuple[tuple[str, str], ...] = (("Host", "127.0.0.1:3000"),),
    body: bytes = b"",
    router: Router = ROUTER,
) -> dict[str, Any]:
    request = HttpRequest(method, target, headers, body, client_ip="192.0.2.7")
    match = matched(method, request.path, router)
    return to_event(request, match, now=datetime(2026, 11, 28, 15, 4, 5, tzinfo=UTC))


# Route matching


def test_parameter_route_gives_the_segment_as_path_parameter() -> None:
    match = matched("GET", "/articles/harbour-wall")

    assert match.route.resource == "/articles/{slug}"
    assert match.path_parameters == {"slug": "harbour-wall"}


def test_literal_resource_wins_over_a_parameter_in_the_same_place() -> None:
    match = matched("GET", "/articles/featured")

    assert match.route.function == "FeaturedFunction"
    assert match.path_parameters == {}


def test_parameter_matches_exactly_one_path_segment() -> None:
    answer = answered("GET", "/articles/a/b")

    assert answer.status == 403


def test_greedy_parameter_takes_every_remaining_segment() -> None:
    match = matched("DELETE", "/files/2026/11/report.pdf")

    assert match.route.resource == "/files/{path+}"
    assert match.path_parameters == {"path": "2026/11/report.pdf"}


def test_greedy_parameter_needs_at_least_one_segment() -> None:
    assert answered("GET", "/files/").status == 403


MISSING_TOKEN = {
    "error": {
        "code": "missing_authentication_token",
        "message": "Missing Authentication Token",
        "details": [],
    }
}


def test_unknown_path_answers_403_missing_token_in_the_error_shape_as_api_gateway() -> None:
    answer = answered("GET", "/nowhere")

    assert answer.status == 403
    assert answer.header("Content-Type") == "application/json"
    assert json.loads(answer.body) == MISSING_TOKEN


def test_known_path_with_another_method_answers_403_missing_token_as_api_gateway() -> None:
    answer = answered("POST", "/articles")

    assert answer.status == 403
    assert json.loads(answer.body) == MISSING_TOKEN


def test_method_is_matched_whatever_its_case() -> None:
    assert matched("get", "/articles").route.resource == "/articles"


def test_preflight_on_a_known_path_answers_with_the_templates_cors() -> None:
    router = Router(ROUTER.routes, cors_of(load_template()))

    answer = answered("OPTIONS", "/articles/some-slug", router)

    assert answer.status == 200  # SAM's mock integration answers 200
    assert answer.header("Access-Control-Allow-Origin") == "*"
    cors = load_template()["Resources"]["NewsroomApi"]["Properties"]["Cors"]
    assert answer.header("Access-Control-Allow-Methods") == cors["AllowMethods"].strip("'")
    assert answer.header("Access-Control-Allow-Headers") == cors["AllowHeaders"].strip("'")
    assert answer.header("Access-Control-Max-Age") == cors["MaxAge"].strip("'")


def test_preflight_without_cors_is_an_unknown_method() -> None:
    assert answered("OPTIONS", "/articles").status == 403


def test_preflight_on_an_unknown_path_is_an_unknown_route() -> None:
    router = Router(ROUTER.routes, Cors(allow_origin="*"))

    assert answered("OPTIONS", "/nowhere", router).status == 403


def test_cors_without_allow_methods_offers_the_paths_methods() -> None:
    router = Router(ROUTER.routes, Cors(allow_origin="https://www.example.com"))

    answer = answered("OPTIONS", "/articles/x/comments", router)

    assert answer.header("Access-Control-Allow-Methods") == "OPTIONS,POST"
    assert answer.header("Access-Control-Allow-Origin") == "https://www.example.com"


def test_cors_of_reads_the_shorthand_origin_from_globals() -> None:
    template = {"Globals": {"Api": {"Cors": "'https://news.example.org'"}}, "Resources": {}}

    assert cors_of(template) == Cors(allow_origin="https://news.example.org")


# The event


def test_event_names_the_resource_template_and_the_requested_path() -> None:
    event = event_for("GET", "/articles/harbour-wall")

    assert event["resource"] == "/articles/{slug}"
    assert event["path"] == "/articles/harbour-wall"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"slug": "harbour-wall"}
    assert event["requestContext"]["resourcePath"] == "/articles/{slug}"


def test_under_the_stage_the_path_has_no_stage_and_the_request_context_path_has_it() -> None:
    # Given a request to /v1/articles/harbour-wall, as API Gateway's invoke URL takes it
    sent = HttpRequest("GET", "/v1/articles/harbour-wall?x=1", (("Host", "h"),))
    below = sent.below("/v1")
    assert below is not None

    # When it becomes the function's event
    event = to_event(below, matched("GET", below.path), stage="v1")

    # Then `path` is without the stage, `requestContext.path` is what the client asked for
    assert event["path"] == "/articles/harbour-wall"
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["requestContext"]["path"] == "/v1/articles/harbour-wall"
    assert event["requestContext"]["stage"] == "v1"


def test_served_at_the_root_both_paths_are_the_path_as_sent() -> None:
    request = HttpRequest("GET", "/articles/harbour-wall", (("Host", "h"),))

    event = to_event(request, matched("GET", request.path), stage="v1", stage_in_path=False)

    assert event["path"] == event["requestContext"]["path"] == "/articles/harbour-wall"
    assert event["requestContext"]["stage"] == "v1"


@pytest.mark.parametrize(
    ("target", "below"),
    [
        ("/v1", "/"),
        ("/v1/", "/"),
        ("/v1/articles?limit=2", "/articles?limit=2"),
        ("/v1x/articles", None),
        ("/articles", None),
        ("/", None),
    ],
)
def test_a_path_is_below_the_stage_only_when_the_stage_is_its_first_segment(
    target: str, below: str | None
) -> None:
    found = HttpRequest("GET", target).below("/v1")

    assert (found.target if found else None) == below


def test_path_and_path_parameters_stay_percent_encoded_as_api_gateway_sends_them() -> None:
    event = event_for("GET", "/articles/caf%C3%A9%2Fbar")

    assert event["path"] == "/articles/caf%C3%A9%2Fbar"
    assert event["pathParameters"] == {"slug": "caf%C3%A9%2Fbar"}


def test_query_parameter_given_once_is_in_both_maps() -> None:
    event = event_for("GET", "/articles?limit=2")

    assert event["queryStringParameters"] == {"limit": "2"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["2"]}


def test_query_parameter_given_twice_keeps_the_last_value_and_all_values() -> None:
    event = event_for("GET", "/articles?tag=a&limit=2&tag=b")

    assert event["queryStringParameters"] == {"tag": "b", "limit": "2"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "limit": ["2"]}


def test_query_values_are_decoded() -> None:
    event = event_for("GET", "/articles?tag=caf%C3%A9&cursor=a%2Bb%3D&empty=")

    assert event["queryStringParameters"] == {"tag": "café", "cursor": "a+b=", "empty": ""}


def test_absent_query_path_parameters_and_body_are_none_not_empty() -> None:
    event = event_for("GET", "/articles")

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_header_sent_twice_keeps_the_last_value_and_all_values() -> None:
    headers = (("Host", "127.0.0.1:3000"), ("Accept", "text/html"), ("Accept", "application/json"))

    event = event_for("GET", "/articles", headers=headers)

    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]


def test_gateway_adds_forwarding_headers_and_fills_the_identity() -> None:
    headers = (("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8.5"))

    event = event_for("GET", "/articles", headers=headers)

    assert event["headers"]["X-Forwarded-For"] == "192.0.2.7"
    assert event["headers"]["X-Forwarded-Port"] == "3000"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    identity = event["requestContext"]["identity"]
    assert identity["sourceIp"] == "192.0.2.7"
    assert identity["userAgent"] == "curl/8.5"
    assert event["requestContext"]["domainName"] == "127.0.0.1:3000"


def test_gateway_appends_the_address_it_saw_to_the_forwarded_for_a_client_sent() -> None:
    # As behind CloudFront: what the reader sent, then the reader as CloudFront saw them
    headers = (("Host", "127.0.0.1:3000"), ("X-Forwarded-For", "10.0.0.1, 198.51.100.7"))

    event = event_for("GET", "/articles", headers=headers)

    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1, 198.51.100.7, 192.0.2.7"
    assert event["multiValueHeaders"]["X-Forwarded-For"] == ["10.0.0.1, 198.51.100.7, 192.0.2.7"]


def test_under_a_base_path_mapping_the_path_keeps_it_and_the_route_does_not() -> None:
    request = HttpRequest("GET", "/articles/harbour-wall", (("Host", "example.com"),), b"")
    match = matched("GET", request.path)

    event = to_event(request, match, base_path="api")

    assert event["path"] == "/api/articles/harbour-wall"
    assert event["requestContext"]["path"] == "/api/articles/harbour-wall"
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/articles/{slug}"
    assert event["pathParameters"] == {"slug": "harbour-wall"}


def test_request_time_is_in_api_gateway_format() -> None:
    context = event_for("GET", "/articles")["requestContext"]

    assert context["requestTime"] == "28/Nov/2026:15:04:05 +0000"
    assert context["requestTimeEpoch"] == 1795878245000


def test_each_event_gets_its_own_request_id() -> None:
    first = event_for("GET", "/articles")["requestContext"]["requestId"]
    second = event_for("GET", "/articles")["requestContext"]["requestId"]

    assert first != second


def test_utf8_body_is_passed_as_text() -> None:
    event = event_for("POST", "/articles/x/comments", body='{"text": "Très bien"}'.encode())

    assert event["body"] == '{"text": "Très bien"}'
    assert event["isBase64Encoded"] is False


def test_binary_body_is_base64_encoded() -> None:
    raw = b"\x89PNG\r\n\x1a\n\xff\x00"

    event = event_for("POST", "/articles/x/comments", body=raw)

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


API_EVENT_SAMPLES = sorted(
    path for path in EVENTS_DIR.glob("*.json") if "httpMethod" in json.loads(path.read_text())
)


@pytest.mark.parametrize("sample", API_EVENT_SAMPLES, ids=lambda p: p.name)
def test_event_has_exactly_the_fields_of_a_real_api_gateway_event(sample: Any) -> None:
    real = json.loads(sample.read_text())
    headers = tuple((name, value) for name, value in real["headers"].items())

    event = event_for(real["httpMethod"], real["path"], headers=headers, router=TEMPLATE_ROUTER)
    # The sample's X-Forwarded-For is API Gateway's already; passed through again, it grows
    forwarded = real["headers"]["X-Forwarded-For"]
    assert event["headers"]["X-Forwarded-For"] == f"{forwarded}, 192.0.2.7"
    event["headers"]["X-Forwarded-For"] = forwarded

    assert event.keys() == real.keys()
    assert event["requestContext"].keys() == real["requestContext"].keys()
    assert event["requestContext"]["identity"].keys() == real["requestContext"]["identity"].keys()
    assert event["headers"] == real["headers"]


# The answer


def test_proxy_result_becomes_the_http_answer() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "Location": "/articles/x"},
        "body": '{"ok": true}',
        "isBase64Encoded": False,
    }

    answer = from_proxy_result(result)

    assert answer.status == 201
    assert answer.header("Location") == "/articles/x"
    assert answer.body == b'{"ok": true}'


def test_multi_value_headers_win_over_headers_of_the_same_name() -> None:
    result = {
        "statusCode": 200,
        "headers": {"Set-Cookie": "single=1", "Cache-Control": "no-store"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "",
    }

    answer = from_proxy_result(result)

    assert [value for name, value in answer.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    assert answer.header("Cache-Control") == "no-store"


def test_base64_result_body_is_decoded_to_bytes() -> None:
    raw = b"\x00\x01binary"
    result = {"statusCode": 200, "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}

    assert from_proxy_result(result).body == raw


def test_missing_body_is_an_empty_answer() -> None:
    assert from_proxy_result({"statusCode": 304, "body": None}).body == b""


@pytest.mark.parametrize(
    "result",
    [
        None,
        "ok",
        {"body": "no status"},
        {"statusCode": "abc"},
        {"statusCode": 200, "body": "%%", "isBase64Encoded": True},
    ],
    ids=["none", "string", "no-status", "bad-status", "bad-base64"],
)
def test_result_that_is_not_a_proxy_result_answers_502_like_api_gateway(result: Any) -> None:
    answer = from_proxy_result(result)

    assert answer.status == 502
    assert json.loads(answer.body) == {"message": "Internal server error"}
