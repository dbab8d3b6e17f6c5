"""The comments function through real API Gateway events against the emulator."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import pytest

from functions.articles.app import lambda_handler as articles_handler
from functions.comments.app import lambda_handler
from newsroom.comments import CommentRules, Sender, submit
from newsroom.config import comments_settings
from newsroom.data import dynamo
from newsroom.data.articles import article_pk
from newsroom.errors import CommentFloodError
from newsroom.models.comments import CommentIn
from newsroom.secrets import project_keys
from newsroom.tokens import sign
from tests.apigw import Answer, invoke, rest_event
from tests.flood import STEADY_FLOOD_SECONDS
from tests.integration.articles_data import NOW, seed
from tests.integration.comments_api import (
    admin_action,
    admin_delete,
    admin_queue,
    approve_first_comment_of,
    article_comment_count,
    as_sent,
    content_table_of_its_own,  # noqa: F401 (the content_table fixture: a table per test)
    find_in_queue,
    form,
    fresh_ip,
    get_comment,
    list_comments,
    post_comment,
    post_when_flood_allows,
    queued,
    queued_ids,
    stored_comment,
    stored_comments,
    stored_item,
    walk_listing,
)

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
PUBLIC_FIELDS = {
    "id",
    "parent_id",
    "depth",
    "author_name",
    "author_url",
    "avatar",
    "body_html",
    "created_at",
}
MISSING = object()  # a form field left out altogether


@pytest.fixture
def auto_approve(settings: Settings) -> None:
    """No moderation queue for first-time commenters, so posts are listed at once."""
    settings(require_previous_approval="false")


@pytest.fixture
def slug(content_table: str, unique: str) -> str:
    """A published article open for comments, this test's own."""
    slug = f"c-{unique}"
    seed(content_table, slug)
    return slug


def listed_ids(slug: str) -> list[str]:
    answer = list_comments(slug, limit="100")
    assert answer.status == 200, answer.body
    return [item["id"] for item in answer.body["items"]]


def accepted_id(answer: Answer) -> str:
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def without(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not MISSING}


# -- posting -----------------------------------------------------------------------------------


def test_post_answers_201_with_id_status_and_location(slug: str, unique: str) -> None:
    # Given a published article
    # When a reader posts a comment on it
    answer = post_comment(slug, form(unique))

    # Then the answer names the new comment and where it will live, relative to the URL
    # posted to, so that it stays under the stage or a custom domain's base path
    assert answer.status == 201
    assert set(answer.body) == {"id", "status", "edit_token", "editable_until"}
    posted_to = f"https://api.example/v1/articles/{slug}/comments"
    assert urljoin(posted_to, answer.headers["location"]) == f"{posted_to}/{answer.body['id']}"


def test_post_answer_never_contains_the_email(slug: str, unique: str) -> None:
    commenter = form(unique)

    answer = post_comment(slug, commenter)

    assert answer.status == 201
    assert commenter["author_email"] not in as_sent(answer)


