"""Which articles a reader may see, with an in-memory reader and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newsroom.articles import get_published, list_published
from newsroom.errors import ArticleNotFoundError
from newsroom.models.articles import StoredArticle
from tests.unit.fakes import FakeArticleReader

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def article(slug: str, **overrides: Any) -> StoredArticle:
    values: dict[str, Any] = {
        "slug": slug,
        "title": slug.title(),
        "summary": "s",
        "body_html": "<p>b</p>",
        "body_markdown": "b",
        "author": {"name": "Ada", "email": "ada@example.org"},
        "published_at": NOW - timedelta(hours=1),
        "updated_at": NOW - timedelta(hours=1),
        "tags": ["town"],
    }
    return StoredArticle.model_validate(values | overrides)


def test_published_article_is_served_without_the_author_email() -> None:
    reader = FakeArticleReader(article("open"))

    served = get_published("open", reader=reader, clock=lambda: NOW)

    assert served.author.name == "Ada"
    assert "ada@example.org" not in served.model_dump_json()


@pytest.mark.parametrize(
    "overrides",
    [
        {"draft": True},
        {"published_at": None},
        {"published_at": NOW + timedelta(seconds=1)},
    ],
    ids=["draft", "unpublished", "one-second-early"],
)
def test_article_not_yet_public_is_not_found(overrides: dict[str, Any]) -> None:
    reader = FakeArticleReader(article("secret", **overrides))

    with pytest.raises(ArticleNotFoundError):
        get_published("secret", reader=reader, clock=lambda: NOW)


def test_article_published_exactly_now_is_public() -> None:
    reader = FakeArticleReader(article("ontime", published_at=NOW))

    assert get_published("ontime", reader=reader, clock=lambda: NOW).slug == "ontime"


def test_listing_asks_the_reader_with_the_clock_time() -> None:
    reader = FakeArticleReader(article("old"), article("later", published_at=NOW + timedelta(1)))

    page = list_published(limit=10, reader=reader, clock=lambda: NOW)

    assert [item.slug for item in page.items] == ["old"]
    assert page.next_cursor is None
