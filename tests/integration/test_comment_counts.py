"""GET /comment-counts: the counts a listing page (or the widget) shows, for up to 100
articles in one DynamoDB request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from functions.comments.app import lambda_handler
from tests.apigw import Answer, invoke, rest_event
from tests.integration.articles_data import NOW, seed
from tests.integration.comments_api import (
    approve_first_comment_of,
    content_table_of_its_own,  # noqa: F401 (the content_table fixture: a table per test)
    form,
)

pytestmark = pytest.mark.integration

Settings = Callable[..., None]


def counts(slugs: str | None) -> Answer:
    return invoke(
        lambda_handler,
        rest_event("GET", "/comment-counts", query=None if slugs is None else {"slugs": slugs}),
    )


def test_counts_approved_comments_of_each_public_article_in_one_request(
    content_table: str, unique: str, dynamodb_requests: list[str]
) -> None:
    busy, quiet = f"busy-{unique}", f"quiet-{unique}"
    seed(content_table, busy)
    seed(content_table, quiet)
    approve_first_comment_of(busy, form(unique, reader="a"))
    approve_first_comment_of(busy, form(unique, reader="b"))
    dynamodb_requests.clear()

    answer = counts(f"{busy},{quiet},{busy}")

    assert answer.status == 200, answer.body
    assert answer.body == {
        "items": {
            busy: {"comment_count": 2, "comments_open": True},
            quiet: {"comment_count": 0, "comments_open": True},
        }
    }
    assert dynamodb_requests == ["BatchGetItem"]


def test_hundred_articles_are_one_batch_get(
    content_table: str, unique: str, dynamodb_requests: list[str]
) -> None:
    slugs = [f"a{n}-{unique}" for n in range(100)]
    for slug in slugs[:3]:
        seed(content_table, slug)
    dynamodb_requests.clear()

    answer = counts(",".join(slugs))

    assert answer.status == 200, answer.body
    assert set(answer.body["items"]) == set(slugs[:3])
    assert dynamodb_requests == ["BatchGetItem"]


def test_drafts_scheduled_and_unknown_articles_are_left_out(
    content_table: str, unique: str
) -> None:
    draft, scheduled = f"draft-{unique}", f"later-{unique}"
    seed(content_table, draft, draft=True)
    seed(content_table, scheduled, published_at=NOW + timedelta(days=2))

    answer = counts(f"{draft},{scheduled},nothing-{unique}")

    assert answer.status == 200, answer.body
    assert answer.body == {"items": {}}


def test_closed_articles_say_so_whether_closed_by_hand_or_by_age(
    content_table: str, unique: str, settings: Settings
) -> None:
    by_hand, old, recent = f"shut-{unique}", f"old-{unique}", f"new-{unique}"
    seed(content_table, by_hand, comments_open=False)
    seed(content_table, old, published_at=NOW - timedelta(days=40))
    seed(content_table, recent)
    settings(close_comments_after_days="30")

    items = counts(f"{by_hand},{old},{recent}").body["items"]

    assert {slug: item["comments_open"] for slug, item in items.items()} == {
        by_hand: False,
        old: False,
        recent: True,
    }


@pytest.mark.parametrize(
    "slugs",
    [None, "", "Upper-Case", "a,,b", "a,", ",a", "a b", "a;b", "x" * 12_200],
    ids=[
        "missing",
        "empty",
        "upper case",
        "empty item",
        "trailing comma",
        "leading comma",
        "space",
        "other separator",
        "too long",
    ],
)
def test_bad_slugs_are_a_422_naming_the_parameter(content_table: str, slugs: str | None) -> None:
    answer = counts(slugs)

    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "invalid_request"
    assert [(d["location"], d["field"]) for d in answer.body["error"]["details"]] == [
        ("query", "slugs")
    ]


def test_more_than_a_hundred_different_slugs_is_a_422_and_reads_nothing(
    content_table: str, dynamodb_requests: list[str]
) -> None:
    answer = counts(",".join(f"s{n}" for n in range(101)))

    assert answer.status == 422, answer.body
    assert answer.body["error"]["details"][0]["field"] == "slugs"
    assert "100" in answer.body["error"]["message"]
    assert dynamodb_requests == []


def test_counts_are_cacheable_and_revalidate(content_table: str, unique: str) -> None:
    slug = f"cached-{unique}"
    seed(content_table, slug)
    first = counts(slug)
    event = rest_event(
        "GET",
        "/comment-counts",
        query={"slugs": slug},
        headers={"If-None-Match": first.headers["etag"]},
    )

    again = invoke(lambda_handler, event)

    assert first.headers["cache-control"].startswith("public, max-age=")
    assert again.status == 304