def test_first_time_commenter_is_held_as_pending_and_not_listed(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a commenter who never had a comment approved
    # When they post
    answer = post_comment(slug, form(unique))

    # Then the comment is held for moderation, out of the reader's sight
    comment_id = accepted_id(answer)
    assert answer.body["status"] == "pending"
    assert stored_item(content_table, slug, comment_id)["status"] == "pending"
    assert listed_ids(slug) == []
    assert article_comment_count(slug) == 0


def test_comment_approved_by_a_moderator_is_listed_and_counted(slug: str, unique: str) -> None:
    # Given a held comment
    comment_id = accepted_id(post_comment(slug, form(unique)))

    # When a moderator approves it
    approved = admin_action(slug, comment_id, "approve")

    # Then readers see it, and the article counts it
    assert approved.status == 200
    assert listed_ids(slug) == [comment_id]
    assert article_comment_count(slug) == 1


def test_second_comment_by_a_previously_approved_commenter_is_approved_at_once(
    quick_flood: None, slug: str, unique: str
) -> None:
    # Given a commenter whose first comment a moderator approved
    commenter = form(unique)
    first_id = approve_first_comment_of(slug, commenter)

    # When they comment again, with the same name and email
    answer = post_when_flood_allows(slug, commenter)

    # Then the comment is published without waiting for a moderator
    assert answer.status == 201
    assert answer.body["status"] == "approved"
    assert listed_ids(slug) == [first_id, answer.body["id"]]
    assert article_comment_count(slug) == 2


def test_same_email_under_another_name_is_not_previously_approved(
    quick_flood: None, slug: str, unique: str
) -> None:
    # Given an approved commenter
    commenter = form(unique)
    approve_first_comment_of(slug, commenter)

    # When someone posts with their email but another name
    answer = post_when_flood_allows(slug, commenter | {"author_name": "Someone Else"})

    # Then WordPress's rule (same name and email) does not vouch for them
    assert answer.status == 201
    assert answer.body["status"] == "pending"


# -- the public listing ------------------------------------------------------------------------


def test_listing_holds_approved_comments_only(slug: str, unique: str) -> None:
    # Given comments in every status on one article
    ids = {
        status: accepted_id(post_comment(slug, form(unique, reader=status)))
        for status in ("approved", "pending", "spam", "trash")
    }
    for status, action in (("approved", "approve"), ("spam", "spam"), ("trash", "trash")):
        assert admin_action(slug, ids[status], action).status == 200

    # When a reader lists the article's comments
    # Then only the approved one is there
    assert listed_ids(slug) == [ids["approved"]]


def test_listing_is_in_thread_order_replies_after_parent_siblings_oldest_first(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given two threads whose replies arrive interleaved
    def post(reader: str, parent: str | None = None) -> str:
        extra = {"parent_id": parent} if parent else {}
        return accepted_id(post_comment(slug, form(unique, reader=reader, **extra)))

    a = post("a")
    b = post("b")
    a1 = post("a1", a)
    b1 = post("b1", b)
    a2 = post("a2", a)
    a1a = post("a1a", a1)

    # When a reader lists them
    answer = list_comments(slug)

    # Then each reply follows its parent, siblings oldest first
    assert [item["id"] for item in answer.body["items"]] == [a, a1, a1a, a2, b, b1]
    assert [item["depth"] for item in answer.body["items"]] == [1, 2, 3, 2, 1, 2]
    assert [item["parent_id"] for item in answer.body["items"]] == [None, a, a1, a, None, b]


def test_listed_comment_has_exactly_the_public_fields(
    auto_approve: None, slug: str, unique: str
) -> None:
    post_comment(slug, form(unique, author_url="https://reader.example.org/"))

    items = list_comments(slug).body["items"]

    assert len(items) == 1
    assert set(items[0]) == PUBLIC_FIELDS
    assert items[0]["author_url"] == "https://reader.example.org/"


def test_no_email_ip_or_ip_hash_leaves_in_listing_or_single_read(
    auto_approve: None, content_table: str, slug: str, unique: str
) -> None:
    # Given an approved comment from a known address
    commenter, ip = form(unique), fresh_ip()
    comment_id = accepted_id(post_comment(slug, commenter, ip=ip))
    sender = dynamo.client().get_item(
        TableName=content_table,
        Key={"pk": {"S": article_pk(slug)}, "sk": {"S": f"SENDER#{comment_id}"}},
        ConsistentRead=True,
    )
    ip_hash = sender["Item"]["ip_hash"]["S"]

    # When a reader lists the comments and reads the one comment
    answers = [list_comments(slug), get_comment(slug, comment_id)]

    # Then neither answer carries the email, the address or its hash
    for answer in answers:
        assert answer.status == 200
        sent = as_sent(answer)
        assert comment_id in sent
        assert commenter["author_email"] not in sent
        assert ip not in sent
        assert ip_hash not in sent


def test_avatar_is_not_a_plain_hash_of_the_email(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given an approved comment
    email = form(unique)["author_email"]
    post_comment(slug, form(unique))

    # When a reader lists it
    avatar = list_comments(slug).body["items"][0]["avatar"]

    # Then its avatar cannot be matched to a known email (as Gravatar's MD5 and SHA-256 can)
    normalised = email.strip().lower().encode()
    assert avatar
    assert avatar != hashlib.md5(normalised).hexdigest()  # noqa: S324 - the hash we must not use
    assert avatar not in hashlib.sha256(normalised).hexdigest()


def test_listing_pages_follow_the_cursor_and_the_last_has_a_null_cursor(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given five approved comments
    ids = [accepted_id(post_comment(slug, form(unique, reader=f"r{n}"))) for n in range(5)]

    # When a reader walks the listing two at a time
    pages = walk_listing(slug, limit=2)

    # Then every comment comes once, in order, and the last page says there is no more
    assert [[item["id"] for item in page] for page in pages] == [ids[0:2], ids[2:4], ids[4:]]


def test_full_last_page_of_comments_has_a_null_cursor(
    auto_approve: None, slug: str, unique: str
) -> None:
    for n in range(2):
        post_comment(slug, form(unique, reader=f"r{n}"))

    answer = list_comments(slug, limit="2")

    assert len(answer.body["items"]) == 2
    assert answer.body["next_cursor"] is None


# A body of 60,000 '&' is stored as about 360 KB (the text, and 300 KB of '&amp;' rendered):
# three of them are more than one DynamoDB Query page (1 MB).
BIG_BODY = "&" * 60_000


def test_listing_past_dynamodbs_1_mb_query_page_serves_every_comment_following_cursors(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given six approved comments, every other one 60,000 '&' long
    ids = [
        accepted_id(
            post_comment(
                slug, form(unique, reader=f"r{n}", **({"body": BIG_BODY} if n % 2 else {}))
            )
        )
        for n in range(6)
    ]

    # When a reader walks the listing, 50 at a time
    pages = walk_listing(slug, limit=50)

    # Then every comment comes once, in order, each page but the last pointing to the next
    assert [item["id"] for page in pages for item in page] == ids


def test_moderation_queue_past_dynamodbs_1_mb_query_page_shows_every_held_comment(
    slug: str, unique: str
) -> None:
    # Given five held comments, three of them 60,000 '&' long
    ids = [
        accepted_id(
            post_comment(
                slug, form(unique, reader=f"r{n}", **({"body": BIG_BODY} if n < 3 else {}))
            )
        )
        for n in range(5)
    ]

    # When a moderator walks the pending queue
    listed = queued_ids("pending")

    # Then it shows each of them once
    assert listed == ids


def test_cursor_of_another_articles_listing_is_400_naming_cursor(
    auto_approve: None, content_table: str, slug: str, unique: str
) -> None:
    # Given a cursor issued for another article's comments
    other = f"other-{unique}"
    seed(content_table, other)
    for n in range(2):
        post_comment(other, form(unique, reader=f"r{n}"))
    cursor = list_comments(other, limit="1").body["next_cursor"]
    assert cursor is not None

    # When it is replayed against this article's listing
    answer = list_comments(slug, cursor=cursor)

    # Then it is refused rather than leaking another article's page
    assert answer.status == 400
    assert answer.body["error"]["code"] == "invalid_cursor"
    assert answer.error_fields == {"cursor"}


def test_well_shaped_cursor_the_api_did_not_sign_is_400_naming_cursor(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given comments, and a cursor with exactly the listing's key attributes, made by someone
    # other than the API
    for n in range(2):
        post_comment(slug, form(unique, reader=f"r{n}"))
    key = {
        "pk": f"ARTICLE#{slug}",
        "sk": "COMMENT#c000000000000deadbeef",
        "gsi2pk": f"THREAD#{slug}",
        "gsi2sk": "c000000000000deadbeef",
    }
    forged = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")

    # When a reader sends it
    answer = list_comments(slug, cursor=forged)

    # Then it is refused as a cursor the API did not issue
    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "invalid_cursor"
    assert answer.error_fields == {"cursor"}


@pytest.mark.parametrize("cursor", ["not-a-cursor!!", "eyJwayI6IDF9", "W10"])
def test_garbled_cursor_is_400_naming_cursor(slug: str, cursor: str) -> None:
    answer = list_comments(slug, cursor=cursor)

    assert answer.status == 400
    assert answer.error_fields == {"cursor"}


def test_listing_sets_etag_and_answers_304_when_it_matches(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given a reader who fetched the comments
    post_comment(slug, form(unique))
    first = list_comments(slug)

    # When they revalidate with the ETag they got
    again = list_comments(slug, headers={"If-None-Match": first.headers["etag"]})

    # Then nothing is sent again
    assert first.headers["cache-control"] == "public, max-age=30"
    assert again.status == 304
    assert again.body == ""


def test_listing_etag_changes_when_a_comment_is_approved(slug: str, unique: str) -> None:
    # Given a cached listing and a held comment
    comment_id = accepted_id(post_comment(slug, form(unique)))
    before = list_comments(slug).headers["etag"]

    # When the comment is approved
    admin_action(slug, comment_id, "approve")

    # Then the old ETag no longer matches
    again = list_comments(slug, headers={"If-None-Match": before})
    assert again.status == 200
    assert [item["id"] for item in again.body["items"]] == [comment_id]


def test_one_approved_comment_is_served_and_a_pending_one_is_404(slug: str, unique: str) -> None:
    # Given an approved and a held comment
    approved = accepted_id(post_comment(slug, form(unique, reader="a")))
    admin_action(slug, approved, "approve")
    pending = accepted_id(post_comment(slug, form(unique, reader="b")))

    # When a reader asks for each
    served, hidden = get_comment(slug, approved), get_comment(slug, pending)

    # Then only the approved one exists for them
    assert served.status == 200
    assert set(served.body) == PUBLIC_FIELDS
    assert served.body["id"] == approved
    assert hidden.status == 404
    assert hidden.body["error"]["code"] == "comment_not_found"


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "bad_fields"),
    [
        pytest.param({"author_name": MISSING}, {"author_name"}, id="name-missing"),
        pytest.param({"author_email": MISSING}, {"author_email"}, id="email-missing"),
        pytest.param({"body": MISSING}, {"body"}, id="body-missing"),
        pytest.param(
            {"author_name": MISSING, "author_email": MISSING, "body": MISSING},
            {"author_name", "author_email", "body"},
            id="all-missing",
        ),
        pytest.param({"author_name": "   "}, {"author_name"}, id="name-of-spaces"),
        pytest.param({"author_name": "n" * 246}, {"author_name"}, id="name-of-246"),
        pytest.param({"author_email": "not-an-email"}, {"author_email"}, id="email-invalid"),
        pytest.param(
            {"author_email": "e" * 89 + "@example.org"}, {"author_email"}, id="email-of-101"
        ),
        pytest.param({"author_url": "javascript:alert(1)"}, {"author_url"}, id="url-javascript"),
        pytest.param({"author_url": "ftp://x"}, {"author_url"}, id="url-ftp"),
        pytest.param(
            {"author_url": "https://example.org/" + "u" * 181}, {"author_url"}, id="url-of-201"
        ),
        pytest.param({"body": " \t\n  \r\n "}, {"body"}, id="body-of-whitespace"),
        pytest.param({"body": "\x00\x07\x1b\u200b\u202e\ufeff"}, {"body"}, id="body-of-controls"),
        pytest.param({"author_name": "\u3164"}, {"author_name"}, id="name-of-hangul-filler"),
        pytest.param({"body": "\u2800 \u2800"}, {"body"}, id="body-of-braille-blanks"),
        pytest.param({"body": "[ ](https://x.example)"}, {"body"}, id="body-renders-empty"),
        pytest.param({"body": "[]()"}, {"body"}, id="body-of-an-empty-link"),
        pytest.param(
            {"author_email": "j\u00f6@example.org"}, {"author_email"}, id="email-non-ascii"
        ),
        pytest.param({"author_url": "HTTP:`"}, {"author_url"}, id="url-backtick-host"),
        pytest.param({"author_url": "http://a_b.example"}, {"author_url"}, id="url-bad-host"),
        pytest.param({"website": "https://x.example"}, {"website"}, id="unknown-field"),
        pytest.param({"author_name": 42}, {"author_name"}, id="name-as-number"),
        pytest.param({"notify_replies": [True]}, {"notify_replies"}, id="notify-as-list"),
        pytest.param({"body": {"text": "hi"}}, {"body"}, id="body-as-object"),
        pytest.param({"parent_id": "../etc/passwd"}, {"parent_id"}, id="parent-id-malformed"),
        pytest.param(
            {"author_name": "", "author_email": "x@", "author_url": "ftp://x"},
            {"author_name", "author_email", "author_url"},
            id="several-at-once",
        ),
    ],
)
def test_invalid_form_is_422_naming_each_bad_field_and_stores_nothing(
    content_table: str,
    slug: str,
    unique: str,
    changes: dict[str, Any],
    bad_fields: set[str],
) -> None:
    # Given a form with something wrong
    bad_form = without(form(unique) | changes)

    # When it is posted
    answer = post_comment(slug, bad_form)

    # Then the answer names each bad field and nothing is stored
    assert answer.status == 422
    assert answer.body["error"]["code"] == "invalid_request"
    assert answer.error_fields == bad_fields
    assert stored_comments(content_table, slug) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("author_name", "n" * 245, id="name-of-245"),
        pytest.param("author_name", "  " + "n" * 245 + "\x07 ", id="name-of-245-after-cleaning"),
        pytest.param("author_email", "e" * 88 + "@example.org", id="email-of-100"),
        pytest.param("author_url", "https://example.org/" + "u" * 180, id="url-of-200"),
    ],
)
def test_values_at_the_limit_are_accepted(
    content_table: str, slug: str, unique: str, field: str, value: str
) -> None:
    answer = post_comment(slug, form(unique, **{field: value}))

    assert answer.status == 201, answer.body
    stored = stored_item(content_table, slug, answer.body["id"])
    assert stored[field] == value.replace("\x07", "").strip()


def test_empty_author_url_is_taken_as_none(slug: str, unique: str) -> None:
    answer = post_comment(slug, form(unique, author_url=""))

    assert answer.status == 201
    assert queued("pending", answer.body["id"])["author_url"] is None


def test_body_of_65525_characters_after_trimming_is_accepted_when_the_request_fits(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given a request limit raised above the default 64 KiB, so WordPress's 65,525-character
    # text limit is the rule that applies
    settings(max_body_bytes="70000")
    body = "\n  " + "x" * 65_525 + " \t"

    # When a reader posts a text of exactly that many characters after trimming
    answer = post_comment(slug, form(unique, body=body))

    # Then it is accepted whole
    assert answer.status == 201, answer.body
    assert len(stored_item(content_table, slug, answer.body["id"])["body_markdown"]) == 65_525


def test_text_too_large_to_store_once_rendered_is_413_not_a_server_error(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given a raised request limit and a text within WordPress's length whose characters take
    # four bytes each: with its rendered copy, too big for one DynamoDB item (400 KiB)
    settings(max_body_bytes="400000")
    body = "\N{GRINNING FACE}" * 60_000

    # When it is posted
    answer = post_comment(slug, form(unique, body=body))

    # Then it is refused as too large, naming the body, and nothing is stored
    assert answer.status == 413, answer.body
    assert answer.error_fields == {"body"}
    assert stored_comments(content_table, slug) == []


def test_body_of_65526_characters_after_trimming_is_422_naming_body(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    settings(max_body_bytes="70000")

    answer = post_comment(slug, form(unique, body=" " + "x" * 65_526 + " "))

    assert answer.status == 422
    assert answer.error_fields == {"body"}
    assert stored_comments(content_table, slug) == []


def exactly_bytes(size: int, unique: str) -> str:
    """A valid form serialised to exactly `size` bytes, its body filling what is left."""
    empty = json.dumps(form(unique, body=""))
    return json.dumps(form(unique, body="x" * (size - len(empty.encode()))))


def test_with_the_default_64_kib_request_limit_the_largest_body_that_fits_is_accepted(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a request of exactly 65,536 bytes: its text is shorter than 65,525 characters, so
    # with the default limit the request size, not the text length, is what binds
    raw = exactly_bytes(65_536, unique)

    # When it is posted
    answer = post_comment(slug, raw_body=raw)

    # Then it is accepted
    assert answer.status == 201, answer.body
    stored = stored_item(content_table, slug, answer.body["id"])
    assert 65_400 < len(stored["body_markdown"]) < 65_525


def test_request_over_64_kib_is_413_and_stores_nothing(
    content_table: str, slug: str, unique: str
) -> None:
    answer = post_comment(slug, raw_body=exactly_bytes(65_537, unique))

    assert answer.status == 413
    assert answer.body["error"]["code"] == "payload_too_large"
    assert stored_comments(content_table, slug) == []


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"author_name": "A", ', id="malformed"),
        pytest.param('[{"author_name": "A"}]', id="array"),
        pytest.param('"just a string"', id="string"),
        pytest.param(
            '{"author_name": "A", "author_email": "a@example.org", "body": "x", "body": "y"}',
            id="duplicate-keys",
        ),
    ],
)
def test_body_that_is_not_one_json_object_is_400_and_stores_nothing(
    content_table: str, slug: str, raw: str
) -> None:
    answer = post_comment(slug, raw_body=raw)

    assert answer.status == 400
    assert answer.body["error"]["code"] == "malformed_request"
    assert answer.error_fields == {"body"}
    assert stored_comments(content_table, slug) == []


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        pytest.param("text/plain", json.dumps, id="json-as-text-plain"),
        pytest.param(
            "application/x-www-form-urlencoded",
            lambda values: "&".join(f"{k}={v}" for k, v in values.items()),
            id="form-urlencoded",
        ),
    ],
)
def test_body_not_declared_as_json_is_400_naming_content_type(
    content_table: str,
    slug: str,
    unique: str,
    content_type: str,
    encode: Callable[[dict[str, Any]], str],
) -> None:
    answer = post_comment(
        slug, headers={"Content-Type": content_type}, raw_body=encode(form(unique))
    )

    assert answer.status == 400
    assert answer.error_fields == {"Content-Type"}
    assert stored_comments(content_table, slug) == []


def test_json_declared_with_a_charset_is_accepted(slug: str, unique: str) -> None:
    answer = post_comment(
        slug, form(unique), headers={"Content-Type": "application/json; charset=utf-8"}
    )

    assert answer.status == 201


def test_control_characters_are_removed_and_unicode_is_kept(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given a comment with accents, CJK, emoji, and control and direction characters
    commenter = form(
        unique,
        author_name="José\u200b 李\x07",
        body="Café\x00 中文 🎉\u202e ok\r\nnext line\x1b",
    )

    # When it is posted and listed
    post_comment(slug, commenter)
    item = list_comments(slug).body["items"][0]

    # Then the invisible characters are gone and the text is otherwise as typed
    assert item["author_name"] == "José 李"
    assert item["body_html"] == "<p>Café 中文 🎉 ok\nnext line</p>\n"


# -- the article -------------------------------------------------------------------------------


def test_comment_on_unknown_article_is_404(content_table: str, unique: str) -> None:
    answer = post_comment(f"missing-{unique}", form(unique))

    assert answer.status == 404
    assert answer.body["error"]["code"] == "article_not_found"
    assert stored_comments(content_table, f"missing-{unique}") == []


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"draft": True}, id="draft"),
        pytest.param({"published_at": NOW + timedelta(days=2)}, id="scheduled-for-later"),
        pytest.param({"published_at": None}, id="never-published"),
    ],
)
def test_comment_on_unpublished_article_is_404(
    content_table: str, unique: str, overrides: dict[str, Any]
) -> None:
    # Given an article readers cannot see yet
    slug = f"hidden-{unique}"
    seed(content_table, slug, **overrides)

    # When someone posts a comment on it
    answer = post_comment(slug, form(unique))

    # Then it does not exist for them, and nothing is stored
    assert answer.status == 404
    assert answer.body["error"]["code"] == "article_not_found"
    assert stored_comments(content_table, slug) == []


