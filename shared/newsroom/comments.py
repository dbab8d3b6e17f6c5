"""Reader comments: accepting a post, listing the approved ones, and moderating them."""

from __future__ import annotations

import secrets as random_tokens
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from newsroom.errors import (
    ArticleNotFoundError,
    CommentNotFoundError,
    CommentsClosedError,
    CommentTooLongError,
    DuplicateCommentError,
    EmptyCommentError,
    ParentCommentNotFoundError,
    StatusConflictError,
    TooManySlugsError,
)
from newsroom.models.articles import CommentCounts, CommentState
from newsroom.models.comments import (
    ACTION_STATUS,
    AdminComment,
    CommentAccepted,
    CommentIn,
    CommentStatus,
    Moderation,
    ModerationAction,
    PublicComment,
    StatusChange,
    StoredComment,
    has_visible_text,
)
from newsroom.models.common import Page
from newsroom.moderation import ModerationPolicy, Submission, judge
from newsroom.privacy import avatar_key, commenter_key, duplicate_key, email_hash, ip_hash

if TYPE_CHECKING:
    from newsroom.config import CommentsSettings
    from newsroom.data.comments import FloodGuard, SpentToken, SubmissionContext
    from newsroom.models.articles import StoredArticle, StoredCommentState
    from newsroom.secrets import Keyring


# A DynamoDB item holds 400 KiB (409,600 bytes); the raw and rendered text may take this much
# of it, leaving room for the other attributes (a few KB at their limits).
MAX_STORED_TEXT_BYTES = 400_000


class CommentStore(Protocol):
    """What comments need from storage (`newsroom.data.comments.CommentTable`)."""

    def load_context(
        self, slug: str, *, commenters: Sequence[str], parent_id: str | None
    ) -> SubmissionContext: ...

    def insert(
        self,
        comment: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        earlier_duplicate_keys: Sequence[str] = (),
    ) -> None: ...

    def get(self, slug: str, comment_id: str) -> StoredComment | None: ...

    def comment_states(self, slugs: Sequence[str]) -> list[StoredCommentState]: ...

    def list_thread(self, slug: str, *, limit: int, cursor: str | None) -> Page[PublicComment]: ...

    def list_by_status(
        self, status: CommentStatus, *, limit: int, cursor: str | None
    ) -> Page[AdminComment]: ...

    def change_status(
        self,
        comment: StoredComment,
        status: CommentStatus,
        *,
        moderation: Moderation,
        spend_token: SpentToken | None = None,
    ) -> StoredComment: ...

    def delete(self, comment: StoredComment) -> None: ...


@dataclass(frozen=True)
class Sender:
    """Who sent a request, as API Gateway saw it (never taken from spoofable headers)."""

    ip: str
    user_agent: str = ""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_comment_id(now: datetime) -> str:
    """A comment id that sorts by creation time: milliseconds in hex, then 32 random bits."""
    return f"c{int(now.timestamp() * 1000):012x}{random_tokens.token_hex(4)}"


@dataclass(frozen=True)
class CommentRules:
    """The collaborators and settings the comment logic runs with."""

    store: CommentStore
    keys: Callable[[], Keyring]
    policy: ModerationPolicy = field(default_factory=ModerationPolicy)
    flood_interval: timedelta = timedelta(seconds=15)
    thread_depth: int = 5
    close_after: timedelta | None = None
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_settings(cls, settings: CommentsSettings) -> CommentRules:
        from newsroom.data.comments import CommentTable
        from newsroom.data.pagination import CursorSigner
        from newsroom.secrets import project_keys

        def keys() -> Keyring:
            return project_keys(settings.secret_parameter_name)

        return cls(
            store=CommentTable(settings.content_table_name, cursors=CursorSigner(keys)),
            keys=keys,
            policy=ModerationPolicy(
                max_links=settings.comment_max_links,
                moderation_keys=tuple(settings.moderation_keys),
                disallowed_keys=tuple(settings.disallowed_keys),
                require_previous_approval=settings.require_previous_approval,
                moderate_all=settings.moderate_all,
            ),
            flood_interval=timedelta(seconds=settings.flood_interval_seconds),
            thread_depth=settings.thread_depth,
            close_after=(
                timedelta(days=settings.close_comments_after_days)
                if settings.close_comments_after_days
                else None
            ),
        )

    def takes_comments(self, article: StoredArticle | StoredCommentState, now: datetime) -> bool:
        """Whether a public article is open for comments: its own switch, and not older than
        `close_after`."""
        return article.comments_open and not (
            self.close_after is not None
            and article.published_at is not None
            and article.published_at + self.close_after < now
        )


