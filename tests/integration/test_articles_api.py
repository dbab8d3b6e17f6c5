"""The articles function through real API Gateway events against the emulator."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from functions.articles.app import lambda_handler
from newsroom.data import dynamo
from newsroom.data.pagination import CursorSigner
from newsroom.secrets import project_keys
from tests.apigw import Answer, invoke, rest_event
from tests.integration.articles_data import NOW, seed
from tests.integration.comments_api import own_content_table

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration


def get_article(slug: str, headers: dict[str, str] | None = None) -> Answer:
    event = rest_event("GET", "/articles/{slug}", path_params={"slug": slug}, headers=headers)
    return invoke(lambda_handler, event)


def list_articles(**query: str) -> Answer:
    return invoke(lambda_handler, rest_event("GET", "/articles", query=query))


def test_article_is_served_with_public_fields_only(content_table: str, unique: str) -> None:
    # Given a published article with an image and an author email
    slug = f"story-{unique}"
    seed(
        content_table,
        slug,
        tags=["town"],
        image={"url": "https://img.example.org/a.jpg", "caption": "Quay", "credit": "Lee"},
    )

    # When a reader asks for it
    answer = get_article(slug)

    # Then it is served, with the author's name but never the email or the source Markdown
    assert answer.status == 200
    assert answer.body["slug"] == slug
    assert answer.body["author"] == {"name": "Ada Reporter"}
    assert answer.body["image"]["credit"] == "Lee"
    assert answer.body["comment_count"] == 0
    assert answer.body["comments_open"] is True
    assert "ada@example.org" not in json.dumps(answer.body)
    assert "body_markdown" not in answer.body


def test_article_read_carries_etag_and_cache_control(content_table: str, unique: str) -> None:
    seed(content_table, f"etag-{unique}")

    answer = get_article(f"etag-{unique}")

    assert answer.headers["etag"].startswith('"')
    assert answer.headers["cache-control"] == "public, max-age=60"


def test_matching_if_none_match_answers_304_without_body(content_table: str, unique: str) -> None:
    # Given a reader who already holds the current version
    seed(content_table, f"cached-{unique}")
    etag = get_article(f"cached-{unique}").headers["etag"]

    # When they revalidate with that ETag
    answer = get_article(f"cached-{unique}", headers={"If-None-Match": etag})

    # Then nothing is sent again
    assert answer.status == 304
    assert answer.body == ""
    assert answer.headers["etag"] == etag


def test_stale_if_none_match_gets_the_full_article(content_table: str, unique: str) -> None:
    seed(content_table, f"stale-{unique}")

    answer = get_article(f"stale-{unique}", headers={"If-None-Match": '"not-the-etag"'})

    assert answer.status == 200
    assert answer.body["slug"] == f"stale-{unique}"


def test_etag_changes_when_the_article_changes(content_table: str, unique: str) -> None:
    slug = f"edited-{unique}"
    seed(content_table, slug)
    before = get_article(slug).headers["etag"]

    seed(content_table, slug, title="A corrected title", updated_at=NOW)

    assert get_article(slug).headers["etag"] != before


def test_unknown_article_is_404_in_the_error_shape(content_table: str, unique: str) -> None:
    answer = get_article(f"missing-{unique}")

    assert answer.status == 404
    assert answer.body["error"]["code"] == "article_not_found"
    assert answer.error_fields == {"slug"}


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"draft": True}, id="draft"),
        pytest.param({"published_at": NOW + timedelta(days=2)}, id="scheduled-for-later"),
        pytest.param({"published_at": None}, id="never-published"),
    ],
)
def test_unpublished_article_is_neither_served_nor_listed(
    content_table: str, unique: str, overrides: dict[str, object]
) -> None:
    # Given an article a reader must not see yet, sharing a tag with a public one
    tag = f"hidden-{unique}"
    seed(content_table, f"public-{unique}", tags=[tag])
    seed(content_table, f"hidden-{unique}", tags=[tag], **overrides)

    # When a reader asks for it directly and through the tag listing
    direct = get_article(f"hidden-{unique}")
    listed = list_articles(tag=tag)

    # Then it is unknown to them
    assert direct.status == 404
    assert [item["slug"] for item in listed.body["items"]] == [f"public-{unique}"]


def test_list_is_newest_first_and_pages_end_with_a_null_cursor(
    content_table: str, unique: str
) -> None:
    # Given five articles with one tag, published a day apart
    tag = f"paging-{unique}"
    for age in range(5):
        seed(content_table, f"p{age}-{unique}", tags=[tag], published_at=NOW - timedelta(days=age))

    # When a reader walks the tag listing two at a time
    pages, cursor = [], None
    while True:
        query = {"tag": tag, "limit": "2"} | ({"cursor": cursor} if cursor else {})
        answer = list_articles(**query)
        assert answer.status == 200
        pages.append([item["slug"] for item in answer.body["items"]])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            break

    # Then they see every article once, newest first, and the last page says there is no more
    assert pages == [
        [f"p0-{unique}", f"p1-{unique}"],
        [f"p2-{unique}", f"p3-{unique}"],
        [f"p4-{unique}"],
    ]


def walk_articles(**query: str) -> list[list[str]]:
    """The slugs of every page of an article listing, following the cursors."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        answer = list_articles(**query, **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        pages.append([item["slug"] for item in answer.body["items"]])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return pages