def test_comment_on_article_closed_by_its_author_is_403(content_table: str, unique: str) -> None:
    slug = f"closed-{unique}"
    seed(content_table, slug, comments_open=False)

    answer = post_comment(slug, form(unique))

    assert answer.status == 403
    assert answer.body["error"]["code"] == "comments_closed"
    assert stored_comments(content_table, slug) == []


def test_comment_on_article_older_than_close_after_days_is_403(
    settings: Settings, content_table: str, unique: str
) -> None:
    # Given comments close 30 days after publication, and an article of 31 days
    settings(close_comments_after_days="30")
    slug = f"old-{unique}"
    seed(content_table, slug, published_at=NOW - timedelta(days=31))

    # When someone posts a comment on it
    answer = post_comment(slug, form(unique))

    # Then comments are closed
    assert answer.status == 403
    assert answer.body["error"]["code"] == "comments_closed"
    assert stored_comments(content_table, slug) == []


def test_comment_on_article_younger_than_close_after_days_is_accepted(
    settings: Settings, content_table: str, unique: str
) -> None:
    settings(close_comments_after_days="30")
    slug = f"recent-{unique}"
    seed(content_table, slug, published_at=NOW - timedelta(days=29))

    answer = post_comment(slug, form(unique))

    assert answer.status == 201


