"""Signed links in emails: making them, and what opening (GET) or following (POST) one does.

Mail scanners open links, so opening only describes what would happen; a person's POST acts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from newsroom.errors import (
    CommentNotFoundError,
    LinkExpiredError,
    LinkInvalidError,
    LinkOutdatedError,
    LinkUsedError,
    StatusConflictError,
)
from newsroom.tokens import (
    LinkAction,
    LinkClaim,
    TokenExpiredError,
    TokenInvalidError,
    sign,
    verify,
)

_DESCRIPTIONS = {
    "approve": ("Approve this comment", "Approve", "The comment was approved and is now public."),
    "spam": ("Mark this comment as spam", "Mark as spam", "The comment was marked as spam."),
    "trash": ("Move this comment to the trash", "Trash", "The comment was moved to the trash."),
    "unsubscribe": (
        "Stop emails about replies to this comment",
        "Unsubscribe",
        "You will get no more emails about replies to this comment.",
    ),
    "confirm_replies": (
        "Confirm emails about replies",
        "Confirm",
        "Thank you: this address will be told of replies to the comments that asked for it. "
        "Each such email has a link to stop them.",
    ),
}
_MODERATION: dict[str, ModerationAction] = {"approve": "approve", "spam": "spam", "trash": "trash"}

if TYPE_CHECKING:
    from newsroom.articles import ArticleReader
    from newsroom.comments import CommentRules
    from newsroom.data.notifications import NotificationTable
    from newsroom.models.comments import ModerationAction, StoredComment
    from newsroom.models.privacy import PrivacyExport
    from newsroom.pages import Quote
    from newsroom.secrets import Keyring
    from newsroom.tokens import PrivacyClaim

EXCERPT_MAX = 280  # characters of a comment its link page shows


@dataclass(frozen=True)
class TokenLinks:
    """Makes the URLs in emails (satisfies `newsroom.notifications.Links`)."""

    base_url: str
    keys: Keyring
    article_url_template: str = "{base}/articles/{slug}"

    def article(self, slug: str) -> str:
        return self.article_url_template.format(base=self.base_url.rstrip("/"), slug=slug)

    def act(self, slug: str, comment_id: str, action: LinkAction, *, revision: int = 0) -> str:
        token = sign(self.keys, slug=slug, comment_id=comment_id, action=action, revision=revision)
        return f"{self.base_url.rstrip('/')}/links/{quote(token, safe='')}"


class LinkSubject(BaseModel):
    """The comment a link is about, as its page names it."""

    model_config = ConfigDict(defer_build=True)

    article_title: str
    author_name: str
    excerpt: str = Field(description=f"The comment's text, cut to {EXCERPT_MAX} characters.")

    @classmethod
    def of(cls, comment: StoredComment, article_title: str | None) -> LinkSubject:
        return cls(
            article_title=article_title or comment.slug,
            author_name=comment.author_name,
            excerpt=excerpt(comment.body_markdown),
        )


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    """The text on one line, cut at a word boundary to at most `limit` characters (with …)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


class LinkPage(BaseModel):
    """What a person sees when opening or following a link (JSON for programs)."""

    model_config = ConfigDict(defer_build=True)

    title: str
    message: str
    button: str | None = Field(
        default=None, description="The confirmation button, on a page that has not acted yet."
    )
    action: str | None = None
    done: bool = False
    comment: LinkSubject | None = Field(
        default=None, description="The comment the link is about, on the page that opens it."
    )

    def quote(self) -> Quote | None:
        """The comment as the page quotes it: its text, by whom, on which article."""
        from newsroom.pages import Quote

        if self.comment is None:
            return None
        subject = self.comment
        return Quote(subject.excerpt, f"{subject.author_name}, on “{subject.article_title}”")


def read_claim(
    keys: Keyring,
    token: str,
    *,
    action_days: int,
    unsubscribe_days: int,
    confirmation_days: int,
) -> LinkClaim:
    """The claim of a genuine, unexpired token.

    Raises
    ------
    LinkInvalidError, LinkExpiredError
    """
    longest = max(action_days, unsubscribe_days, confirmation_days)
    try:
        claim = verify(keys, token, max_age_seconds=longest * 86_400)
    except TokenExpiredError as exc:
        raise LinkExpiredError() from exc
    except TokenInvalidError as exc:
        raise LinkInvalidError() from exc
    days = {"unsubscribe": unsubscribe_days, "confirm_replies": confirmation_days}.get(
        claim.action, action_days
    )
    # Links of each kind live as long as theirs do: the token's own lifetime applies.
    if datetime.now(UTC) - claim.issued_at > timedelta(days=days):
        raise LinkExpiredError()
    return claim


def preview(
    claim: LinkClaim,
    *,
    current_status: str | None,
    current_revision: int = 0,
    subject: LinkSubject | None = None,
) -> LinkPage:
    """The page for opening a link: what the button will do, to which comment (`subject`).
    Changes nothing."""
    title, button, _ = _DESCRIPTIONS[claim.action]
    if current_status is None:
        raise CommentNotFoundError(claim.comment_id)
    if claim.action in _MODERATION and current_status != "pending":
        return LinkPage(
            title=title,
            message=f"This comment is no longer waiting for moderation: it is {current_status}.",
            comment=subject,
        )
    if claim.action in _MODERATION and current_revision != claim.revision:
        return LinkPage(title=title, message=LinkOutdatedError().message, comment=subject)
    return LinkPage(
        title=title, message=f"{title}?", button=button, action=claim.action, comment=subject
    )


