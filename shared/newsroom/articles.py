"""Reading articles: what a reader may see, and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsroom.config import articles_settings
from newsroom.data import articles as store
from newsroom.errors import ArticleNotFoundError
from newsroom.models.articles import Article, ArticleSummary, to_public
from newsroom.models.common import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def utc_now() -> datetime:
    return datetime.now(UTC)


def get_published(
    slug: str,
    *,
    clock: Callable[[], datetime] = utc_now,
    db: DynamoDBClient | None = None,
) -> Article:
    """The public article with this slug.

    Raises
    ------
    ArticleNotFoundError
        When there is no such article, it is a draft, or its publication time is still ahead.
    """
    stored = store.get_article(slug, table=articles_settings().content_table_name, db=db)
    if stored is None or not stored.is_public(clock()):
        raise ArticleNotFoundError(slug)
    return to_public(stored)


def list_published(
    *,
    limit: int,
    cursor: str | None = None,
    tag: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    db: DynamoDBClient | None = None,
) -> Page[ArticleSummary]:
    """One page of public articles, newest first, optionally only those with `tag`."""
    page = store.list_public_summaries(
        table=articles_settings().content_table_name,
        now=clock(),
        limit=limit,
        cursor=cursor,
        tag=tag,
        db=db,
    )
    return Page[ArticleSummary](items=page.items, next_cursor=page.next_cursor)
