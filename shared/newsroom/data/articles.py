"""Article items in the content table: one item per article plus one per (article, tag).

Key design (see docs/data-model.md):

- article: ``pk=ARTICLE#<slug>``, ``sk=ARTICLE``; when public-able it also carries
  ``gsi1pk=PUBLISHED``, ``gsi1sk=<published_at>#<slug>``.
- tag membership: ``pk=ARTICLE#<slug>``, ``sk=TAG#<tag>``, ``gsi1pk=TAG#<tag>``, same ``gsi1sk``,
  carrying a copy of the summary so a tag page is one query.
Drafts carry no ``gsi1pk`` (a sparse index), so listings never see them.
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
_INDEX_KEY_FREE = frozenset({"pk", "sk", "gsi1sk"})
_SUMMARY_FIELDS = ("slug", "title", "summary", "published_at", "updated_at", "tags", "image")


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


def _listing_query(table: str, partition: str, now: datetime) -> dict[str, Any]:
    """The Query of a listing's partition of gsi1, newest first, up to `now`."""
    return {
        "TableName": table,
        "IndexName": _INDEX,
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


# What a feed entry needs of an article that gsi1 does not carry (an index's projection cannot
# be changed once deployed, and listings never read bodies).
_FEED_ATTRIBUTES = ("slug", "feed_id", "body_html")


def list_feed_articles(
    *,
    table: str,
    now: datetime,
    limit: int,
    tag: str | None = None,
    db: DynamoDBClient | None = None,
) -> list[FeedArticle]:
    """The newest public articles (optionally with one tag) as feed entries show them: one
    Query of gsi1 (unless its items add up past 1 MB), then one eventually consistent
    `BatchGetItem` of those articles' feed ids and bodies, which the index does not carry.

    An article the second read does not find (deleted in between, or too new for the replica
    read) is left out until the next read, rather than served under another id.
    """
    db = db or dynamo.client()
    partition = PUBLISHED_PARTITION if tag is None else tag_partition(tag)
    page, _ = dynamo.query_page(db, _listing_query(table, partition, now), limit=limit)
    summaries = [ArticleSummary.model_validate(dynamo.from_item(item)) for item in page]
    if not summaries:
        return []
    keys: list[dynamo.Item] = [
        {"pk": {"S": article_pk(s.slug)}, "sk": {"S": ARTICLE_SK}} for s in summaries
    ]
    found = dynamo.batch_get(db, table, keys, consistent=False, attributes=_FEED_ATTRIBUTES)
    extras = {str(values["slug"]): values for values in map(dynamo.from_item, found)}
    return [
        FeedArticle(
            **summary.model_dump(),
            feed_id=extras[summary.slug].get("feed_id"),
            body_html=str(extras[summary.slug].get("body_html") or ""),
        )
        for summary in summaries
        if summary.slug in extras
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
    for tag in article.tags:
        tag_item = {"pk": pk, "sk": f"TAG#{tag}", "type": "article_tag"}
        tag_item |= _summary_values(article) | _index_keys(article, tag_partition(tag))
        actions.append({"Put": {"TableName": table, "Item": dynamo.to_item(tag_item)}})
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
