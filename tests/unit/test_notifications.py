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
from newsroom.notifications import Notification, deliver, plan
from newsroom.secrets import Keyring

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
SECRET = b"k" * 32
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
        "ip_hash": "h",
        "avatar": "a",
        "commenter": "c",
        "duplicate_key": "d",
    }
    return StoredComment.model_validate(values | overrides)


class FakeLinks:
    def article(self, slug: str) -> str:
        return f"https://news.example/{slug}"

    def act(self, slug: str, comment_id: str, action: str) -> str:
        return f"https://news.example/links/{action}-{comment_id}"


def planned(
    old: StoredComment | None,
    new: StoredComment,
    parent: StoredComment | None = None,
    moderators: list[str] | None = None,
) -> list[tuple[str, str]]:
    due = plan(
        old,
        new,
        NotificationContext(article=ARTICLE, answered=parent),
        moderators=moderators if moderators is not None else ["mod@example.org"],
        links=FakeLinks(),
        moderation_link_days=7,
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
        NotificationContext(ARTICLE, parent),
        moderators=[],
        links=FakeLinks(),
        moderation_link_days=7,
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


def test_held_reply_does_not_notify_the_parent_yet() -> None:
    parent = comment(PARENT, "approved", author_email="pat@example.org", notify_replies=True)
    reply = comment(CID, "pending", parent_id=PARENT, depth=2, path=f"{PARENT}/{CID}")

    assert planned(None, reply, parent) == [("moderation", "mod@example.org")]


class FakeLedger:
    def __init__(self) -> None:
        self.state: dict[str, str] = {}

    def claim(
        self, key: str, *, now: datetime, lease: timedelta, earlier: Sequence[str] = ()
    ) -> bool:
        if any(self.state.get(k) in ("sent", "failed") for k in earlier):
            return False
        if self.state.get(key) == "sending":
            raise ClaimHeldError(key)
        if key in self.state:
            return False
        self.state[key] = "sending"
        return True

    def settle(self, key: str, state: str, *, detail: str = "") -> None:
        self.state[key] = state

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


def send(items: list[Notification], ledger: FakeLedger, mailer: FakeMailer) -> Any:
    return deliver(
        items,
        ledger=ledger,
        mailer=mailer,
        sender="n@example.com",
        keys=Keyring(SECRET),
        lease=timedelta(seconds=60),
        clock=lambda: NOW,
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


def test_permanent_refusal_is_recorded_and_not_retried() -> None:
    ledger = FakeLedger()
    mailer = FakeMailer({"bad@example.org": PermanentMailError("MessageRejected")})
    items = [notification("bad@example.org")]

    report = send(items, ledger, mailer)
    again = send(items, ledger, mailer)

    assert (report.rejected, again.skipped, mailer.sent) == (1, 1, [])
    assert "failed" in ledger.state.values()


def test_an_email_being_sent_elsewhere_is_left_for_a_retry() -> None:
    ledger, mailer = FakeLedger(), FakeMailer()
    items = [notification("a@example.org")]
    send(items, ledger, mailer)
    key = next(iter(ledger.state))
    ledger.state[key] = "sending"

    with pytest.raises(TransientMailError):
        send(items, ledger, mailer)
    assert mailer.sent == ["a@example.org"]


def test_same_recipient_gets_one_email_per_kind() -> None:
    ledger, mailer = FakeLedger(), FakeMailer()

    send(
        [notification("a@example.org", "new_comment"), notification("a@example.org", "reply")],
        ledger,
        mailer,
    )

    assert mailer.sent == ["a@example.org", "a@example.org"]
