"""CORS end to end through the local run: every kind of answer, from the functions and from
the gateway, carries the headers the template configures for a list of origins, and the
preflight is the template's (API Gateway answers it; no function runs).

A page on another origin reads none of this without these headers (tests/browser proves it in
Chromium); here every status the API gives is checked, over real HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from newsroom.cors import EXPOSED_HEADERS
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import Reply, loopback_address, request
from tests.local_runs import own_table_prefix

pytestmark = pytest.mark.integration

SITE = "https://www.example.com"
OTHER_SITE = "https://example.com"
STRANGER = "https://elsewhere.example"
ARTICLE = "storm-isolde-clean-up"  # one of the demo articles the local run loads


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        parameters={"AllowedOrigins": f"{SITE},{OTHER_SITE}"},
    ) as running:
        yield running


def comment(name: str) -> dict[str, object]:
    """A comment from a reader of its own (flood control links posts by email too)."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.org"
    return {"author_name": name, "author_email": email, "body": f"Hello from {email}"}


# (what is asked, the status it gets); each sends the Origin it is given.
Exchange = Callable[[LocalSystem, dict[str, str]], Reply]


def get(path: str) -> Exchange:
    return lambda system, headers: request(system.api_url + path, headers=headers)


def revalidated_article(system: LocalSystem, headers: dict[str, str]) -> Reply:
    etag = request(f"{system.api_url}/articles/{ARTICLE}").headers["etag"]
    return request(
        f"{system.api_url}/articles/{ARTICLE}", headers={**headers, "If-None-Match": etag}
    )


def posted(system: LocalSystem, headers: dict[str, str]) -> Reply:
    return request(
        f"{system.api_url}/articles/{ARTICLE}/comments",
        method="POST",
        headers=headers,
        json_body=comment("ann"),
        source_ip=loopback_address(),
    )


def flooded(system: LocalSystem, headers: dict[str, str]) -> Reply:
    sender = loopback_address()
    for name in ("bea", "cy"):
        reply = request(
            f"{system.api_url}/articles/{ARTICLE}/comments",
            method="POST",
            headers=headers,
            json_body=comment(name),
            source_ip=sender,
        )
    return reply  # the second


def not_json(system: LocalSystem, headers: dict[str, str]) -> Reply:
    return request(
        f"{system.api_url}/articles/{ARTICLE}/comments",
        method="POST",
        headers={**headers, "Content-Type": "text/plain"},
        body=b"hello",
    )


def invalid_field(system: LocalSystem, headers: dict[str, str]) -> Reply:
    return request(
        f"{system.api_url}/articles/{ARTICLE}/comments",
        method="POST",
        headers=headers,
        json_body={**comment("dee"), "author_email": "not an address"},
        source_ip=loopback_address(),
    )


def edited(system: LocalSystem, headers: dict[str, str]) -> Reply:
    """An edit of a comment just posted, with its token: refused as too soon (flood control)."""
    accepted = posted(system, {}).json()
    return request(
        f"{system.api_url}/articles/{ARTICLE}/comments/{accepted['id']}",
        method="PATCH",
        headers={**headers, "Authorization": f"Bearer {accepted['edit_token']}"},
        json_body={"body": "Second thoughts."},
        source_ip=loopback_address(),
    )


def deleted(system: LocalSystem, headers: dict[str, str]) -> Reply:
    accepted = posted(system, {}).json()
    return request(
        f"{system.api_url}/articles/{ARTICLE}/comments/{accepted['id']}",
        method="DELETE",
        headers={**headers, "Authorization": f"Bearer {accepted['edit_token']}"},
    )


def forged(method: str) -> Exchange:
    def exchange(system: LocalSystem, headers: dict[str, str]) -> Reply:
        return request(
            f"{system.api_url}/articles/{ARTICLE}/comments/c019ac4f2e81b7a3f09d2",
            method=method,
            headers={**headers, "Authorization": "Bearer forged-token-of-no-use"},
            json_body={"body": "Not mine."} if method == "PATCH" else None,
        )

    return exchange


