"""Driving the comments function with API Gateway events, and reading what it stored.

Every post comes from an address of its own unless the test names one, so flood control only
links the requests a test means to link. Stored items are read by key or by a Query on the
article's partition, never by a Scan.

Comment tests each run on a content table of their own (`own_content_table`): moto's
`TransactWriteItems` deep-copies every table it touches, items and stream records, before
applying the transaction (to roll back on failure), so on the session's shared table each post
would cost more with every item any earlier test wrote.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv6Address, IPv6Network
from typing import TYPE_CHECKING, Any

import pytest

from functions.articles.app import lambda_handler as articles_handler
from functions.comments.app import lambda_handler
from newsroom.config import articles_settings, comments_settings
from newsroom.data import dynamo
from newsroom.data.articles import article_pk
from newsroom.data.comments import all_comment_items
from newsroom_tools.template import load_template, resources, table_create_kwargs
from tests.apigw import Answer, LambdaContext, invoke, rest_event

if TYPE_CHECKING:
    import pytest
    from mypy_boto3_dynamodb import DynamoDBClient

COMMENTS = "/articles/{slug}/comments"
ONE_COMMENT = "/articles/{slug}/comments/{comment_id}"
# IPv6's documentation prefix (RFC 3849): 96 random bits per sender never collide.
_SENDERS = IPv6Network("2001:db8::/32")
_JSON = {"Content-Type": "application/json"}
# What a moderator's signed (AWS_IAM) request carries in its identity.
_ADMIN_EVENT = "admin_approve_comment_not_found.json"


@contextmanager
def own_content_table(
    db: DynamoDBClient, monkeypatch: pytest.MonkeyPatch, *, stream: bool = True
) -> Iterator[str]:
    """A new, empty content table (the template's ContentTable) that the comments and articles
    functions use until the block ends; then it is deleted.

    Without `stream`, the table has no stream: moto copies every stream record (old and new
    images) along with the items in each transaction, and the comments function never reads it.
    """
    spec = resources(load_template(), "AWS::DynamoDB::Table")["ContentTable"]
    name = f"{os.environ['CONTENT_TABLE_NAME']}-{uuid.uuid4().hex[:12]}"
    create = table_create_kwargs(spec, name)
    if not stream:
        create.pop("StreamSpecification", None)
    db.create_table(**create)
    monkeypatch.setenv("CONTENT_TABLE_NAME", name)
    comments_settings.cache_clear()
    articles_settings.cache_clear()
    try:
        yield name
    finally:
        db.delete_table(TableName=name)
        # The functions read their settings again once monkeypatch restores the environment.
        comments_settings.cache_clear()
        articles_settings.cache_clear()


@pytest.fixture(name="content_table")
def content_table_of_its_own(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The `content_table` fixture of a module that imports this: each of its tests gets a
    content table of its own (`own_content_table`) in place of the session's."""
    with own_content_table(dynamodb, monkeypatch) as table:
        yield table


def fresh_ip() -> str:
    """A source address no other request of the session uses."""
    return str(IPv6Address(int(_SENDERS.network_address) + uuid.uuid4().int % 2**96))


def form(unique: str, *, reader: str = "a", **overrides: Any) -> dict[str, Any]:
    """A valid "Leave a Reply" form; `reader` tells apart the commenters of one test."""
    values: dict[str, Any] = {
        "author_name": f"Reader {reader.upper()}",
        "author_email": f"reader-{reader}-{unique}@example.org",
        "body": f"A thoughtful remark by {reader} ({unique}).",
    }
    return values | overrides


def post_comment(
    slug: str,
    form: dict[str, Any] | None = None,
    *,
    ip: str | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
    context: LambdaContext | None = None,
) -> Answer:
    """POST /articles/{slug}/comments with `form` as JSON (or `raw_body` as sent)."""
    body = raw_body if raw_body is not None else json.dumps(form)
    event = rest_event(
        "POST",
        COMMENTS,
        path_params={"slug": slug},
        headers={**_JSON, **(headers or {})},
        body=body,
        source_ip=ip or fresh_ip(),
    )
    return invoke(lambda_handler, event, context)


def post_when_flood_allows(
    slug: str, form: dict[str, Any], *, ip: str | None = None, within_seconds: float = 5.0
) -> Answer:
    """Post, retrying while flood control answers 429 (a test shortens its interval first)."""
    deadline = time.monotonic() + within_seconds
    while True:
        answer = post_comment(slug, form, ip=ip)
        if answer.status != 429 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def edit_comment(
    slug: str,
    comment_id: str,
    body: str | None = None,
    *,
    token: str | None,
    ip: str | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
    context: LambdaContext | None = None,
) -> Answer:
    """PATCH /articles/{slug}/comments/{id} with ``{"body": body}`` (or `raw_body` as sent),
    its author's edit token as a Bearer token (none when `token` is None)."""
    auth = {} if token is None else {"Authorization": f"Bearer {token}"}
    event = rest_event(
        "PATCH",
        ONE_COMMENT,
        path_params={"slug": slug, "comment_id": comment_id},
        headers={**_JSON, **auth, **(headers or {})},
        body=raw_body if raw_body is not None else json.dumps({"body": body}),
        source_ip=ip or fresh_ip(),
    )
    return invoke(lambda_handler, event, context)


def edit_when_flood_allows(
    slug: str,
    comment_id: str,
    body: str,
    *,
    token: str,
    headers: dict[str, str] | None = None,
    within_seconds: float = 5.0,
) -> Answer:
    """Edit, retrying while flood control answers 429 (a test shortens its interval first:
    an edit is flood-controlled as a post is, so one right after the post waits)."""
    deadline = time.monotonic() + within_seconds
    while True:
        answer = edit_comment(slug, comment_id, body, token=token, headers=headers)
        if answer.status != 429 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def delete_own_comment(
    slug: str, comment_id: str, *, token: str | None, headers: dict[str, str] | None = None
) -> Answer:
    """DELETE /articles/{slug}/comments/{id} with its author's edit token (none when None)."""
    auth = {} if token is None else {"Authorization": f"Bearer {token}"}
    event = rest_event(
        "DELETE",
        ONE_COMMENT,
        path_params={"slug": slug, "comment_id": comment_id},
        headers={**auth, **(headers or {})},
    )
    return invoke(lambda_handler, event)


def list_comments(slug: str, *, headers: dict[str, str] | None = None, **query: str) -> Answer:
    event = rest_event(
        "GET", COMMENTS, path_params={"slug": slug}, query=query or None, headers=headers
    )
    return invoke(lambda_handler, event)


def get_comment(slug: str, comment_id: str) -> Answer:
    event = rest_event("GET", ONE_COMMENT, path_params={"slug": slug, "comment_id": comment_id})
    return invoke(lambda_handler, event)


def admin_action(slug: str, comment_id: str, action: str) -> Answer:
    event = rest_event(
        "POST",
        "/admin/comments/{slug}/{comment_id}/{action}",
        path_params={"slug": slug, "comment_id": comment_id, "action": action},
        base=_ADMIN_EVENT,
    )
    return invoke(lambda_handler, event)


def admin_delete(slug: str, comment_id: str) -> Answer:
    event = rest_event(
        "DELETE",
        "/admin/comments/{slug}/{comment_id}",
        path_params={"slug": slug, "comment_id": comment_id},
        base=_ADMIN_EVENT,
    )
    return invoke(lambda_handler, event)


def admin_queue(status: str, **query: str) -> Answer:
    event = rest_event(
        "GET", "/admin/comments", query={"status": status, **query}, base=_ADMIN_EVENT
    )
    return invoke(lambda_handler, event)


def walk_queue(status: str) -> Iterator[dict[str, Any]]:
    """Every comment of a moderation queue (which spans every article), page after page."""
    cursor: str | None = None
    while True:
        answer = admin_queue(status, limit="100", **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        yield from answer.body["items"]
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return


def find_in_queue(status: str, comment_id: str) -> dict[str, Any] | None:
    """The moderator's view of one comment in a status queue."""
    return next((item for item in walk_queue(status) if item["id"] == comment_id), None)


def queued(status: str, comment_id: str) -> dict[str, Any]:
    """Like `find_in_queue`, for a comment that must be there."""
    found = find_in_queue(status, comment_id)
    assert found is not None, f"{comment_id} is not in the {status} queue"
    return found


def queued_ids(status: str) -> list[str]:
    return [item["id"] for item in walk_queue(status)]


def walk_listing(slug: str, *, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of an article's public listing, following the cursors."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        answer = (
            list_comments(slug, limit=str(limit), cursor=cursor)
            if cursor
            else list_comments(slug, limit=str(limit))
        )
        assert answer.status == 200, answer.body
        pages.append(answer.body["items"])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return pages


def approve_first_comment_of(slug: str, commenter: dict[str, Any]) -> str:
    """Post a first comment as `commenter` and have a moderator approve it, so the commenter is
    "previously approved"; its id. Their next post meets the email flood guard."""
    first = post_comment(slug, commenter | {"body": f"My first comment {uuid.uuid4().hex}."})
    assert (first.status, first.body["status"]) == (201, "pending"), first.body
    approved = admin_action(slug, first.body["id"], "approve")
    assert approved.status == 200, approved.body
    return str(first.body["id"])


def article_comment_count(slug: str) -> int:
    """The count a reader sees on the article (GET /articles/{slug})."""
    answer = invoke(
        articles_handler, rest_event("GET", "/articles/{slug}", path_params={"slug": slug})
    )
    assert answer.status == 200, answer.body
    return int(answer.body["comment_count"])


def stored_comments(table: str, slug: str) -> list[dict[str, Any]]:
    """Every comment item of an article, whatever its status: a Query on its partition."""
    return all_comment_items(dynamo.client(), table, slug)


def stored_comment(table: str, slug: str, comment_id: str) -> dict[str, Any] | None:
    response = dynamo.client().get_item(
        TableName=table,
        Key={"pk": {"S": article_pk(slug)}, "sk": {"S": f"COMMENT#{comment_id}"}},
        ConsistentRead=True,
    )
    item = response.get("Item")
    return None if item is None else dynamo.from_item(item)


def stored_item(table: str, slug: str, comment_id: str) -> dict[str, Any]:
    """Like `stored_comment`, for a comment that must be stored."""
    found = stored_comment(table, slug, comment_id)
    assert found is not None, f"{comment_id} is not stored"
    return found


def as_sent(answer: Answer) -> str:
    """The answer's body and headers as one text, to search for what must never leave."""
    return json.dumps(answer.body, ensure_ascii=False) + json.dumps(answer.headers)
