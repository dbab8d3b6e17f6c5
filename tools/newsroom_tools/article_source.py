"""What an author writes: the validated input of the article importer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from newsroom.models.articles import MAX_TAGS, AuthorPublic, Image, ShortText, Title
from newsroom.models.common import Slug, Tag, UtcDatetime


class Author(AuthorPublic):
    """An author as written in the source: the email is for notifications only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: EmailStr


def _unique_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


class ArticleSource(BaseModel):
    """An article as an author writes it (front matter plus Markdown body)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: Slug
    title: Title
    summary: ShortText
    author: Author
    published_at: UtcDatetime | None = Field(
        default=None, description="Publication time; absent for a draft."
    )
    updated_at: UtcDatetime | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    image: Image | None = None
    comments_open: bool = True
    draft: bool = False
    body_markdown: str = Field(min_length=1, max_length=200_000)

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, tags: list[str]) -> list[str]:
        return _unique_tags(tags)
