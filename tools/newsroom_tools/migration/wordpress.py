"""A WordPress export (WXR 1.0 to 1.2) read one post at a time, and what each post becomes here.

The file is streamed (`xmlstream.elements`): the channel's fields and authors come first, then
one `<item>` per post, page or attachment, each holding its comments. Only posts of type
``post`` become articles; their comments are mapped status for status (§1.5 of the migration
research). Nothing here writes: `newsroom_tools.migration.importer` does.
"""

from __future__ import annotations

import contextlib
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from newsroom.data import dynamo
from newsroom.models.articles import MAX_TAGS, StoredArticle, StoredAuthor
from newsroom.models.comments import CommentStatus
from newsroom.models.common import SLUG_MAX_LENGTH, TAG_MAX_LENGTH
from newsroom.rendered import read_html
from newsroom.rendering import sanitise_article_html
from newsroom_tools.migration import wpautop
from newsroom_tools.migration.threads import Problem, SourceComment
from newsroom_tools.migration.xmlstream import ExportFileError, Found, StreamStats, elements

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")
_WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/(\d+\.\d+)/$")
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
ZERO_DATE = "0000-00-00 00:00:00"
SUMMARY_MAX = 500
# A DynamoDB item holds 400 KiB: an article's body (source and HTML) must leave room for the rest.
MAX_ARTICLE_BYTES = 390_000
TITLE_MAX = 200
IMPORTED_TYPES = ("", "comment")
COMMENT_STATUS: dict[str, CommentStatus] = {
    "1": "approved",
    "0": "pending",
    "spam": "spam",
    "trash": "trash",
    "post-trashed": "trash",
}
# WordPress's default category: every post without one has it, so it says nothing.
DEFAULT_CATEGORY = "uncategorized"


@dataclass(frozen=True)
class Author:
    login: str
    display_name: str
    email: str


@dataclass
class Channel:
    """The export's site-wide fields, read before the first item."""

    version: str = ""
    wp: str = ""  # the wp namespace, "{http://wordpress.org/export/1.2/}"
    excerpt: str = ""
    title: str = ""
    link: str = ""
    base_site_url: str = ""
    exported_at: datetime | None = None
    authors: dict[str, Author] = field(default_factory=dict)

    @property
    def site(self) -> str:
        return (self.base_site_url or self.link).rstrip("/")


@dataclass
class Post:
    """One `<item>` of the export, decoded."""

    line: int
    post_id: str
    post_type: str
    title: str
    slug_source: str
    guid: str
    link: str
    content: str
    excerpt: str
    creator: str
    status: str
    date_gmt: str
    modified_gmt: str
    comment_status: str
    password: str
    categories: list[tuple[str, str, str]]  # (domain, nicename, name)
    comments: list[SourceComment]
    # Skipped comments: source key → its parent's (for replies to them), and their kinds.
    passed_over: dict[str, str | None]
    skipped_kinds: list[str]
    problems: list[Problem]
    truncated: bool = False


def slugify(text: str) -> str:
    """A slug of lowercase ASCII letters and digits joined by single hyphens (percent-encoded
    WordPress slugs decoded first; accents dropped; other scripts dropped)."""
    text = unicodedata.normalize("NFKD", unquote(text))
    text = text.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def parse_gmt(value: str) -> datetime | None:
    """A WordPress ``YYYY-MM-DD HH:MM:SS`` time in UTC; None for the zero date.

    Raises
    ------
    ValueError
        When it is neither.
    """
    value = value.strip()
    if not value or value == ZERO_DATE:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def plain_text(markup: str) -> str:
    """The text of a bit of HTML (or of a title with entities), whitespace collapsed."""
    if "<" in markup:
        markup = read_html(sanitise_article_html(markup)).text
    return " ".join(html.unescape(markup).split())


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


