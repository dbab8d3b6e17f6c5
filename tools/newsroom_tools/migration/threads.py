"""An exported thread's comments as this project stores them: ids derived from the source's,
places in the thread, and every value a new comment stores (`newsroom.comments.submit`), keyed
with the project's current key.

Pure: no I/O. The import writes what this makes (`newsroom_tools.migration.store`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from newsroom.comments import MAX_STORED_TEXT_BYTES
from newsroom.data.comments import answered_ids
from newsroom.models.comments import (
    AuthorEmail,
    AuthorName,
    AuthorUrl,
    CommentStatus,
    Moderation,
    SenderData,
    StoredComment,
    has_visible_text,
)
from newsroom.privacy import avatar_key, commenter_key, duplicate_key, email_hash, ip_hash
from newsroom.rendered import read_html
from newsroom.rendering import sanitise_comment_html

if TYPE_CHECKING:
    from newsroom.secrets import Keyring

ANONYMOUS = "Anonymous"  # what WordPress shows for a comment without a name
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAME: TypeAdapter[str] = TypeAdapter(AuthorName)
_EMAIL: TypeAdapter[str] = TypeAdapter(AuthorEmail)
_URL: TypeAdapter[object] = TypeAdapter(AuthorUrl)


@dataclass(frozen=True)
class Problem:
    """Something wrong with one item of the export, where it is."""

    line: int
    message: str


@dataclass(frozen=True)
class SourceComment:
    """One comment as the export has it, its values decoded (not yet checked)."""

    key: str  # the source's id of it
    parent_key: str | None  # the source's id of the comment it answers
    line: int
    status: CommentStatus
    created_at: datetime
    author_name: str
    author_email: str
    author_url: str | None
    ip: str | None
    text: str  # the source text, kept as the comment's source (`body_markdown`)
    html: str  # the source as HTML, before sanitising
    # Why the source gave it this status, for moderators ("wordpress: comment_approved=0").
    reason: str = ""


@dataclass(frozen=True)
class ThreadSettings:
    """What placing and storing comments depends on besides the comments."""

    keys: Keyring
    source: str  # "wordpress:<site>" or "disqus:<forum>": the prefix of imported_from
    thread_depth: int = 5
    sender_data_retention: timedelta = timedelta(days=90)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class PlannedThread:
    """What an article's imported comments are, parents before replies."""

    comments: list[StoredComment] = field(default_factory=list)
    senders: dict[str, SenderData] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Source key of each comment left out for a problem.
    dropped: set[str] = field(default_factory=set)
    reparented: int = 0  # replies attached elsewhere than their parent (see `plan_thread`)


def comment_id(source_key: str, created_at: datetime) -> str:
    """The id of an imported comment: as a new comment's (`newsroom.comments.new_comment_id`),
    its creation time in milliseconds then 32 bits, which here come from the source's key,
    so that importing it again finds the same comment, and threads still sort by time."""
    milliseconds = max(int((created_at - _EPOCH).total_seconds() * 1000), 0)
    digest = hashlib.sha256(source_key.encode()).hexdigest()[:8]
    return f"c{milliseconds:012x}{digest}"


def clean_author(comment: SourceComment, problems: list[Problem]) -> tuple[str, str, str | None]:
    """(name, email, website) as a new comment's form would hold them. A missing name is
    WordPress's "Anonymous"; an email the form would refuse is kept as written (it is what the
    source knew, and how its owner will ask for it); a website it would refuse is dropped."""
    try:
        name = _NAME.validate_python(comment.author_name)
    except ValidationError:
        name = ANONYMOUS
    email = comment.author_email.strip()
    if email:
        try:
            email = _EMAIL.validate_python(email)
        except ValidationError:
            email = email.casefold()
            problems.append(
                Problem(comment.line, f"comment {comment.key}: the email is not valid, kept as is")
            )
    url = None
    if comment.author_url and comment.author_url.strip():
        try:
            checked = _URL.validate_python(comment.author_url.strip())
            url = None if checked is None else str(checked)
        except ValidationError:
            problems.append(
                Problem(comment.line, f"comment {comment.key}: the website is not a valid URL, "
                        "left out")
            )  # fmt: skip
    return name, email, url


def _text(comment: SourceComment) -> str:
    return comment.text.replace("\r\n", "\n").replace("\r", "\n").strip()


MAX_CHAIN = 500  # replies deeper than this (in the source) start a thread of their own


