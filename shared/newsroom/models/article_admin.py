"""Article shapes of the admin API: an article a site's CMS hosts, registered by its slug with
its canonical URL (`PUT /admin/articles/{slug}`), and what a moderator is answered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    UrlConstraints,
    field_validator,
    model_validator,
)

from newsroom.models.articles import (
    BODY_MAX_LENGTH,
    MAX_TAGS,
    URL_MAX_LENGTH,
    PersonName,
    ShortText,
    StoredArticle,
    Title,
)
from newsroom.models.comments import AuthorEmail
from newsroom.models.common import Slug, Tag, UtcDatetime

ArticleAction = Literal["close", "open"]
# The largest registration body: a body at its longest, as JSON, fits; an article that does
# not fit DynamoDB's 400 KB once rendered is refused after (ArticleTooLargeError).
REGISTRATION_MAX_BYTES = 1024 * 1024


def _no_credentials(url: AnyHttpUrl) -> AnyHttpUrl:
    # A page's address is linked from emails and feeds: a user or password in it would leak.
    if url.username or url.password:
        raise ValueError("the URL must not hold a user name or password")
    return url


CanonicalUrl = Annotated[
    AnyHttpUrl,
    UrlConstraints(max_length=URL_MAX_LENGTH, allowed_schemes=["http", "https"]),
    AfterValidator(_no_credentials),
]


class RegisteredAuthor(BaseModel):
    """The article's author: the name readers see, and where new-comment notices go."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    name: PersonName
    email: AuthorEmail | None = Field(
        default=None,
        description="Gets an email for each comment approved on the article. Never published.",
    )


class ArticleRegistration(BaseModel):
    """An article the site's CMS hosts, as its publish hook or `newsroom articles register`
    sends it. A PUT replaces what it names; what newsroom owns (the comment count, the
    revision, a migrated post's feed id) is kept."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    url: CanonicalUrl = Field(
        description="The article's page on the site (http or https): emails and feeds link there.",
        examples=["https://www.example.com/2026/03/storm-isolde-clean-up/"],
    )
    title: Title
    published_at: UtcDatetime = Field(
        description="Publication time, with a time zone; a later one keeps the article (and its "
        "comments) hidden until then."
    )
    updated_at: UtcDatetime | None = Field(
        default=None, description="Last change; the time of the request when left out."
    )
    author: RegisteredAuthor | None = Field(
        default=None,
        description="Left out: the site's host is the author's name, and nobody is emailed "
        "about new comments (the moderators still are about held ones).",
    )
    summary: ShortText = ""
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    body_html: str | None = Field(
        default=None,
        max_length=BODY_MAX_LENGTH,
        description="The body as HTML, sanitised as an article's is (for the feeds).",
    )
    body_markdown: str | None = Field(
        default=None,
        max_length=BODY_MAX_LENGTH,
        description="The body as Markdown, rendered to sanitised HTML; not with body_html.",
    )
    comments_open: bool | None = Field(
        default=None,
        strict=True,
        description="Left out: open for a new article, unchanged for one registered before.",
    )

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))

    @model_validator(mode="after")
    def _one_body(self) -> ArticleRegistration:
        if self.body_html is not None and self.body_markdown is not None:
            raise ValueError("give the body as body_html or as body_markdown, not both")
        return self


class AdminAuthor(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    email: str | None = None


class AdminArticle(BaseModel):
    """An article as the admin API answers it: what was stored, without its body."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    slug: Slug
    url: str | None = Field(description="Its canonical URL; null: the ArticleUrlTemplate one.")
    title: str
    summary: str
    author: AdminAuthor
    published_at: datetime | None
    updated_at: datetime
    tags: list[Tag]
    comments_open: bool
    draft: bool
    comment_count: int = Field(description="Approved comments.")
    revision: int = Field(description="How many times the article was written.")
    has_body: bool


def to_admin(stored: StoredArticle) -> AdminArticle:
    """The admin view of a stored article."""
    return AdminArticle(
        slug=stored.slug,
        url=stored.url,
        title=stored.title,
        summary=stored.summary,
        author=AdminAuthor(name=stored.author.name, email=stored.author.email or None),
        published_at=stored.published_at,
        updated_at=stored.updated_at,
        tags=stored.tags,
        comments_open=stored.comments_open,
        draft=stored.draft,
        comment_count=stored.comment_count,
        revision=stored.revision,
        has_body=bool(stored.body_html),
    )