class WxrReader:
    """Streams a WXR file: `posts()` yields each `<item>`; `channel` is filled on the way."""

    def __init__(self, path: Path, *, stats: StreamStats | None = None) -> None:
        self.path = path
        self.channel = Channel()
        self.stats = stats if stats is not None else StreamStats()
        self.items = 0

    def _on_root(self, root: Element, namespaces: dict[str, str]) -> None:
        if root.tag != "rss":
            raise ExportFileError(
                f"not a WordPress export: the document is <{root.tag}>, not <rss>"
            )
        versions = {
            found.group(1): uri
            for uri in namespaces.values()
            if (found := _WP_NAMESPACE.match(uri))
        }
        if not versions:
            raise ExportFileError(
                "not a WordPress export: no wp: namespace (http://wordpress.org/export/1.N/)"
                " is declared"
            )
        version, uri = next(iter(versions.items()))
        if version not in SUPPORTED_VERSIONS:
            raise ExportFileError(
                f"unknown WXR version {version} (namespace {uri}): this importer reads "
                f"{', '.join(SUPPORTED_VERSIONS)}"
            )
        self.channel.version = version
        self.channel.wp = "{" + uri + "}"
        self.channel.excerpt = "{" + uri + "excerpt/}"

    def posts(self) -> Iterator[Post]:
        """Every item of the export, in file order.

        Raises
        ------
        ExportFileError
            As `xmlstream.elements`, or when the file is not a WXR of a known version.
        """

        def comment_tag(tag: str) -> bool:
            return tag.endswith("}comment")

        found_any = False
        for found in elements(
            self.path,
            lambda tag, ancestors: ancestors == ("rss", "channel"),
            stats=self.stats,
            on_root=self._on_root,
            note_line=comment_tag,
        ):
            tag = found.element.tag
            if tag == "item":
                found_any = True
                self.items += 1
                yield self._post(found)
            else:
                self._channel_field(found.element, self.channel.wp)
        if not found_any and not self.channel.title and not self.channel.version:
            raise ExportFileError("not a WordPress export: no channel")

    def _channel_field(self, element: Element, wp: str) -> None:
        text = (element.text or "").strip()
        tag = element.tag
        if tag == "title":
            self.channel.title = plain_text(text)
        elif tag == "link":
            self.channel.link = text
        elif tag == wp + "base_site_url":
            self.channel.base_site_url = text
        elif tag == "pubDate":
            with contextlib.suppress(TypeError, ValueError):
                self.channel.exported_at = parsedate_to_datetime(text).astimezone(UTC)
        elif tag == wp + "author":
            login = _child(element, wp + "author_login")
            self.channel.authors[login] = Author(
                login=login,
                display_name=plain_text(_child(element, wp + "author_display_name")) or login,
                email=_child(element, wp + "author_email"),
            )

    def _post(self, found: Found) -> Post:
        item, wp = found.element, self.channel.wp
        problems: list[Problem] = []
        comments: list[SourceComment] = []
        passed_over: dict[str, str | None] = {}
        skipped: list[str] = []
        post_type = _child(item, wp + "post_type")
        if post_type == "post":
            for element in item.iterfind(wp + "comment"):
                self._comment(
                    element, found.line_of(element), comments, passed_over, skipped, problems
                )
        return Post(
            line=found.line,
            post_id=_child(item, wp + "post_id"),
            post_type=post_type,
            title=_child(item, "title"),
            slug_source=_child(item, wp + "post_name"),
            guid=_child(item, "guid"),
            link=_child(item, "link"),
            content=_child(item, CONTENT + "encoded", strip=False),
            excerpt=_child(item, self.channel.excerpt + "encoded", strip=False),
            creator=_child(item, DC + "creator"),
            status=_child(item, wp + "status"),
            date_gmt=_child(item, wp + "post_date_gmt"),
            modified_gmt=_child(item, wp + "post_modified_gmt"),
            comment_status=_child(item, wp + "comment_status"),
            password=_child(item, wp + "post_password"),
            categories=[
                (c.get("domain", ""), c.get("nicename", ""), (c.text or "").strip())
                for c in item.iterfind("category")
            ],
            comments=comments,
            passed_over=passed_over,
            skipped_kinds=skipped,
            problems=problems,
            truncated=found.truncated,
        )

    def _comment(
        self,
        element: Element,
        line: int,
        comments: list[SourceComment],
        passed_over: dict[str, str | None],
        skipped: list[str],
        problems: list[Problem],
    ) -> None:
        wp = self.channel.wp
        key = _child(element, wp + "comment_id")
        parent = _child(element, wp + "comment_parent")
        parent_key = parent if parent not in ("", "0") else None
        kind = _child(element, wp + "comment_type")
        if not key:
            problems.append(Problem(line, "a comment without wp:comment_id; skipped"))
            skipped.append("invalid")
            return
        if kind not in IMPORTED_TYPES:
            passed_over[key] = parent_key
            skipped.append(kind)
            return
        approved = _child(element, wp + "comment_approved")
        status = COMMENT_STATUS.get(approved)
        if status is None:
            problems.append(
                Problem(line, f"comment {key}: unknown comment_approved {approved!r}; held")
            )
            status = "pending"
        try:
            created_at = parse_gmt(_child(element, wp + "comment_date_gmt"))
            if created_at is None:  # a zero GMT date: the local time is all there is
                created_at = parse_gmt(_child(element, wp + "comment_date"))
                if created_at is not None:
                    problems.append(
                        Problem(line, f"comment {key}: no GMT date; its local time taken as UTC")
                    )
        except ValueError:
            created_at = None
        if created_at is None:
            problems.append(Problem(line, f"comment {key}: no valid date; skipped"))
            passed_over[key] = parent_key
            skipped.append("invalid")
            return
        content = _child(element, wp + "comment_content", strip=False)
        comments.append(
            SourceComment(
                key=key,
                parent_key=parent_key,
                line=line,
                status=status,
                created_at=created_at,
                author_name=html.unescape(_child(element, wp + "comment_author")),
                author_email=_child(element, wp + "comment_author_email"),
                author_url=_child(element, wp + "comment_author_url") or None,
                ip=_child(element, wp + "comment_author_IP") or None,
                text=content,
                html=wpautop.comment_html(content),
                reason=f"Imported from WordPress (comment_approved {approved}).",
            )
        )


