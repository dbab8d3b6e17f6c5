"""Atom 1.0 feeds (RFC 4287) of the latest articles and approved comments, written with the
standard library; imported by the feed routes only, on their first request.

Entry ids never change: a migrated article keeps its source's id (`StoredArticle.feed_id`, a
WordPress guid), any other article and every comment has a `tag:` URI (RFC 4151) of the site's
host and its slug (and comment id). Links are absolute. The bytes depend on the entries alone,
so the ETag of a hash of them changes only when the feed does.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

from aws_lambda_powertools.event_handler import Response

from newsroom.errors import ArticleNotFoundError
from newsroom.http import http_date, public_base_url

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from newsroom.config import ArticlesSettings, CommentsSettings
    from newsroom.models.articles import ArticleHeading, FeedArticle
    from newsroom.models.comments import FeedComment

ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
THREAD_NAMESPACE = "http://purl.org/syndication/thread/1.0"  # RFC 4685
# Entries per feed: WordPress serves 10, Remark42 20, Isso 100; enough for a reader polling
# hourly on a busy day.
FEED_ENTRIES = 30
# Entries past this many bytes of XML are left out (the first is always kept): Lambda answers
# at most 6 MB, and a feed of 30 long articles would come near it.
FEED_MAX_BYTES = 1_048_576
# The date of every `tag:` id (RFC 4151 wants one at which the host was the site's): fixed,
# since changing it would change every id.
TAG_DATE = "2026"
# The `updated` of a feed with no entry and nothing else to date it by: fixed, so that its
# ETag and Last-Modified stay put until its first entry.
NO_ENTRY_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)
# XML 1.0 allows tab, newline, carriage return and these ranges only (§2.2 Char).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (control characters, lone
    surrogates, U+FFFE and U+FFFF); everything else, any script or emoji, is kept."""
    return _NOT_XML.sub("", text)


def atom_date(moment: datetime) -> str:
    """RFC 3339 in UTC, whole seconds (`2026-12-02T05:00:00Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Site:
    """Where a feed's links lead, and the host its ids are minted under.

    `base_url` is the API's public base (PublicBaseUrl, else where the request reached it);
    `article_url_template` where readers read an article (ARTICLE_URL_TEMPLATE).
    """

    base_url: str
    article_url_template: str = "{base}/articles/{slug}"

    @classmethod
    def of(cls, event: APIGatewayProxyEvent, settings: ArticlesSettings | CommentsSettings) -> Site:
        """The site as a function's settings and the request name it."""
        return cls(public_base_url(event, settings.public_base_url), settings.article_url_template)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    def url(self, path: str) -> str:
        """The absolute URL of one of the API's paths."""
        return self.base_url.rstrip("/") + path

    def article_url(self, slug: str, canonical: str | None = None) -> str:
        """Where readers read the article: its `canonical` URL when it was registered with
        one (docs/cms.md), else the template's."""
        if canonical:
            return canonical
        return self.article_url_template.format(base=self.base_url.rstrip("/"), slug=slug)

    def comment_url(self, slug: str, comment_id: str, canonical: str | None = None) -> str:
        return f"{self.article_url(slug, canonical)}#comment-{comment_id}"

    def tag_uri(self, specific: str) -> str:
        """A `tag:` URI (RFC 4151) of this site's host."""
        return f"tag:{self.host},{TAG_DATE}:{specific}"

    def article_entry_id(self, slug: str, feed_id: str | None) -> str:
        return feed_id or self.tag_uri(f"articles/{slug}")

    def comment_entry_id(self, slug: str, comment_id: str) -> str:
        return self.tag_uri(f"articles/{slug}/comments/{comment_id}")


@dataclass(frozen=True)
class Entry:
    """One `atom:entry`."""

    id: str
    title: str
    updated: datetime
    published: datetime
    author: str
    link: str  # rel="alternate"
    content_html: str | None  # None: no content, the summary and link only (RFC 4287 4.1.1.1)
    content_base: str | None = None  # xml:base of the content, for its relative URLs
    summary: str | None = None
    categories: Sequence[str] = ()
    replies: str | None = None  # the entry's comment feed (RFC 4685 rel="replies")
    in_reply_to: tuple[str, str] | None = None  # (entry id, link) of the comment answered