# -- replies -----------------------------------------------------------------------------------


def test_reply_to_a_comment_that_does_not_exist_is_422_naming_parent_id(
    content_table: str, slug: str, unique: str
) -> None:
    answer = post_comment(slug, form(unique, parent_id="c" + "0" * 20))

    assert answer.status == 422
    assert answer.error_fields == {"parent_id"}
    assert stored_comments(content_table, slug) == []


def test_reply_to_a_pending_comment_is_422_naming_parent_id(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a held comment
    held = accepted_id(post_comment(slug, form(unique, reader="a")))

    # When someone replies to it
    answer = post_comment(slug, form(unique, reader="b", parent_id=held))

    # Then the reply is refused: the parent is not public
    assert answer.status == 422
    assert answer.error_fields == {"parent_id"}
    assert [c["id"] for c in stored_comments(content_table, slug)] == [held]


def test_reply_to_a_comment_of_another_article_is_422_naming_parent_id(
    auto_approve: None, content_table: str, slug: str, unique: str
) -> None:
    # Given an approved comment on another article
    other = f"other-{unique}"
    seed(content_table, other)
    elsewhere = accepted_id(post_comment(other, form(unique, reader="a")))

    # When someone replies to it on this article
    answer = post_comment(slug, form(unique, reader="b", parent_id=elsewhere))

    # Then the reply is refused
    assert answer.status == 422
    assert answer.error_fields == {"parent_id"}
    assert stored_comments(content_table, slug) == []


def test_replies_nest_to_depth_5_and_a_reply_to_depth_5_becomes_its_sibling(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given a chain of replies five deep
    chain: list[str] = []
    for depth in range(1, 6):
        parent = {"parent_id": chain[-1]} if chain else {}
        chain.append(accepted_id(post_comment(slug, form(unique, reader=f"d{depth}", **parent))))

    # When someone replies to the deepest one
    reply = accepted_id(post_comment(slug, form(unique, reader="deeper", parent_id=chain[-1])))

    # Then the reply sits at depth 5, beside the comment it answered, after it
    items = list_comments(slug).body["items"]
    assert [(i["id"], i["depth"]) for i in items] == [
        *((comment_id, depth) for depth, comment_id in enumerate(chain, start=1)),
        (reply, 5),
    ]
    assert items[-1]["parent_id"] == chain[3]


# -- duplicates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "restate",
    [
        pytest.param(lambda f: f, id="identical"),
        pytest.param(lambda f: f | {"body": f["body"].upper()}, id="other-case"),
        pytest.param(
            lambda f: f | {"body": "  " + f["body"].replace(" ", " \n\t ") + "  "},
            id="other-spacing",
        ),
        pytest.param(
            lambda f: f | {"author_email": f["author_email"].upper()}, id="email-in-capitals"
        ),
    ],
)
def test_same_text_again_from_the_same_email_is_answered_as_held_and_not_stored(
    quick_flood: None,
    content_table: str,
    slug: str,
    unique: str,
    restate: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    # Given a comment
    commenter = form(unique)
    first = accepted_id(post_comment(slug, commenter))

    # When the same person posts the same text again, from another address, once flood
    # control allows
    answer = post_when_flood_allows(slug, restate(commenter))

    # Then it is answered as a held comment is, and not stored a second time
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "pending"
    assert answer.body["id"] != first
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first]


def test_duplicate_within_the_flood_interval_is_refused_as_flood_not_as_duplicate(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment
    commenter = form(unique)
    first = accepted_id(post_comment(slug, commenter))

    # When the same text comes again at once from the same email
    answer = post_comment(slug, commenter)

    # Then flood control answers (checked before duplicates), as for any second comment
    assert answer.status == 429
    assert answer.body["error"]["code"] == "comment_flood"
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first]


def test_public_text_posted_with_candidate_emails_does_not_tell_which_email_wrote_it(
    quick_flood: None, settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given a published comment whose author's email an attacker wants to find
    victim = form(unique, reader="victim")
    approve_first_comment_of(slug, victim)
    published = accepted_id(post_when_flood_allows(slug, victim | {"body": f"Public {unique}"}))
    assert listed_ids(slug)[-1] == published

    # When the attacker posts its text under the author's name with the right email and
    # with a wrong one, each from an address of their own
    answers = {}
    ips = {}
    for guess in (victim["author_email"], f"not-the-author-{unique}@example.org"):
        ips[guess] = fresh_ip()
        answers[guess] = post_when_flood_allows(
            slug, victim | {"author_email": guess, "body": f"Public {unique}"}, ip=ips[guess]
        )
    settings(flood_interval_seconds=STEADY_FLOOD_SECONDS)
    followed_by = {
        guess: post_comment(slug, form(unique, reader=guess[:3]), ip=ip).status
        for guess, ip in ips.items()
    }

    # Then both answers look the same (status, body shape, headers), and both are followed
    # by flood control in the same way: nothing tells the two emails apart
    right, wrong = answers.values()
    assert (right.status, right.body["status"]) == (wrong.status, wrong.body["status"])
    assert (right.status, right.body["status"]) == (201, "pending")
    assert set(right.body) == set(wrong.body)
    assert set(right.headers) == set(wrong.headers)
    assert set(followed_by.values()) == {429}


def test_same_text_from_the_same_email_on_another_article_is_accepted(
    quick_flood: None, content_table: str, slug: str, unique: str
) -> None:
    # Given a comment on one article
    commenter = form(unique)
    accepted_id(post_comment(slug, commenter))
    other = f"other-{unique}"
    seed(content_table, other)

    # When its author posts the same text on another article
    answer = post_when_flood_allows(other, commenter)

    # Then that is not a duplicate
    assert answer.status == 201, answer.body


# -- flood control -----------------------------------------------------------------------------


def test_second_comment_from_the_same_ip_within_15_seconds_is_429_with_retry_after(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment from one address
    ip = fresh_ip()
    first = accepted_id(post_comment(slug, form(unique, reader="a"), ip=ip))

    # When another commenter posts from the same address straight after
    answer = post_comment(slug, form(unique, reader="b"), ip=ip)

    # Then they are told to slow down, and for how long
    assert answer.status == 429
    assert answer.body["error"]["code"] == "comment_flood"
    assert answer.headers["retry-after"] == "15"
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first]


def test_second_comment_from_the_same_email_and_another_ip_within_15_seconds_is_429(
    content_table: str, slug: str, unique: str
) -> None:
    first = accepted_id(post_comment(slug, form(unique)))

    answer = post_comment(slug, form(unique, body="Something else entirely."))

    assert answer.status == 429
    assert answer.headers["retry-after"] == "15"
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first]


def test_a_fractional_flood_interval_is_kept_to_and_retry_after_rounds_it_up(
    content_table: str, slug: str, unique: str, settings: Callable[..., None]
) -> None:
    # Given a flood interval of 1.5 seconds and a comment from one address
    settings(flood_interval_seconds="1.5")
    ip = fresh_ip()
    first = accepted_id(post_comment(slug, form(unique, reader="a"), ip=ip))

    # When another commenter posts from the same address straight after
    answer = post_comment(slug, form(unique, reader="b"), ip=ip)

    # Then they are told to wait whole seconds, never less than the interval
    assert answer.status == 429
    assert answer.headers["retry-after"] == "2"
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first]