def test_front_page_past_dynamodbs_1_mb_query_page_lists_every_article_on_one_page(
    dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    # Given four long articles (350 KB of body each: 1.4 MB together), on a table of this
    # test's own
    with own_content_table(dynamodb, monkeypatch, stream=False) as table:
        slugs = [f"long{age}-{unique}" for age in range(4)]
        for age, slug in enumerate(slugs):
            body = "<p>" + "x" * 350_000 + "</p>"
            seed(table, slug, body_html=body, published_at=NOW - timedelta(hours=age))

        # When a reader walks the front page, 20 at a time
        pages = walk_articles(limit="20")

    # Then one page lists them all, newest first: a page reads on past DynamoDB's 1 MB, and
    # the index holds summaries, not bodies
    assert pages == [slugs]


def test_full_last_page_has_a_null_cursor(content_table: str, unique: str) -> None:
    tag = f"exact-{unique}"
    for age in range(2):
        seed(content_table, f"e{age}-{unique}", tags=[tag], published_at=NOW - timedelta(hours=age))

    answer = list_articles(tag=tag, limit="2")

    assert len(answer.body["items"]) == 2
    assert answer.body["next_cursor"] is None


def test_untagged_list_holds_public_articles_newest_first(content_table: str, unique: str) -> None:
    # Given a fresh article, published a moment ago
    seed(content_table, f"latest-{unique}", published_at=NOW - timedelta(seconds=1))

    # When a reader opens the front page
    answer = list_articles(limit="100")

    # Then the listing is in time order and holds only public articles
    published = [item["published_at"] for item in answer.body["items"]]
    assert published == sorted(published, reverse=True)
    assert f"latest-{unique}" in [item["slug"] for item in answer.body["items"]]
    assert all("email" not in item["author"] for item in answer.body["items"])


def test_list_item_is_a_summary_without_body(content_table: str, unique: str) -> None:
    seed(content_table, f"summary-{unique}", tags=[f"s-{unique}"])

    item = list_articles(tag=f"s-{unique}").body["items"][0]

    assert set(item) == {
        "slug",
        "title",
        "summary",
        "author",
        "published_at",
        "updated_at",
        "tags",
        "image",
    }


def test_list_sets_etag_and_honours_if_none_match(content_table: str, unique: str) -> None:
    seed(content_table, f"listed-{unique}", tags=[f"l-{unique}"])
    first = list_articles(tag=f"l-{unique}")

    again = invoke(
        lambda_handler,
        rest_event(
            "GET",
            "/articles",
            query={"tag": f"l-{unique}"},
            headers={"If-None-Match": first.headers["etag"]},
        ),
    )

    assert first.headers["cache-control"] == "public, max-age=30"
    assert again.status == 304


def test_retagging_an_article_moves_it_between_tag_listings(
    content_table: str, unique: str
) -> None:
    slug = f"moved-{unique}"
    seed(content_table, slug, tags=[f"old-{unique}"])

    seed(content_table, slug, tags=[f"new-{unique}"], updated_at=NOW)

    assert list_articles(tag=f"old-{unique}").body["items"] == []
    assert [i["slug"] for i in list_articles(tag=f"new-{unique}").body["items"]] == [slug]


@pytest.mark.parametrize("limit", ["0", "-1", "101", "abc", "1.5", ""])
def test_bad_limit_is_422_naming_limit(content_table: str, limit: str) -> None:
    answer = list_articles(limit=limit)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "invalid_request"
    assert answer.error_fields == {"limit"}
    assert answer.body["error"]["details"][0]["location"] == "query"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor!!", id="garbage"),
        pytest.param(_b64(b"\xff\xfe"), id="not-json"),
        pytest.param(_b64(b"[1, 2]"), id="not-an-object"),
        pytest.param(_b64(b'{"pk": "ARTICLE#x"}'), id="missing-keys"),
        pytest.param(
            _b64(
                json.dumps(
                    {"pk": "ARTICLE#x", "sk": "ARTICLE", "gsi1pk": "TAG#other", "gsi1sk": "2026"}
                ).encode()
            ),
            id="another-listing",
        ),
        pytest.param(
            _b64(
                json.dumps(
                    {"pk": 1, "sk": "ARTICLE", "gsi1pk": "PUBLISHED", "gsi1sk": "2026"}
                ).encode()
            ),
            id="wrong-types",
        ),
        pytest.param("A" * 1025, id="too-long"),
    ],
)
def test_forged_or_garbled_cursor_is_400_naming_cursor(content_table: str, cursor: str) -> None:
    answer = list_articles(cursor=cursor)

    assert answer.status in (400, 422)
    assert answer.error_fields == {"cursor"}