def default_rules() -> CommentRules:
    from newsroom.config import comments_settings

    return CommentRules.from_settings(comments_settings())


def submit(
    slug: str, form: CommentIn, sender: Sender, *, rules: CommentRules | None = None
) -> CommentAccepted:
    """Accept a reader's comment: check the article and the parent, judge it, store it once.

    Raises
    ------
    ArticleNotFoundError
        No public article has this slug.
    CommentsClosedError
        Comments are closed on it (by the author, or by age).
    ParentCommentNotFoundError
        `parent_id` is not an approved comment of this article.
    CommentFloodError
        A second comment too soon (from the same IP or email). The same comment again is
        answered as a held comment and not stored.
    CommentTooLongError
        Too large to store once rendered.
    EmptyCommentError
        The text renders as nothing a reader could see.
    """
    from newsroom.data.comments import FloodGuard
    from newsroom.rendered import read_html
    from newsroom.rendering import render_comment

    rules = rules or default_rules()
    now = rules.clock()
    keys = rules.keys()
    secret = keys.current  # what is written is keyed with the current key only
    email = str(form.author_email)
    commenter = commenter_key(secret, form.author_name, email)
    context = rules.store.load_context(
        slug,
        commenters=[commenter_key(key, form.author_name, email) for key in keys.all],
        parent_id=form.parent_id,
    )
    article = context.article
    if article is None or not article.is_public(now):
        raise ArticleNotFoundError(slug)
    if not rules.takes_comments(article, now):
        raise CommentsClosedError()
    body_html = render_comment(form.body)
    if not has_visible_text(read_html(body_html).text):
        raise EmptyCommentError()  # Markdown that renders to nothing, such as "[]()"
    if len(form.body.encode()) + len(body_html.encode()) > MAX_STORED_TEXT_BYTES:
        raise CommentTooLongError()
    comment_id = new_comment_id(now)
    parent_id, depth, path = _place_in_thread(
        comment_id, form.parent_id, context.parent, rules.thread_depth
    )
    verdict = judge(
        Submission(
            author_name=form.author_name,
            author_email=email,
            author_url=str(form.author_url) if form.author_url else None,
            body=form.body,
            ip=sender.ip,
            user_agent=sender.user_agent,
            honeypot=form.phone,
            body_html=body_html,
        ),
        rules.policy,
        previously_approved=context.previously_approved,
    )
    comment = StoredComment(
        id=comment_id,
        slug=slug,
        parent_id=parent_id,
        in_reply_to=form.parent_id,
        depth=depth,
        path=path,
        author_name=form.author_name,
        author_email=email,
        author_url=str(form.author_url) if form.author_url else None,
        body_markdown=form.body,
        body_html=body_html,
        created_at=now,
        status=verdict.status,
        moderation=Moderation(
            rule=verdict.rule, keyword=verdict.keyword, explanation=verdict.explanation, at=now
        ),
        notify_replies=form.notify_replies,
        ip_hash=ip_hash(secret, sender.ip),
        avatar=avatar_key(secret, email),
        commenter=commenter,
        duplicate_key=duplicate_key(secret, slug, email, form.body),
    )
    # The current key's guards are taken; the previous keys' are only checked.
    flood_guards = [FloodGuard("ip", ip_hash(key, sender.ip)) for key in keys.all]
    flood_guards += [FloodGuard("email", email_hash(key, email)) for key in keys.all]
    try:
        rules.store.insert(
            comment,
            flood_guards=flood_guards,
            flood_interval=rules.flood_interval,
            earlier_duplicate_keys=[
                duplicate_key(key, slug, email, form.body) for key in keys.previous
            ],
        )
    except DuplicateCommentError:
        # Answered exactly as a held comment is, so that posting a public comment's text
        # with candidate emails cannot tell which email wrote it (nothing is stored).
        return CommentAccepted(id=comment.id, status="pending")
    # Never tell a spammer: spam is answered exactly like a held comment.
    return CommentAccepted(
        id=comment.id, status="approved" if comment.status == "approved" else "pending"
    )


