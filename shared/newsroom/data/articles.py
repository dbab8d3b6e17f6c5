"""Article items in the content table: one item per article plus one per (article, tag).

Key design (see docs/data-model.md):

- article: ``pk=ARTICLE#<slug>``, ``sk=ARTICLE``; when public-able it also carries
  ``gsi1pk=PUBLISHED``, ``gsi1sk=<published_at>#<slug>``.
- tag membership: ``pk=ARTICLE#<slug>``, ``sk=TAG#<tag>``, ``gsi1pk=TAG#<tag>``, same ``gsi1sk``,
  carrying a copy of the summary so a tag page is one query, and of the body and feed id so a
  tag feed is one query too.
Drafts carry no ``gsi1pk`` (a sparse index), so listings never see them. Listings read gsi1
(summaries); feeds read gsi5, on the same keys, which also carries bodies and feed ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from newsroom.data import dynamo
from newsroom.data.pagination import CursorSigner
from newsroom.models.articles import ArticleSummary, FeedArticle, StoredArticle
from newsroom.models.common import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ARTICLE_SK = "ARTICLE"
PUBLISHED_PARTITION = "PUBLISHED"
_INDEX = "gsi1"
_FEED_INDEX = "gsi5"  # gsi1's keys, projecting what a feed entry shows (FeedArticle)
_INDEX_KEY_FREE = frozenset({"pk", "sk", "gsi1sk"})
_SUMMARY_FIELDS = ("slug", "title", "summary", "published_at", "updated_at", "tags", "image")
# What a tag item copies besides the summary, for its feed entry (gsi5).
_FEED_FIELDS = ("feed_id", "body_html")
# DynamoDB's limits (1 KB = 1024 bytes): an item, and the items of one transaction together.
ITEM_MAX_BYTES = 400 * 1024
TRANSACTION_MAX_BYTES = 4 * 1024 * 1024


def article_pk(slug: str) -> str:
    return f"ARTICLE#{slug}"


def tag_partition(tag: str) -> str:
    return f"TAG#{tag}"


@dataclass(frozen=True)
class ArticleTable:
    """The article reads of one content table (satisfies `newsroom.articles.ArticleReader`);
    listing cursors are signed and checked by `cursors`."""

    table: str
    cursors: CursorSigner
    db: DynamoDBClient | None = None

    def get(self, slug: str) -> StoredArticle | None:
        return get_article(slug, table=self.table, db=self.db)

    def list_public(
        self, *, now: datetime, limit: int, cursor: str | None, tag: str | None
    ) -> Page[ArticleSummary]:
        return list_public_summaries(
            table=self.table,
            now=now,
            limit=limit,
            cursor=cursor,
            tag=tag,
            cursors=self.cursors,
            db=self.db,
        )

    def list_feed(self, *, now: datetime, limit: int, tag: str | None) -> list[FeedArticle]:
        return list_feed_articles(table=self.table, now=now, limit=limit, tag=tag, db=self.db)


class ConcurrentImportError(Exception):
    """Another writer changed the article between our read and our write."""


def get_article(slug: str, *, table: str, db: DynamoDBClient | None = None) -> StoredArticle | None:
    """The stored article with this slug, draft or not, or None. One GetItem."""
    db = db or dynamo.client()
    with dynamo.unavailable_as_domain_error():
        response = db.get_item(
            TableName=table, Key={"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}}
        )
    item = response.get("Item")
    return None if item is None else StoredArticle.model_validate(dynamo.from_item(item))


def _listing_query(
    table: str, partition: str, now: datetime, *, index: str = _INDEX
) -> dict[str, Any]:
    """The Query of a listing's partition of gsi1 (or of `index`, on the same keys), newest
    first, up to `now`."""
    return {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "gsi1pk = :p AND gsi1sk < :upto",
        "ExpressionAttributeValues": {
            ":p": {"S": partition},
            # '$' sorts right after '#', so everything published at or before `now` is in range.
            ":upto": {"S": dynamo.sort_timestamp(now) + "$"},
        },
        "ScanIndexForward": False,
    }


def list_public_summaries(
    *,
    table: str,
    now: datetime,
    limit: int,
    cursor: str | None = None,
    tag: str | None = None,
    cursors: CursorSigner,
    db: DynamoDBClient | None = None,
) -> Page[ArticleSummary]:
    """Published articles (optionally with one tag), newest first. One Query per page,
    unless its items add up past 1 MB (`newsroom.data.dynamo.query_page`); the last page has
    no cursor.
    """
    db = db or dynamo.client()
    partition = PUBLISHED_PARTITION if tag is None else tag_partition(tag)
    query = _listing_query(table, partition, now)
    if cursor is not None:
        start = cursors.decode(cursor, fixed={"gsi1pk": partition}, free=_INDEX_KEY_FREE)
        query["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
    page, more = dynamo.query_page(db, query, limit=limit)
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = cursors.encode(
            {k: str(dynamo.from_item({k: last[k]})[k]) for k in ("pk", "sk", "gsi1pk", "gsi1sk")}
        )
    items = [ArticleSummary.model_validate(dynamo.from_item(item)) for item in page]
    return Page[ArticleSummary](items=items, next_cursor=next_cursor)


def list_feed_articles(
    *,
    table: str,
    now: datetime,
    limit: int,
    tag: str | None = None,
    db: DynamoDBClient | None = None,
) -> list[FeedArticle]:
    """The newest public articles (optionally with one tag) as feed entries show them, in
    one Query of gsi5: fewer than `limit` when their bodies add up past the 1 MB a Query
    reads (a feed holds at most `newsroom.feeds.FEED_MAX_BYTES` of XML anyway).

    A tag item whose article was too long to copy its body into it (`_tag_items`) is an entry
    without content, its summary only. One written before tag items carried the feed id (it
    has no `feed_id` attribute, not even a null one) is left out until its article is written
    again (`newsroom articles retag`, or an import): its entry id may be a migrated post's
    guid, which only the article knows, and an entry under another id would be a new entry to
    every subscriber.

    Raises
    ------
    IndexNotReadyError
        While DynamoDB is still building gsi5 (just added to a live table).
    """
    db = db or dynamo.client()
    partition = PUBLISHED_PARTITION if tag is None else tag_partition(tag)
    query = _listing_query(table, partition, now, index=_FEED_INDEX) | {"Limit": limit}
    with dynamo.unavailable_as_domain_error():
        response = db.query(**query)
    return [
        FeedArticle.model_validate(dynamo.from_item(item))
        for item in response.get("Items", [])
        if "feed_id" in item or item["sk"] == {"S": ARTICLE_SK}
    ]


def _index_keys(article: StoredArticle, partition: str) -> dict[str, str]:
    if article.draft or article.published_at is None:
        return {}
    return {
        "gsi1pk": partition,
        "gsi1sk": f"{dynamo.sort_timestamp(article.published_at)}#{article.slug}",
    }


def _summary_values(article: StoredArticle) -> dict[str, Any]:
    values = article.model_dump(mode="json", include=set(_SUMMARY_FIELDS))
    values["author"] = {"name": article.author.name}
    return values


def article_item_bytes(article: StoredArticle) -> int:
    """The size of the article's item as `save_article` writes it, by DynamoDB's measure
    (to a few bytes: its revision may take another digit). At most `ITEM_MAX_BYTES`, or
    DynamoDB refuses the write."""
    values = article.model_dump(mode="json") | {"revision": article.revision + 1}
    values |= {"pk": article_pk(article.slug), "sk": ARTICLE_SK, "type": "article"}
    values |= _index_keys(article, PUBLISHED_PARTITION)
    return dynamo.item_bytes(dynamo.to_item({k: v for k, v in values.items() if v is not None}))


def _tag_items(article: StoredArticle) -> list[dynamo.Item]:
    """The article's tag items: its summary, feed id (null when it has none, so that the feed
    tells these items from those written before they carried it) and body, for its tag's
    listing and feed.

    Without the body when the transaction that writes them with the article would pass
    DynamoDB's 4 MB (a long body and many tags: each copy is the body's size), or one of them
    400 KB: their feed entries then show the summary only.
    """
    feed_values = article.model_dump(mode="json", include=set(_FEED_FIELDS))
    items = []
    for tag in article.tags:
        tag_item = {"pk": article_pk(article.slug), "sk": f"TAG#{tag}", "type": "article_tag"}
        tag_item |= _summary_values(article) | _index_keys(article, tag_partition(tag))
        item = dynamo.to_item(tag_item | feed_values)
        items.append(item | {"feed_id": item.get("feed_id", {"NULL": True})})
    sizes = [dynamo.item_bytes(item) for item in items]
    too_large = any(size > ITEM_MAX_BYTES for size in sizes)
    if too_large or article_item_bytes(article) + sum(sizes) > TRANSACTION_MAX_BYTES:
        items = [{k: v for k, v in item.items() if k != "body_html"} for item in items]
    return items


def save_article(
    article: StoredArticle,
    *,
    table: str,
    previous: StoredArticle | None,
    db: DynamoDBClient | None = None,
) -> None:
    """Create or update an article and its tag items in one transaction.

    `previous` is the version read before; the write is refused if the item was written since
    (its `revision` moved on), so two imports cannot interleave. The comment count is never
    overwritten.

    Raises
    ------
    ConcurrentImportError
        When the article was written (or created) since `previous` was read.
    """
    db = db or dynamo.client()
    pk = article_pk(article.slug)
    values = article.model_dump(mode="json", exclude={"comment_count", "revision"})
    values["revision"] = (previous.revision if previous else 0) + 1
    values |= {"type": "article"} | _index_keys(article, PUBLISHED_PARTITION)
    present = {name: value for name, value in values.items() if value is not None}
    # Attributes that are now absent (no image, a draft's index keys) are removed, not kept.
    removals = sorted({*values, "gsi1pk", "gsi1sk"} - present.keys())
    names = {f"#a{i}": name for i, name in enumerate(present)}
    names |= {f"#r{i}": name for i, name in enumerate(removals)}
    placeholders = {f":a{i}": value for i, value in enumerate(present.values())}
    sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(present)))
    expression = f"SET {sets}, comment_count = if_not_exists(comment_count, :zero)"
    if removals:
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removals)))
    if previous is None:
        condition = "attribute_not_exists(pk)"
    elif previous.revision == 0:  # written before revisions were counted
        condition = "attribute_exists(pk) AND attribute_not_exists(revision)"
    else:
        condition = "revision = :previous_revision"
        placeholders[":previous_revision"] = previous.revision
    placeholders[":zero"] = 0
    actions: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": pk}, "sk": {"S": ARTICLE_SK}},
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": dynamo.to_item(placeholders),
            }
        }
    ]
    for tag_item in _tag_items(article):
        actions.append({"Put": {"TableName": table, "Item": tag_item}})
    for tag in set(previous.tags if previous else []) - set(article.tags):
        actions.append(
            {"Delete": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": f"TAG#{tag}"}}}}
        )
    try:
        db.transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if dynamo.error_code(exc) == "TransactionCanceledException":
            raise ConcurrentImportError(article.slug) from exc
        raise


def _revision_condition(previous: StoredArticle) -> tuple[str, dict[str, Any]]:
    """The condition that the article item is still at `previous`'s revision."""
    if previous.revision == 0:  # written before revisions were counted
        return "attribute_exists(pk) AND attribute_not_exists(revision)", {}
    return "revision = :previous_revision", {":previous_revision": previous.revision}