def test_comments_from_other_ips_and_emails_are_not_slowed_down(slug: str, unique: str) -> None:
    post_comment(slug, form(unique, reader="a"))

    answer = post_comment(slug, form(unique, reader="b"))

    assert answer.status == 201


def submit_at(moment: datetime, slug: str, comment: dict[str, Any], ip: str) -> Any:
    """`comments.submit` against the test's table as the function would run it, with the
    clock at `moment`: flood control's time passes without waiting for it."""
    rules = replace(CommentRules.from_settings(comments_settings()), clock=lambda: moment)
    return submit(slug, CommentIn.model_validate(comment), Sender(ip=ip), rules=rules)


@pytest.mark.parametrize(
    ("later", "refused"),
    [
        pytest.param(timedelta(seconds=14, milliseconds=999), True, id="a-millisecond-early"),
        pytest.param(timedelta(seconds=15), False, id="at-15-seconds"),
    ],
)
@pytest.mark.parametrize("same", ["ip", "email"])
def test_same_ip_or_email_may_post_again_once_15_seconds_have_passed(
    content_table: str, slug: str, unique: str, later: timedelta, refused: bool, same: str
) -> None:
    # Given a comment posted now from one address
    now, ip = datetime.now(UTC), fresh_ip()
    first = submit_at(now, slug, form(unique, reader="a"), ip)

    # When the same address (another reader), or the same email (from another address),
    # posts again a little later
    if same == "ip":
        again, again_ip = form(unique, reader="b"), ip
    else:
        again, again_ip = form(unique, body="Another thought."), fresh_ip()
    try:
        second = submit_at(now + later, slug, again, again_ip)
    except CommentFloodError:
        second = None

    # Then it is refused until the interval has passed, and stored from then on
    assert (second is None) == refused
    stored = sorted(c["id"] for c in stored_comments(content_table, slug))
    assert stored == sorted([first.id] + ([] if second is None else [second.id]))


# -- Idempotency-Key ---------------------------------------------------------------------------


def test_retry_with_the_same_idempotency_key_gets_the_first_answer_and_stores_once(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a post with an Idempotency-Key
    ip, key = fresh_ip(), f"key-{unique}"
    first = post_comment(slug, form(unique), ip=ip, headers={"Idempotency-Key": key})

    # When the client retries it (say, after a timeout)
    retry = post_comment(slug, form(unique), ip=ip, headers={"Idempotency-Key": key})

    # Then the retry gets the first answer, and one comment exists
    assert first.status == 201
    assert (retry.status, retry.body, retry.headers["location"]) == (
        first.status,
        first.body,
        first.headers["location"],
    )
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first.body["id"]]


def test_same_idempotency_key_with_another_body_is_422_naming_the_key(
    content_table: str, slug: str, unique: str
) -> None:
    key = f"key-{unique}"
    first = post_comment(slug, form(unique), headers={"Idempotency-Key": key})

    answer = post_comment(
        slug, form(unique, body="Another text."), headers={"Idempotency-Key": key}
    )

    assert answer.status == 422
    assert answer.body["error"]["code"] == "idempotency_key_reused"
    assert answer.error_fields == {"Idempotency-Key"}
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first.body["id"]]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("has spaces in it", id="spaces"),
        pytest.param("k" * 256, id="256-characters"),
        pytest.param("clé", id="not-ascii"),
    ],
)
def test_invalid_idempotency_key_is_422(
    content_table: str, slug: str, unique: str, key: str
) -> None:
    answer = post_comment(slug, form(unique), headers={"Idempotency-Key": key})

    assert answer.status == 422
    assert {field.lower() for field in answer.error_fields} == {"idempotency-key"}
    assert stored_comments(content_table, slug) == []


def test_idempotency_key_of_255_visible_characters_is_accepted(slug: str, unique: str) -> None:
    key = (unique + "~!-_.") * 17  # 255 characters

    answer = post_comment(slug, form(unique), headers={"Idempotency-Key": key[:255]})

    assert answer.status == 201


# -- the moderation policy ---------------------------------------------------------------------


