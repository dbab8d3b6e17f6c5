"""Self-service privacy requests by email, without an account: asking (always the same
answer), the link emailed to the address (opening it changes nothing; its button acts, once,
within 24 hours), and what it does: a download of everything stored about the address.

Whoever can read the address's mail is taken to be its owner: the request itself proves
nothing, so it only ever leads to an email to that address.
"""

from __future__ import annotations

import secrets as random_tokens
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from newsroom.errors import LinkExpiredError, LinkUsedError, ServiceUnavailableError
from newsroom.models.privacy import (
    ErasureDone,
    ExportedComment,
    ExportedEmail,
    PrivacyExport,
    PrivacyRequestAccepted,
    PrivacyRequestIn,
    StoredPrivacyRequest,
)
from newsroom.privacy import email_hash, ip_hash, normalise_email, subscriber_key

if TYPE_CHECKING:
    from newsroom.config import CommentsSettings
    from newsroom.data.notifications import NotificationTable
    from newsroom.data.privacy import PrivacyTable
    from newsroom.links import LinkPage
    from newsroom.mail import Mailer
    from newsroom.models.comments import StoredComment
    from newsroom.secrets import Keyring
    from newsroom.tokens import PrivacyClaim

LINK_HOURS = 24
_PAGES = {
    "export": (
        "Download a copy of your comments",
        "Download everything stored about the comments written with this address (a JSON "
        "file)? The link works once.",
        "Download",
    ),
    "erase": (
        "Erase your comments",
        "Remove your name, address and website from every comment written with this address? "
        "A comment with replies keeps its place with its text removed; the others are deleted. "
        "This cannot be undone.",
        "Erase",
    ),
}


@dataclass(frozen=True)
class PrivacyRules:
    """The collaborators and settings privacy requests run with."""

    store: PrivacyTable
    ledger: NotificationTable
    keys: Callable[[], Keyring]
    mailer: Mailer
    sender: str
    base_url: str
    article_url_template: str = "{base}/articles/{slug}"
    interval: timedelta = timedelta(minutes=5)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @classmethod
    def from_settings(cls, settings: CommentsSettings | None = None) -> PrivacyRules:
        from newsroom.config import comments_settings
        from newsroom.data.notifications import NotificationTable
        from newsroom.data.pagination import CursorSigner
        from newsroom.data.privacy import PrivacyTable
        from newsroom.mail import SesMailer
        from newsroom.secrets import project_keys

        settings = settings or comments_settings()

        def keys() -> Keyring:
            return project_keys(settings.secret_parameter_name)

        return cls(
            store=PrivacyTable(settings.content_table_name, cursors=CursorSigner(keys)),
            ledger=NotificationTable(settings.content_table_name),
            keys=keys,
            mailer=SesMailer(configuration_set=settings.configuration_set_name),
            sender=settings.sender_email,
            base_url=settings.public_base_url,
            article_url_template=settings.article_url_template,
            interval=timedelta(seconds=settings.privacy_request_interval_seconds),
        )


