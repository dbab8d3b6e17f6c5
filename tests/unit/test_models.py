"""Model rules: what an article source may hold and what the public shapes leave out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from newsroom.models.articles import Article, ArticleSummary
from newsroom_tools.article_source import ArticleSource

SOURCE: dict[str, Any] = {
    "slug": "harbour-news",
    "title": "  Harbour news  ",
    "summary": "What happened.",
    "author": {"name": "Ada", "email": "ada@example.org"},
    "published_at": "2026-10-01T09:00:00+02:00",
    "tags": ["town", "sea", "town"],
    "body_markdown": "Hello.",
}


def test_source_is_normalised_titles_trimmed_times_in_utc_tags_unique() -> None:
    source = ArticleSource.model_validate(SOURCE)

    assert source.title == "Harbour news"
    assert source.published_at == datetime.fromisoformat("2026-10-01T07:00:00+00:00")
    assert source.tags == ["town", "sea"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "Bad Slug"),
        ("slug", "x" * 121),
        ("title", "   "),
        ("published_at", "2026-10-01T09:00:00"),
        ("tags", ["Not A Tag"]),
        ("tags", [f"t{i}" for i in range(11)]),
        ("image", {"url": "javascript:alert(1)"}),
        ("author", {"name": "Ada", "email": "not-an-email"}),
        ("unexpected", "field"),
    ],
)
def test_invalid_source_names_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ArticleSource.model_validate(SOURCE | {field: value})

    assert field in {str(error["loc"][0]) for error in caught.value.errors()}


def test_public_shapes_have_no_field_that_must_never_leave() -> None:
    public_fields = set(Article.model_fields) | set(ArticleSummary.model_fields)

    assert not public_fields & {"body_markdown", "draft", "email"}
    assert set(Article.model_fields["author"].annotation.model_fields) == {"name"}  # type: ignore[union-attr]