def test_comment_with_two_links_is_held_for_too_many_links(
    auto_approve: None, slug: str, unique: str
) -> None:
    # Given first comments are otherwise approved at once
    # When a comment carries two links
    answer = post_comment(
        slug, form(unique, body="See https://a.example.org and www.b.example.org too.")
    )

    # Then it is held, and the moderator is told why
    assert answer.body["status"] == "pending"
    assert queued("pending", answer.body["id"])["moderation"]["rule"] == "too_many_links"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[a](&#104;ttps://a.example) [b](&#104;ttps://b.example)", id="entity"),
        pytest.param("[a](https&colon;//a.example) [b](https&colon;//b.example)", id="colon"),
        pytest.param("<http:a.example> and <http:b.example>", id="scheme-without-slashes"),
        pytest.param("Write to <me@a.example> or <you@b.example>", id="email-autolinks"),
    ],
)
def test_links_the_source_hides_are_counted_as_rendered_and_hold_the_comment(
    auto_approve: None, slug: str, unique: str, body: str
) -> None:
    # Given first comments are otherwise approved at once
    # When a comment's two links are spelled so that the source shows no "https://"
    answer = post_comment(slug, form(unique, body=body))

    # Then it is held for too many links all the same
    assert answer.body["status"] == "pending"
    assert queued("pending", answer.body["id"])["moderation"]["rule"] == "too_many_links"


def test_comment_with_one_link_is_not_held_for_links(
    auto_approve: None, slug: str, unique: str
) -> None:
    answer = post_comment(slug, form(unique, body="See https://a.example.org for more."))

    assert answer.body["status"] == "approved"


@pytest.mark.parametrize(
    "where",
    [
        pytest.param({"body": "Best CASINO bonuses here."}, id="body"),
        pytest.param({"author_name": "Casino Royale"}, id="name"),
        pytest.param({"author_email": "casino-{unique}@example.org"}, id="email"),
        pytest.param({"author_url": "https://casino.example.org/"}, id="url"),
    ],
)
def test_moderation_keyword_in_any_field_holds_the_comment(
    auto_approve: None, settings: Settings, slug: str, unique: str, where: dict[str, str]
) -> None:
    # Given "casino" is a moderation word, and comments are otherwise approved at once
    settings(moderation_keys='["casino"]')

    # When a comment carries it
    fields = {k: v.format(unique=unique) for k, v in where.items()}
    answer = post_comment(slug, form(unique, **fields))

    # Then it is held, with the word as the reason
    assert answer.body["status"] == "pending"
    moderation = queued("pending", answer.body["id"])["moderation"]
    assert (moderation["rule"], moderation["keyword"]) == ("moderation_keyword", "casino")


def test_moderation_keyword_matching_the_senders_ip_holds_the_comment(
    auto_approve: None, settings: Settings, slug: str, unique: str
) -> None:
    ip = fresh_ip()
    settings(moderation_keys=json.dumps([ip]))

    answer = post_comment(slug, form(unique), ip=ip)

    assert answer.body["status"] == "pending"
    moderation = queued("pending", answer.body["id"])["moderation"]
    assert (moderation["rule"], moderation["keyword"]) == ("moderation_keyword", ip)


def test_disallowed_keyword_is_answered_like_a_held_comment_but_filed_as_spam(
    settings: Settings, slug: str, unique: str
) -> None:
    # Given "viagra" is disallowed, and a held comment to compare with
    settings(disallowed_keys='["viagra"]')
    held = post_comment(slug, form(unique, reader="a"))

    # When a comment carries the word
    spam = post_comment(slug, form(unique, reader="b", body="Cheap Viagra here."))

    # Then its answer cannot be told from the held one's
    assert (
        (spam.status, spam.body["status"])
        == (held.status, held.body["status"])
        == (
            201,
            "pending",
        )
    )
    assert set(spam.body) == set(held.body)
    assert set(spam.headers) == set(held.headers)
    assert "spam" not in as_sent(spam).lower()
    # But the moderator finds it among the spam, not in the queue
    filed = queued("spam", spam.body["id"])
    assert (filed["moderation"]["rule"], filed["moderation"]["keyword"]) == (
        "disallowed_keyword",
        "viagra",
    )
    assert find_in_queue("pending", spam.body["id"]) is None


def test_filled_honeypot_is_answered_like_a_held_comment_but_filed_as_spam(
    slug: str, unique: str
) -> None:
    answer = post_comment(slug, form(unique, phone="+44 20 7946 0000"))

    assert (answer.status, answer.body["status"]) == (201, "pending")
    assert queued("spam", answer.body["id"])["moderation"]["rule"] == "honeypot"
    assert find_in_queue("pending", answer.body["id"]) is None


def test_without_previous_approval_required_a_first_comment_is_approved_at_once(
    auto_approve: None, slug: str, unique: str
) -> None:
    answer = post_comment(slug, form(unique))

    assert answer.body["status"] == "approved"
    assert listed_ids(slug) == [answer.body["id"]]
    assert article_comment_count(slug) == 1


def test_moderate_all_holds_even_a_previously_approved_commenter(
    quick_flood: None, settings: Settings, slug: str, unique: str
) -> None:
    # Given a previously approved commenter, and every comment to be held
    commenter = form(unique)
    approve_first_comment_of(slug, commenter)
    settings(moderate_all="true")

    # When they comment again
    answer = post_when_flood_allows(slug, commenter)

    # Then the comment waits for a moderator all the same
    assert answer.body["status"] == "pending"
    assert queued("pending", answer.body["id"])["moderation"]["rule"] == "moderate_all"


# -- the moderation API ------------------------------------------------------------------------


def test_pending_queue_shows_the_email_and_the_reason(slug: str, unique: str) -> None:
    # Given a held comment
    commenter = form(unique)
    comment_id = accepted_id(post_comment(slug, commenter))

    # When a moderator opens the queue
    item = queued("pending", comment_id)

    # Then they see who wrote it, what, and why it waits
    assert item["slug"] == slug
    assert item["status"] == "pending"
    assert item["author_email"] == commenter["author_email"]
    assert item["body_html"] == f"<p>{commenter['body']}</p>\n"
    assert item["moderation"]["rule"] == "first_comment"
    assert item["moderation"]["explanation"]


def test_moderation_answers_are_never_stored_by_a_cache(slug: str, unique: str) -> None:
    # Given a held comment
    comment_id = accepted_id(post_comment(slug, form(unique)))

    # When a moderator reads the queue (emails in it), approves the comment and deletes it
    answers = [
        admin_queue("pending"),
        admin_action(slug, comment_id, "approve"),
        admin_delete(slug, comment_id),
    ]

    # Then no answer may be kept by a browser or a proxy
    assert [a.status for a in answers] == [200, 200, 204]
    assert [a.headers.get("cache-control") for a in answers] == ["no-store"] * 3


def test_queue_shows_a_comment_as_it_would_be_published_without_its_source_text(
    slug: str, unique: str
) -> None:
    # Given a held comment
    comment_id = accepted_id(post_comment(slug, form(unique, body="Some *emphasis* here.")))

    # When a moderator opens the queue
    item = queued("pending", comment_id)

    # Then they see the public fields, the rendered text, who wrote it and why it waits, and
    # not the Markdown it came from (the queue's index does not carry it)
    assert set(item) == PUBLIC_FIELDS | {
        "slug",
        "status",
        "author_email",
        "moderation",
        "notify_replies",
    }
    assert item["body_html"] == "<p>Some <em>emphasis</em> here.</p>\n"


