"""Who gets which email, and sending each exactly once, with in-memory fakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newsroom.data.notifications import ClaimHeldError, NotificationContext
from newsroom.emails import Email
from newsroom.mail import PermanentMailError, TransientMailError
from newsroom.models.articles import StoredArticle
from newsroom.models.comments import Moderation, StoredComment
from newsroom.notifications import (
    HELD_CLAIM_POLL,
    LEASE_MARGIN,
    SEND_TIME,
    Notification,
    NotificationServices,
    deadline_of,
    deliver,
    handle_change,
    ledger_key,
    plan,
)
from newsroom.privacy import email_hash, subscriber_key
from newsroom.secrets import Keyring

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
SECRET = b"k" * 32
KEYS = Keyring(SECRET)
ARTICLE = StoredArticle.model_validate(
    {
        "slug": "story",
        "title": "Harbour <news>",
        "summary": "s",
        "body_html": "<p>b</p>",
        "body_markdown": "b",
        "author": {"name": "Ada", "email": "ada@example.org"},
        "published_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
        "tags": [],
    }
)


def comment(cid: str, status: str, **overrides: Any) -> StoredComment:
    values: dict[str, Any] = {
        "id": cid,
        "slug": "story",
        "depth": 1,
        "path": cid,
        "author_name": "Ann",
        "author_email": "ann@example.org",
        "body_markdown": "Nice <b>piece</b>",
        "body_html": "<p>Nice</p>",
        "created_at": NOW,
        "status": status,
        "moderation": Moderation(rule="first_comment", explanation="First comment."),
        "avatar": "a",
        "commenter": "c",
        "duplicate_key": "d",
    }
    return StoredComment.model_validate(values | overrides)


# The commenters' addresses, confirmed for reply notices unless a test says otherwise.
CONFIRMED = frozenset({"ann@example.org", "pat@example.org"})


class FakeLinks:
    def article(self, slug: str) -> str:
        return f"https://news.example/{slug}"

    def act(self, slug: str, comment_id: str, action: str, *, revision: int = 0) -> str:
        suffix = f"-r{revision}" if revision else ""
        return f"https://news.example/links/{action}-{comment_id}{suffix}"


def planned(
    old: StoredComment | None,
    new: StoredComment,
    parent: StoredComment | None = None,
    moderators: list[str] | None = None,
    confirmed: frozenset[str] = CONFIRMED,
) -> list[tuple[str, str]]:
    due = plan(
        old,
        new,
        NotificationContext(article=ARTICLE, answered=parent, confirmed=confirmed),
        moderators=moderators if moderators is not None else ["mod@example.org"],
        links=FakeLinks(),
        moderation_link_days=7,
        confirmation_link_days=7,
    )
    return [(n.kind, n.email.to) for n in due]


CID = "c0000000000000000000a"
PARENT = "c0000000000000000000b"


def test_held_comment_goes_to_every_moderator_with_three_links() -> None:
    new = comment(CID, "pending")

    due = plan(
        None,
        new,
        NotificationContext(ARTICLE, None),
        moderators=["m1@example.org", "m2@example.org"],
        links=FakeLinks(),
        moderation_link_days=7,
        confirmation_link_days=7,
    )

    assert [(n.kind, n.email.to) for n in due] == [
        ("moderation", "m1@example.org"),
        ("moderation", "m2@example.org"),
    ]
    for action in ("approve", "spam", "trash"):
        assert f"links/{action}-{CID}" in due[0].email.text
    assert "First comment." in due[0].email.text


def test_comment_approved_at_once_tells_the_article_author() -> None:
    assert planned(None, comment(CID, "approved")) == [("new_comment", "ada@example.org")]


def test_author_is_not_told_of_their_own_comment() -> None:
    assert planned(None, comment(CID, "approved", author_email="ADA@example.org")) == []


def test_approval_tells_the_author_and_the_commenter_who_asked() -> None:
    old = comment(CID, "pending", notify_replies=True)
    new = comment(CID, "approved", notify_replies=True)

    assert planned(old, new) == [
        ("new_comment", "ada@example.org"),
        ("comment_live", "ann@example.org"),
    ]


def test_approval_does_not_tell_a_commenter_who_did_not_ask() -> None:
    old = comment(CID, "pending")

    assert planned(old, comment(CID, "approved")) == [("new_comment", "ada@example.org")]


def test_public_reply_tells_the_parent_author_who_asked_with_one_click_unsubscribe() -> None:
    parent = comment(PARENT, "approved", author_email="pat@example.org", notify_replies=True)
    reply = comment(CID, "approved", parent_id=PARENT, depth=2, path=f"{PARENT}/{CID}")

    due = plan(
        None,
        reply,
        NotificationContext(ARTICLE, parent, CONFIRMED),
        moderators=[],
        links=FakeLinks(),
        moderation_link_days=7,
        confirmation_link_days=7,
    )

    notice = next(n for n in due if n.kind == "reply")
    assert notice.email.to == "pat@example.org"
    assert notice.email.headers["List-Unsubscribe"] == (
        f"<https://news.example/links/unsubscribe-{PARENT}>"
    )
    assert notice.email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    "parent_overrides",
    [{"notify_replies": False}, {"author_email": "ann@example.org"}, {"status": "trash"}],
    ids=["did-not-ask", "replying-to-self", "parent-trashed"],
)
def test_no_reply_notice_when_not_due(parent_overrides: dict[str, Any]) -> None:
    parent = comment(PARENT, "approved", author_email="pat@example.org", notify_replies=True)
    parent = parent.model_copy(update=parent_overrides)
    reply = comment(CID, "approved", parent_id=PARENT, depth=2, path=f"{PARENT}/{CID}")

    assert "reply" not in [kind for kind, _ in planned(None, reply, parent)]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (None, "spam"),
        ("pending", "spam"),
        ("pending", "trash"),
        ("approved", "trash"),
        ("approved", "approved"),
    ],
)
def test_spam_trash_and_no_change_send_nothing(old: str | None, new: str) -> None:
    before = comment(CID, old) if old else None

    assert planned(before, comment(CID, new)) == []


@pytest.mark.parametrize("status", ["pending", "approved"])
def test_an_imported_comment_arriving_notifies_no_one(status: str) -> None:
    imported = comment(CID, status, imported_from="wordpress:https://old.example.org#17")

    assert planned(None, imported) == []


def test_a_moderator_approving_an_imported_comment_is_told_as_for_any_other() -> None:
    held = comment(CID, "pending", imported_from="wordpress:https://old.example.org#17")

    approved = held.model_copy(update={"status": "approved"})

    assert planned(held, approved) == [("new_comment", "ada@example.org")]


def test_held_reply_does_not_notify_the_parent_yet() -> None:
    parent = comment(PARENT, "approved", author_email="pat@example.org", notify_replies=True)
    reply = comment(CID, "pending", parent_id=PARENT, depth=2, path=f"{PARENT}/{CID}")

    assert planned(None, reply, parent) == [("moderation", "mod@example.org")]


# -- edits by their authors -----------------------------------------------------------------


def edited(old: StoredComment, status: str, **overrides: Any) -> StoredComment:
    """`old` as its author's edit leaves it: another text, the next revision."""
    values = {
        "status": status,
        "body_markdown": "Edited text",
        "revision": old.revision + 1,
        "edited_at": NOW + timedelta(minutes=1),
    }
    return old.model_copy(update=values | overrides)