def request(
    form: PrivacyRequestIn, ip: str, *, rules: PrivacyRules | None = None
) -> PrivacyRequestAccepted:
    """Email the address a link that acts on the request, unless this IP asked too recently
    (429) or this address was asked for too recently (then nothing is sent, and the answer is
    the same). Every address gets the email, whether it commented or not, so neither the
    answer nor the time it takes tells.

    Raises
    ------
    PrivacyRequestFloodError
        Another request from this IP within the interval.
    ServiceUnavailableError
        The email could not be sent for now (nothing is kept; the caller may retry later).
    """
    from newsroom import deadline
    from newsroom.data.comments import FloodGuard
    from newsroom.data.privacy import AddressRateLimitedError
    from newsroom.emails import privacy_link
    from newsroom.mail import TransientMailError
    from newsroom.notifications import Notification, deliver
    from newsroom.tokens import sign_privacy

    rules = rules or PrivacyRules.from_settings()
    keys = rules.keys()
    now = rules.clock()
    stored = StoredPrivacyRequest(
        id=random_tokens.token_hex(16), kind=form.kind, email=form.email, requested_at=now
    )
    try:
        rules.store.record_request(
            stored,
            ip_guards=[FloodGuard("privacy_ip", ip_hash(key, ip)) for key in keys.all],
            address_guards=[
                FloodGuard("privacy_email", email_hash(key, form.email)) for key in keys.all
            ],
            interval=rules.interval,
            expires_at=now + timedelta(hours=LINK_HOURS, days=1),
        )
    except AddressRateLimitedError:
        return PrivacyRequestAccepted()
    token = sign_privacy(keys, request_id=stored.id, kind=stored.kind)
    link = f"{rules.base_url.rstrip('/')}/links/{quote(token, safe='')}"
    email = privacy_link(stored.email, kind=stored.kind, link=link, hours=LINK_HOURS)
    try:
        report = deliver(
            [Notification("privacy_link", f"PRIVACY:{stored.id}", email)],
            ledger=rules.ledger,
            mailer=rules.mailer,
            sender=rules.sender,
            keys=keys,
            # The invocation's deadline (the sending needs `notifications.SEND_TIME` of it).
            deadline=rules.clock() + timedelta(seconds=deadline.seconds_left() or 10),
        )
    except TransientMailError as exc:
        rules.store.forget_request(stored.id)
        raise ServiceUnavailableError("The email could not be sent; retry shortly.") from exc
    if report.rejected:
        # Refused by SES for good (an unverified sender): the same answer, and the alarm.
        from newsroom.observability import metrics

        metrics.add_metric(name="EmailsRejected", unit="Count", value=report.rejected)
    return PrivacyRequestAccepted()


def read_claim(keys: Keyring, token: str) -> PrivacyClaim | None:
    """The claim of a privacy link's token; None when the token is no privacy link's.

    Raises
    ------
    LinkExpiredError
        A privacy link's token, older than 24 hours.
    """
    from newsroom.tokens import TokenExpiredError, TokenInvalidError, verify_privacy

    try:
        return verify_privacy(keys, token, max_age_seconds=LINK_HOURS * 3600)
    except TokenExpiredError as exc:
        raise LinkExpiredError() from exc
    except TokenInvalidError:
        return None


def open_request(claim: PrivacyClaim, *, rules: PrivacyRules | None = None) -> LinkPage:
    """The page the link opens: what its button will do. Reads only (mail scanners open links).

    Raises
    ------
    LinkExpiredError
        The request is gone (its email could not be sent, or it expired).
    """
    from newsroom.links import LinkPage

    rules = rules or PrivacyRules.from_settings()
    found = rules.store.get_request(claim.request_id)
    if found is None:
        raise LinkExpiredError()
    _, used = found
    title, question, button = _PAGES[claim.kind]
    if used:
        return LinkPage(title=title, message="This link was used already: it works once.")
    return LinkPage(title=title, message=question, button=button, action=claim.kind)


def follow_request(
    claim: PrivacyClaim, *, rules: PrivacyRules | None = None
) -> PrivacyExport | LinkPage:
    """Do what the link says, once: the export of everything stored about the address, or
    its erasure (and the page saying what was done).

    Raises
    ------
    LinkExpiredError
        The request is gone.
    LinkUsedError
        Its link acted before (two at once: one of them).
    """
    rules = rules or PrivacyRules.from_settings()
    found = rules.store.get_request(claim.request_id)
    if found is None:
        raise LinkExpiredError()
    stored, used = found
    if used:
        raise LinkUsedError()
    if stored.kind == "export":
        exported = export(stored.email, rules=rules)
        rules.store.use_request(stored.id, rules.clock())
        return exported
    # Erased first, then spent: an erasure cut short (a timeout) can be finished with the same
    # link, and two at once (the same link twice) are one erasure, every step conditional.
    done = erase(stored.email, rules=rules)
    rules.store.use_request(stored.id, rules.clock())
    from newsroom.links import LinkPage

    title, _, _ = _PAGES["erase"]
    return LinkPage(
        title=title,
        message=f"Done: {done.deleted} comments deleted, {done.anonymised} kept without your "
        "name, address, website or text because others replied to them.",
        action="erase",
        done=True,
    )


