"""CORS: which headers an answer gets, from the functions and from the local gateway, as the
template configures them for one origin, several, or any."""

from __future__ import annotations

from typing import Any

import pytest

from newsroom.cors import EXPOSED_HEADERS, CorsPolicy, add_headers
from newsroom_tools.apigateway import GatewayResponses, HttpResponse, cors_of, gateway_error
from newsroom_tools.template import ParameterOverrideError, load_template, parameter_values

SITE = "https://www.example.com"
OTHER_SITE = "https://example.com"
TEMPLATE = load_template()


def answer(headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"statusCode": 200, "multiValueHeaders": headers or {}, "body": "{}"}


def from_origin(origin: str | None) -> dict[str, Any]:
    return {"headers": {} if origin is None else {"origin": origin}}


# The functions' side


def test_listed_origin_is_echoed_with_vary_and_the_exposed_headers() -> None:
    policy = CorsPolicy.parse(f"{SITE},{OTHER_SITE}")

    headers = add_headers(from_origin(OTHER_SITE), answer(), policy)["multiValueHeaders"]

    assert headers["Access-Control-Allow-Origin"] == [OTHER_SITE]
    assert headers["Access-Control-Expose-Headers"] == [EXPOSED_HEADERS]
    assert headers["Vary"] == ["Origin"]


def test_unlisted_origin_gets_no_cors_header_but_the_vary() -> None:
    policy = CorsPolicy.parse(SITE)

    headers = add_headers(from_origin("https://evil.example"), answer(), policy)[
        "multiValueHeaders"
    ]

    assert not [name for name in headers if name.lower().startswith("access-control")]
    assert headers["Vary"] == ["Origin"]


def test_request_without_origin_still_varies_on_it_so_no_cache_mixes_them() -> None:
    headers = add_headers(from_origin(None), answer(), CorsPolicy.parse(SITE))["multiValueHeaders"]

    assert headers == {"Vary": ["Origin"]}


def test_any_origin_answers_star_without_vary() -> None:
    headers = add_headers(from_origin(SITE), answer(), CorsPolicy.parse("*"))["multiValueHeaders"]

    assert headers["Access-Control-Allow-Origin"] == ["*"]
    assert "Vary" not in headers


def test_vary_the_answer_had_is_kept_and_origin_added_once() -> None:
    policy = CorsPolicy.parse(SITE)
    had = answer({"vary": ["Accept"]})

    headers = add_headers(from_origin(SITE), had, policy)["multiValueHeaders"]
    again = add_headers(from_origin(SITE), {"multiValueHeaders": headers}, policy)

    assert headers["Vary"] == ["Accept, Origin"]
    assert again["multiValueHeaders"]["Vary"] == ["Accept, Origin"]


def test_origin_header_is_found_whatever_its_case() -> None:
    event = {"headers": {"ORIGIN": SITE}}

    headers = add_headers(event, answer(), CorsPolicy.parse(SITE))["multiValueHeaders"]

    assert headers["Access-Control-Allow-Origin"] == [SITE]


def test_origins_as_people_type_them_are_understood() -> None:
    assert CorsPolicy.parse(f" {SITE}/ , {OTHER_SITE},").origins == {SITE, OTHER_SITE}
    assert CorsPolicy.parse("").any_origin


def test_an_origin_is_compared_exactly_not_as_a_prefix() -> None:
    policy = CorsPolicy.parse(SITE)

    assert policy.headers_for(SITE + ".evil.example") == {}
    assert policy.headers_for("http://www.example.com") == {}


# API Gateway's side, as the local run reads it from the template


@pytest.mark.parametrize(
    ("origins", "preflight_origin"),
    [("*", "*"), (SITE, SITE), (f"{SITE},{OTHER_SITE}", "*")],
)
def test_preflight_names_the_one_origin_or_allows_any_when_there_are_several(
    origins: str, preflight_origin: str
) -> None:
    cors = cors_of(TEMPLATE, parameter_values(TEMPLATE, {"AllowedOrigins": origins}))

    assert cors is not None
    assert cors.allow_origin == preflight_origin
    assert cors.allow_headers is not None
    assert {"Content-Type", "Idempotency-Key", "If-None-Match"} <= set(
        cors.allow_headers.split(",")
    )
    assert cors.allow_methods is not None
    assert {"GET", "POST", "PATCH", "DELETE"} <= set(cors.allow_methods.split(","))


@pytest.mark.parametrize("kind", ["MISSING_AUTHENTICATION_TOKEN", "DEFAULT_5XX"])
def test_gateways_own_answers_carry_the_templates_cors_headers(kind: str) -> None:
    responses = GatewayResponses.of(TEMPLATE, parameter_values(TEMPLATE, {"AllowedOrigins": SITE}))
    status = 502 if kind == "DEFAULT_5XX" else 403

    answered = responses.apply(gateway_error(status, "x", "x", response_type=kind))

    assert answered.header("Access-Control-Allow-Origin") == SITE
    assert answered.header("Access-Control-Expose-Headers") == EXPOSED_HEADERS


def test_answers_the_gateway_did_not_make_get_nothing_from_its_responses() -> None:
    responses = GatewayResponses.of(TEMPLATE)
    from_function = HttpResponse(200, (("Content-Type", "application/json"),))

    assert responses.apply(from_function) == from_function


def test_a_types_own_gateway_response_wins_over_the_default() -> None:
    responses = GatewayResponses(
        {"DEFAULT_4XX": (("X-Kind", "default"),), "THROTTLED": (("X-Kind", "throttled"),)}
    )

    throttled = responses.apply(gateway_error(429, "x", "x", response_type="THROTTLED"))
    other = responses.apply(gateway_error(403, "x", "x", response_type="WAF_FILTERED"))

    assert throttled.header("X-Kind") == "throttled"
    assert other.header("X-Kind") == "default"


@pytest.mark.parametrize(
    "origins",
    ["https://www.example.com/", "www.example.com", "https://a.example, ", "*,https://a.example"],
)
def test_allowed_origins_the_template_would_refuse_are_refused_locally(origins: str) -> None:
    with pytest.raises(ParameterOverrideError, match="AllowedOrigins"):
        parameter_values(TEMPLATE, {"AllowedOrigins": origins})


def test_every_http_function_gets_the_allowed_origins() -> None:
    functions = {
        name: spec
        for name, spec in TEMPLATE["Resources"].items()
        if spec["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "Api" for e in spec["Properties"].get("Events", {}).values())
    }

    assert functions
    for spec in functions.values():
        variables = spec["Properties"]["Environment"]["Variables"]
        assert variables["ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigins"}