def _place_in_thread(
    comment_id: str, requested_parent: str | None, parent: StoredComment | None, max_depth: int
) -> tuple[str | None, int, str]:
    """(parent id, depth, thread path) of a new comment.

    A reply to a comment at the deepest level becomes its sibling, as WordPress does.
    """
    if requested_parent is None:
        return None, 1, comment_id
    if parent is None or parent.status != "approved":
        raise ParentCommentNotFoundError()
    if parent.depth < max_depth:
        return parent.id, parent.depth + 1, f"{parent.path}/{comment_id}"
    siblings_path = parent.path.rsplit("/", 1)[0] if "/" in parent.path else ""
    path = f"{siblings_path}/{comment_id}" if siblings_path else comment_id
    return parent.parent_id, parent.depth, path


def list_public(
    slug: str, *, limit: int, cursor: str | None = None, rules: CommentRules | None = None
) -> Page[PublicComment]:
    """Approved comments of an article, in thread order."""
    return (rules or default_rules()).store.list_thread(slug, limit=limit, cursor=cursor)


MAX_COUNTED_ARTICLES = 100  # what one BatchGetItem reads


def count(slugs: Sequence[str], *, rules: CommentRules | None = None) -> CommentCounts:
    """How many approved comments each public article of `slugs` has, and whether it takes
    comments (for listing pages and the widget); drafts and unknown slugs are left out.

    Raises
    ------
    TooManySlugsError
        More than `MAX_COUNTED_ARTICLES` different slugs.
    """
    wanted = list(dict.fromkeys(slugs))
    if len(wanted) > MAX_COUNTED_ARTICLES:
        raise TooManySlugsError(MAX_COUNTED_ARTICLES)
    rules = rules or default_rules()
    now = rules.clock()
    return CommentCounts(
        items={
            state.slug: CommentState(
                comment_count=state.comment_count,
                comments_open=rules.takes_comments(state, now),
            )
            for state in rules.store.comment_states(wanted)
            if state.is_public(now)
        }
    )


def get_public(slug: str, comment_id: str, *, rules: CommentRules | None = None) -> PublicComment:
    """One approved comment.

    Raises
    ------
    CommentNotFoundError
        No such comment, or it is not approved.
    """
    comment = (rules or default_rules()).store.get(slug, comment_id)
    if comment is None or comment.status != "approved":
        raise CommentNotFoundError(comment_id)
    return comment.to_public()


def list_for_moderation(
    status: CommentStatus,
    *,
    limit: int,
    cursor: str | None = None,
    rules: CommentRules | None = None,
) -> Page[AdminComment]:
    """Comments with one status across all articles, oldest first, as a moderator sees them."""
    return (rules or default_rules()).store.list_by_status(status, limit=limit, cursor=cursor)


def moderate(
    slug: str,
    comment_id: str,
    action: ModerationAction,
    *,
    by: str,
    expected_status: CommentStatus | None = None,
    spend_token: SpentToken | None = None,
    rules: CommentRules | None = None,
) -> StatusChange:
    """Approve, mark as spam or trash a comment. Applying the status it already has is a no-op.

    Parameters
    ----------
    expected_status
        Act only if the comment still has this status (a moderation link acts on a held
        comment; if another moderator got there first, it says so).
    spend_token
        A signed link's one-time id, spent in the same write.

    Raises
    ------
    CommentNotFoundError
        No such comment on this article.
    StatusConflictError
        Its status changed meanwhile (or is not `expected_status`).
    LinkUsedError
        The link was used already.
    ParentNotApprovedError
        Approving a reply whose parent is not approved (trashed, spam or deleted since).
    """
    rules = rules or default_rules()
    comment = rules.store.get(slug, comment_id)
    if comment is None:
        raise CommentNotFoundError(comment_id)
    status = ACTION_STATUS[action]
    if expected_status is not None and comment.status != expected_status:
        raise StatusConflictError()
    if comment.status == status:
        return StatusChange(id=comment.id, slug=slug, status=status, previous_status=status)
    now = rules.clock()
    rules.store.change_status(
        comment,
        status,
        moderation=Moderation(
            rule=f"moderator_{action}", explanation=f"Set to {status} by {by}.", by=by, at=now
        ),
        spend_token=spend_token,
    )
    return StatusChange(id=comment.id, slug=slug, status=status, previous_status=comment.status)


def delete(slug: str, comment_id: str, *, rules: CommentRules | None = None) -> None:
    """Delete a comment for good (and release its duplicate guard).

    Raises
    ------
    CommentNotFoundError
        No such comment on this article.
    """
    rules = rules or default_rules()
    comment = rules.store.get(slug, comment_id)
    if comment is None:
        raise CommentNotFoundError(comment_id)
    rules.store.delete(comment)
