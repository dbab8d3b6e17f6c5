"""Every comment of an address, found with a Query of the author index (gsi4, keyed by the
address's keyed hash), whatever its status or article: what an export or an erasure reads."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from newsroom.data.comments import AuthorItems, CommentTable
from newsroom.data.pagination import CursorSigner
from newsroom.privacy import email_hash
from newsroom.secrets import project_keys
from newsroom_tools.template import load_template, resources
from tests.flood import QUICK_FLOOD_SECONDS
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    admin_action,
    form,
    own_content_table,
    post_comment,
    post_when_flood_allows,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

Settings = Callable[..., None]


@pytest.fixture
def content_table(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    with own_content_table(dynamodb, monkeypatch, stream=False) as table:
        yield table


def items_of(table: str, email: str) -> AuthorItems:
    """What the author index gives for `email`, under every key of the keyring."""
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    store = CommentTable(table, cursors=CursorSigner(lambda: keys))
    return store.author_items([email_hash(key, email) for key in keys.all])


def test_author_index_holds_keys_only(content_table: str) -> None:
    # An erasure or export reads every item it finds by key (as it is now), so the index
    # carries nothing of the comment: no email, no text.
    table = resources(load_template(), "AWS::DynamoDB::Table")["ContentTable"]["Properties"]

    (index,) = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "gsi4"]

    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["gsi4pk", "gsi4sk"]


def test_every_comment_of_an_address_on_three_articles_in_any_status_is_found_oldest_first(
    settings: Settings,
    content_table: str,
    unique: str,
    dynamodb_requests: list[str],
) -> None:
    # Given one address's comments on three articles (held, approved, spam), written with
    # different case and spacing, and another address's comment
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS, disallowed_keys='["casino"]')
    slugs = [f"a{n}-{unique}" for n in range(3)]
    for slug in slugs:
        seed(content_table, slug)
    email = f"Someone.{unique}@Example.org"
    posted = []
    for slug, (written, body) in zip(
        slugs,
        [
            (email, "A first remark."),
            (f"  {email.upper()} ", "A second remark."),
            (email.lower(), "Visit my casino."),
        ],
        strict=True,
    ):
        answer = post_when_flood_allows(slug, form(unique, author_email=written, body=body))
        assert answer.status == 201, answer.body
        posted.append(answer.body["id"])
    assert admin_action(slugs[1], posted[1], "approve").status == 200
    other = post_comment(slugs[0], form(unique, reader="other"))
    assert other.status == 201, other.body

    # When every item of that address is read
    dynamodb_requests.clear()
    found = items_of(content_table, email)

    # Then it is that address's three comments, oldest first, with what they are now, read
    # by a Query and by key, never a Scan
    assert [(c.slug, c.id) for c in found.comments] == list(zip(slugs, posted, strict=True))
    assert [c.status for c in found.comments] == ["pending", "approved", "spam"]
    assert found.duplicates == []
    assert "Scan" not in dynamodb_requests
    assert "Query" in dynamodb_requests


def test_an_address_with_no_comment_finds_nothing(content_table: str, unique: str) -> None:
    found = items_of(content_table, f"nobody-{unique}@example.org")

    assert found == AuthorItems(comments=[], duplicates=[])


def test_a_duplicate_answered_as_held_is_found_with_the_comment_it_repeated(
    settings: Settings, content_table: str, unique: str
) -> None:
    # Given a comment, and the same text again from the same address (answered as held, and
    # kept as an answered duplicate while its edit window lasts)
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS)
    slug = f"d-{unique}"
    seed(content_table, slug)
    first = post_comment(slug, form(unique))
    again = post_when_flood_allows(slug, form(unique))
    assert again.status == 201, again.body

    # When every item of that address is read
    found = items_of(content_table, form(unique)["author_email"])

    # Then both are there: the comment, and the duplicate holding the address
    assert [c.id for c in found.comments] == [first.body["id"]]
    assert [d.id for d in found.duplicates] == [again.body["id"]]
