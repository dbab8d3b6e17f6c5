"""Reading articles: what a reader may see, and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from newsroom.errors import ArticleNotFoundError
from newsroom.models.articles import Article, ArticleSummary, StoredArticle, to_public
from newsroom.models.common import Page


class ArticleReader(Protocol):
    """What reading articles needs from storage (`newsroom.data.articles.ArticleTable`)."""

    def get(self, slug: str) -> StoredArticle | None: ...

    def list_public(
        self, *, now: datetime, limit: int, cursor: str | None, tag: str | None
    ) -> Page[ArticleSummary]: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def _default_reader() -> ArticleReader:
    from newsroom.config import articles_settings
    from newsroom.data.articles import ArticleTable
    from newsroom.data.pagination import CursorSigner
    from newsroom.secrets import project_keys

    settings = articles_settings()
    # The keys are read (SSM, cached per container) only when a cursor is made or read.
    cursors = CursorSigner(lambda: project_keys(settings.secret_parameter_name))
    return ArticleTable(settings.content_table_name, cursors=cursors)


def get_published(
    slug: str,
    *,
    reader: ArticleReader | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Article:
    """The public article with this slug.

    Raises
    ------
    ArticleNotFoundError
        When there is no such article, it is a draft, or its publication time is still ahead.
    """
    stored = (reader or _default_reader()).get(slug)
    if stored is None or not stored.is_public(clock()):
        raise ArticleNotFoundError(slug)
    return to_public(stored)


def list_published(
    *,
    limit: int,
    cursor: str | None = None,
    tag: str | None = None,
    reader: ArticleReader | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Page[ArticleSummary]:
    """One page of public articles, newest first, optionally only those with `tag`."""
    return (reader or _default_reader()).list_public(
        now=clock(), limit=limit, cursor=cursor, tag=tag
    )
