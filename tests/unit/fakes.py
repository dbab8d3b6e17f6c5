"""In-memory stand-ins for storage, for unit tests of logic only."""

from __future__ import annotations

from datetime import datetime

from newsroom.models.articles import ArticleSummary, StoredArticle, to_summary
from newsroom.models.common import Page


class FakeArticleReader:
    """Holds articles in a dict and lists them as the table's index would."""

    def __init__(self, *articles: StoredArticle) -> None:
        self.articles = {article.slug: article for article in articles}

    def get(self, slug: str) -> StoredArticle | None:
        return self.articles.get(slug)

    def list_public(
        self, *, now: datetime, limit: int, cursor: str | None, tag: str | None
    ) -> Page[ArticleSummary]:
        public = [
            a for a in self.articles.values() if a.is_public(now) and (tag is None or tag in a.tags)
        ]
        public.sort(key=lambda a: (a.published_at, a.slug), reverse=True)
        start = int(cursor or 0)
        items = [to_summary(a) for a in public[start : start + limit]]
        more = start + limit < len(public)
        return Page[ArticleSummary](items=items, next_cursor=str(start + limit) if more else None)