def export(email: str, *, rules: PrivacyRules) -> PrivacyExport:
    """Everything stored about `email`: its comments on every article, in every status, and
    the emails sent to it (as far as the 30-day ledger remembers)."""
    keys = rules.keys()
    found = rules.store.author_items([email_hash(key, email) for key in keys.all])
    subscribers = [subscriber_key(key, email) for key in keys.all]
    confirmed = bool(rules.ledger.confirmed_subscribers(subscribers))
    return PrivacyExport(
        email=normalise_email(email),
        exported_at=rules.clock(),
        comments=[_exported(c, rules, confirmed=confirmed) for c in found.comments],
        emails=[_exported_email(entry) for entry in found.emails],
    )


def erase(email: str, *, rules: PrivacyRules) -> ErasureDone:
    """Remove the address from everything stored: each comment without a reply is deleted (its
    counts, duplicate guard and sender data with it); one with replies keeps its place without
    its author's name, address, website, text or keyed hashes; then the address's commenter
    profiles (it is no longer "previously approved"), confirmed reply notices and answered
    duplicates go, and its sent-email ledger entries leave the author index.

    Every step is conditional on what was read, so two erasures at once, or a reply, an edit
    or a moderator meanwhile, leave each comment either deleted or anonymised, counted once.
    """
    from newsroom.privacy import commenter_key

    keys = rules.keys()
    # First, so that a stream record of one of its comments written before now, delivered
    # while this runs or after it, sends nothing.
    rules.store.remember_erasure(email_hash(keys.current, email), rules.clock())
    found = rules.store.author_items([email_hash(key, email) for key in keys.all])
    profiles = {c.commenter for c in found.comments if c.commenter}
    profiles |= {
        commenter_key(key, c.author_name, email) for c in found.comments for key in keys.all
    }
    deleted = anonymised = 0
    for comment in found.comments:
        outcome = _erase_comment(comment, rules)
        deleted += outcome == "deleted"
        anonymised += outcome == "anonymised"
    rules.store.forget(
        profiles=sorted(profiles),
        subscribers=[subscriber_key(key, email) for key in keys.all],
        duplicates=found.duplicates,
        ledger_entries=[str(entry["pk"]) for entry in found.emails],
    )
    return ErasureDone(deleted=deleted, anonymised=anonymised)


_ERASE_ATTEMPTS = 5


def _erase_comment(comment: StoredComment, rules: PrivacyRules) -> str:
    """Delete the comment, or anonymise it if it has replies; "deleted", "anonymised", or ""
    when another erasure (or a deletion) got there first."""
    from newsroom.errors import CommentNotFoundError, EditWindowClosedError, StatusConflictError

    current: StoredComment | None = comment
    for _ in range(_ERASE_ATTEMPTS):
        if current is None or current.erased_at is not None:
            return ""
        if current.replies > 0:
            if rules.store.anonymise(current, rules.clock()):
                return "anonymised"
        else:
            try:
                rules.store.delete(current, unanswered=True)
            except CommentNotFoundError:
                return ""
            except (EditWindowClosedError, StatusConflictError):
                pass  # a reply or a status change meanwhile: read it again
            else:
                return "deleted"
        current = rules.store.get(comment.slug, comment.id)
    raise ServiceUnavailableError()


def _exported(comment: StoredComment, rules: PrivacyRules, *, confirmed: bool) -> ExportedComment:
    return ExportedComment(
        id=comment.id,
        article=comment.slug,
        article_url=rules.article_url_template.format(
            base=rules.base_url.rstrip("/"), slug=comment.slug
        ),
        parent_id=comment.parent_id,
        status=comment.status,
        author_name=comment.author_name,
        author_email=comment.author_email,
        author_url=comment.author_url,
        text=comment.body_markdown,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        notify_replies=comment.notify_replies,
        reply_notices_confirmed=confirmed,
    )


def _exported_email(entry: dict[str, Any]) -> ExportedEmail:
    """A ledger entry (``SENT#<about>#<kind>#<recipient hash>``) as the export shows it."""
    about, kind, _ = str(entry["pk"]).removeprefix("SENT#").rsplit("#", 2)
    claimed_at = str(entry.get("gsi4sk", "")).split("#", 1)[0]
    return ExportedEmail(
        kind=kind,
        about=about,
        state=str(entry.get("state", "")),
        at=datetime.strptime(claimed_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
    )