_RANGE_PREDICATE = re.compile(r"gsi1sk < (:\w+)")


def refuse_start_keys_out_of_range(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    """Answer a Query as DynamoDB does (moto does not) when its start key lies outside its key
    condition's range: 400 ValidationException."""
    query = json.loads(request.body or b"{}")
    start = query.get("ExclusiveStartKey")
    found = _RANGE_PREDICATE.search(query.get("KeyConditionExpression", ""))
    if not start or not found:
        return None
    upto = query["ExpressionAttributeValues"][found.group(1)]["S"]
    if start["gsi1sk"]["S"] < upto:
        return None
    body = json.dumps(
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "The provided starting key does not match the range key predicate",
        }
    ).encode()
    headers = HTTPHeaders.from_dict({"Content-Type": "application/x-amz-json-1.0"})
    return AWSResponse(request.url, 400, headers, _Body(body))


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@pytest.fixture
def dynamodb_checks_start_keys() -> Iterator[None]:
    events = dynamo.client().meta.events
    events.register(
        "before-send.dynamodb.Query", refuse_start_keys_out_of_range, unique_id="ranges"
    )
    yield
    events.unregister("before-send.dynamodb.Query", unique_id="ranges")


def test_forged_cursor_shaped_like_ours_is_400_naming_cursor_not_a_server_error(
    content_table: str, dynamodb_checks_start_keys: None
) -> None:
    # Given a cursor with exactly the listing's key attributes, for a moment beyond any page,
    # made by someone other than the API
    key = {
        "pk": "ARTICLE#x",
        "sk": "ARTICLE",
        "gsi1pk": "PUBLISHED",
        "gsi1sk": "9999-12-31T23:59:59.999999Z#x",
    }
    forged = _b64(json.dumps(key).encode())

    # When a reader sends it
    answer = list_articles(cursor=forged)

    # Then it is refused as a cursor the API did not issue
    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "invalid_cursor"
    assert answer.error_fields == {"cursor"}