@dataclass(frozen=True)
class Feed:
    """One `atom:feed`: `entries` newest first."""

    id: str
    title: str
    self_url: str
    site: Site
    entries: Sequence[Entry]
    link: str | None = None  # rel="alternate": what the feed is about
    undated: datetime = NO_ENTRY_UPDATED  # `updated` when there is no entry
    threaded: bool = False  # declares the RFC 4685 namespace


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = xml_text(text)
    return element


def _link(parent: ET.Element, href: str, rel: str, media_type: str | None = None) -> None:
    attributes = {"rel": rel, "href": xml_text(href)}
    if media_type:
        attributes["type"] = media_type
    ET.SubElement(parent, "link", attributes)


def _entry(entry: Entry) -> ET.Element:
    element = ET.Element("entry")
    _text(element, "id", entry.id)
    _text(element, "title", entry.title, type="text")
    _text(element, "updated", atom_date(entry.updated))
    _text(element, "published", atom_date(entry.published))
    author = ET.SubElement(element, "author")
    _text(author, "name", entry.author.strip() or "Anonymous")
    _link(element, entry.link, "alternate")
    if entry.replies:
        _link(element, entry.replies, "replies", "application/atom+xml")
    if entry.in_reply_to:
        ref, href = entry.in_reply_to
        ET.SubElement(element, "thr:in-reply-to", {"ref": xml_text(ref), "href": xml_text(href)})
    for term in entry.categories:
        ET.SubElement(element, "category", {"term": xml_text(term)})
    if entry.summary:
        _text(element, "summary", entry.summary, type="text")
    if entry.content_html is not None:
        content = {"type": "html"}
        if entry.content_base:
            content["xml:base"] = xml_text(entry.content_base)
        _text(element, "content", entry.content_html, **content)
    return element


def render(feed: Feed) -> tuple[str, datetime]:
    """The feed's XML document, and when it last changed (its newest entry's `updated`).

    Entries are kept, newest first, while the document stays within `FEED_MAX_BYTES`.
    """
    entries: list[ET.Element] = []
    kept: list[Entry] = []
    size = 0
    for entry in feed.entries:
        element = _entry(entry)
        size += len(ET.tostring(element, encoding="utf-8"))
        if entries and size > FEED_MAX_BYTES:
            break
        entries.append(element)
        kept.append(entry)
    updated = max((e.updated for e in kept), default=feed.undated)
    root = ET.Element("feed", {"xmlns": ATOM_NAMESPACE})
    if feed.threaded:
        root.set("xmlns:thr", THREAD_NAMESPACE)
    _text(root, "id", feed.id)
    _text(root, "title", feed.title, type="text")
    _text(root, "updated", atom_date(updated))
    author = ET.SubElement(root, "author")
    _text(author, "name", feed.site.host)
    _link(root, feed.self_url, "self", "application/atom+xml")
    if feed.link:
        _link(root, feed.link, "alternate")
    _text(root, "generator", "newsroom")
    root.extend(entries)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n", updated


def answer(feed: Feed) -> Response[str]:
    """The feed as a 200 with its `Last-Modified`; `newsroom.http.cacheable` adds the ETag and
    answers 304 to a reader who has it."""
    body, updated = render(feed)
    return Response(
        status_code=HTTPStatus.OK,
        content_type=ATOM_MEDIA_TYPE,
        body=body,
        headers={"Last-Modified": http_date(updated)},
    )


# -- the four feeds ---------------------------------------------------------------------------


class FeedArticleReader(Protocol):
    """What article feeds need from storage (`newsroom.data.articles.ArticleTable`)."""

    def list_feed(self, *, now: datetime, limit: int, tag: str | None) -> list[FeedArticle]: ...


class FeedCommentReader(Protocol):
    """What comment feeds need from storage (`newsroom.data.comments.CommentTable`)."""

    def thread_feed(
        self, slug: str, *, limit: int
    ) -> tuple[ArticleHeading | None, list[FeedComment]]: ...

    def latest_approved(self, *, limit: int) -> list[FeedComment]: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _article_table() -> FeedArticleReader:
    from newsroom.config import articles_settings
    from newsroom.data.articles import ArticleTable
    from newsroom.data.pagination import CursorSigner
    from newsroom.secrets import project_keys

    settings = articles_settings()
    # Feeds have no pages: the cursor keys are never read.
    cursors = CursorSigner(lambda: project_keys(settings.secret_parameter_name))
    return ArticleTable(settings.content_table_name, cursors=cursors)


