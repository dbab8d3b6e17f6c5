"""The notifications function against the emulator, fed stream records built from comments the
comments function stored: who gets which email, each once through redeliveries, SES failures
and crashes, and what the links in those emails do."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from functions.comments.app import lambda_handler as comments_handler
from newsroom.config import comments_settings, notifications_settings
from newsroom.data import dynamo
from newsroom.data.articles import get_article
from newsroom.data.notifications import LEDGER_SK, NotificationTable
from newsroom.emails import Email
from newsroom.notifications import Kind, Notification, ledger_key
from newsroom.privacy import subscriber_key
from newsroom.secrets import project_keys
from newsroom_tools.outbox import Outbox, OutboxEmail
from tests.apigw import Answer, invoke, rest_event
from tests.flood import QUICK_FLOOD_SECONDS
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    admin_action,
    form,
    own_content_table,
    post_comment,
    post_when_flood_allows,
)
from tests.integration.notifications_stream import (
    addressed_to,
    batch,
    comment_item,
    confirm_reply_notices,
    failed,
    handle,
    maximum_retry_attempts,
    mentioning,
    retry_as_lambda,
    sequence_number,
    ses_fault,
    stream_record,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

ALL_DONE: dict[str, list[dict[str, str]]] = {"batchItemFailures": []}
LINK_PATH = "/links/{token}"
HOSTILE = "<script>alert(1)</script>"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "application/json"
outbox = Outbox.in_process()


@dataclass(frozen=True)
class Scene:
    """One test's own table, article and people: every address carries the test's id."""

    table: str
    slug: str
    unique: str
    author: str
    moderators: tuple[str, ...]

    def reader(self, name: str) -> str:
        return str(form(self.unique, reader=name)["author_email"])


@pytest.fixture
def scene(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch, unique: str
) -> Iterator[Scene]:
    """A content table of this test's own (see `own_content_table`) with one open article,
    and moderators of its own, for both the comments and the notifications function."""
    moderators = (f"mod-1-{unique}@example.com", f"mod-2-{unique}@example.com")
    monkeypatch.setenv("MODERATOR_EMAILS", json.dumps(moderators))
    with own_content_table(dynamodb, monkeypatch) as table:
        notifications_settings.cache_clear()
        author = f"author-{unique}@example.org"
        slug = f"n-{unique}"
        seed(table, slug, author={"name": "Ada Reporter", "email": author})
        try:
            yield Scene(table, slug, unique, author, moderators)
        finally:
            # Read again once monkeypatch restores the session's environment.
            notifications_settings.cache_clear()


@pytest.fixture
def auto_approve(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """First-time commenters are approved at once (no moderation queue)."""
    monkeypatch.setenv("REQUIRE_PREVIOUS_APPROVAL", "false")
    comments_settings.cache_clear()
    yield
    comments_settings.cache_clear()


# -- helpers -----------------------------------------------------------------------------------


def post(scene: Scene, reader: str, *, slug: str | None = None, **fields: Any) -> str:
    """A comment by `reader` through the comments function; its id."""
    answer = post_comment(slug or scene.slug, form(scene.unique, reader=reader, **fields))
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def marker(scene: Scene, reader: str) -> str:
    """Text found only in `reader`'s comment (and so in the emails about it)."""
    return f"by {reader} ({scene.unique})"


def inserted(scene: Scene, comment_id: str, *, slug: str | None = None) -> dict[str, Any]:
    """The INSERT record of a comment as stored."""
    return stream_record(scene.table, comment_item(scene.table, slug or scene.slug, comment_id))


def changed(scene: Scene, comment_id: str, change: Callable[[], Any]) -> dict[str, Any]:
    """The MODIFY record of what `change` does to a comment: the item before and after."""
    before = comment_item(scene.table, scene.slug, comment_id)
    change()
    after = comment_item(scene.table, scene.slug, comment_id)
    return stream_record(scene.table, after, before)


def approve(scene: Scene, comment_id: str) -> Callable[[], None]:
    return lambda: moderate(scene, comment_id, "approve")