def test_edit_of_a_public_comment_that_stays_public_sends_nothing() -> None:
    # Given a public reply, to a comment whose author asked for replies and confirmed, by a
    # reader who asked for them too
    parent = comment(PARENT, "approved", author_email="pat@example.org", notify_replies=True)
    reply = comment(CID, "approved", parent_id=PARENT, depth=2, notify_replies=True)
    assert planned(None, reply, parent) != []

    # Then its edit calls for no new-comment email, no reply notice, nothing
    assert planned(reply, edited(reply, "approved"), parent) == []


def test_edit_that_holds_a_public_comment_again_asks_the_moderators_saying_so() -> None:
    old = comment(CID, "approved")

    (due,) = plan(
        old,
        edited(old, "pending"),
        NotificationContext(ARTICLE, None, CONFIRMED),
        moderators=["mod@example.org"],
        links=FakeLinks(),
        moderation_link_days=7,
        confirmation_link_days=7,
    )

    assert (due.kind, due.email.to, due.revision) == ("moderation", "mod@example.org", 1)
    assert "edited" in due.email.subject
    assert "Edited text" in due.email.text
    assert "https://news.example/links/approve-" in due.email.text


def test_each_edit_of_a_held_comment_is_a_moderation_email_of_its_own() -> None:
    posted = comment(CID, "pending")
    first = edited(posted, "pending")
    second = edited(first, "pending", body_markdown="Edited again")
    emails = [
        planned_for_moderators(None, posted),
        planned_for_moderators(posted, first),
        planned_for_moderators(first, second),
    ]

    keys = {ledger_key(SECRET, due) for sent in emails for due in sent}

    assert [len(sent) for sent in emails] == [1, 1, 1]
    assert len(keys) == 3