def _child(element: Element, tag: str, *, strip: bool = True) -> str:
    found = element.find(tag)
    text = "" if found is None else found.text or ""
    return text.strip() if strip else text


@dataclass
class MappedPost:
    """What a post becomes: its article, or why it is not imported."""

    article: StoredArticle | None
    problems: list[Problem]
    skipped_as: str | None = None  # the kind counted in the report when not imported


def map_post(
    post: Post,
    channel: Channel,
    *,
    taken_slugs: dict[str, str],
    author_email: str | None = None,
) -> MappedPost:
    """The article a `post` item becomes (None for other types, or when it cannot be).

    `taken_slugs` maps each slug given so far to its post id (two posts whose slugs come out
    the same: the second gets its id appended).
    """
    problems = list(post.problems)
    where = f"post {post.post_id or '?'}"
    if post.post_type != "post":
        return MappedPost(None, problems, skipped_as=post.post_type or "untyped item")
    if not post.post_id:
        problems.append(Problem(post.line, "a post without wp:post_id; skipped"))
        return MappedPost(None, problems, skipped_as="invalid post")
    if post.truncated:
        problems.append(Problem(post.line, f"{where}: a field is too large; skipped"))
        return MappedPost(None, problems, skipped_as="invalid post")
    slug = slugify(post.slug_source)[:SLUG_MAX_LENGTH].strip("-") or f"post-{post.post_id}"
    if taken_slugs.get(slug, post.post_id) != post.post_id:
        problems.append(
            Problem(post.line, f"{where}: slug {slug!r} is post {taken_slugs[slug]}'s too; "
                    f"stored as {slug}-{post.post_id}")
        )  # fmt: skip
        slug = f"{slug[: SLUG_MAX_LENGTH - len(post.post_id) - 1]}-{post.post_id}"
    taken_slugs[slug] = post.post_id
    author = channel.authors.get(post.creator)
    email = author.email if author and author.email else author_email
    if not email:
        problems.append(
            Problem(post.line, f"{where}: its author {post.creator!r} has no email in the "
                    "export; skipped (give one with --author-email)")
        )  # fmt: skip
        return MappedPost(None, problems, skipped_as="invalid post")
    name = (author.display_name if author else "") or post.creator or "Unknown"
    try:
        published_at = parse_gmt(post.date_gmt)
        modified = parse_gmt(post.modified_gmt) if post.modified_gmt else None
    except ValueError:
        problems.append(
            Problem(post.line, f"{where}: post_date_gmt {post.date_gmt!r} is not a date; skipped")
        )
        return MappedPost(None, problems, skipped_as="invalid post")
    draft = post.status != "publish"
    if post.password:
        problems.append(Problem(post.line, f"{where}: password-protected; imported as a draft"))
        draft = True
    if published_at is None and not draft:
        problems.append(Problem(post.line, f"{where}: published with no date; imported as a draft"))
        draft = True
    body_source = post.content.strip()
    body_html = sanitise_article_html(wpautop.post_html(body_source))
    left = wpautop.shortcodes(wpautop.without_caption_shortcodes(body_source))
    if left:
        problems.append(
            Problem(post.line, f"{where}: shortcodes left as text: {', '.join(left[:5])}")
        )
    title = shorten(plain_text(post.title), TITLE_MAX) or f"(no title) {post.post_id}"
    summary = plain_text(post.excerpt) or _first_paragraph(body_html)
    tags = _tags(post.categories)
    if len(tags) > MAX_TAGS:
        problems.append(
            Problem(post.line, f"{where}: {len(tags)} categories and tags; the first "
                    f"{MAX_TAGS} kept")
        )  # fmt: skip
        tags = tags[:MAX_TAGS]
    updated_at = modified or published_at or channel.exported_at or datetime(1970, 1, 1, tzinfo=UTC)
    article = StoredArticle(
        slug=slug,
        title=title,
        summary=shorten(summary, SUMMARY_MAX),
        body_html=body_html,
        body_markdown=body_source,
        author=StoredAuthor(name=name[:100], email=email),
        published_at=published_at,
        updated_at=updated_at,
        tags=tags,
        comments_open=post.comment_status != "closed",
        draft=draft,
        feed_id=post.guid or None,
    )
    if dynamo.item_bytes(dynamo.to_item(article.model_dump(mode="json"))) > MAX_ARTICLE_BYTES:
        problems.append(Problem(post.line, f"{where}: too large to store as one item; skipped"))
        return MappedPost(None, problems, skipped_as="invalid post")
    return MappedPost(article, problems)


def _first_paragraph(body_html: str) -> str:
    found = re.search(r"<p>(.*?)</p>", body_html, re.DOTALL)
    return plain_text(found.group(1) if found else body_html)


def _tags(categories: list[tuple[str, str, str]]) -> list[str]:
    tags: list[str] = []
    for domain, nicename, name in categories:
        if domain not in ("category", "post_tag"):
            continue
        tag = slugify(nicename or name)[:TAG_MAX_LENGTH].strip("-") or slugify(name)
        if tag and tag != DEFAULT_CATEGORY and tag not in tags:
            tags.append(tag)
    return tags
