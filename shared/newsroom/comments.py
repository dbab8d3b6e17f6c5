"""Reader comments: accepting a post, its author's edits within the window, listing the
approved ones, and moderating them."""

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
    EditTokenInvalidError,
    EditWindowClosedError,
    EmptyCommentError,
    LinkOutdatedError,
    ParentCommentNotFoundError,
    StatusConflictError,
    TooManySlugsError,
)
from newsroom.models.articles import CommentCounts, CommentState
from newsroom.models.comments import (
    ACTION_STATUS,
    AdminComment,
    AnsweredDuplicate,
    CheckRecord,
    CommentAccepted,
    CommentEdit,
    CommentEdited,
    CommentIn,
    CommentStatus,
    Moderation,
    ModerationAction,
    PublicComment,
    SenderData,
    StatusChange,
    StoredComment,
    has_visible_text,
)
from newsroom.models.common import Page
from newsroom.moderation import ModerationPolicy, Submission, Verdict, judge
from newsroom.privacy import avatar_key, commenter_key, duplicate_key, email_hash, ip_hash

if TYPE_CHECKING:
    from newsroom.config import CommentsSettings
    from newsroom.content_checks import ContentCheck
    from newsroom.data.comments import FloodGuard, OwnComment, SpentToken, SubmissionContext
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
        duplicate_kept_until: datetime | None = None,
        sender_data: SenderData | None = None,
    ) -> None: ...

    def get(self, slug: str, comment_id: str) -> StoredComment | None: ...

    def load_own(self, slug: str, comment_id: str) -> OwnComment: ...

    def edit(
        self,
        comment: StoredComment,
        edited: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        earlier_duplicate_keys: Sequence[str] = (),
    ) -> None: ...

    def discard(
        self,
        comment: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        kept_until: datetime,
    ) -> None: ...

    def take_flood_guards(
        self, at: datetime, *, flood_guards: Sequence[FloodGuard], flood_interval: timedelta
    ) -> None: ...

    def delete_answered_duplicate(self, duplicate: AnsweredDuplicate) -> None: ...

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

    def delete(self, comment: StoredComment, *, unanswered: bool = False) -> None: ...


@dataclass(frozen=True)
class Sender:
    """Who sent a request, as API Gateway saw it (never taken from spoofable headers)."""

    ip: str
    user_agent: str = ""
    referrer: str = ""  # the page the form was on, as the browser said (Referer)
    # Where the request reached the API: the base of the article's URL without PublicBaseUrl.
    api_base_url: str = ""


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
    edit_window: timedelta = timedelta(minutes=15)
    # How long the sender data kept for moderation (the IP hash) lives: SenderData.
    sender_data_retention: timedelta = timedelta(days=90)
    clock: Callable[[], datetime] = utc_now
    # Content checks after the rules (newsroom.content_checks); none by default.
    checks: tuple[ContentCheck, ...] = ()
    # Where readers read an article (the checks' permalink): _PublicUrls.
    public_base_url: str = ""
    article_url_template: str = "{base}/articles/{slug}"

    @classmethod
    def from_settings(cls, settings: CommentsSettings) -> CommentRules:
        from newsroom.data.comments import CommentTable
        from newsroom.data.pagination import CursorSigner
        from newsroom.secrets import project_keys

        def keys() -> Keyring:
            return project_keys(settings.secret_parameter_name)

        checks: tuple[ContentCheck, ...] = ()
        if settings.content_checks:
            from newsroom.content_checks import checks_named

            checks = checks_named(settings.content_checks)
        if settings.akismet_key_parameter_name:
            from newsroom.akismet_check import AkismetCheck

            checks = (*checks, AkismetCheck.from_settings(settings))
        return cls(
            checks=checks,
            public_base_url=settings.public_base_url,
            article_url_template=settings.article_url_template,
            store=CommentTable(settings.content_table_name, cursors=CursorSigner(keys)),
            keys=keys,
            policy=ModerationPolicy(
                max_links=settings.comment_max_links,
                moderation_keys=tuple(settings.moderation_keys),
                disallowed_keys=tuple(settings.disallowed_keys),
                require_previous_approval=settings.require_previous_approval,
                moderate_all=settings.moderate_all,
                minimum_form_seconds=settings.minimum_form_seconds,
            ),
            flood_interval=timedelta(seconds=settings.flood_interval_seconds),
            thread_depth=settings.thread_depth,
            edit_window=timedelta(seconds=settings.edit_window_seconds),
            sender_data_retention=timedelta(days=settings.sender_data_retention_days),
            close_after=(
                timedelta(days=settings.close_comments_after_days)
                if settings.close_comments_after_days
                else None
            ),
        )

    def article_url(self, slug: str, sender: Sender, *, canonical: str | None = None) -> str:
        """The article's public URL: its `canonical` one when registered with it, else the
        template's (PublicBaseUrl, else where the request reached the API)."""
        if canonical:
            return canonical
        base = (self.public_base_url or sender.api_base_url).rstrip("/")
        return self.article_url_template.format(base=base, slug=slug)

    def takes_comments(self, article: StoredArticle | StoredCommentState, now: datetime) -> bool:
        """Whether a public article is open for comments: its own switch, and not older than
        `close_after`."""
        return article.comments_open and not (
            self.close_after is not None
            and article.published_at is not None
            and article.published_at + self.close_after < now
        )