def planned_for_moderators(old: StoredComment | None, new: StoredComment) -> list[Notification]:
    return plan(
        old,
        new,
        NotificationContext(ARTICLE, None, CONFIRMED),
        moderators=["mod@example.org"],
        links=FakeLinks(),
        moderation_link_days=7,
        confirmation_link_days=7,
    )


@pytest.mark.parametrize("status", ["spam", "trash"])
def test_edit_that_leaves_a_comment_spam_or_trashed_sends_nothing(status: str) -> None:
    old = comment(CID, status)

    assert planned(old, edited(old, status)) == []


def test_a_reply_counted_under_a_comment_sends_nothing() -> None:
    old = comment(CID, "approved", notify_replies=True)

    assert planned(old, old.model_copy(update={"replies": 1})) == []


def plan_for(
    old: StoredComment | None, new: StoredComment, parent: StoredComment | None = None
) -> list[Notification]:
    """What `plan` calls for when no address confirmed reply notices."""
    return plan(
        old,
        new,
        NotificationContext(ARTICLE, parent, frozenset()),
        moderators=[],
        links=FakeLinks(),
        moderation_link_days=7,
        confirmation_link_days=7,
    )


def test_approval_asks_an_unconfirmed_commenter_to_confirm_instead_of_mailing_their_text() -> None:
    old = comment(CID, "pending", notify_replies=True)
    new = comment(CID, "approved", notify_replies=True)

    due = plan_for(old, new)

    assert [(n.kind, n.email.to) for n in due] == [
        ("new_comment", "ada@example.org"),
        ("confirm_replies", "ann@example.org"),
    ]
    request = due[1]
    assert request.once_every == timedelta(days=7)
    assert f"links/confirm_replies-{CID}" in request.email.text
    for chosen in ("Ann", "Nice", "piece"):
        assert chosen not in request.email.subject + request.email.text + request.email.html


def test_comment_public_at_once_asks_an_unconfirmed_commenter_to_confirm() -> None:
    due = plan_for(None, comment(CID, "approved", notify_replies=True))

    assert [(n.kind, n.email.to) for n in due] == [
        ("new_comment", "ada@example.org"),
        ("confirm_replies", "ann@example.org"),
    ]


def test_reply_to_an_unconfirmed_address_asks_it_to_confirm_and_carries_no_reply() -> None:
    parent = comment(PARENT, "approved", author_email="pat@example.org", notify_replies=True)
    reply = comment(
        CID, "approved", parent_id=PARENT, depth=2, path=f"{PARENT}/{CID}", author_name="Spam"
    )

    due = plan_for(None, reply, parent)

    (request,) = [n for n in due if n.email.to == "pat@example.org"]
    assert (request.kind, request.comment_id) == ("confirm_replies", PARENT)
    assert f"links/confirm_replies-{PARENT}" in request.email.text
    assert "Nice" not in request.email.text
    assert "Spam" not in request.email.text