def moderate(scene: Scene, comment_id: str, action: str) -> None:
    answer = admin_action(scene.slug, comment_id, action)
    assert answer.status == 200, answer.body


def tally(scene: Scene) -> Counter[str]:
    """How many emails each of this test's addresses received."""
    addresses = (address.lower() for sent in outbox.emails() for address in sent.to)
    return Counter(address for address in addresses if scene.unique in address)


def only_email_to(address: str) -> OutboxEmail:
    received = outbox.emails(to=address)
    assert len(received) == 1, [sent.subject for sent in received]
    return received[0]


def stored(scene: Scene, comment_id: str) -> dict[str, Any]:
    return dynamo.from_item(comment_item(scene.table, scene.slug, comment_id))


def ledger_item(scene: Scene, comment_id: str, kind: Kind, recipient: str) -> dict[str, Any]:
    """The sent-email ledger's entry for (comment, kind, recipient), keyed as the function keys
    it, with the project secret."""
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    blank = Email(to=recipient, subject="", text="", html="")
    key = ledger_key(secret, Notification(kind, comment_id, blank))
    response = dynamo.client().get_item(
        TableName=scene.table,
        Key={"pk": {"S": key}, "sk": {"S": LEDGER_SK}},
        ConsistentRead=True,
    )
    assert "Item" in response, f"no ledger entry for the {kind} email"
    return dynamo.from_item(response["Item"])


def confirm_address(scene: Scene, reader: str) -> None:
    confirm_reply_notices(scene.table, scene.reader(reader))


def metric_total(stdout: str, name: str) -> float:
    """The sum of a metric over the CloudWatch EMF blobs Powertools printed."""
    total = 0.0
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        value = json.loads(line).get(name, 0)
        total += sum(value) if isinstance(value, list) else value
    return total