def _judged(
    rules: CommentRules, submission: Submission, *, previously_approved: bool
) -> tuple[Verdict, tuple[CheckRecord, ...], bool]:
    """The rules' verdict and, when a content check is configured, the checks' (the
    content_checks module is imported only then), and whether the strictest check said to
    discard it (the verdict then says spam)."""
    if not rules.checks:
        return judge(submission, rules.policy, previously_approved=previously_approved), (), False
    from newsroom.content_checks import moderate

    moderated = moderate(
        submission, rules.policy, previously_approved=previously_approved, checks=rules.checks
    )
    checks = tuple(
        CheckRecord(name=r.name, outcome=r.outcome, reason=r.reason) for r in moderated.checks
    )
    return moderated.verdict, checks, moderated.discard


def _sent_to_akismet(
    rules: CommentRules, submission: Submission, checks: tuple[CheckRecord, ...]
) -> dict[str, str] | None:
    """What Akismet was sent of a comment it judged (kept with its sender data), else None."""
    if not any(c.name == "akismet" for c in checks):
        return None
    from newsroom.akismet_check import AkismetCheck

    akismet = next(c for c in rules.checks if isinstance(c, AkismetCheck))
    return akismet.sent(submission)


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
        answered as a held comment and not stored; so is one a content check says to discard
        (`_discarded`).
    CommentTooLongError
        Too large to store once rendered.
    EmptyCommentError
        The text renders as nothing a reader could see.
    FormTokenError
        A minimum form time is set and `form_token` is missing, not ours, or expired. One
        issued too recently is no error: the comment is held (rule "posted_too_soon").
    """
    from newsroom.tokens import sign_edit

    rules = rules or default_rules()
    now = rules.clock()
    keys = rules.keys()
    form_seconds = None
    if rules.policy.minimum_form_seconds:
        from newsroom.form_time import seconds_open

        form_seconds = seconds_open(keys, form.form_token, now=now)
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
    body_html = _rendered(form.body)
    comment_id = new_comment_id(now)
    parent_id, depth, path = _place_in_thread(
        comment_id, form.parent_id, context.parent, rules.thread_depth
    )
    submission = Submission(
        author_name=form.author_name,
        author_email=email,
        author_url=str(form.author_url) if form.author_url else None,
        body=form.body,
        ip=sender.ip,
        user_agent=sender.user_agent,
        honeypot=form.phone,
        body_html=body_html,
        referrer=sender.referrer,
        permalink=rules.article_url(slug, sender, canonical=article.url),
        comment_type="reply" if form.parent_id else "comment",
        posted_at=now,
        article_modified_at=article.updated_at,
        form_seconds=form_seconds,
    )
    verdict, checks, discard = _judged(
        rules,
        submission,
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
            rule=verdict.rule,
            keyword=verdict.keyword,
            explanation=verdict.explanation,
            at=now,
            checks=checks,
        ),
        notify_replies=form.notify_replies,
        avatar=avatar_key(secret, email),
        commenter=commenter,
        duplicate_key=duplicate_key(secret, slug, email, form.body),
        author_key=email_hash(secret, email),
    )
    editable_until = now + rules.edit_window
    if discard:
        return _discarded(rules, comment, keys, sender, editable_until)
    status: CommentStatus = comment.status
    try:
        rules.store.insert(
            comment,
            flood_guards=_flood_guards(keys, sender, email),
            flood_interval=rules.flood_interval,
            earlier_duplicate_keys=[
                duplicate_key(key, slug, email, form.body) for key in keys.previous
            ],
            duplicate_kept_until=editable_until,
            sender_data=SenderData(
                ip_hash=ip_hash(secret, sender.ip),
                expires_at=now + rules.sender_data_retention,
                akismet=_sent_to_akismet(rules, submission, checks),
            ),
        )
    except DuplicateCommentError:
        # Answered exactly as a held comment is, so that posting a public comment's text
        # with candidate emails cannot tell which email wrote it (nothing is stored but what
        # its edit token needs to work as a held comment's: see `edit`).
        status = "pending"
    return CommentAccepted(
        id=comment.id,
        # Never tell a spammer: spam is answered exactly like a held comment.
        status="approved" if status == "approved" else "pending",
        edit_token=sign_edit(keys, slug=slug, comment_id=comment.id),
        editable_until=editable_until,
    )


def _discarded(
    rules: CommentRules,
    comment: StoredComment,
    keys: Keyring,
    sender: Sender,
    editable_until: datetime,
) -> CommentAccepted:
    """A new comment a content check said to discard (Akismet's blatant spam): not stored, and
    answered exactly as a held comment is. Only what its edit token needs to work as a held
    comment's is kept until its window ends (as for a duplicate: see `edit`), and its flood
    guards are taken, so that what follows it is what follows any comment. Counted, and logged
    without anything of its sender."""
    from newsroom.observability import logger, metrics
    from newsroom.tokens import sign_edit

    rules.store.discard(
        comment,
        flood_guards=_flood_guards(keys, sender, comment.author_email),
        flood_interval=rules.flood_interval,
        kept_until=editable_until,
    )
    metrics.add_metric(name="CommentsDiscarded", unit="Count", value=1)
    logger.info(
        "Comment discarded, not stored",
        slug=comment.slug,
        comment_id=comment.id,
        check=comment.moderation.keyword,
    )
    return CommentAccepted(
        id=comment.id,
        status="pending",
        edit_token=sign_edit(keys, slug=comment.slug, comment_id=comment.id),
        editable_until=editable_until,
    )


def _flood_guards(keys: Keyring, sender: Sender, email: str) -> list[FloodGuard]:
    """The flood guards of a post or an edit: the current key's are taken, the previous
    keys' only checked."""
    from newsroom.data.comments import FloodGuard

    guards = [FloodGuard("ip", ip_hash(key, sender.ip)) for key in keys.all]
    return guards + [FloodGuard("email", email_hash(key, email)) for key in keys.all]


def _rendered(body: str) -> str:
    """The text as readers will see it (sanitised HTML).

    Raises
    ------
    EmptyCommentError
        Markdown that renders to nothing, such as "[]()".
    CommentTooLongError
        Too large to store once rendered.
    """
    from newsroom.rendered import read_html
    from newsroom.rendering import render_comment

    body_html = render_comment(body)
    if not has_visible_text(read_html(body_html).text):
        raise EmptyCommentError()
    if len(body.encode()) + len(body_html.encode()) > MAX_STORED_TEXT_BYTES:
        raise CommentTooLongError()
    return body_html


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


# How far an edit may move a comment from where it is: never to a laxer status (see `edit`).
_STRICTNESS: dict[str, int] = {"approved": 0, "pending": 1, "spam": 2, "trash": 3}
# Tries at an edit or delete whose comment changed between the read and the write.
_CHANGED_ATTEMPTS = 3


def _authorised(
    rules: CommentRules, keys: Keyring, token: str | None, slug: str, comment_id: str
) -> datetime:
    """Check an edit token is this comment's and its window open; the time now.

    Raises
    ------
    EditTokenInvalidError
        None, not ours, altered, or another comment's.
    EditWindowClosedError
        Genuine, but older than the edit window.
    """
    from newsroom.tokens import TokenInvalidError, verify_edit

    if not token:
        raise EditTokenInvalidError()
    try:
        claim = verify_edit(keys, token)
    except TokenInvalidError as exc:
        raise EditTokenInvalidError() from exc
    if (claim.slug, claim.comment_id) != (slug, comment_id):
        raise EditTokenInvalidError()
    now = rules.clock()
    if now > claim.issued_at + rules.edit_window:
        raise EditWindowClosedError()
    return now


def check_edit_token(
    slug: str, comment_id: str, token: str | None, *, rules: CommentRules | None = None
) -> None:
    """Check an edit token is this comment's and its window open (before a retry is answered
    from its first answer).

    Raises
    ------
    EditTokenInvalidError, EditWindowClosedError
    """
    rules = rules or default_rules()
    _authorised(rules, rules.keys(), token, slug, comment_id)


def _open_for_its_author(
    rules: CommentRules, created_at: datetime, comment: StoredComment | None, now: datetime
) -> datetime:
    """When the window of a comment (or of a duplicate answered in its place) ends, if it is
    open and no reply is stored under the comment.

    Raises
    ------
    EditWindowClosedError
    """
    until = created_at + rules.edit_window
    if now > until:
        raise EditWindowClosedError()
    if comment is not None and comment.erased_at is not None:
        raise EditWindowClosedError(erased=True)
    if comment is not None and comment.replies > 0:
        raise EditWindowClosedError(replied=True)
    return until


def _judged_again(
    comment: StoredComment, verdict: Verdict, checks: tuple[CheckRecord, ...], now: datetime
) -> tuple[CommentStatus, Moderation]:
    """The status and the reason for it of an edited comment: the stricter of its status and
    the new text's verdict. An edit can hold an approved comment again or make any comment
    spam; it never publishes a held comment (that is its moderator's to do) nor frees one a
    moderator marked as spam or trashed."""
    if _STRICTNESS[verdict.status] >= _STRICTNESS[comment.status]:
        return verdict.status, Moderation(
            rule=verdict.rule,
            keyword=verdict.keyword,
            explanation=verdict.explanation,
            at=now,
            edited_at=now,
            checks=checks,
        )
    return comment.status, comment.moderation.model_copy(update={"edited_at": now})


def edit(
    slug: str,
    comment_id: str,
    change: CommentEdit,
    sender: Sender,
    *,
    token: str | None,
    rules: CommentRules | None = None,
) -> CommentEdited:
    """Change the text of a comment for its author (the holder of its edit token), while its
    window is open and no reply is stored under it. The new text meets every rule of a new
    comment's (length, rendering, duplicates, flood) and is judged again, as a new comment by
    its author would be (`_judged_again`): an approved comment whose text now trips the
    policy is held again, with the reason.

    A duplicate answered as held in place of a comment (`submit`), or a post discarded in its
    place, is edited as a held comment is: the flood guards are taken, the answer is the same,
    nothing else is written. An edit of a stored comment that a content check says to discard
    makes it spam (it exists: dropping it would be a deletion nobody asked for).

    Raises
    ------
    EditTokenInvalidError, EditWindowClosedError
    CommentNotFoundError
        It was deleted.
    ArticleNotFoundError, CommentsClosedError, CommentFloodError, EmptyCommentError,
    CommentTooLongError
        As for a new comment.
    """
    rules = rules or default_rules()
    keys = rules.keys()
    now = _authorised(rules, keys, token, slug, comment_id)
    for attempt in range(_CHANGED_ATTEMPTS):
        try:
            return _edit_once(slug, comment_id, change, sender, rules=rules, keys=keys, now=now)
        except StatusConflictError:
            if attempt == _CHANGED_ATTEMPTS - 1:
                raise
            now = rules.clock()
    raise AssertionError("unreachable")


def _edit_once(
    slug: str,
    comment_id: str,
    change: CommentEdit,
    sender: Sender,
    *,
    rules: CommentRules,
    keys: Keyring,
    now: datetime,
) -> CommentEdited:
    own = rules.store.load_own(slug, comment_id)
    comment, duplicate = own.comment, own.duplicate
    if comment is not None:
        created_at = comment.created_at
    elif duplicate is not None:
        created_at = duplicate.created_at
    else:
        raise CommentNotFoundError(comment_id)
    until = _open_for_its_author(rules, created_at, comment, now)
    article = own.article
    if article is None or not article.is_public(now):
        raise ArticleNotFoundError(slug)
    if not rules.takes_comments(article, now):
        raise CommentsClosedError()
    body_html = _rendered(change.body)
    held = CommentEdited(id=comment_id, status="pending", editable_until=until)
    if comment is None:
        assert duplicate is not None  # one of them was found
        rules.store.take_flood_guards(
            now,
            flood_guards=_flood_guards(keys, sender, duplicate.author_email),
            flood_interval=rules.flood_interval,
        )
        return held
    verdict, checks, _ = _judged(
        rules,
        Submission(
            author_name=comment.author_name,
            author_email=comment.author_email,
            author_url=comment.author_url,
            body=change.body,
            ip=sender.ip,
            user_agent=sender.user_agent,
            body_html=body_html,
            referrer=sender.referrer,
            permalink=rules.article_url(slug, sender, canonical=article.url),
            comment_type="reply" if comment.in_reply_to else "comment",
            posted_at=comment.created_at,
            recheck_reason="edit",
        ),
        # Its author had a comment approved exactly when this one is (it counts itself); a
        # held one stays held whatever the verdict.
        previously_approved=comment.status == "approved",
    )
    status, moderation = _judged_again(comment, verdict, checks, now)
    edited = comment.model_copy(
        update={
            "body_markdown": change.body,
            "body_html": body_html,
            "status": status,
            "moderation": moderation,
            "revision": comment.revision + 1,
            "edited_at": now,
            "duplicate_key": duplicate_key(keys.current, slug, comment.author_email, change.body),
        }
    )
    try:
        rules.store.edit(
            comment,
            edited,
            flood_guards=_flood_guards(keys, sender, comment.author_email),
            flood_interval=rules.flood_interval,
            earlier_duplicate_keys=[
                duplicate_key(key, slug, comment.author_email, change.body) for key in keys.previous
            ],
        )
    except DuplicateCommentError:
        return held  # as a new comment's duplicate is: nothing stored, answered as held
    if status != "approved":
        return held
    return CommentEdited(id=comment_id, status="approved", editable_until=until)


def delete_own(
    slug: str, comment_id: str, *, token: str | None, rules: CommentRules | None = None
) -> None:
    """Delete a comment for its author (the holder of its edit token), while its window is
    open and no reply is stored under it: it disappears, and every count goes down with it.
    Deleting what is gone already is done.

    Raises
    ------
    EditTokenInvalidError, EditWindowClosedError
    """
    rules = rules or default_rules()
    now = _authorised(rules, rules.keys(), token, slug, comment_id)
    for attempt in range(_CHANGED_ATTEMPTS):
        own = rules.store.load_own(slug, comment_id)
        if own.comment is not None:
            _open_for_its_author(rules, own.comment.created_at, own.comment, now)
            try:
                rules.store.delete(own.comment, unanswered=True)
            except CommentNotFoundError:
                return
            except StatusConflictError:
                if attempt == _CHANGED_ATTEMPTS - 1:
                    raise
                now = rules.clock()
                continue
        elif own.duplicate is not None:
            _open_for_its_author(rules, own.duplicate.created_at, None, now)
            rules.store.delete_answered_duplicate(own.duplicate)
        return


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
    expected_revision: int | None = None,
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
        Its status changed meanwhile (or is not `expected_status`), or its author edited it
        meanwhile.
    LinkOutdatedError
        Its revision is not `expected_revision`.
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
    if expected_revision is not None and comment.revision != expected_revision:
        raise LinkOutdatedError()
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