def plan_thread(
    slug: str,
    comments: list[SourceComment],
    settings: ThreadSettings,
    *,
    passed_over: dict[str, str | None] | None = None,
) -> PlannedThread:
    """The stored form of an article's exported comments.

    Threading: a reply hangs under the comment it answers, found through `parent_key`; a
    parent that was skipped (`passed_over`: its key and its own parent's, such as a pingback)
    is passed over to its own parent; one the export does not hold (WordPress leaves spam out)
    makes the reply start a thread (reported). An approved reply whose parent is not approved
    is attached to the nearest approved comment above it, or starts a thread: published
    replies hang under published comments here, so a reader keeps seeing it where WordPress
    would hide it. Past `thread_depth` a reply is stored as its parent's sibling, as a new
    reply is (`newsroom.comments._place_in_thread`). `in_reply_to` always keeps the comment
    it answers.
    """
    planned = PlannedThread()
    skipped = passed_over or {}
    by_key = {comment.key: comment for comment in comments}
    ids = {c.key: comment_id(f"{settings.source}#{c.key}", c.created_at) for c in comments}
    stored: dict[str, StoredComment] = {}
    by_id: dict[str, StoredComment] = {}
    secret = settings.keys.current
    guards: set[str] = set()

    def answered(comment: SourceComment) -> str | None:
        """The source key of the comment it answers, among those imported."""
        parent = comment.parent_key
        seen = {comment.key}
        while parent and parent not in by_key:
            if parent in seen or parent not in skipped:
                planned.problems.append(
                    Problem(
                        comment.line,
                        f"comment {comment.key}: its parent {parent} is not in the export; "
                        "it starts a thread",
                    )
                )
                return None
            seen.add(parent)
            parent = skipped[parent]
        return parent or None

    def place(key: str, trail: tuple[str, ...] = ()) -> StoredComment | None:
        if key in stored:
            return stored[key]
        if key in planned.dropped:
            return None
        comment = by_key[key]
        parent_key = answered(comment)
        if parent_key is not None and (parent_key in trail or parent_key == key):
            planned.problems.append(
                Problem(comment.line, f"comment {key}: its replies form a loop; it starts a thread")
            )
            parent_key = None
        if parent_key is not None and len(trail) >= MAX_CHAIN:
            planned.problems.append(
                Problem(comment.line, f"comment {key}: over {MAX_CHAIN} replies deep; it starts "
                        "a thread")
            )  # fmt: skip
            parent_key = None
        parent = place(parent_key, (*trail, key)) if parent_key else None
        in_reply_to = parent.id if parent else None
        if comment.status == "approved":
            while parent is not None and parent.status != "approved":
                parent = by_id.get(parent.parent_id) if parent.parent_id else None
            if (parent.id if parent else None) != in_reply_to:
                planned.reparented += 1
        made = _stored(slug, comment, ids[key], parent, in_reply_to, settings, planned, guards)
        if made is None:
            planned.dropped.add(key)
            return None
        stored[key] = by_id[made.id] = made
        planned.comments.append(made)
        if comment.ip and made.created_at + settings.sender_data_retention > settings.now:
            planned.senders[made.id] = SenderData(
                ip_hash=ip_hash(secret, comment.ip),
                expires_at=made.created_at + settings.sender_data_retention,
            )
        return made

    for comment in sorted(comments, key=lambda c: (c.created_at, c.key)):
        place(comment.key)
    replies: Counter[str] = Counter(
        answered_id for made in planned.comments for answered_id in answered_ids(made)
    )
    planned.comments = [
        made.model_copy(update={"replies": replies[made.id]}) for made in planned.comments
    ]
    return planned


def _stored(
    slug: str,
    comment: SourceComment,
    new_id: str,
    parent: StoredComment | None,
    in_reply_to: str | None,
    settings: ThreadSettings,
    planned: PlannedThread,
    guards: set[str],
) -> StoredComment | None:
    problems = planned.problems
    text = _text(comment)
    body_html = sanitise_comment_html(comment.html)
    if not text or not has_visible_text(read_html(body_html).text):
        problems.append(Problem(comment.line, f"comment {comment.key}: no visible text; skipped"))
        return None
    if len(text.encode()) + len(body_html.encode()) > MAX_STORED_TEXT_BYTES:
        problems.append(Problem(comment.line, f"comment {comment.key}: too long to store; skipped"))
        return None
    name, email, url = clean_author(comment, problems)
    secret = settings.keys.current
    if parent is None:
        parent_id, depth, path = None, 1, new_id
    elif parent.depth < settings.thread_depth:
        parent_id, depth, path = parent.id, parent.depth + 1, f"{parent.path}/{new_id}"
    else:
        siblings = parent.path.rsplit("/", 1)[0] if "/" in parent.path else ""
        parent_id, depth = parent.parent_id, parent.depth
        path = f"{siblings}/{new_id}" if siblings else new_id
    duplicate = duplicate_key(secret, slug, email, text)
    if duplicate in guards:
        problems.append(
            Problem(
                comment.line,
                f"comment {comment.key}: the same text by the same person as an earlier "
                "comment; imported too",
            )
        )
    guards.add(duplicate)
    return StoredComment(
        id=new_id,
        slug=slug,
        parent_id=parent_id,
        in_reply_to=in_reply_to,
        depth=depth,
        path=path,
        author_name=name,
        author_email=email,
        author_url=url,
        body_markdown=text,
        body_html=body_html,
        created_at=comment.created_at,
        status=comment.status,
        moderation=Moderation(
            rule="imported",
            explanation=comment.reason or f"Imported with the status {comment.status}.",
            by="import",
        ),
        avatar=avatar_key(secret, email or f"name:{name}"),
        commenter=commenter_key(secret, name, email),
        duplicate_key=duplicate,
        author_key=email_hash(secret, email) if email else None,
        imported_from=f"{settings.source}#{comment.key}",
    )