class Tags(HTMLParser):
    """The elements of an HTML document and its text."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


# -- exactly once --------------------------------------------------------------------------------


def test_redelivered_batch_sends_each_email_once(scene: Scene) -> None:
    # Given a held comment, approved later by a moderator: its INSERT and MODIFY records
    comment = post(scene, "a", notify_replies=True)
    held = inserted(scene, comment)
    approved = changed(scene, comment, approve(scene, comment))
    event = batch(held, approved)

    # When the function handles the batch, and Lambda delivers it again
    first = handle(event)
    again = handle(event)

    # Then each recipient got its email once
    assert first == again == ALL_DONE
    assert tally(scene) == Counter(
        {**dict.fromkeys(scene.moderators, 1), scene.author: 1, scene.reader("a"): 1}
    )


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((429, "TooManyRequestsException"), id="throttled"),
        # An SES-side failure whose answer names no error type (botocore's code is "503").
        pytest.param((503, None), id="unavailable"),
    ],
)
def test_email_ses_cannot_send_for_now_fails_only_its_record_and_the_retry_sends_only_it(
    scene: Scene, answer: tuple[int, str | None]
) -> None:
    # Given three held comments, each by a reader who asked to hear back, approved in one batch
    comments = [post(scene, reader, notify_replies=True) for reader in "abc"]
    records = [changed(scene, comment, approve(scene, comment)) for comment in comments]
    event = batch(*records)
    unlucky = scene.reader("b")

    # When SES fails every email to reader b for now while the function handles the batch
    with ses_fault(addressed_to(unlucky), answer=answer) as fault:
        result = handle(event)

    # Then only b's record is reported, and every other email went out once
    assert failed(result) == [sequence_number(records[1])]
    assert len(fault.failed) == 1
    assert tally(scene) == Counter({scene.author: 3, scene.reader("a"): 1, scene.reader("c"): 1})

    # When Lambda retries from that record, SES accepting again, then delivers the whole batch
    retries = retry_as_lambda(event, result)
    redelivered = handle(event)

    # Then b's email went out once, and nothing else went out twice
    assert retries == [ALL_DONE]
    assert redelivered == ALL_DONE
    assert tally(scene) == Counter(
        {scene.author: 3, scene.reader("a"): 1, scene.reader("b"): 1, scene.reader("c"): 1}
    )


def test_email_refused_for_good_is_recorded_as_failed_and_never_retried(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a held comment by a reader who asked to hear back (and confirmed), approved
    confirm_address(scene, "a")
    comment = post(scene, "a", notify_replies=True)
    record = changed(scene, comment, approve(scene, comment))
    refused = scene.reader("a")

    # When SES rejects every email to that reader, and the record is delivered twice
    with ses_fault(addressed_to(refused), answer=(400, "MessageRejected")) as fault:
        first = handle(batch(record))
        again = handle(batch(record))

    # Then no record failed, SES was asked once, and the ledger says so (without the address)
    assert first == again == ALL_DONE
    assert len(fault.matched) == 1
    assert tally(scene) == Counter({scene.author: 1})
    entry = ledger_item(scene, comment, "comment_live", refused)
    assert entry["state"] == "failed"
    assert "MessageRejected" in entry["detail"]
    assert refused not in json.dumps(entry, default=str)
    assert metric_total(capsys.readouterr().out, "EmailsRejected") == 1


def test_crash_on_one_record_is_retried_until_every_email_went_out_once(scene: Scene) -> None:
    # Given three held comments in one batch
    comments = [post(scene, reader) for reader in "abc"]
    records = [inserted(scene, comment) for comment in comments]
    event = batch(*records)

    # When the function crashes (a bug, not a mail error) on the second record's first email
    crash = RuntimeError("injected crash")
    with ses_fault(mentioning(marker(scene, "b")), crash=crash, times=1) as fault:
        result = handle(event)
        # Then that record alone is reported, the others' emails having gone out
        assert failed(result) == [sequence_number(records[1])]
        assert tally(scene) == Counter(dict.fromkeys(scene.moderators, 2))

        # When Lambda retries from it as its event source mapping does
        retries = retry_as_lambda(event, result)

    # Then one retry did it, and each moderator has one email about each comment
    assert len(fault.failed) == 1
    assert retries == [ALL_DONE]
    for moderator in scene.moderators:
        about = Counter(
            reader
            for sent in outbox.emails(to=moderator)
            for reader in "abc"
            if marker(scene, reader) in (sent.text or "")
        )
        assert about == Counter("abc"), moderator


def test_record_the_model_cannot_read_is_reported_and_does_not_hold_back_the_others(
    scene: Scene,
) -> None:
    # Given a batch whose middle record's image is not a comment the model accepts
    comments = [post(scene, reader) for reader in "abc"]
    records = [inserted(scene, comment) for comment in comments]
    records[1]["dynamodb"]["NewImage"]["status"] = {"S": "published"}
    event = batch(*records)

    # When the function handles it, and Lambda retries as often as the template allows
    result = handle(event)
    retries = retry_as_lambda(event, result)

    # Then that record is reported every time (it ends in the dead-letter queue), and the
    # others' emails went out once
    poisoned = [sequence_number(records[1])]
    assert failed(result) == poisoned
    assert len(retries) == maximum_retry_attempts()
    assert all(failed(retry) == poisoned for retry in retries)
    assert tally(scene) == Counter(dict.fromkeys(scene.moderators, 2))


# -- who gets what -----------------------------------------------------------------------------


def test_held_comment_is_sent_to_each_moderator_and_nobody_else(scene: Scene) -> None:
    # Given a first-time commenter's comment, held
    comment = post(scene, "a", notify_replies=True)
    assert stored(scene, comment)["status"] == "pending"

    # When its INSERT record is handled
    result = handle(batch(inserted(scene, comment)))

    # Then each moderator is asked to moderate it
    assert result == ALL_DONE
    assert tally(scene) == Counter(dict.fromkeys(scene.moderators, 1))
    assert only_email_to(scene.moderators[0]).subject.startswith("Please moderate")


@pytest.mark.usefixtures("auto_approve")
def test_comment_public_on_arrival_is_sent_to_the_article_author_only(scene: Scene) -> None:
    # Given a comment approved on arrival, by a reader who asked for replies and confirmed
    confirm_address(scene, "a")
    comment = post(scene, "a", notify_replies=True)
    assert stored(scene, comment)["status"] == "approved"

    # When its INSERT record is handled
    result = handle(batch(inserted(scene, comment)))

    # Then the article's author hears of it, and nobody else
    assert result == ALL_DONE
    assert tally(scene) == Counter({scene.author: 1})
    assert only_email_to(scene.author).subject.startswith("New comment on")


@pytest.mark.usefixtures("auto_approve")
def test_comment_by_the_article_author_sends_nothing(scene: Scene) -> None:
    # Given the article's author commenting under their own article (the address in another case)
    comment = post(scene, "author", author_email=scene.author.upper())
    assert stored(scene, comment)["status"] == "approved"

    # When its INSERT record is handled
    result = handle(batch(inserted(scene, comment)))

    # Then nobody is told
    assert result == ALL_DONE
    assert tally(scene) == Counter()


def test_approval_tells_the_article_author_and_the_commenter_who_asked(scene: Scene) -> None:
    # Given two held comments, only one of whose authors asked to hear back (and confirmed
    # their address), then approved
    confirm_address(scene, "a")
    asked = post(scene, "a", notify_replies=True)
    silent = post(scene, "b", notify_replies=False)
    records = [changed(scene, comment, approve(scene, comment)) for comment in (asked, silent)]

    # When their MODIFY records are handled
    result = handle(batch(*records))

    # Then the article's author hears of both, the one who asked that theirs is live
    assert result == ALL_DONE
    assert tally(scene) == Counter({scene.author: 2, scene.reader("a"): 1})
    assert only_email_to(scene.reader("a")).subject.endswith(" is live")


@pytest.mark.parametrize("action", ["spam", "trash"])
def test_comment_marked_as_spam_or_trashed_sends_nothing(scene: Scene, action: str) -> None:
    # Given a held comment by a reader who asked to hear back, marked as spam or trashed
    comment = post(scene, "a", notify_replies=True)
    record = changed(scene, comment, lambda: moderate(scene, comment, action))

    # When its MODIFY record is handled
    result = handle(batch(record))

    # Then nobody is told
    assert result == ALL_DONE
    assert tally(scene) == Counter()


@pytest.mark.usefixtures("auto_approve")
def test_one_click_unsubscribe_stops_reply_notices_but_not_the_authors_emails(
    scene: Scene,
) -> None:
    # Given an approved comment whose author asked for replies (and confirmed), and a reply to
    # it, handled
    confirm_address(scene, "p")
    parent = post(scene, "p", notify_replies=True)
    reply = post(scene, "r", parent_id=parent)
    assert handle(batch(inserted(scene, parent), inserted(scene, reply))) == ALL_DONE
    notice = only_email_to(scene.reader("p"))
    assert notice.subject.startswith("New reply to your comment")
    assert notice.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    unsubscribe = (notice.header("List-Unsubscribe") or "").removeprefix("<").removesuffix(">")
    assert unsubscribe.startswith(os.environ["PUBLIC_BASE_URL"] + "/links/"), unsubscribe

    # When their mail client makes the one-click POST (RFC 8058)
    def one_click() -> None:
        answer = follow(
            token_of(unsubscribe),
            accept="*/*",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body="List-Unsubscribe=One-Click",
        )
        assert answer.status == 200, answer.body

    unsubscribed = changed(scene, parent, one_click)

    # Then the comment asks for no more replies, and that change itself sends nothing
    assert stored(scene, parent)["notify_replies"] is False
    assert handle(batch(unsubscribed)) == ALL_DONE
    assert tally(scene) == Counter({scene.author: 2, scene.reader("p"): 1})

    # When someone else replies later
    later = post(scene, "s", parent_id=parent)
    result = handle(batch(inserted(scene, later)))

    # Then no reply notice goes out, but the article's author hears of it
    assert result == ALL_DONE
    assert tally(scene) == Counter({scene.author: 3, scene.reader("p"): 1})


@pytest.mark.usefixtures("auto_approve")
def test_reply_to_a_comment_at_the_deepest_level_notifies_its_author_not_the_grandparents(
    scene: Scene,
) -> None:
    # Given a thread five deep, each comment by a reader who asked for replies (and
    # confirmed), handled
    parent_id: str | None = None
    thread = []
    for depth in "12345":
        confirm_address(scene, depth)
        parent_id = post(scene, depth, parent_id=parent_id, notify_replies=True)
        thread.append(parent_id)
    assert handle(batch(*(inserted(scene, comment) for comment in thread))) == ALL_DONE
    before = tally(scene)

    # When someone answers the comment at depth 5 (stored as its sibling, the thread's shape)
    answer = post(scene, "r", parent_id=thread[4])
    assert (stored(scene, answer)["parent_id"], stored(scene, answer)["depth"]) == (thread[3], 5)
    result = handle(batch(inserted(scene, answer)))

    # Then the author of the comment answered hears of it, and the one above it does not
    assert result == ALL_DONE
    assert tally(scene) - before == Counter({scene.author: 1, scene.reader("5"): 1})
    (notice,) = [
        sent for sent in outbox.emails(to=scene.reader("5")) if sent.subject.startswith("New reply")
    ]
    assert marker(scene, "r") in (notice.text or "")


def test_emails_escape_what_readers_wrote_and_keep_each_header_on_one_line(
    scene: Scene,
) -> None:
    # Given an article whose title tries to add a header, and a comment full of markup on it
    slug = f"x-{scene.unique}"
    title = "Harbour news\r\nBcc: everyone@example.net\nX-Injected: yes"
    seed(scene.table, slug, title=title, author={"name": "Ada", "email": scene.author})
    comment = post(
        scene, "a", slug=slug, author_name=HOSTILE, body=f"{HOSTILE} <img src=x onerror=alert(1)>"
    )

    # When the moderators are asked to moderate it
    assert handle(batch(inserted(scene, comment, slug=slug))) == ALL_DONE
    sent = only_email_to(scene.moderators[0])

    # Then the HTML part shows the markup as text and runs none of it
    assert sent.html is not None
    html = Tags(sent.html)
    assert html.named("script") == []
    assert html.named("img") == []
    assert HOSTILE in html.text
    # And the subject is one line holding the whole title, and no header was added
    assert "\r" not in sent.subject
    assert "\n" not in sent.subject
    assert "Harbour news Bcc: everyone@example.net X-Injected: yes" in sent.subject
    names = {name.lower() for name, _ in sent.headers}
    assert "bcc" not in names
    assert "x-injected" not in names
    assert sent.envelope == (scene.moderators[0],)


# -- links ---------------------------------------------------------------------------------------


def token_of(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[1])


def moderation_links(sent: OutboxEmail) -> dict[str, str]:
    """approve / spam / trash → token, from the text part of a moderation email."""
    labels = {"approve": "Approve it: ", "spam": "Mark it as spam: ", "trash": "Trash it: "}
    lines = (sent.text or "").splitlines()
    links = {}
    for action, label in labels.items():
        url = next(line.removeprefix(label) for line in lines if line.startswith(label))
        assert url.startswith(os.environ["PUBLIC_BASE_URL"] + "/links/"), url
        links[action] = token_of(url)
    return links


@dataclass(frozen=True)
class HeldComment:
    id: str
    links: dict[str, str]


@pytest.fixture
def held(scene: Scene) -> HeldComment:
    """A held comment and the links of the moderation email about it."""
    comment = post(scene, "a")
    assert handle(batch(inserted(scene, comment))) == ALL_DONE
    return HeldComment(comment, moderation_links(only_email_to(scene.moderators[0])))


def link_event(method: str, token: str, **request: Any) -> dict[str, Any]:
    return rest_event(method, LINK_PATH, path_params={"token": token}, **request)


def open_link(token: str, *, accept: str = BROWSER) -> Answer:
    return invoke(comments_handler, link_event("GET", token, headers={"Accept": accept}))


def follow(
    token: str, *, accept: str = BROWSER, headers: dict[str, str] | None = None, **request: Any
) -> Answer:
    headers = {"Accept": accept, **(headers or {})}
    return invoke(comments_handler, link_event("POST", token, headers=headers, **request))


def error_code(answer: Answer) -> str:
    return str(answer.body["error"]["code"])


def test_opening_a_moderation_link_changes_nothing_and_offers_a_button(
    scene: Scene, held: HeldComment
) -> None:
    # Given the approve link of a moderation email
    token = held.links["approve"]

    # When a person (or a mail scanner) opens it, and a program asks for JSON
    page = open_link(token)
    as_json = open_link(token, accept=JSON)

    # Then the page describes the action with a button that posts back to the page's own URL
    # (no action: the URL the person opened, stage and all), naming the comment
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    forms = Tags(page.body).named("form")
    assert forms == [{"method": "post"}]
    assert as_json.status == 200
    assert as_json.body | {"title": "", "message": ""} == {
        "title": "",
        "message": "",
        "button": "Approve",
        "action": "approve",
        "done": False,
        "comment": {
            "article_title": stored_article_title(scene),
            "author_name": form(scene.unique, reader="a")["author_name"],
            "excerpt": form(scene.unique, reader="a")["body"],
        },
    }
    # And the comment is still held
    assert stored(scene, held.id)["status"] == "pending"


def test_following_the_approve_link_approves_once_and_then_it_is_used(
    scene: Scene, held: HeldComment
) -> None:
    # Given the approve link of a moderation email
    token = held.links["approve"]

    # When the moderator presses the button
    answer = follow(token, accept=JSON)

    # Then the comment is approved, by that link
    assert answer.status == 200, answer.body
    assert answer.body["done"] is True
    approved = stored(scene, held.id)
    assert (approved["status"], approved["moderation"]["by"]) == ("approved", "moderation link")

    # When the same link, and then its spam sibling, are followed again
    again = follow(token, accept=JSON)
    spam = follow(held.links["spam"])

    # Then both are refused as used, and the comment is as it was
    assert (again.status, error_code(again)) == (410, "link_used")
    assert spam.status == 410
    assert spam.headers["content-type"].startswith("text/html")
    assert stored(scene, held.id) == approved


def test_tampered_link_is_refused_as_invalid_and_changes_nothing(
    scene: Scene, held: HeldComment
) -> None:
    # Given an approve link whose signature was altered
    payload, timestamp, signature = held.links["approve"].rsplit(".", 2)
    altered = ("B" if signature[0] == "A" else "A") + signature[1:]
    tampered = f"{payload}.{timestamp}.{altered}"
    before = stored(scene, held.id)

    # When it is followed, by a program and by a person
    as_json = follow(tampered, accept=JSON)
    page = follow(tampered)

    # Then both are told it is invalid, and the comment is still held, unchanged
    assert (as_json.status, error_code(as_json)) == (400, "link_invalid")
    assert page.status == 400
    assert page.headers["content-type"].startswith("text/html")
    assert stored(scene, held.id) == before


class SignedEightDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 8 * 86_400


def test_expired_moderation_link_is_refused_as_expired_and_changes_nothing(
    scene: Scene, held: HeldComment
) -> None:
    # Given an approve link for the held comment, genuine but signed eight days ago
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    payload = {"s": scene.slug, "c": held.id, "a": "approve", "j": secrets.token_hex(16)}
    serializer = URLSafeTimedSerializer(secret, salt="newsroom.link.v1", signer=SignedEightDaysAgo)
    expired = str(serializer.dumps(payload))
    before = stored(scene, held.id)

    # When it is opened and followed
    opened = open_link(expired, accept=JSON)
    followed = follow(expired, accept=JSON)

    # Then both are told it expired, and the comment is still held, unchanged
    assert (opened.status, error_code(opened)) == (410, "link_expired")
    assert (followed.status, error_code(followed)) == (410, "link_expired")
    assert stored(scene, held.id) == before


def stored_article_title(scene: Scene) -> str:
    article = get_article(scene.slug, table=scene.table)
    assert article is not None
    return article.title


def test_link_page_names_the_comment_its_author_and_article_as_text(scene: Scene) -> None:
    # Given a held comment full of markup, by a name of markup, on an article titled in markup
    slug = f"x-{scene.unique}"
    seed(
        scene.table, slug, title=f"Harbour {HOSTILE}", author={"name": "Ada", "email": scene.author}
    )
    body = f"{HOSTILE} <img src=x onerror=alert(1)> " + "long words " * 60
    comment = post(scene, "a", slug=slug, author_name=f"Eve {HOSTILE}", body=body)
    assert handle(batch(inserted(scene, comment, slug=slug))) == ALL_DONE
    token = moderation_links(only_email_to(scene.moderators[0]))["approve"]

    # When a person opens the approve link
    page = open_link(token)

    # Then the page quotes the start of the comment, its author and the article, as text
    tags = Tags(page.body)
    assert tags.named("script") == []
    assert tags.named("img") == []
    assert HOSTILE + " <img src=x onerror=alert(1)> long words" in tags.text
    assert "…" in tags.text
    assert f"Eve {HOSTILE}, on “Harbour {HOSTILE}”" in tags.text


@pytest.mark.usefixtures("content_table")
def test_link_page_shows_no_markup_from_the_link() -> None:
    # Given a "token" that is markup
    token = f'{HOSTILE}"><img src=x onerror=alert(1)>'

    # When a person opens it
    page = open_link(token)

    # Then the page refuses it without running any of it
    assert page.status == 400
    assert page.headers["content-type"].startswith("text/html")
    tags = Tags(page.body)
    assert tags.named("script") == []
    assert tags.named("img") == []


# -- reply notices go to confirmed addresses only --------------------------------------------


CONFIRM_SUBJECT = "Confirm emails about replies"


def confirmations_to(address: str) -> list[OutboxEmail]:
    return [sent for sent in outbox.emails(to=address) if sent.subject.startswith(CONFIRM_SUBJECT)]


def confirmation_token(address: str) -> str:
    """The token of the link in the one confirmation email the address received."""
    (sent,) = confirmations_to(address)
    line = next(line for line in (sent.text or "").splitlines() if "/links/" in line)
    url = line.split()[-1]
    assert url.startswith(os.environ["PUBLIC_BASE_URL"] + "/links/"), url
    return token_of(url)


def is_confirmed(scene: Scene, address: str) -> bool:
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    key = subscriber_key(secret, address)
    return NotificationTable(scene.table).confirmed_subscribers([key]) == {key}


def replies_to(address: str) -> list[OutboxEmail]:
    return [sent for sent in outbox.emails(to=address) if sent.subject.startswith("New reply")]


@pytest.mark.usefixtures("auto_approve")
def test_an_address_gets_no_reply_notice_until_it_confirms_by_the_link_mailed_once(
    scene: Scene,
) -> None:
    # Given a public comment asking for replies, with an address nobody confirmed, a name, a
    # text and a website its writer chose
    chosen = {"author_name": "Cheap Pills", "author_url": "https://pills.example/buy"}
    parent = post(scene, "p", notify_replies=True, **chosen)
    address = scene.reader("p")

    # When the stream delivers it, and a reply to it
    assert handle(batch(inserted(scene, parent))) == ALL_DONE
    first_reply = post(scene, "r", parent_id=parent)
    assert handle(batch(inserted(scene, first_reply))) == ALL_DONE

    # Then the address got one email: a request to confirm, holding nothing the writer chose
    # (name, text, website), and no reply notice
    (request,) = outbox.emails(to=address)
    assert request.subject.startswith(CONFIRM_SUBJECT)
    everything = f"{request.subject}\n{request.text}\n{request.html}"
    for text in (chosen["author_name"], chosen["author_url"], marker(scene, "p")):
        assert text not in everything, text
    assert request.header("List-Unsubscribe") is None

    # When its link is opened (a mail scanner)
    token = confirmation_token(address)
    opened = open_link(token, accept=JSON)

    # Then that offers a button and confirms nothing
    assert (opened.status, opened.body["done"], opened.body["button"]) == (200, False, "Confirm")
    assert not is_confirmed(scene, address)

    # When the person follows it, and then again
    confirmed = follow(token, accept=JSON)
    again = follow(token, accept=JSON)

    # Then it confirms once; the same link is used up
    assert (confirmed.status, confirmed.body["done"]) == (200, True), confirmed.body
    assert (again.status, error_code(again)) == (410, "link_used")

    # When someone replies now
    second_reply = post(scene, "s", parent_id=parent)
    assert handle(batch(inserted(scene, second_reply))) == ALL_DONE

    # Then the address is told of that reply, with its one-click unsubscribe
    (notice,) = replies_to(address)
    assert marker(scene, "s") in (notice.text or "")
    assert notice.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"


@pytest.mark.usefixtures("auto_approve")
def test_an_address_is_asked_to_confirm_at_most_once_per_period_however_it_is_used(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a public comment asking for replies, by an address nobody confirmed, handled
    monkeypatch.setenv("FLOOD_INTERVAL_SECONDS", QUICK_FLOOD_SECONDS)
    comments_settings.cache_clear()
    first = post(scene, "x", notify_replies=True)
    address = scene.reader("x")
    assert handle(batch(inserted(scene, first))) == ALL_DONE
    assert len(confirmations_to(address)) == 1

    # When the same address asks again on another comment, others reply to both, and the
    # stream delivers it all twice
    second = post_when_flood_allows(
        scene.slug, form(scene.unique, reader="x", body="Again, please.", notify_replies=True)
    )
    assert second.status == 201, second.body
    replies = [post(scene, reader, parent_id=first) for reader in "rs"]
    replies.append(post(scene, "t", parent_id=str(second.body["id"])))
    event = batch(*(inserted(scene, c) for c in [str(second.body["id"]), *replies]))
    assert handle(event) == handle(event) == ALL_DONE

    # Then the address got no other email: no reply notice, no second request
    assert [sent.subject for sent in outbox.emails(to=address)] == [
        sent.subject for sent in confirmations_to(address)
    ]
    assert len(confirmations_to(address)) == 1

    # When the period is over (the ledger's entry for the request says it may go again now)
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    days = notifications_settings().confirmation_link_days
    request = Notification(
        "confirm_replies",
        first,
        Email(to=address, subject="", text="", html=""),
        once_every=timedelta(days=days),
    )
    dynamo.client().update_item(
        TableName=scene.table,
        Key={"pk": {"S": ledger_key(secret, request)}, "sk": {"S": LEDGER_SK}},
        UpdateExpression="SET again_after_ms = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time() * 1000) - 1)}},
    )
    later = post(scene, "u", parent_id=first)
    assert handle(batch(inserted(scene, later))) == ALL_DONE

    # Then one more request may go
    assert len(confirmations_to(address)) == 2


def test_approval_of_an_unconfirmed_commenters_comment_asks_them_to_confirm_instead(
    scene: Scene,
) -> None:
    # Given a held comment by a reader who asked to hear back and never confirmed, approved
    comment = post(scene, "a", notify_replies=True)
    record = changed(scene, comment, approve(scene, comment))

    # When its MODIFY record is handled
    assert handle(batch(record)) == ALL_DONE

    # Then the article's author hears of it, and the reader gets the request to confirm, not
    # their text back ("is live" goes to confirmed addresses only)
    assert tally(scene) == Counter({scene.author: 1, scene.reader("a"): 1})
    (request,) = outbox.emails(to=scene.reader("a"))
    assert request.subject.startswith(CONFIRM_SUBJECT)
    assert marker(scene, "a") not in f"{request.text}{request.html}"


def test_expired_confirmation_link_is_refused_and_confirms_nothing(scene: Scene) -> None:
    # Given a confirmation link for a reader's comment, genuine but older than its lifetime
    comment = post(scene, "a", notify_replies=True)
    days = comments_settings().confirmation_link_days
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current

    class SignedTooLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - (days + 1) * 86_400

    payload = {"s": scene.slug, "c": comment, "a": "confirm_replies", "j": secrets.token_hex(16)}
    serializer = URLSafeTimedSerializer(secret, salt="newsroom.link.v1", signer=SignedTooLongAgo)
    expired = str(serializer.dumps(payload))

    # When it is opened and followed
    opened = open_link(expired, accept=JSON)
    followed = follow(expired, accept=JSON)

    # Then both are told it expired, and the address is not confirmed
    assert (opened.status, error_code(opened)) == (410, "link_expired")
    assert (followed.status, error_code(followed)) == (410, "link_expired")
    assert not is_confirmed(scene, scene.reader("a"))
