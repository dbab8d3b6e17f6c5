"""Retention of the sender data kept for moderation: the IP hash lives in an item of its own
beside the comment, which the table's TTL deletes after SENDER_DATA_RETENTION_DAYS, and the
comment and its moderation go on without it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.data import dynamo
from newsroom.data.articles import article_pk
from newsroom.privacy import ip_hash
from newsroom.secrets import project_keys
from newsroom_tools.template import load_template, resources
from tests.flood import QUICK_FLOOD_SECONDS
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    admin_action,
    admin_delete,
    admin_queue,
    article_comment_count,
    delete_own_comment,
    form,
    fresh_ip,
    list_comments,
    own_content_table,
    post_comment,
    post_when_flood_allows,
    queued,
    stored_item,
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


@pytest.fixture
def slug(content_table: str, unique: str) -> str:
    slug = f"s-{unique}"
    seed(content_table, slug)
    return slug


def _sender_key(slug: str, comment_id: str) -> dict[str, Any]:
    return {"pk": {"S": article_pk(slug)}, "sk": {"S": f"SENDER#{comment_id}"}}


def sender_data(table: str, slug: str, comment_id: str) -> dict[str, Any] | None:
    found = dynamo.client().get_item(
        TableName=table, Key=_sender_key(slug, comment_id), ConsistentRead=True
    )
    item = found.get("Item")
    return None if item is None else dynamo.from_item(item)


def expire(table: str, slug: str, comment_id: str) -> None:
    """What the table's TTL does once the item's `expires_at` has passed: delete it whole."""
    dynamo.client().delete_item(TableName=table, Key=_sender_key(slug, comment_id))


def posted_id(slug: str, ip: str, unique: str, reader: str = "a") -> str:
    answer = post_comment(slug, form(unique, reader=reader), ip=ip)
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def created_at(table: str, slug: str, comment_id: str) -> datetime:
    return datetime.fromisoformat(str(stored_item(table, slug, comment_id)["created_at"]))


def test_ip_hash_is_kept_beside_the_comment_in_an_item_the_tables_ttl_deletes_after_90_days(
    content_table: str, slug: str, unique: str
) -> None:
    # Given the table's TTL attribute, as the template defines it
    table = resources(load_template(), "AWS::DynamoDB::Table")["ContentTable"]
    ttl_attribute = table["Properties"]["TimeToLiveSpecification"]["AttributeName"]

    # When a reader posts
    ip = fresh_ip()
    comment_id = posted_id(slug, ip, unique)

    # Then the comment holds no IP hash; its sender data does, until 90 days after the post
    comment = stored_item(content_table, slug, comment_id)
    assert "ip_hash" not in comment
    kept = sender_data(content_table, slug, comment_id)
    assert kept is not None
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    assert kept["ip_hash"] == ip_hash(secret, ip)
    assert kept["type"] == "sender_data"
    assert not any(name.startswith("gsi") for name in kept)  # in no index
    expected = created_at(content_table, slug, comment_id) + timedelta(days=90)
    assert kept[ttl_attribute] == int(expected.timestamp())


def test_sender_data_retention_days_sets_when_the_ip_hash_expires(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given a retention of 7 days
    settings(sender_data_retention_days="7")

    # When a reader posts
    comment_id = posted_id(slug, fresh_ip(), unique)

    # Then the IP hash expires 7 days after the post
    kept = sender_data(content_table, slug, comment_id)
    assert kept is not None
    expected = created_at(content_table, slug, comment_id) + timedelta(days=7)
    assert kept["expires_at"] == int(expected.timestamp())


def test_held_comments_are_moderated_alike_with_their_sender_data_and_after_it_expired(
    content_table: str, slug: str, unique: str
) -> None:
    # Given two held comments, one whose sender data has expired
    kept_id = posted_id(slug, fresh_ip(), unique, reader="a")
    expired_id = posted_id(slug, fresh_ip(), unique, reader="b")
    expire(content_table, slug, expired_id)

    # When a moderator lists the queue and approves both
    listed = [queued("pending", kept_id), queued("pending", expired_id)]
    approvals = [admin_action(slug, c, "approve") for c in (kept_id, expired_id)]

    # Then both were listed, approved, published and counted, and nothing brought it back
    assert [item["author_name"] for item in listed] == ["Reader A", "Reader B"]
    assert [a.status for a in approvals] == [200, 200]
    items = list_comments(slug).body["items"]
    assert {item["id"] for item in items} == {kept_id, expired_id}
    assert article_comment_count(slug) == 2
    assert sender_data(content_table, slug, kept_id) is not None
    assert sender_data(content_table, slug, expired_id) is None
    assert admin_queue("pending").status == 200


def test_a_moderators_delete_deletes_the_sender_data_with_the_comment(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a held comment with its sender data
    comment_id = posted_id(slug, fresh_ip(), unique)
    assert sender_data(content_table, slug, comment_id) is not None

    # When a moderator deletes it
    answer = admin_delete(slug, comment_id)

    # Then its sender data is gone with it
    assert answer.status == 204, answer.body
    assert sender_data(content_table, slug, comment_id) is None


def test_its_authors_delete_deletes_the_sender_data_with_the_comment(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment its author may still delete
    answer = post_comment(slug, form(unique), ip=fresh_ip())
    comment_id, token = answer.body["id"], answer.body["edit_token"]
    assert sender_data(content_table, slug, comment_id) is not None

    # When its author deletes it
    deleted = delete_own_comment(slug, comment_id, token=token)

    # Then its sender data is gone with it
    assert deleted.status == 204, deleted.body
    assert sender_data(content_table, slug, comment_id) is None


def test_a_duplicate_answered_as_held_stores_no_sender_data(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given a stored comment
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS)
    first = post_comment(slug, form(unique), ip=fresh_ip())
    assert first.status == 201, first.body

    # When the same text comes again from the same address, after the flood interval
    again = post_when_flood_allows(slug, form(unique))

    # Then it is answered as held, and only the stored comment has sender data
    assert again.status == 201, again.body
    assert sender_data(content_table, slug, first.body["id"]) is not None
    assert sender_data(content_table, slug, again.body["id"]) is None