def held_reply_to_a_removed_parent(slug: str, unique: str, removal: str) -> str:
    """A held reply (a first-time commenter's) to a comment that was approved, then trashed,
    marked as spam or deleted; the reply's id."""
    parent = accepted_id(post_comment(slug, form(unique, reader="a")))
    assert admin_action(slug, parent, "approve").status == 200
    reply = post_comment(slug, form(unique, reader="b", parent_id=parent))
    assert (reply.status, reply.body["status"]) == (201, "pending"), reply.body
    removed = (
        admin_delete(slug, parent) if removal == "delete" else admin_action(slug, parent, removal)
    )
    assert removed.status in (200, 204), removed.body
    return str(reply.body["id"])


@pytest.mark.parametrize("removal", ["trash", "spam", "delete"])
def test_approving_a_held_reply_whose_parent_is_no_longer_approved_is_409_and_keeps_it_held(
    content_table: str, slug: str, unique: str, removal: str
) -> None:
    # Given a held reply whose parent was trashed, marked as spam or deleted since
    reply = held_reply_to_a_removed_parent(slug, unique, removal)

    # When a moderator approves the reply
    answer = admin_action(slug, reply, "approve")

    # Then it is refused, saying why, and the reply stays held: not listed, not counted
    assert answer.status == 409, answer.body
    assert answer.body["error"]["code"] == "parent_not_approved"
    assert "approve" in answer.body["error"]["message"]
    assert stored_item(content_table, slug, reply)["status"] == "pending"
    assert listed_ids(slug) == []
    assert article_comment_count(slug) == 0


def follow_link(token: str, *, accept: str) -> Answer:
    """A person (or a program) pressing the button of an email link's page."""
    event = rest_event(
        "POST", "/links/{token}", path_params={"token": token}, headers={"Accept": accept}
    )
    return invoke(lambda_handler, event)