def outcome(claim: LinkClaim) -> LinkPage:
    title, _, done = _DESCRIPTIONS[claim.action]
    return LinkPage(title=title, message=done, action=claim.action, done=True)


def spent_until(days: int, now: datetime | None = None) -> int:
    """When a spent token's record may go: after the token would have expired anyway."""
    return int(((now or datetime.now(UTC)) + timedelta(days=days + 1)).timestamp())


@dataclass(frozen=True)
class LinkRules:
    """What following links needs: the secret, the lifetimes and the stores."""

    keys: Callable[[], Keyring]
    action_days: int
    unsubscribe_days: int
    confirmation_days: int
    comments: CommentRules
    notifications: NotificationTable
    articles: ArticleReader

    @classmethod
    def from_settings(cls) -> LinkRules:
        from newsroom.comments import CommentRules
        from newsroom.config import comments_settings
        from newsroom.data.articles import ArticleTable
        from newsroom.data.comments import CommentTable
        from newsroom.data.notifications import NotificationTable
        from newsroom.data.pagination import CursorSigner
        from newsroom.secrets import project_keys

        settings = comments_settings()

        def keys() -> Keyring:
            return project_keys(settings.secret_parameter_name)

        cursors = CursorSigner(keys)  # the tables' listings; links list nothing
        return cls(
            keys=keys,
            action_days=settings.moderation_link_days,
            unsubscribe_days=settings.unsubscribe_link_days,
            confirmation_days=settings.confirmation_link_days,
            comments=CommentRules(
                store=CommentTable(settings.content_table_name, cursors=cursors), keys=keys
            ),
            notifications=NotificationTable(settings.content_table_name),
            articles=ArticleTable(settings.content_table_name, cursors=cursors),
        )


def _claim(token: str, rules: LinkRules) -> LinkClaim:
    return read_claim(
        rules.keys(),
        token,
        action_days=rules.action_days,
        unsubscribe_days=rules.unsubscribe_days,
        confirmation_days=rules.confirmation_days,
    )


def _privacy_claim(token: str, rules: LinkRules) -> PrivacyClaim | None:
    """The claim of a privacy request's link (signed under a purpose of its own), or None for
    any other token."""
    from newsroom.privacy_requests import read_claim

    return read_claim(rules.keys(), token)


def open_link(token: str, *, rules: LinkRules | None = None) -> LinkPage:
    """What following the link would do. Reads only: mail scanners open links.

    Raises
    ------
    LinkInvalidError, LinkExpiredError, CommentNotFoundError
    """
    rules = rules or LinkRules.from_settings()
    privacy = _privacy_claim(token, rules)
    if privacy is not None:
        from newsroom.privacy_requests import open_request

        return open_request(privacy)
    claim = _claim(token, rules)
    comment = rules.comments.store.get(claim.slug, claim.comment_id)
    if comment is None:
        raise CommentNotFoundError(claim.comment_id)
    article = rules.articles.get(claim.slug)
    subject = LinkSubject.of(comment, article.title if article else None)
    return preview(
        claim, current_status=comment.status, current_revision=comment.revision, subject=subject
    )


def follow_link(token: str, *, rules: LinkRules | None = None) -> LinkPage | PrivacyExport:
    """Do what the link says, once: the page saying it was done, or for a privacy request's
    link, the export it asked for.

    Raises
    ------
    LinkInvalidError, LinkExpiredError, LinkUsedError, CommentNotFoundError
    ParentNotApprovedError
        Approving a reply whose parent is no longer approved (the link stays usable).
    """
    from newsroom.comments import moderate
    from newsroom.data.comments import SpentToken

    rules = rules or LinkRules.from_settings()
    privacy = _privacy_claim(token, rules)
    if privacy is not None:
        from newsroom.privacy_requests import follow_request

        return follow_request(privacy)
    claim = _claim(token, rules)
    if claim.action == "unsubscribe":
        if not rules.notifications.stop_reply_notices(claim.slug, claim.comment_id):
            raise CommentNotFoundError(claim.comment_id)
        return outcome(claim)
    if claim.action == "confirm_replies":
        _confirm_replies(claim, rules)
        return outcome(claim)
    try:
        moderate(
            claim.slug,
            claim.comment_id,
            _MODERATION[claim.action],
            by="moderation link",
            expected_status="pending",
            expected_revision=claim.revision,
            spend_token=SpentToken(claim.jti, spent_until(rules.action_days)),
            rules=rules.comments,
        )
    except StatusConflictError as exc:
        comment = rules.comments.store.get(claim.slug, claim.comment_id)
        if comment is None:
            raise CommentNotFoundError(claim.comment_id) from exc
        if comment.status == "pending" and comment.revision != claim.revision:
            raise LinkOutdatedError() from exc  # edited between the read and the write
        raise LinkUsedError(f"the comment is already {comment.status}") from exc
    return outcome(claim)


def _confirm_replies(claim: LinkClaim, rules: LinkRules) -> None:
    """Record that the address of the comment's author wants reply notices (keyed by a keyed
    hash of it), once per link.

    Raises
    ------
    CommentNotFoundError, LinkUsedError
    """
    from newsroom.data.comments import SpentToken
    from newsroom.privacy import subscriber_key

    comment = rules.comments.store.get(claim.slug, claim.comment_id)
    if comment is None:
        raise CommentNotFoundError(claim.comment_id)
    rules.notifications.confirm_subscriber(
        subscriber_key(rules.keys().current, comment.author_email),
        at=datetime.now(UTC),
        spend_token=SpentToken(claim.jti, spent_until(rules.confirmation_days)),
    )
