"""Article shapes: what is stored and what a reader is served (authoring input is in
`newsroom_tools.article_source`, so serving never loads the email validator)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from newsroom.models.common import Slug, Tag, UtcDatetime

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]

MAX_TAGS = 10
URL_MAX_LENGTH = 2048
BODY_MAX_LENGTH = 200_000


def _not_below_zero(count: object) -> object:
    # Writes never take a count below zero; one stored before that rule reads as none.
    return max(count, 0) if isinstance(count, int) else count


CommentCount = Annotated[int, Field(ge=0), BeforeValidator(_not_below_zero)]


class Image(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    url: AnyHttpUrl
    caption: ShortText | None = None
    credit: ShortText | None = None


class AuthorPublic(BaseModel):
    """The part of an author a reader may see."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: PersonName


class StoredAuthor(AuthorPublic):
    """An author as stored; the email was validated on the way in (`article_source.Author`)."""

    email: str


def _is_public(draft: bool, published_at: datetime | None, now: datetime) -> bool:
    return not draft and published_at is not None and published_at <= now


class StoredArticle(BaseModel):
    """The article item as kept in the content table."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    slug: Slug
    title: str
    summary: str
    body_html: str
    body_markdown: str
    author: StoredAuthor
    published_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    tags: list[Tag]
    image: Image | None = None
    comments_open: bool = True
    draft: bool = False
    comment_count: CommentCount = 0
    # How many times the item was written; a write is conditional on the revision it read.
    revision: int = Field(default=0, ge=0)
    # The id the article's feed entries keep where it came from elsewhere (a WordPress post's
    # `guid`), so that subscribers see no "new" entry after a migration; None: from the slug.
    feed_id: str | None = Field(default=None, max_length=2048)
    # Where readers read it, when the site's CMS hosts it (`PUT /admin/articles/{slug}`): every
    # link to the article leads there rather than to ARTICLE_URL_TEMPLATE; None (an item
    # written before, or imported): the template's URL.
    url: str | None = Field(default=None, max_length=URL_MAX_LENGTH)

    def is_public(self, now: datetime) -> bool:
        """Served to readers: not a draft and published at or before `now`."""
        return _is_public(self.draft, self.published_at, now)


class ArticleSummary(BaseModel):
    """A list item: enough to render a teaser and link to the article."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    slug: Slug
    title: str
    summary: str
    author: AuthorPublic
    published_at: datetime
    updated_at: datetime
    tags: list[Tag]
    image: Image | None = None


class FeedArticle(ArticleSummary):
    """An article as its feed entry shows it: the summary, the id its entries keep (a migrated
    post's guid, `StoredArticle.feed_id`) and its body (None: a tag item that carries none,
    docs/data-model.md)."""

    feed_id: str | None = None
    body_html: str | None = None


class ArticleHeading(BaseModel):
    """What an article's comment feed says of the article (a projection of `StoredArticle`)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    slug: Slug
    title: str
    published_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    draft: bool = False
    url: str | None = None

    def is_public(self, now: datetime) -> bool:
        """As `StoredArticle.is_public`."""
        return _is_public(self.draft, self.published_at, now)


class Article(ArticleSummary):
    """The whole public article."""

    body_html: str
    comments_open: bool
    comment_count: int


class StoredCommentState(BaseModel):
    """What the comment counts read of an article item (a projection of `StoredArticle`)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    slug: Slug
    published_at: UtcDatetime | None = None
    draft: bool = False
    comments_open: bool = True
    comment_count: CommentCount = 0

    def is_public(self, now: datetime) -> bool:
        """As `StoredArticle.is_public`."""
        return _is_public(self.draft, self.published_at, now)


class CommentState(BaseModel):
    """An article's comments as a listing page or the widget shows them."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    comment_count: int = Field(description="Approved comments.")
    comments_open: bool = Field(description="Whether the article takes new comments.")


class CommentCounts(BaseModel):
    """The comment state of each requested article that is public; others are left out."""

    model_config = ConfigDict(defer_build=True)

    items: dict[str, CommentState]


def _summary_fields(stored: StoredArticle) -> dict[str, Any]:
    """What a reader sees of a public stored article in a list: no author email."""
    assert stored.published_at is not None, "only published articles are summarised"
    return {
        "slug": stored.slug,
        "title": stored.title,
        "summary": stored.summary,
        "author": AuthorPublic(name=stored.author.name),
        "published_at": stored.published_at,
        "updated_at": stored.updated_at,
        "tags": stored.tags,
        "image": stored.image,
    }


def to_summary(stored: StoredArticle) -> ArticleSummary:
    """The list-item view of a public stored article."""
    return ArticleSummary(**_summary_fields(stored))


def to_public(stored: StoredArticle) -> Article:
    """The reader's view of a public stored article: no author email, no source Markdown.
    Made straight from it, not through its summary, so that a cold start's GET of one
    article builds no summary model."""
    return Article(
        **_summary_fields(stored),
        body_html=stored.body_html,
        comments_open=stored.comments_open,
        comment_count=stored.comment_count,
    )