FROM_FUNCTIONS: dict[str, tuple[Exchange, int]] = {
    "article": (get(f"/articles/{ARTICLE}"), 200),
    "revalidated article": (revalidated_article, 304),
    "article list": (get("/articles"), 200),
    "comment counts": (get(f"/comment-counts?slugs={ARTICLE}"), 200),
    "comment list": (get(f"/articles/{ARTICLE}/comments"), 200),
    "posted comment": (posted, 201),
    "second comment too soon": (flooded, 429),
    "body not sent as JSON": (not_json, 400),
    "invalid email": (invalid_field, 422),
    "bad query": (get("/articles?limit=0"), 422),
    "unknown article": (get("/articles/no-such-article"), 404),
    "link page of a forged link": (get("/links/forged-token-of-no-use"), 400),
    "own comment deleted": (deleted, 204),
    "own comment edited too soon": (edited, 429),
    "edit with a forged token": (forged("PATCH"), 401),
    "delete with a forged token": (forged("DELETE"), 401),
}
FROM_GATEWAY: dict[str, tuple[Exchange, int]] = {
    "unknown route": (get("/no/such/route"), 403),
    "unsigned moderation request": (get("/admin/comments"), 403),
}


@pytest.mark.parametrize("case", sorted(FROM_FUNCTIONS))
@pytest.mark.parametrize("origin", [SITE, OTHER_SITE])
def test_every_answer_of_the_functions_lets_a_listed_origin_read_it(
    system: LocalSystem, case: str, origin: str
) -> None:
    exchange, status = FROM_FUNCTIONS[case]

    reply = exchange(system, {"Origin": origin})

    assert reply.status == status, reply.body
    assert reply.headers.get("access-control-allow-origin") == origin
    assert reply.headers.get("access-control-expose-headers") == EXPOSED_HEADERS
    assert "Origin" in reply.headers.get("vary", "")


@pytest.mark.parametrize("case", sorted(FROM_FUNCTIONS))
def test_no_answer_of_the_functions_lets_another_origin_read_it(
    system: LocalSystem, case: str
) -> None:
    exchange, status = FROM_FUNCTIONS[case]

    reply = exchange(system, {"Origin": STRANGER})

    assert reply.status == status, reply.body
    assert "access-control-allow-origin" not in reply.headers
    assert "Origin" in reply.headers.get("vary", "")


@pytest.mark.parametrize("case", sorted(FROM_GATEWAY))
def test_the_gateways_own_errors_carry_the_templates_origin(system: LocalSystem, case: str) -> None:
    exchange, status = FROM_GATEWAY[case]

    reply = exchange(system, {"Origin": SITE})

    assert reply.status == status, reply.body
    # With several origins API Gateway's fixed header can only be * (template.yaml).
    assert reply.headers.get("access-control-allow-origin") == "*"
    assert reply.json()["error"]["code"] == "missing_authentication_token"


def test_preflight_is_the_gateways_and_allows_what_the_widget_sends(system: LocalSystem) -> None:
    reply = request(
        f"{system.api_url}/articles/{ARTICLE}/comments",
        method="OPTIONS",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
    )

    assert reply.status == 200  # SAM's mock integration answers 200
    assert reply.headers["access-control-allow-origin"] == "*"
    allowed = {h.strip().lower() for h in reply.headers["access-control-allow-headers"].split(",")}
    # The conditional headers of a page that revalidates a listing or a feed itself, too.
    assert {"content-type", "idempotency-key", "if-none-match", "if-modified-since"} <= allowed
    assert "POST" in reply.headers["access-control-allow-methods"].split(",")


def test_one_allowed_origin_is_named_by_the_preflight_and_the_gateways_errors() -> None:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        seed=False,
        parameters={"AllowedOrigins": SITE},
    ) as one:
        preflight = request(
            f"{one.api_url}/articles",
            method="OPTIONS",
            headers={"Origin": SITE, "Access-Control-Request-Method": "GET"},
        )
        unknown = request(f"{one.api_url}/nowhere", headers={"Origin": SITE})

    assert preflight.headers["access-control-allow-origin"] == SITE
    assert unknown.headers["access-control-allow-origin"] == SITE


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_preflight_lets_a_page_edit_or_delete_a_comment_with_its_token(
    system: LocalSystem, method: str
) -> None:
    reply = request(
        f"{system.api_url}/articles/{ARTICLE}/comments/c019ac4f2e81b7a3f09d2",
        method="OPTIONS",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )

    assert reply.status == 200
    allowed = {h.strip().lower() for h in reply.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert method in reply.headers["access-control-allow-methods"].split(",")