def test_confirmation_requests_share_one_ledger_entry_per_address() -> None:
    # Given requests to confirm one address about two comments, and another address
    first = plan_for(None, comment(CID, "approved", notify_replies=True))[-1]
    second = plan_for(None, comment(PARENT, "approved", notify_replies=True))[-1]
    other = plan_for(None, comment(CID, "approved", notify_replies=True, author_email="b@x.org"))

    # Then the ledger knows the first two as one email, and the other apart
    assert ledger_key(SECRET, first) == ledger_key(SECRET, second)
    assert ledger_key(SECRET, first) != ledger_key(SECRET, other[-1])


class FakeLedger:
    """The ledger's conditional writes, in a dict: a claim holds until its lease ends."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.lease_until: dict[str, datetime] = {}
        self.claims: list[tuple[datetime, datetime]] = []  # (when, until) of each claim made
        self.again_after: dict[str, datetime] = {}
        self.message_ids: dict[str, str] = {}
        # What each settled email's entry keeps besides its state.
        self.settled: dict[str, dict[str, str]] = {}
        self.suppressed_hashes: set[str] = set()

    def claim(
        self,
        key: str,
        *,
        now: datetime,
        lease: timedelta,
        earlier: Sequence[str] = (),
        recipient: str | None = None,
    ) -> bool:
        if any(self.state.get(k) in ("sent", "failed", "suppressed") for k in earlier):
            return False
        if self.state.get(key) == "sending" and self.lease_until.get(key, now) >= now:
            raise ClaimHeldError(key, lease_until=self.lease_until.get(key))
        done = ("sent", "failed", "suppressed")
        if self.state.get(key) in done and self.again_after.get(key, now) >= now:
            return False
        self.again_after.pop(key, None)
        self.state[key] = "sending"
        self.lease_until[key] = now + lease
        self.claims.append((now, now + lease))
        return True

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
    ) -> None:
        self.state[key] = state
        self.settled[key] = {"detail": detail, "kind": kind, "slug": slug, "comment_id": comment_id}
        if again_after is not None:
            self.again_after[key] = again_after
        if message_id:
            self.message_ids[key] = message_id

    def suppressed(self, address_hashes: Sequence[str]) -> bool:
        return bool(self.suppressed_hashes & set(address_hashes))

    def release(self, key: str) -> None:
        self.state.pop(key, None)


class FakeMailer:
    def __init__(self, failures: dict[str, Exception] | None = None) -> None:
        self.failures = failures or {}
        self.sent: list[str] = []

    def send(self, email: Email, *, sender: str) -> str:
        if email.to in self.failures:
            raise self.failures.pop(email.to)
        self.sent.append(email.to)
        return f"msg-{len(self.sent)}"


def notification(to: str, kind: str = "new_comment") -> Notification:
    return Notification(kind, CID, Email(to=to, subject="s", text="t", html="<p>t</p>"))  # type: ignore[arg-type]


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def send(
    items: list[Notification],
    ledger: FakeLedger,
    mailer: FakeMailer,
    *,
    clock: FakeClock | None = None,
    seconds_left: float = 60,
) -> Any:
    clock = clock or FakeClock()
    return deliver(
        items,
        ledger=ledger,
        mailer=mailer,
        sender="n@example.com",
        keys=Keyring(SECRET),
        deadline=clock.now + timedelta(seconds=seconds_left),
        clock=clock,
        sleep=clock.sleep,
    )


def test_redelivered_notifications_are_not_sent_twice() -> None:
    ledger, mailer = FakeLedger(), FakeMailer()
    items = [notification("a@example.org"), notification("b@example.org")]

    send(items, ledger, mailer)
    report = send(items, ledger, mailer)

    assert mailer.sent == ["a@example.org", "b@example.org"]
    assert report.skipped == 2


def test_transient_failure_is_retried_and_only_that_email_goes_again() -> None:
    ledger = FakeLedger()
    mailer = FakeMailer({"b@example.org": TransientMailError("TooManyRequestsException")})
    items = [notification("a@example.org"), notification("b@example.org")]

    with pytest.raises(TransientMailError):
        send(items, ledger, mailer)
    send(items, ledger, mailer)

    assert mailer.sent == ["a@example.org", "b@example.org"]


def test_sent_email_keeps_the_message_id_ses_returned() -> None:
    ledger, mailer = FakeLedger(), FakeMailer()

    send([notification("a@example.org")], ledger, mailer)

    assert list(ledger.message_ids.values()) == ["msg-1"]


def test_email_to_a_suppressed_address_is_not_sent_recorded_and_not_retried() -> None:
    ledger, mailer = FakeLedger(), FakeMailer()
    # Suppressed under a previous key of the keyring: still found.
    ledger.suppressed_hashes.add(email_hash(b"p" * 32, "Gone@Example.org"))
    items = [notification("gone@example.org"), notification("b@example.org")]

    report = deliver(
        items,
        ledger=ledger,
        mailer=mailer,
        sender="n@example.com",
        keys=Keyring(SECRET, (b"p" * 32,)),
        deadline=NOW + timedelta(seconds=60),
        clock=FakeClock(),
        sleep=FakeClock().sleep,
    )
    again = send(items[:1], ledger, mailer)

    assert (report.suppressed, report.sent, mailer.sent) == (1, 1, ["b@example.org"])
    assert "suppressed" in ledger.state.values()
    assert again.skipped == 1


def test_permanent_refusal_is_recorded_and_not_retried() -> None:
    ledger = FakeLedger()
    mailer = FakeMailer({"bad@example.org": PermanentMailError("MessageRejected")})
    items = [notification("bad@example.org")]

    report = send(items, ledger, mailer)
    again = send(items, ledger, mailer)

    assert (report.rejected, again.skipped, mailer.sent) == (1, 1, [])
    assert "failed" in ledger.state.values()


def test_permanent_refusal_keeps_only_the_error_code_never_the_message_quoting_the_address() -> (
    None
):
    # Given SES refusing an email with a message that quotes the address
    ledger = FakeLedger()
    refusal = PermanentMailError("Email address is not verified: bad@example.org")
    mailer = FakeMailer({"bad@example.org": refusal})

    # When it is sent
    send([notification("bad@example.org")], ledger, mailer)

    # Then the ledger records it failed, with no address in what it keeps
    (settled,) = ledger.settled.values()
    assert "failed" in ledger.state.values()
    assert settled["detail"] == "unrecognised"


def test_every_planned_email_knows_the_article_it_is_about_for_the_ledger() -> None:
    # Given an approved reply to a comment whose author asked for replies (confirmed)
    parent = comment(PARENT, "approved", notify_replies=True, author_email="pat@example.org")
    reply = comment(CID, "approved", parent_id=PARENT, notify_replies=True)

    # When its emails are planned
    due = plan(
        comment(CID, "pending", parent_id=PARENT, notify_replies=True),
        reply,
        NotificationContext(article=ARTICLE, answered=parent, confirmed=CONFIRMED),
        moderators=["mod@example.org"],
        links=FakeLinks(),
        moderation_link_days=7,
        confirmation_link_days=7,
    )

    # Then each names the article, and the ledger is told its kind, article and comment
    assert sorted(n.kind for n in due) == ["comment_live", "new_comment", "reply"]
    assert {n.slug for n in due} == {"story"}
    ledger = FakeLedger()
    send(due, ledger, FakeMailer())
    assert sorted((e["kind"], e["slug"], e["comment_id"]) for e in ledger.settled.values()) == [
        ("comment_live", "story", CID),
        ("new_comment", "story", CID),
        ("reply", "story", CID),
    ]


def held_by_a_dead_invocation(ledger: FakeLedger, item: Notification, *, until: datetime) -> str:
    """Claim `item` as an invocation that then died would have: leased until `until`."""
    clock = FakeClock(until - timedelta(seconds=30))
    with pytest.raises(TransientMailError):
        send([item], ledger, FakeMailer({item.email.to: TransientMailError("x")}), clock=clock)
    key = next(iter(ledger.lease_until))
    ledger.state[key], ledger.lease_until[key] = "sending", until
    return key


def test_claim_is_leased_until_the_invocation_would_be_stopped() -> None:
    ledger, mailer, clock = FakeLedger(), FakeMailer(), FakeClock()

    send([notification("a@example.org")], ledger, mailer, clock=clock, seconds_left=42)

    assert ledger.claims == [(NOW, NOW + timedelta(seconds=42) + LEASE_MARGIN)]


def test_claim_of_a_dead_invocation_is_waited_for_and_the_email_sent_once_its_lease_ends() -> None:
    # Given an email claimed by an invocation that died, its lease ending in 20 s
    ledger, mailer, clock = FakeLedger(), FakeMailer(), FakeClock()
    item = notification("a@example.org")
    held_by_a_dead_invocation(ledger, item, until=NOW + timedelta(seconds=20))

    # When the retry, with 60 s of its own, meets it
    report = send([item], ledger, mailer, clock=clock, seconds_left=60)

    # Then it waited for the lease (in steps, in case it was settled meanwhile), then sent it
    assert (report.sent, mailer.sent) == (1, ["a@example.org"])
    assert NOW + timedelta(seconds=20) < clock.now < NOW + timedelta(seconds=21)
    assert max(clock.slept) <= HELD_CLAIM_POLL.total_seconds() + 0.01


def test_claim_settled_while_waited_for_is_not_sent_again() -> None:
    # Given an email another invocation is sending, leased for 20 s more
    ledger, clock = FakeLedger(), FakeClock()
    item = notification("a@example.org")
    key = held_by_a_dead_invocation(ledger, item, until=NOW + timedelta(seconds=20))

    # When a retry meets it, and the other invocation records it sent 3 s later
    def settle_after_three_seconds(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= NOW + timedelta(seconds=3):
            ledger.state[key] = "sent"

    report = deliver(
        [item],
        ledger=ledger,
        mailer=(mailer := FakeMailer()),
        sender="n@example.com",
        keys=Keyring(SECRET),
        deadline=NOW + timedelta(seconds=60),
        clock=clock,
        sleep=settle_after_three_seconds,
    )

    # Then the retry skips it, without waiting for the lease to end
    assert (report.skipped, mailer.sent) == (1, [])
    assert clock.now < NOW + timedelta(seconds=5)


def test_claim_whose_lease_outlasts_the_invocation_is_waited_for_then_left_to_the_next_retry() -> (
    None
):
    # Given an email claimed by a dead invocation, its lease ending in 50 s
    ledger, mailer, clock = FakeLedger(), FakeMailer(), FakeClock()
    item = notification("a@example.org")
    held_by_a_dead_invocation(ledger, item, until=NOW + timedelta(seconds=50))

    # When a retry with 30 s left meets it
    with pytest.raises(TransientMailError):
        send([item], ledger, mailer, clock=clock, seconds_left=30)

    # Then it sent nothing, and waited as long as it could send afterwards, so the next retry
    # starts that much later, and (with its own full time) can wait for the rest
    assert mailer.sent == []
    assert clock.now == NOW + timedelta(seconds=30) - SEND_TIME
    send([item], ledger, mailer, clock=clock, seconds_left=60)
    assert mailer.sent == ["a@example.org"]


def test_no_email_is_started_without_the_time_to_send_it() -> None:
    # Given an invocation with less time left than sending an email may take
    ledger, mailer = FakeLedger(), FakeMailer()
    items = [notification("a@example.org"), notification("b@example.org")]

    # When it is given emails to send
    with pytest.raises(TransientMailError):
        send(items, ledger, mailer, seconds_left=SEND_TIME.total_seconds() - 1)

    # Then none was sent or claimed, so the retry sends them all
    assert (mailer.sent, ledger.state) == ([], {})
    send(items, ledger, mailer)
    assert mailer.sent == ["a@example.org", "b@example.org"]


def test_deadline_is_the_contexts_remaining_time_from_now() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 12_345

    assert deadline_of(Context(), now=NOW) == NOW + timedelta(milliseconds=12_345)


def test_same_recipient_gets_one_email_per_kind() -> None:
    ledger, mailer = FakeLedger(), FakeMailer()

    send(
        [notification("a@example.org", "new_comment"), notification("a@example.org", "reply")],
        ledger,
        mailer,
    )

    assert mailer.sent == ["a@example.org", "a@example.org"]


def test_confirmation_request_goes_once_per_address_per_period() -> None:
    # Given requests to confirm one address, about two of its comments
    ledger, mailer, clock = FakeLedger(), FakeMailer(), FakeClock()
    period = timedelta(days=7)
    about = [
        Notification(
            "confirm_replies",
            cid,
            Email(to="a@example.org", subject="s", text="t", html="h"),
            once_every=period,
        )
        for cid in (CID, PARENT)
    ]

    # When both are delivered, twice, within the period
    send(about, ledger, mailer, clock=clock)
    clock.now += period - timedelta(seconds=1)
    send(about, ledger, mailer, clock=clock)

    # Then one went out
    assert mailer.sent == ["a@example.org"]

    # When the period is over
    clock.now += timedelta(seconds=2)
    send(about, ledger, mailer, clock=clock)

    # Then one more may go
    assert mailer.sent == ["a@example.org", "a@example.org"]


# -- handle_change: the reads around plan and deliver --------------------------------------------


class FakeNotificationTable(FakeLedger):
    """The ledger, plus the reads and the subscriber records `handle_change` uses."""

    def __init__(self, context: NotificationContext, subscribers: set[str] = frozenset()) -> None:
        super().__init__()
        self.context = context
        self.subscribers = set(subscribers)
        self.reads = 0

    def load_context(
        self, slug: str, answered_id: str | None, *, erased: Sequence[str] = ()
    ) -> NotificationContext:
        self.reads += 1
        return self.context

    def confirmed_subscribers(self, keys: Sequence[str]) -> set[str]:
        self.reads += 1
        return self.subscribers & set(keys)

    def confirm_subscriber(self, key: str, *, at: datetime, spend_token: Any = None) -> None:
        self.subscribers.add(key)


def services(table: FakeNotificationTable, mailer: FakeMailer, keys: Keyring) -> Any:
    return NotificationServices(
        table=table,  # type: ignore[arg-type]
        mailer=mailer,
        keys=lambda: keys,
        links=lambda _: FakeLinks(),
        sender="n@example.com",
        moderators=["mod@example.com"],
        moderation_link_days=7,
        confirmation_link_days=7,
    )


def test_a_deleted_comment_reads_nothing_and_sends_nothing() -> None:
    table, mailer = FakeNotificationTable(NotificationContext(ARTICLE, None)), FakeMailer()

    report = handle_change(
        comment(CID, "approved"), None, deadline=NOW, services=services(table, mailer, KEYS)
    )

    assert (report.sent, table.reads, mailer.sent) == (0, 0, [])


def test_address_confirmed_under_the_previous_key_gets_its_reply_and_moves_to_the_current() -> None:
    # Given a parent's author who confirmed reply notices before the key was rotated
    keys = Keyring(b"n" * 32, (SECRET,))
    parent = comment("c00000000000000000b01", "approved", notify_replies=True)
    table = FakeNotificationTable(
        NotificationContext(ARTICLE, parent),
        subscribers={subscriber_key(SECRET, parent.author_email)},
    )
    mailer = FakeMailer()
    reply = comment(CID, "approved", parent_id=parent.id, author_email="pat@example.org")

    # When a reply to them is published
    in_a_minute = datetime.now(UTC) + timedelta(minutes=1)  # deliver reads the real clock
    handle_change(None, reply, deadline=in_a_minute, services=services(table, mailer, keys))

    # Then they get the reply notice (not a request to confirm), and are now known under the
    # current key too
    reply_notice = Notification("reply", CID, Email(parent.author_email, "", "", ""))
    assert table.state[ledger_key(keys.current, reply_notice)] == "sent"
    assert mailer.sent.count(parent.author_email) == 1
    assert subscriber_key(keys.current, parent.author_email) in table.subscribers
