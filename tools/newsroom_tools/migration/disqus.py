"""A Disqus export (`<disqus>`: categories, then threads, then posts) read as a stream, and its
posts grouped into the comments of existing articles.

Keys are the `dsq:id` attributes, never `<id>` (often empty). Threads for one page (http and
https, a trailing slash, a query, a staging host's copy) are merged by their normalised link;
a thread's article is named by a `--map` file, else by its link's last path segment. Disqus
writes posts flat, in no guaranteed order, so the posts (without the threads' bodies) are held
until the file is read: Disqus itself asks for files under 50 MB.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from newsroom.models.comments import CommentStatus
from newsroom_tools.migration.threads import Problem, SourceComment
from newsroom_tools.migration.wordpress import slugify
from newsroom_tools.migration.xmlstream import ExportFileError, StreamStats, elements

DISQUS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"
DELETED_NAME = "Deleted"
DELETED_TEXT = "This comment was deleted."


@dataclass(frozen=True)
class Thread:
    key: str
    link: str
    forum: str
    line: int


@dataclass
class DisqusExport:
    """What the file holds, grouped by the article each thread maps to."""

    forum: str = ""
    comments: dict[str, list[SourceComment]] = field(default_factory=lambda: defaultdict(list))
    # The link each article's threads were merged under, for the report.
    links: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[Problem] = field(default_factory=list)
    threads: int = 0
    merged_threads: int = 0


def normalise_link(link: str) -> str:
    """A page's link as threads are merged by it: no scheme, no www., no query or fragment,
    no trailing slash, lowercase host."""
    parts = urlsplit(link.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}"


def read_map(path: Path) -> dict[str, str]:
    """A `--map` file: one ``<link> <slug>`` per line (blank lines and ``#`` comments left
    out), links normalised.

    Raises
    ------
    ExportFileError
        When a line is not a link and a slug.
    """
    mapping: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportFileError(f"the map {path} cannot be read: {exc}") from exc
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 2 or slugify(parts[1]) != parts[1]:
            raise ExportFileError(f"{path}, line {number}: expected '<link> <slug>', got {line!r}")
        mapping[normalise_link(parts[0])] = parts[1]
    return mapping


def slug_of(link: str, mapping: dict[str, str]) -> str:
    """The slug of the article a thread's page is: the map's, else its link's last segment."""
    normalised = normalise_link(link)
    if normalised in mapping:
        return mapping[normalised]
    path = urlsplit(link.strip()).path.rstrip("/")
    return slugify(path.rsplit("/", 1)[-1].removesuffix(".html"))


def parse_time(value: str) -> datetime:
    """Disqus's ``2011-03-07T21:17:17Z`` (the docs' example has no ``Z``: UTC all the same).

    Raises
    ------
    ValueError
    """
    value = value.strip()
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(element: Element, path: str) -> str:
    found = element.find(path)
    return "" if found is None else (found.text or "").strip()


def _flag(element: Element, name: str) -> bool:
    return _text(element, DISQUS + name).lower() == "true"


@dataclass
class _Post:
    key: str
    thread: str
    parent: str | None
    line: int
    deleted: bool
    comment: SourceComment | None


def read_export(
    path: Path, mapping: dict[str, str], *, stats: StreamStats | None = None
) -> DisqusExport:
    """Every post of the export, as the comments of the article its thread maps to.

    Raises
    ------
    ExportFileError
        As `xmlstream.elements`, or when the file is not a Disqus export.
    """
    export = DisqusExport()
    threads: dict[str, Thread] = {}
    posts: list[_Post] = []

    def on_root(root: Element, namespaces: dict[str, str]) -> None:
        if root.tag != DISQUS + "disqus":
            raise ExportFileError(
                f"not a Disqus export: the document is <{root.tag}>, not <disqus> in the "
                "http://disqus.com namespace"
            )

    for found in elements(
        path,
        lambda tag, ancestors: len(ancestors) == 1,
        stats=stats,
        on_root=on_root,
    ):
        element, line = found.element, found.line
        if element.tag == DISQUS + "thread":
            key = element.get(DSQ_ID, "")
            if not key:
                export.problems.append(Problem(line, "a thread without dsq:id; skipped"))
                continue
            threads[key] = Thread(
                key, _text(element, DISQUS + "link"), _text(element, DISQUS + "forum"), line
            )
            export.forum = export.forum or threads[key].forum
        elif element.tag == DISQUS + "post":
            post = _post(element, line, export)
            if post is not None:
                posts.append(post)
    _group(export, threads, posts, mapping)
    return export