def _comment_table() -> FeedCommentReader:
    from newsroom.config import comments_settings
    from newsroom.data.comments import CommentTable
    from newsroom.data.pagination import CursorSigner
    from newsroom.secrets import project_keys

    settings = comments_settings()
    cursors = CursorSigner(lambda: project_keys(settings.secret_parameter_name))
    return CommentTable(settings.content_table_name, cursors=cursors)


def _article_entry(site: Site, article: FeedArticle) -> Entry:
    # gsi5 projects no canonical URL (`StoredArticle.url`): an entry links by the template.
    url = site.article_url(article.slug)
    return Entry(
        id=site.article_entry_id(article.slug, article.feed_id),
        title=article.title,
        # An article scheduled for later enters the feed when it is published.
        updated=max(article.updated_at, article.published_at),
        published=article.published_at,
        author=article.author.name,
        link=url,
        summary=article.summary or None,
        content_html=article.body_html,
        content_base=url,
        categories=article.tags,
        replies=site.url(f"/articles/{article.slug}/comments/feed"),
    )


def articles_feed(
    site: Site,
    *,
    tag: str | None = None,
    reader: FeedArticleReader | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> Response[str]:
    """The newest public articles, or those with `tag` (an empty feed for a tag no public
    article has: it may get one)."""
    articles = (reader or _article_table()).list_feed(now=clock(), limit=FEED_ENTRIES, tag=tag)
    path = "/feed" if tag is None else f"/tags/{quote(tag)}/feed"
    title = "Latest articles" if tag is None else f"Articles tagged “{tag}”"
    return answer(
        Feed(
            id=site.tag_uri(path.removeprefix("/")),
            title=f"{title} on {site.host}",
            self_url=site.url(path),
            site=site,
            entries=[_article_entry(site, article) for article in articles],
        )
    )


def _comment_entry(
    site: Site, comment: FeedComment, title: str, canonical: str | None = None
) -> Entry:
    in_reply_to = None
    if comment.parent_id:
        in_reply_to = (
            site.comment_entry_id(comment.slug, comment.parent_id),
            site.comment_url(comment.slug, comment.parent_id, canonical),
        )
    return Entry(
        id=site.comment_entry_id(comment.slug, comment.id),
        title=title,
        updated=comment.updated_at,
        published=comment.created_at,
        # The name the commenter chose to show, and nothing else of theirs.
        author=comment.author_name,
        link=site.comment_url(comment.slug, comment.id, canonical),
        content_html=comment.body_html,
        content_base=site.article_url(comment.slug, canonical),
        in_reply_to=in_reply_to,
    )


def article_comments_feed(
    site: Site,
    slug: str,
    *,
    reader: FeedCommentReader | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> Response[str]:
    """The newest approved comments of a public article.

    Raises
    ------
    ArticleNotFoundError
        No such article, a draft, or one published later.
    """
    article, comments = (reader or _comment_table()).thread_feed(slug, limit=FEED_ENTRIES)
    if article is None or not article.is_public(clock()):
        raise ArticleNotFoundError(slug)
    assert article.published_at is not None  # public
    path = f"/articles/{slug}/comments/feed"
    return answer(
        Feed(
            id=site.tag_uri(f"articles/{slug}/comments"),
            title=f"Comments on “{article.title}”",
            self_url=site.url(path),
            site=site,
            link=site.article_url(slug, article.url),
            entries=[
                _comment_entry(
                    site, c, f"Comment by {c.author_name} on “{article.title}”", article.url
                )
                for c in comments
            ],
            undated=article.published_at,
            threaded=True,
        )
    )


def site_comments_feed(site: Site, *, reader: FeedCommentReader | None = None) -> Response[str]:
    """The newest approved comments of every article. The approved queue's index carries no
    article title, so an entry names its article by slug."""
    comments = (reader or _comment_table()).latest_approved(limit=FEED_ENTRIES)
    return answer(
        Feed(
            id=site.tag_uri("comments"),
            title=f"Latest comments on {site.host}",
            self_url=site.url("/comments/feed"),
            site=site,
            entries=[
                _comment_entry(site, c, f"Comment by {c.author_name} on {c.slug}") for c in comments
            ],
            threaded=True,
        )
    )