def test_approve_link_of_a_held_reply_whose_parent_was_trashed_is_409_until_the_parent_is_back(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a held reply whose parent was trashed since, and the approve link of its email
    reply = held_reply_to_a_removed_parent(slug, unique, "trash")
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    token = sign(keys, slug=slug, comment_id=reply, action="approve")

    # When the moderator presses the button, on the page and from a program
    page = follow_link(token, accept="text/html")
    as_json = follow_link(token, accept="application/json")

    # Then both are refused, saying why, and the reply stays held
    assert page.status == 409
    assert page.headers["content-type"].startswith("text/html")
    assert as_json.status == 409
    assert as_json.body["error"]["code"] == "parent_not_approved"
    assert as_json.body["error"]["message"] in html.unescape(page.body)
    assert stored_item(content_table, slug, reply)["status"] == "pending"

    # When the parent is approved again, and the link followed once more
    parent = stored_item(content_table, slug, reply)["parent_id"]
    assert admin_action(slug, parent, "approve").status == 200
    again = follow_link(token, accept="application/json")

    # Then the link still works (the refusal did not spend it), and the reply is approved
    assert again.status == 200, again.body
    assert stored_item(content_table, slug, reply)["status"] == "approved"
    assert listed_ids(slug) == [parent, reply]


def test_moderation_queue_of_an_unknown_status_is_422_naming_status(content_table: str) -> None:
    answer = admin_queue("deleted")

    assert answer.status == 422
    assert answer.error_fields == {"status"}


def test_approve_then_spam_moves_the_article_count_up_and_down(slug: str, unique: str) -> None:
    # Given a held comment
    comment_id = accepted_id(post_comment(slug, form(unique)))

    # When a moderator approves it, then marks it as spam
    approved = admin_action(slug, comment_id, "approve")
    count_when_approved = article_comment_count(slug)
    spammed = admin_action(slug, comment_id, "spam")

    # Then the article counts it only while it is approved
    assert (approved.status, approved.body["status"], approved.body["previous_status"]) == (
        200,
        "approved",
        "pending",
    )
    assert count_when_approved == 1
    assert (spammed.status, spammed.body["status"], spammed.body["previous_status"]) == (
        200,
        "spam",
        "approved",
    )
    assert article_comment_count(slug) == 0
    assert listed_ids(slug) == []
    assert find_in_queue("spam", comment_id) is not None


def test_trashing_an_approved_comment_unlists_and_uncounts_it(slug: str, unique: str) -> None:
    comment_id = accepted_id(post_comment(slug, form(unique)))
    admin_action(slug, comment_id, "approve")

    trashed = admin_action(slug, comment_id, "trash")

    assert (trashed.status, trashed.body["status"]) == (200, "trash")
    assert listed_ids(slug) == []
    assert article_comment_count(slug) == 0
    assert find_in_queue("trash", comment_id) is not None


def test_spamming_a_held_comment_leaves_the_count_alone(slug: str, unique: str) -> None:
    comment_id = accepted_id(post_comment(slug, form(unique)))

    spammed = admin_action(slug, comment_id, "spam")

    assert (spammed.status, spammed.body["previous_status"]) == (200, "pending")
    assert article_comment_count(slug) == 0


@pytest.mark.parametrize("action", ["approve", "spam", "trash"])
def test_applying_the_same_action_twice_is_a_no_op(slug: str, unique: str, action: str) -> None:
    # Given a comment a moderator already acted on
    comment_id = accepted_id(post_comment(slug, form(unique)))
    first = admin_action(slug, comment_id, action)
    count = article_comment_count(slug)

    # When the same action is applied again (a link clicked twice)
    again = admin_action(slug, comment_id, action)

    # Then it answers 200 and changes nothing
    assert again.status == 200
    assert again.body["status"] == again.body["previous_status"] == first.body["status"]
    assert article_comment_count(slug) == count


@pytest.mark.parametrize("action", ["approve", "spam", "trash"])
def test_action_on_an_unknown_comment_is_404(slug: str, action: str) -> None:
    answer = admin_action(slug, "c" + "f" * 20, action)

    assert answer.status == 404
    assert answer.body["error"]["code"] == "comment_not_found"


def test_delete_of_an_unknown_comment_is_404(slug: str) -> None:
    answer = admin_delete(slug, "c" + "f" * 20)

    assert answer.status == 404
    assert answer.body["error"]["code"] == "comment_not_found"


def test_unknown_action_is_422_naming_action(slug: str, unique: str) -> None:
    comment_id = accepted_id(post_comment(slug, form(unique)))

    answer = admin_action(slug, comment_id, "publish")

    assert answer.status == 422
    assert answer.error_fields == {"action"}
    assert find_in_queue("pending", comment_id) is not None


def test_delete_removes_an_approved_comment_for_good_and_uncounts_it(
    content_table: str, slug: str, unique: str
) -> None:
    # Given an approved comment
    comment_id = accepted_id(post_comment(slug, form(unique)))
    admin_action(slug, comment_id, "approve")

    # When a moderator deletes it
    deleted = admin_delete(slug, comment_id)

    # Then it is gone everywhere, and no longer counted
    assert deleted.status == 204
    assert get_comment(slug, comment_id).status == 404
    assert admin_action(slug, comment_id, "approve").status == 404
    assert admin_delete(slug, comment_id).status == 404
    assert stored_comment(content_table, slug, comment_id) is None
    assert article_comment_count(slug) == 0


def set_counts(
    table: str,
    slug: str,
    *,
    comment_count: int,
    approved_count: int | None = None,
    commenter: str | None = None,
) -> None:
    """Make the stored counts drift, as an article deleted and imported again does (its count
    starts again from 0 while its approved comments stay)."""
    dynamo.client().update_item(
        TableName=table,
        Key={"pk": {"S": article_pk(slug)}, "sk": {"S": "ARTICLE"}},
        UpdateExpression="SET comment_count = :n",
        ExpressionAttributeValues={":n": {"N": str(comment_count)}},
    )
    if commenter is not None:
        dynamo.client().update_item(
            TableName=table,
            Key={"pk": {"S": f"COMMENTER#{commenter}"}, "sk": {"S": "PROFILE"}},
            UpdateExpression="SET approved_count = :n",
            ExpressionAttributeValues={":n": {"N": str(approved_count)}},
        )


def stored_counts(table: str, slug: str, commenter: str) -> tuple[int, int]:
    """(the article's comment_count, the commenter's approved_count) as stored."""
    article = dynamo.client().get_item(
        TableName=table,
        Key={"pk": {"S": article_pk(slug)}, "sk": {"S": "ARTICLE"}},
        ConsistentRead=True,
    )["Item"]
    profile = dynamo.client().get_item(
        TableName=table,
        Key={"pk": {"S": f"COMMENTER#{commenter}"}, "sk": {"S": "PROFILE"}},
        ConsistentRead=True,
    )["Item"]
    return int(article["comment_count"]["N"]), int(profile["approved_count"]["N"])


def test_article_whose_count_drifted_below_zero_is_served_with_no_comments_counted(
    content_table: str, slug: str
) -> None:
    # Given an article whose stored count drifted below zero
    set_counts(content_table, slug, comment_count=-1)

    # When a reader opens it
    answer = invoke(
        articles_handler, rest_event("GET", "/articles/{slug}", path_params={"slug": slug})
    )

    # Then it is served, counting no comments
    assert answer.status == 200, answer.body
    assert answer.body["comment_count"] == 0


@pytest.mark.parametrize("remove", ["trash", "spam", "delete"])
def test_removing_an_approved_comment_never_takes_a_count_below_zero(
    content_table: str, slug: str, unique: str, remove: str
) -> None:
    # Given an approved comment on an article, and both counts drifted to zero meanwhile
    comment_id = accepted_id(post_comment(slug, form(unique)))
    admin_action(slug, comment_id, "approve")
    commenter = stored_item(content_table, slug, comment_id)["commenter"]
    set_counts(content_table, slug, comment_count=0, approved_count=0, commenter=commenter)

    # When a moderator trashes, spams or deletes it
    answer = (
        admin_delete(slug, comment_id)
        if remove == "delete"
        else admin_action(slug, comment_id, remove)
    )

    # Then it is done, and the counts stay at zero
    assert answer.status in (200, 204), answer.body
    assert get_comment(slug, comment_id).status == 404
    assert stored_counts(content_table, slug, commenter) == (0, 0)
    assert article_comment_count(slug) == 0


def test_removing_an_approved_comment_still_lowers_counts_above_zero(
    quick_flood: None, content_table: str, slug: str, unique: str
) -> None:
    # Given two approved comments by one commenter
    commenter_form = form(unique)
    first = accepted_id(post_comment(slug, commenter_form))
    admin_action(slug, first, "approve")
    second = accepted_id(post_when_flood_allows(slug, commenter_form | {"body": "Once more."}))
    commenter = stored_item(content_table, slug, first)["commenter"]
    assert stored_counts(content_table, slug, commenter) == (2, 2)

    # When a moderator trashes one
    assert admin_action(slug, second, "trash").status == 200

    # Then each count goes down by one
    assert stored_counts(content_table, slug, commenter) == (1, 1)


def test_delete_frees_the_duplicate_guard(
    quick_flood: None, content_table: str, slug: str, unique: str
) -> None:
    # Given a comment a moderator deleted
    commenter = form(unique)
    admin_delete(slug, accepted_id(post_comment(slug, commenter)))

    # When its author posts the same text again
    answer = post_when_flood_allows(slug, commenter)

    # Then it is not refused as a duplicate
    assert answer.status == 201, answer.body
    assert [c["id"] for c in stored_comments(content_table, slug)] == [answer.body["id"]]


# -- cost --------------------------------------------------------------------------------------


def test_accepted_comment_costs_one_batch_get_and_one_transaction(
    slug: str, unique: str, dynamodb_requests: list[str]
) -> None:
    # Given a reply to an approved comment (so the parent is read and checked too)
    parent = accepted_id(post_comment(slug, form(unique, reader="a")))
    admin_action(slug, parent, "approve")
    dynamodb_requests.clear()

    # When a reader posts
    answer = post_comment(slug, form(unique, reader="b", parent_id=parent))

    # Then it cost one read and one write request
    assert answer.status == 201
    assert dynamodb_requests == ["BatchGetItem", "TransactWriteItems"]


def test_each_listing_page_is_one_query(
    auto_approve: None, slug: str, unique: str, dynamodb_requests: list[str]
) -> None:
    for n in range(3):
        post_comment(slug, form(unique, reader=f"r{n}"))
    dynamodb_requests.clear()

    first = list_comments(slug, limit="2")
    list_comments(slug, limit="2", cursor=first.body["next_cursor"])

    assert dynamodb_requests == ["Query", "Query"]


# -- rendering ---------------------------------------------------------------------------------


class Markup(HTMLParser):
    """The elements and attributes of an HTML fragment, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def test_markdown_is_rendered_and_links_get_nofollow_ugc(
    auto_approve: None, slug: str, unique: str
) -> None:
    post_comment(slug, form(unique, body="I *really* liked [the photos](https://example.org/p)."))

    body_html = list_comments(slug).body["items"][0]["body_html"]

    assert Markup(body_html).elements == [
        ("p", {}),
        ("em", {}),
        ("a", {"href": "https://example.org/p", "rel": "nofollow ugc noopener"}),
    ]


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param("<script>alert(1)</script>", id="script"),
        pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
        pytest.param('<a href="#" onclick="alert(1)">x</a>', id="onclick"),
        pytest.param("<svg onload=alert(1)></svg>", id="svg-onload"),
        pytest.param("[click](javascript:alert(1))", id="javascript-link"),
        pytest.param("[click](JaVaScRiPt:alert(1))", id="javascript-link-mixed-case"),
        pytest.param("<javascript:alert(1)>", id="javascript-autolink"),
        pytest.param("[x](data:text/html;base64,PHNjcmlwdD4=)", id="data-link"),
        pytest.param("![pic](https://example.org/p.png)", id="markdown-image"),
        pytest.param('<iframe src="https://example.org"></iframe>', id="iframe"),
    ],
)
def test_scripts_handlers_bad_links_and_images_never_reach_body_html(
    auto_approve: None, slug: str, unique: str, attack: str
) -> None:
    # Given a comment that tries to smuggle active content
    post_comment(slug, form(unique, body=f"Hello {attack} world"))

    # When it is listed
    body_html = list_comments(slug).body["items"][0]["body_html"]

    # Then only harmless elements and attributes, and only web links, come out
    elements = Markup(body_html).elements
    assert {tag for tag, _ in elements} <= {"p", "a"}
    for _, attributes in elements:
        assert not [name for name in attributes if name.startswith("on")]
        assert str(attributes.get("href", "https://")).startswith(("https://", "http://"))
    assert "<script" not in body_html
    assert "<img" not in body_html


def test_markup_in_the_author_name_is_returned_as_plain_text(
    auto_approve: None, slug: str, unique: str
) -> None:
    post_comment(slug, form(unique, author_name="<b>x</b>"))

    item = list_comments(slug).body["items"][0]

    assert item["author_name"] == "<b>x</b>"
    assert "<b>" not in item["body_html"]