def _post(element: Element, line: int, export: DisqusExport) -> _Post | None:
    key = element.get(DSQ_ID, "") or _text(element, DISQUS + "id")
    thread = element.find(DISQUS + "thread")
    thread_key = "" if thread is None else thread.get(DSQ_ID, "")
    if not key or not thread_key:
        export.problems.append(Problem(line, "a post without dsq:id or thread; skipped"))
        export.skipped["invalid"] += 1
        return None
    parent = element.find(DISQUS + "parent")
    parent_key = None if parent is None else parent.get(DSQ_ID) or None
    deleted = _flag(element, "isDeleted")
    try:
        created_at = parse_time(_text(element, DISQUS + "createdAt"))
    except ValueError:
        export.problems.append(Problem(line, f"post {key}: createdAt is not a date; skipped"))
        export.skipped["invalid"] += 1
        return None
    status: CommentStatus = "approved"
    if _flag(element, "isSpam"):
        status = "spam"
    elif _text(element, DISQUS + "isApproved").lower() == "false":
        status = "pending"
    message = _text(element, DISQUS + "message")
    comment = SourceComment(
        key=key,
        parent_key=parent_key,
        line=line,
        status=status,
        created_at=created_at,
        author_name=_text(element, f"{DISQUS}author/{DISQUS}name"),
        author_email=_text(element, f"{DISQUS}author/{DISQUS}email"),
        author_url=None,
        ip=_text(element, DISQUS + "ipAddress") or None,
        text=message,
        html=message,
        reason=f"Imported from Disqus ({'spam' if status == 'spam' else 'not spam'}).",
    )
    return _Post(key, thread_key, parent_key, line, deleted, comment)


def _placeholder(post: _Post) -> SourceComment:
    assert post.comment is not None
    original = post.comment
    return SourceComment(
        key=original.key, parent_key=original.parent_key, line=original.line,
        status="approved", created_at=original.created_at, author_name=DELETED_NAME,
        author_email="", author_url=None, ip=None, text=DELETED_TEXT,
        html=f"<p>{DELETED_TEXT}</p>", reason="Deleted on Disqus; kept for its replies.",
    )  # fmt: skip


def _kept_deleted(posts: Iterable[_Post]) -> set[str]:
    """The deleted posts that stay as placeholders: those with a reply that stays."""
    by_key = {post.key: post for post in posts}
    kept: set[str] = set()
    for post in by_key.values():
        if post.deleted:
            continue
        parent = post.parent
        seen: set[str] = set()
        while parent and parent in by_key and parent not in seen:
            seen.add(parent)
            if by_key[parent].deleted:
                kept.add(parent)
            parent = by_key[parent].parent
    return kept


def _group(
    export: DisqusExport, threads: dict[str, Thread], posts: list[_Post], mapping: dict[str, str]
) -> None:
    export.threads = len(threads)
    slugs: dict[str, str] = {}  # thread key -> slug
    pages: dict[str, str] = {}  # normalised link -> slug
    for thread in threads.values():
        slug = slug_of(thread.link, mapping)
        if not slug:
            export.problems.append(
                Problem(thread.line, f"thread {thread.key}: no article slug in its link "
                        f"{thread.link!r}; add it to --map")
            )  # fmt: skip
            continue
        page = normalise_link(thread.link)
        if page in pages:
            export.merged_threads += 1
        pages.setdefault(page, slug)
        slugs[thread.key] = pages[page]
        export.links.setdefault(pages[page], thread.link)
    kept = _kept_deleted(posts)
    for post in posts:
        if post.thread not in threads:
            export.problems.append(
                Problem(
                    post.line, f"post {post.key}: its thread {post.thread} is not in the export"
                )
            )
            export.skipped["orphan"] += 1
            continue
        if post.thread not in slugs:
            export.skipped["unmapped thread"] += 1
            continue
        article = slugs[post.thread]
        if post.deleted and post.key not in kept:
            export.skipped["deleted"] += 1
            continue
        comment = _placeholder(post) if post.deleted else post.comment
        assert comment is not None
        export.comments[article].append(comment)