def set_comments_open(
    article: StoredArticle, comments_open: bool, *, table: str, db: DynamoDBClient | None = None
) -> StoredArticle:
    """Open or close the article's comments, if it is still at the revision read: the
    article as stored after (its revision one more). Its tag items carry no such flag.

    Raises
    ------
    ConcurrentImportError
        When the article was written, or deleted, since it was read.
    """
    db = db or dynamo.client()
    condition, values = _revision_condition(article)
    revision = article.revision + 1
    try:
        with dynamo.unavailable_as_domain_error():
            db.update_item(
                TableName=table,
                Key={"pk": {"S": article_pk(article.slug)}, "sk": {"S": ARTICLE_SK}},
                UpdateExpression="SET comments_open = :open, revision = :revision",
                ConditionExpression=condition,
                ExpressionAttributeValues=dynamo.to_item(
                    values | {":open": comments_open, ":revision": revision}
                ),
            )
    except ClientError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            raise ConcurrentImportError(article.slug) from exc
        raise
    return article.model_copy(update={"comments_open": comments_open, "revision": revision})


def has_comments(slug: str, *, table: str, db: DynamoDBClient | None = None) -> bool:
    """Whether any comment of the article is stored, whatever its status: one consistent
    Query of its partition for one key."""
    db = db or dynamo.client()
    with dynamo.unavailable_as_domain_error():
        response = db.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :comment)",
            ExpressionAttributeValues={
                ":pk": {"S": article_pk(slug)},
                ":comment": {"S": "COMMENT#"},
            },
            ProjectionExpression="pk",
            ConsistentRead=True,
            Limit=1,
        )
    return bool(response.get("Items"))


