"""Seeding articles straight into the emulator's table, with ids unique to each test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from newsroom.data.articles import get_article, save_article
from newsroom.models.articles import StoredArticle

NOW = datetime.now(UTC)


def stored_article(slug: str, **overrides: Any) -> StoredArticle:
    values: dict[str, Any] = {
        "slug": slug,
        "title": f"Title of {slug}",
        "summary": "A short summary.",
        "body_html": "<p>Body.</p>",
        "body_markdown": "Body.",
        "author": {"name": "Ada Reporter", "email": "ada@example.org"},
        "published_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
        "tags": [],
    }
    return StoredArticle.model_validate(values | overrides)


def seed(table: str, slug: str, **overrides: Any) -> StoredArticle:
    article = stored_article(slug, **overrides)
    save_article(article, table=table, previous=get_article(slug, table=table))
    return article
