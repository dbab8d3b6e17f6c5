"""Articles a site's CMS hosts: registering one by its slug and canonical URL, opening or
closing its comments, deleting it (the admin API's `/admin/articles` routes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from newsroom.data.articles import (
    ITEM_MAX_BYTES,
    ConcurrentImportError,
    article_item_bytes,
    delete_article,
    delete_article_partition,
    get_article,
    has_comments,
    save_article,
    set_comments_open,
)
from newsroom.errors import (
    ArticleChangedError,
    ArticleExistsError,
    ArticleHasCommentsError,
    ArticleNotRegisteredError,
    ArticleTooLargeError,
    UnknownArticleError,
)
from newsroom.models.articles import StoredArticle, StoredAuthor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from newsroom.models.article_admin import ArticleAction, ArticleRegistration

# What a registration expects of the slug: `If-None-Match: *` (a new article), `If-Match: *`
# (one registered before), or either.
Expectation = Literal["new", "existing", "any"]
# What a deletion does with the article's comments.
CommentsOnDelete = Literal["refuse", "delete"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ArticleStore:
    """The content table the admin routes write."""

    table: str
    db: DynamoDBClient | None = None
    clock: Callable[[], datetime] = _utc_now

    @classmethod
    def from_settings(cls) -> ArticleStore:
        from newsroom.config import comments_settings

        return cls(comments_settings().content_table_name)


def to_stored(
    slug: str,
    registration: ArticleRegistration,
    *,
    previous: StoredArticle | None,
    now: datetime,
) -> StoredArticle:
    """The stored article a registration makes: what it names replaces what was stored;
    the comment count, a migrated post's feed id and image, and (when the registration leaves
    `comments_open` out) whether comments are open are kept from `previous`."""
    from newsroom.rendering import render_article, sanitise_article_html

    url = str(registration.url)
    if registration.author is None:
        # The site's host, for a reader's "by"; no email: nobody is told of new comments.
        author = StoredAuthor(name=urlsplit(url).hostname or url, email="")
    else:
        author = StoredAuthor(name=registration.author.name, email=registration.author.email or "")
    if registration.body_markdown is not None:
        body_markdown, body_html = (
            registration.body_markdown,
            render_article(registration.body_markdown),
        )
    elif registration.body_html is not None:
        body_markdown, body_html = "", sanitise_article_html(registration.body_html)
    else:
        body_markdown = body_html = ""
    comments_open = registration.comments_open
    if comments_open is None:
        comments_open = previous.comments_open if previous else True
    return StoredArticle(
        slug=slug,
        title=registration.title,
        summary=registration.summary,
        body_html=body_html,
        body_markdown=body_markdown,
        author=author,
        published_at=registration.published_at,
        updated_at=registration.updated_at or now,
        tags=registration.tags,
        image=previous.image if previous else None,
        comments_open=comments_open,
        draft=False,
        comment_count=previous.comment_count if previous else 0,
        revision=previous.revision if previous else 0,
        feed_id=previous.feed_id if previous else None,
        url=url,
    )


def register(
    slug: str,
    registration: ArticleRegistration,
    *,
    expect: Expectation = "any",
    store: ArticleStore | None = None,
) -> tuple[StoredArticle, bool]:
    """Create or update the article `slug`: the article as stored, and whether it was new.

    The write is conditional on the revision read, so two registrations of one slug cannot
    interleave.

    Raises
    ------
    ArticleExistsError, ArticleNotRegisteredError
        When the slug is taken (`expect="new"`), or free (`expect="existing"`).
    ArticleTooLargeError
        When the article would not fit one DynamoDB item.
    ArticleChangedError
        When another write of the article came between our read and our write.
    """
    store = store or ArticleStore.from_settings()
    previous = get_article(slug, table=store.table, db=store.db)
    if expect == "new" and previous is not None:
        raise ArticleExistsError(slug)
    if expect == "existing" and previous is None:
        raise ArticleNotRegisteredError(slug)
    article = to_stored(slug, registration, previous=previous, now=store.clock())
    size = article_item_bytes(article)
    if size > ITEM_MAX_BYTES:
        raise ArticleTooLargeError(size // 1024, ITEM_MAX_BYTES // 1024)
    try:
        save_article(article, table=store.table, previous=previous, db=store.db)
    except ConcurrentImportError as exc:
        raise ArticleChangedError(slug) from exc
    return article.model_copy(update={"revision": article.revision + 1}), previous is None


def _existing(slug: str, store: ArticleStore) -> StoredArticle:
    article = get_article(slug, table=store.table, db=store.db)
    if article is None:
        raise UnknownArticleError(slug)
    return article


def act(slug: str, action: ArticleAction, *, store: ArticleStore | None = None) -> StoredArticle:
    """Close or open the article's comments (already so: nothing written); the article after.

    Raises
    ------
    UnknownArticleError
        No article has the slug.
    ArticleChangedError
        Another write of the article came between our read and our write.
    """
    store = store or ArticleStore.from_settings()
    article = _existing(slug, store)
    wanted = action == "open"
    if article.comments_open == wanted:
        return article
    try:
        return set_comments_open(article, wanted, table=store.table, db=store.db)
    except ConcurrentImportError as exc:
        raise ArticleChangedError(slug) from exc


def delete(
    slug: str, *, comments: CommentsOnDelete = "refuse", store: ArticleStore | None = None
) -> int:
    """Delete the article, and with `comments="delete"` every comment of it (whatever its
    status) with what is kept beside them; how many comment items went with it.

    The article is closed first, so that no comment arrives while it goes: with "refuse",
    one that arrived before is found and the article opened again as it was. Its comments
    go before the article, so a deletion cut short (a timeout) leaves the article, closed,
    and is completed by sending it again; nothing is ever left without its article.

    Raises
    ------
    UnknownArticleError
        No article has the slug.
    ArticleHasCommentsError
        With "refuse", when the article has a comment of any status.
    ArticleChangedError
        Another write of the article came between our read and our write.
    """
    store = store or ArticleStore.from_settings()
    article = _existing(slug, store)
    refuse = comments == "refuse"
    if refuse and has_comments(slug, table=store.table, db=store.db):
        raise ArticleHasCommentsError(slug)
    try:
        closed = article
        if article.comments_open:
            closed = set_comments_open(article, False, table=store.table, db=store.db)
        if refuse and has_comments(slug, table=store.table, db=store.db):
            # Posted between the first look and the closing: open again, as it was.
            if closed is not article:
                set_comments_open(closed, True, table=store.table, db=store.db)
            raise ArticleHasCommentsError(slug)
        removed = 0
        if not refuse:
            removed = delete_article_partition(closed, table=store.table, db=store.db)
        delete_article(closed, table=store.table, db=store.db)
    except ConcurrentImportError as exc:
        raise ArticleChangedError(slug) from exc
    return removed