# TransactWriteItems' limit on the actions of one transaction.
_TRANSACTION_MAX_ACTIONS = 100


def delete_article_partition(
    article: StoredArticle, *, table: str, db: DynamoDBClient | None = None
) -> int:
    """Delete every item of the article's partition but the article and its tag items (its
    comments, their sender data and answered duplicates), by transactions of 100 deletes;
    how many. Call it once the article is closed, so that no comment arrives meanwhile.

    The stream passes no deletion to the notifications function: nobody is emailed.
    """
    db = db or dynamo.client()
    kept = {ARTICLE_SK, *(f"TAG#{tag}" for tag in article.tags)}
    query = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": article_pk(article.slug)}},
        "ProjectionExpression": "pk, sk",
        "ConsistentRead": True,
    }
    keys = [
        {"pk": item["pk"], "sk": item["sk"]}
        for item in dynamo.query_all(db, query)
        if item["sk"]["S"] not in kept
    ]
    for start in range(0, len(keys), _TRANSACTION_MAX_ACTIONS):
        chunk = keys[start : start + _TRANSACTION_MAX_ACTIONS]
        with dynamo.unavailable_as_domain_error():
            db.transact_write_items(
                TransactItems=[{"Delete": {"TableName": table, "Key": key}} for key in chunk]
            )
    return len(keys)


def delete_article(article: StoredArticle, *, table: str, db: DynamoDBClient | None = None) -> None:
    """Delete the article item and its tag items in one transaction, if the article is still
    at the revision read.

    Raises
    ------
    ConcurrentImportError
        When the article was written, or deleted, since it was read.
    """
    db = db or dynamo.client()
    pk = article_pk(article.slug)
    condition, values = _revision_condition(article)
    delete: TransactWriteItemTypeDef = {
        "Delete": {
            "TableName": table,
            "Key": {"pk": {"S": pk}, "sk": {"S": ARTICLE_SK}},
            "ConditionExpression": condition,
        }
    }
    if values:
        delete["Delete"]["ExpressionAttributeValues"] = dynamo.to_item(values)
    actions = [delete]
    actions += [
        {"Delete": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": f"TAG#{tag}"}}}}
        for tag in article.tags
    ]
    try:
        with dynamo.unavailable_as_domain_error():
            db.transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if dynamo.error_code(exc) == "TransactionCanceledException":
            raise ConcurrentImportError(article.slug) from exc
        raise
