"""Who gets which email when a comment arrives or changes status, and sending each once.

`plan` is pure: from the comment before and after, its article, the comment it answers and
which addresses confirmed reply notices, it lists the emails due. `deliver` sends them through a
ledger that makes each (comment, kind, recipient) go out at most once however often the stream
delivers the record (a confirmation request: at most once per address per period), and at least
once unless SES refuses it for good; a process that dies after SES accepted an email, before the
ledger knew, is the one case where it goes out twice (docs/notifications.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypedDict

from newsroom.emails import (
    CommentView,
    Email,
    comment_live,
    confirm_replies,
    moderation_request,
    new_comment,
    reply_notice,
)
from newsroom.mail import Mailer, PermanentMailError, TransientMailError
from newsroom.models.emails import EmailKind, error_code_of
from newsroom.observability import logger
from newsroom.privacy import email_hash, keyed_hash, normalise_email, subscriber_key
from newsroom.tokens import LinkAction

if TYPE_CHECKING:
    from newsroom.data.notifications import NotificationContext, NotificationTable
    from newsroom.models.comments import StoredComment
    from newsroom.secrets import Keyring

Kind = EmailKind


@dataclass(frozen=True)
class Notification:
    kind: Kind
    comment_id: str
    email: Email
    # Sent at most once per recipient in this period, whatever comment it is about (the
    # ledger knows it by recipient alone); None: once per comment, for good.
    once_every: timedelta | None = None
    # The comment's text as its author last edited it (0: as posted): an email about an
    # edited text is another email than the one about the text before.
    revision: int = 0
    # The article of the comment it is about, kept in the ledger for the email log; none for
    # an email about no comment (a privacy link).
    slug: str = ""


class Links(Protocol):
    """Makes the URLs an email carries (signed where they act)."""

    def article(self, slug: str) -> str: ...

    def act(self, slug: str, comment_id: str, action: LinkAction, *, revision: int = 0) -> str:
        """A signed link doing `action`; a moderation link acts on the comment's `revision`
        only (the text its email shows)."""
        ...


def _same_person(a: str, b: str) -> bool:
    return normalise_email(a) == normalise_email(b)


def plan(
    old: StoredComment | None,
    new: StoredComment,
    context: NotificationContext,
    *,
    moderators: list[str],
    links: Links,
    moderation_link_days: int,
    confirmation_link_days: int,
) -> list[Notification]:
    """The emails a comment's arrival, status change or edit by its author calls for.

    - held on arrival, or held after an edit (held again, or still): every moderator, with
      approve / spam / trash links, the email saying the text was edited;
    - becomes public (at once or later): the article's author (if it has an address), unless
      they wrote it; the
      author of the comment it answers if they asked for replies (and did not write this one;
      at the deepest level that comment is the reply's sibling, not its parent); and,
      if it had been held, its own author if they asked to be told;
    - an edit of a public comment that keeps it public: nothing (it was told of once);
    - spam, trash, or nothing the emails say changed (a reply counted under it, an
      unsubscribe): nothing;
    - an imported comment's arrival (`StoredComment.imported_from`, whatever its status):
      nothing; a moderator's later decision on it is told as any other.

    Reply notices and "your comment is live" go only to addresses in `context.confirmed`
    (double opt-in: anyone can type anyone's address). In their place an address that asked
    for replies and has not confirmed gets a request to confirm, which says nothing the
    commenter chose, at most once per `confirmation_link_days` (the link's lifetime).
    """
    article = context.article
    edited = old is not None and new.revision != old.revision
    if article is None or (old is not None and old.status == new.status and not edited):
        return []
    if old is None and new.imported_from is not None:
        return []  # an imported comment arriving is history: nobody is told of it
    view = CommentView(
        article_title=article.title,
        # A registered article's page on the site (docs/cms.md), else ARTICLE_URL_TEMPLATE's.
        article_url=article.url or links.article(new.slug),
        author_name=new.author_name,
        author_url=new.author_url,
        text=new.body_markdown,
        reason=new.moderation.explanation,
    )
    due: list[Notification] = []
    if new.status == "pending" and (old is None or edited):
        for moderator in dict.fromkeys(moderators):
            email = moderation_request(
                moderator,
                view,
                approve=links.act(new.slug, new.id, "approve", revision=new.revision),
                spam=links.act(new.slug, new.id, "spam", revision=new.revision),
                trash=links.act(new.slug, new.id, "trash", revision=new.revision),
                expires_days=moderation_link_days,
                edited=edited,
            )
            due.append(
                Notification("moderation", new.id, email, revision=new.revision, slug=new.slug)
            )
    if new.status != "approved" or (old is not None and old.status == "approved"):
        return due
    # A registered article may have no author's address: nobody to tell.
    if article.author.email and not _same_person(article.author.email, new.author_email):
        email = new_comment(article.author.email, view)
        due.append(Notification("new_comment", new.id, email, slug=new.slug))
    confirmed = context.confirmed

    def confirmation(subscribed: StoredComment) -> Notification:
        email = confirm_replies(
            subscribed.author_email,
            article_title=article.title,
            article_url=view.article_url,
            confirm=links.act(subscribed.slug, subscribed.id, "confirm_replies"),
            days=confirmation_link_days,
        )
        period = timedelta(days=confirmation_link_days)
        return Notification(
            "confirm_replies", subscribed.id, email, once_every=period, slug=subscribed.slug
        )

    answered = context.answered
    if (
        answered is not None
        and answered.notify_replies
        and answered.status == "approved"
        and not _same_person(answered.author_email, new.author_email)
    ):
        if normalise_email(answered.author_email) in confirmed:
            unsubscribe = links.act(answered.slug, answered.id, "unsubscribe")
            email = reply_notice(answered.author_email, view, unsubscribe=unsubscribe)
            due.append(Notification("reply", new.id, email, slug=new.slug))
        else:  # asked before double opt-in, or the request was lost: ask (once per period)
            due.append(confirmation(answered))
    if new.notify_replies:
        if normalise_email(new.author_email) not in confirmed:
            due.append(confirmation(new))
        elif old is not None and old.status == "pending":
            email = comment_live(new.author_email, view)
            due.append(Notification("comment_live", new.id, email, slug=new.slug))
    return due


class Ledger(Protocol):
    """`newsroom.data.notifications.NotificationTable`'s sent-email ledger."""

    def claim(
        self,
        key: str,
        *,
        now: datetime,
        lease: timedelta,
        earlier: Sequence[str] = (),
        recipient: str | None = None,
    ) -> bool: ...

    def settle(
        self,
        key: str,
        state: str,
        *,
        detail: str = "",
        again_after: datetime | None = None,
        message_id: str = "",
        now: datetime | None = None,
        kind: str = "",
        slug: str = "",
        comment_id: str = "",
    ) -> None: ...

    def release(self, key: str) -> None: ...

    def suppressed(self, address_hashes: Sequence[str]) -> bool: ...


def ledger_key(secret: bytes, notification: Notification) -> str:
    """(comment, kind, recipient), the comment with its revision once edited (``c...@2``), or
    (kind, recipient) for an email sent once per period; the recipient as a keyed hash: the
    ledger holds no email.

    During a key rotation an email is known by each key's ledger key (see `deliver`)."""
    recipient = keyed_hash(secret, "recipient", normalise_email(notification.email.to))[:32]
    if notification.once_every is not None:
        return f"SENT#ADDRESS#{notification.kind}#{recipient}"
    comment = notification.comment_id
    if notification.revision:
        comment += f"@{notification.revision}"
    return f"SENT#{comment}#{notification.kind}#{recipient}"


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    rejected: int = 0
    suppressed: int = 0  # to an address a permanent bounce or a complaint suppressed


# Lambda stops an invocation a little after its deadline, not exactly at it.
LEASE_MARGIN = timedelta(seconds=2)
# What sending one email may take (the SES call, then the ledger update): no email is started
# with less time left, and a claim another invocation holds is waited for only this long before
# the deadline. The SES client's timeouts must fit in it.
SEND_TIME = timedelta(seconds=5)
# How often a claim another invocation holds is tried again while waiting for its lease to end
# (it may be settled before then).
HELD_CLAIM_POLL = timedelta(seconds=1)


class InvocationContext(Protocol):
    """What `deadline_of` reads from Lambda's context object."""

    def get_remaining_time_in_millis(self) -> int: ...


def deadline_of(context: InvocationContext, *, now: datetime | None = None) -> datetime:
    """When Lambda stops this invocation: its context's remaining time from now."""
    remaining = timedelta(milliseconds=context.get_remaining_time_in_millis())
    return (now or datetime.now(UTC)) + remaining


def deliver(
    notifications: list[Notification],
    *,
    ledger: Ledger,
    mailer: Mailer,
    sender: str,
    keys: Keyring,
    deadline: datetime,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send each notification unless the ledger says it went out already.

    Every email is tried; a permanent refusal is recorded and not retried, and so is an email
    to a suppressed address (a permanent bounce or a complaint, `newsroom.delivery`), which is
    not sent: its hash under any key of the keyring is looked up. A claim is leased
    until this invocation's `deadline` (and `LEASE_MARGIN`): if the invocation dies while it
    holds one, the claim ends when Lambda would have stopped the invocation anyway. Lambda
    retries a shard's batch only once the invocation is over, so a claim found held is most
    likely a dead invocation's: it is waited for (see `_claim`) rather than reported at once,
    which would spend the stream's retries inside the lease.

    Raises
    ------
    TransientMailError
        After trying them all, when at least one failed in a way worth retrying (its claim
        was released, or never taken, so the retry sends it and skips the others).
    """
    sent = skipped = rejected = suppressed = 0
    retry: list[str] = []
    for notification in notifications:
        key = ledger_key(keys.current, notification)
        # An email sent before a key rotation is in the ledger under the previous key's entry.
        earlier = [ledger_key(previous, notification) for previous in keys.previous]
        # The entry is found by its recipient's keyed hash too (an export, an erasure).
        recipient = email_hash(keys.current, notification.email.to)
        claimed = _claim(
            ledger, key, earlier, recipient, deadline=deadline, clock=clock, sleep=sleep
        )
        if claimed is None:
            retry.append(notification.kind)
            continue
        if not claimed:
            skipped += 1
            continue
        hashes = [recipient, *(email_hash(k, notification.email.to) for k in keys.previous)]
        about = _about(notification)
        try:
            if ledger.suppressed(hashes):
                ledger.settle(
                    key, "suppressed", again_after=_again(notification, clock), now=clock(), **about
                )
                logger.info("email to a suppressed address not sent", kind=notification.kind)
                suppressed += 1
                continue
        except BaseException:
            ledger.release(key)
            raise
        try:
            message_id = mailer.send(notification.email, sender=sender)
        except TransientMailError as exc:
            ledger.release(key)
            logger.warning("email not sent; will retry", kind=notification.kind, cause=str(exc))
            retry.append(notification.kind)
            continue
        except PermanentMailError as exc:
            # Its code only: an error's message may quote the address, which the ledger and
            # the logs never hold.
            code = error_code_of(str(exc))
            ledger.settle(
                key,
                "failed",
                detail=code,
                again_after=_again(notification, clock),
                now=clock(),
                **about,
            )
            logger.error("email refused for good", kind=notification.kind, cause=code)
            rejected += 1
            continue
        except BaseException:
            ledger.release(key)
            raise
        ledger.settle(
            key,
            "sent",
            detail=message_id,
            again_after=_again(notification, clock),
            message_id=message_id,
            now=clock(),
            **about,
        )
        sent += 1
    if retry:
        raise TransientMailError(f"{len(retry)} email(s) to retry: {', '.join(retry)}")
    return DeliveryReport(sent=sent, skipped=skipped, rejected=rejected, suppressed=suppressed)


class _About(TypedDict):
    kind: str
    slug: str
    comment_id: str


def _about(notification: Notification) -> _About:
    """What the ledger keeps of what an email was: its kind, and the article and comment it
    was about (a privacy link's "comment" is its request, which the email log does not show)."""
    comment_id = "" if notification.kind == "privacy_link" else notification.comment_id
    return _About(kind=notification.kind, slug=notification.slug, comment_id=comment_id)


def _again(notification: Notification, clock: Callable[[], datetime]) -> datetime | None:
    """When an email sent once per period may go to the same recipient again."""
    return None if notification.once_every is None else clock() + notification.once_every


def _claim(
    ledger: Ledger,
    key: str,
    earlier: Sequence[str],
    recipient: str,
    *,
    deadline: datetime,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> bool | None:
    """Claim the email `key` until `deadline`: True if ours to send, False if it went out
    already, None if it is left for a retry (too little time left to send it).

    A claim another invocation holds is tried again until its lease ends, for as long as
    `SEND_TIME` is left to send the email afterwards. If this invocation's time runs out first,
    the record's retry starts after it, when (or closer to when) that lease is over.
    """
    from newsroom.data.notifications import ClaimHeldError

    waited = False
    while True:
        now = clock()
        if deadline - now <= SEND_TIME:
            return None
        try:
            return ledger.claim(
                key,
                now=now,
                lease=deadline + LEASE_MARGIN - now,
                earlier=earlier,
                recipient=recipient,
            )
        except ClaimHeldError as held:
            if held.lease_until is None:
                return None
            if not waited:
                logger.info(
                    "email claimed by another invocation; waiting for its lease to end",
                    seconds=round((held.lease_until - now).total_seconds(), 3),
                )
                waited = True
            wake = min(
                held.lease_until + timedelta(milliseconds=10),
                now + HELD_CLAIM_POLL,
                deadline - SEND_TIME,
            )
            sleep(max((wake - now).total_seconds(), 0.01))


@dataclass(frozen=True)
class NotificationServices:
    """The collaborators and settings notifications run with."""

    table: NotificationTable
    mailer: Mailer
    keys: Callable[[], Keyring]
    links: Callable[[Keyring], Links]
    sender: str
    moderators: list[str]
    moderation_link_days: int
    confirmation_link_days: int

    @classmethod
    def from_settings(cls) -> NotificationServices:
        from newsroom.config import notifications_settings
        from newsroom.data.notifications import NotificationTable
        from newsroom.links import TokenLinks
        from newsroom.mail import SesMailer
        from newsroom.secrets import project_keys

        settings = notifications_settings()
        return cls(
            table=NotificationTable(settings.content_table_name),
            mailer=SesMailer(configuration_set=settings.configuration_set_name),
            keys=lambda: project_keys(settings.secret_parameter_name),
            links=lambda keys: TokenLinks(
                settings.public_base_url, keys, settings.article_url_template
            ),
            sender=settings.sender_email,
            moderators=settings.moderator_emails,
            moderation_link_days=settings.moderation_link_days,
            confirmation_link_days=settings.confirmation_link_days,
        )


def handle_change(
    old: StoredComment | None,
    new: StoredComment | None,
    *,
    deadline: datetime,
    services: NotificationServices | None = None,
) -> DeliveryReport:
    """Send what a comment's arrival or status change calls for, each email once, within the
    invocation (which Lambda stops at `deadline`).

    Raises
    ------
    TransientMailError
        When some email should be retried (the stream record is then reported as failed).
    """
    if new is None:  # a deletion: nothing to tell anyone
        return DeliveryReport()
    services = services or NotificationServices.from_settings()
    keys = services.keys()
    erased = [email_hash(key, new.author_email) for key in keys.all] if new.author_email else []
    context = services.table.load_context(new.slug, new.answered_id, erased=erased)
    if context.erased_at is not None and new.created_at <= context.erased_at:
        # Its owner erased this address since the comment was written: the record's images
        # carry what was erased (a record delivered again, or late), so nothing is sent.
        logger.info("record of an erased address; nothing sent", comment=new.id)
        return DeliveryReport()
    if old is None and context.restored_through and new.created_at <= context.restored_through:
        # A restore of a backup wrote it again (docs/operations.md): it was told of when it
        # was first written, if ever; its later changes are told of as any comment's.
        logger.info("comment written by a restore; nothing sent", comment=new.id)
        return DeliveryReport()
    subscribers = [
        comment.author_email
        for comment in (new, context.answered)
        if comment is not None and comment.notify_replies and new.status == "approved"
    ]
    context = replace(context, confirmed=confirmed_addresses(services.table, keys, subscribers))
    due = plan(
        old,
        new,
        context,
        moderators=services.moderators,
        links=services.links(keys),
        moderation_link_days=services.moderation_link_days,
        confirmation_link_days=services.confirmation_link_days,
    )
    return deliver(
        due,
        ledger=services.table,
        mailer=services.mailer,
        sender=services.sender,
        keys=keys,
        deadline=deadline,
    )


def confirmed_addresses(
    table: NotificationTable, keys: Keyring, addresses: Sequence[str]
) -> frozenset[str]:
    """Those of `addresses` (normalised) that confirmed reply notices, under any key of the
    keyring. One confirmed under a previous key only is recorded under the current key too, so
    it survives the previous key's removal (docs/operations.md)."""
    if not addresses:
        return frozenset()
    wanted = {normalise_email(address) for address in addresses}
    found = table.confirmed_subscribers(
        [subscriber_key(key, address) for address in wanted for key in keys.all]
    )
    confirmed = set()
    for address in wanted:
        current = subscriber_key(keys.current, address)
        if current in found:
            confirmed.add(address)
        elif any(subscriber_key(key, address) in found for key in keys.previous):
            table.confirm_subscriber(current, at=datetime.now(UTC))
            confirmed.add(address)
    return frozenset(confirmed)