def test_signed_cursor_dynamodb_refuses_as_a_start_key_is_400_naming_cursor(
    content_table: str, dynamodb_checks_start_keys: None
) -> None:
    # Given a cursor signed with the project's key whose start key DynamoDB refuses
    signer = CursorSigner(lambda: project_keys(os.environ["SECRET_PARAMETER_NAME"]))
    cursor = signer.encode(
        {"pk": "ARTICLE#x", "sk": "ARTICLE", "gsi1pk": "PUBLISHED", "gsi1sk": "9999#x"}
    )

    # When a reader sends it
    answer = list_articles(cursor=cursor)

    # Then it is answered as a bad cursor, not as a failure of ours
    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "invalid_cursor"


def test_reads_that_need_no_cursor_never_read_the_project_keys(
    content_table: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two articles with one tag, and SSM out of reach of a fresh container
    tag = f"nokeys-{unique}"
    for age in range(2):
        seed(content_table, f"k{age}-{unique}", tags=[tag], published_at=NOW - timedelta(hours=age))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")
    project_keys.cache_clear()
    try:
        # When a reader opens an article, and a listing that fits one page
        article = get_article(f"k0-{unique}")
        whole = list_articles(tag=tag)
        # And a listing with a next page, whose cursor must be signed
        paged = list_articles(tag=tag, limit="1")
    finally:
        monkeypatch.delenv("AWS_ENDPOINT_URL_SSM")
        project_keys.cache_clear()

    # Then the first two are served without the keys; the third needs them
    assert (article.status, whole.status) == (200, 200)
    assert whole.body["next_cursor"] is None
    assert paged.status == 503, paged.body


def test_cursor_from_one_tag_is_refused_for_another(content_table: str, unique: str) -> None:
    # Given a cursor issued for one tag's listing
    for age in range(3):
        seed(
            content_table,
            f"c{age}-{unique}",
            tags=[f"one-{unique}"],
            published_at=NOW - timedelta(hours=age),
        )
    cursor = list_articles(tag=f"one-{unique}", limit="1").body["next_cursor"]

    # When it is replayed against another listing
    answer = list_articles(tag=f"two-{unique}", cursor=cursor)

    # Then it is refused rather than leaking a page from elsewhere
    assert answer.status == 400
    assert answer.body["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("tag", ["Upper", "has space", "x" * 41, "semi;colon"])
def test_bad_tag_is_422_naming_tag(content_table: str, tag: str) -> None:
    answer = list_articles(tag=tag)

    assert answer.status == 422
    assert answer.error_fields == {"tag"}


@pytest.mark.parametrize(
    "slug", ["Hello_World", "a" * 121, "../../etc/passwd", "spaces here", "trailing-", "ünï"]
)
def test_bad_slug_is_422_naming_slug(content_table: str, slug: str) -> None:
    answer = get_article(slug)

    assert answer.status == 422
    assert answer.error_fields == {"slug"}


def test_article_read_is_one_dynamodb_request(
    content_table: str, unique: str, dynamodb_requests: list[str]
) -> None:
    seed(content_table, f"count-{unique}")
    dynamodb_requests.clear()

    get_article(f"count-{unique}")

    assert dynamodb_requests == ["GetItem"]


def test_each_list_page_is_one_dynamodb_query(
    content_table: str, unique: str, dynamodb_requests: list[str]
) -> None:
    # Given three tagged articles
    tag = f"q-{unique}"
    for age in range(3):
        seed(content_table, f"q{age}-{unique}", tags=[tag], published_at=NOW - timedelta(hours=age))
    dynamodb_requests.clear()

    # When a reader fetches two pages, and the untagged front page
    first = list_articles(tag=tag, limit="2")
    list_articles(tag=tag, limit="2", cursor=first.body["next_cursor"])
    list_articles(limit="5")

    # Then each page cost exactly one Query, and nothing scanned
    assert dynamodb_requests == ["Query", "Query", "Query"]


def test_unknown_route_is_404_in_the_error_shape(content_table: str) -> None:
    answer = invoke(lambda_handler, rest_event("GET", "/nothing-here"))

    assert answer.status == 404
    assert answer.body["error"]["code"] == "route_not_found"
