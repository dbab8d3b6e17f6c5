"""POST /privacy/requests and the link it emails, through the comments function against the
emulator: always the same 202, rate limits per IP and per address, one email with a link that
changes nothing when opened and downloads everything stored about the address once, within 24
hours."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from functions.comments.app import lambda_handler as comments_handler
from newsroom.data import dynamo
from newsroom.models.privacy import ACCEPTED_MESSAGE
from newsroom.secrets import project_keys
from newsroom_tools.outbox import Outbox, OutboxEmail
from tests.apigw import Answer, invoke, rest_event
from tests.flood import QUICK_FLOOD_SECONDS
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    admin_action,
    content_table_of_its_own,  # noqa: F401 (the content_table fixture: a table per test)
    edit_when_flood_allows,
    form,
    fresh_ip,
    post_comment,
    post_when_flood_allows,
)
from tests.integration.notifications_stream import (
    addressed_to,
    batch,
    comment_item,
    confirm_reply_notices,
    handle,
    ses_fault,
    stream_record,
)
from tests.integration.test_notifications import (
    ALL_DONE,
    BROWSER,
    JSON,
    error_code,
    follow,
    open_link,
    token_of,
)

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
REQUESTS = "/privacy/requests"
SUBJECTS = {
    "export": "Your request for a copy of your comments",
    "erase": "Your request to erase your comments",
}
LINK_LABELS = {"export": "Download it: ", "erase": "Erase them: "}
outbox = Outbox.in_process()


def ask(
    body: Any = None,
    *,
    ip: str | None = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST /privacy/requests with `body` as JSON (or `raw_body` as sent)."""
    event = rest_event(
        "POST",
        REQUESTS,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=raw_body if raw_body is not None else json.dumps(body),
        source_ip=ip or fresh_ip(),
    )
    return invoke(comments_handler, event)


def address(unique: str, who: str = "a") -> str:
    return str(form(unique, reader=who)["author_email"])


def emails_to(email: str) -> list[OutboxEmail]:
    return outbox.emails(to=email)


def link_of(sent: OutboxEmail, kind: str = "export") -> str:
    label = LINK_LABELS[kind]
    line = next(line for line in (sent.text or "").splitlines() if line.startswith(label))
    return token_of(line.removeprefix(label))


def the_link(email: str, kind: str = "export") -> str:
    """The link of the one privacy email of `kind` sent to `email`."""
    (sent,) = [e for e in emails_to(email) if e.subject == SUBJECTS[kind]]
    return link_of(sent, kind)


def download(token: str, **request: Any) -> Answer:
    return follow(token, **request)


# -- asking --------------------------------------------------------------------------------------


def test_a_request_is_answered_202_with_one_fixed_body_for_an_address_with_or_without_comments(
    content_table: str, unique: str
) -> None:
    # Given one address with a comment and one without
    slug = f"p-{unique}"
    seed(content_table, slug)
    assert post_comment(slug, form(unique, reader="a")).status == 201

    # When both ask for an export
    answers = [ask({"email": address(unique, who), "kind": "export"}) for who in ("a", "b")]

    # Then both get the same answer, not cached, and each address one email with a link
    assert [a.status for a in answers] == [202, 202]
    assert answers[0].body == answers[1].body == {"message": ACCEPTED_MESSAGE}
    assert all(a.headers["cache-control"] == "no-store" for a in answers)
    for who in ("a", "b"):
        (sent,) = emails_to(address(unique, who))
        assert "/links/" in (sent.text or "")
        assert "24 hours" in (sent.text or "")


def test_a_second_request_from_one_ip_within_the_interval_is_refused_with_429(
    content_table: str, unique: str
) -> None:
    # Given a request from one IP
    ip = fresh_ip()
    assert ask({"email": address(unique, "a"), "kind": "export"}, ip=ip).status == 202

    # When the same IP asks again at once, for another address
    again = ask({"email": address(unique, "b"), "kind": "export"}, ip=ip)

    # Then it is refused, says when to retry, and nothing goes to the other address
    assert again.status == 429, again.body
    assert error_code(again) == "too_many_requests"
    assert int(again.headers["retry-after"]) == 300
    assert emails_to(address(unique, "b")) == []


def test_a_second_request_for_one_address_within_the_interval_is_answered_alike_and_sends_nothing(
    content_table: str, unique: str
) -> None:
    # Given a request for one address
    email = address(unique)
    assert ask({"email": email, "kind": "export"}).status == 202

    # When another IP asks again at once for it (spelled otherwise)
    again = ask({"email": f"  {email.upper()}", "kind": "export"})

    # Then the answer is the same, and the address got one email, not two
    assert (again.status, again.body) == (202, {"message": ACCEPTED_MESSAGE})
    assert len(emails_to(email)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "export"}, "email"),
        ({"email": "not-an-address", "kind": "export"}, "email"),
        ({"email": "someone@example.org"}, "kind"),
        ({"email": "someone@example.org", "kind": "everything"}, "kind"),
        ({"email": "someone@example.org", "kind": "export", "extra": 1}, "extra"),
        ({"email": ["someone@example.org"], "kind": "export"}, "email"),
    ],
    ids=["no-email", "bad-email", "no-kind", "bad-kind", "unknown-field", "email-not-a-string"],
)
def test_a_bad_request_is_refused_with_422_naming_the_field_and_sends_nothing(
    content_table: str, body: dict[str, Any], field: str
) -> None:
    answer = ask(body)

    assert answer.status == 422, answer.body
    assert error_code(answer) == "invalid_request"
    assert field in json.dumps(answer.body["error"]["details"])
    assert isinstance(body.get("email"), list) or emails_to(str(body.get("email"))) == []


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        ("{not json", {}, 400, "malformed_request"),
        ('["someone@example.org"]', {}, 400, "malformed_request"),
        (
            '{"email": "a@example.org", "kind": "export"}',
            {"Content-Type": "text/plain"},
            400,
            "malformed_request",
        ),
        (
            '{"email": "' + "a" * 70_000 + '@example.org", "kind": "export"}',
            {},
            413,
            "payload_too_large",
        ),
    ],
    ids=["not-json", "not-an-object", "not-declared-json", "huge"],
)
def test_a_body_that_is_not_a_json_object_is_refused_with_the_error_shape(
    content_table: str, raw: str, headers: dict[str, str], status: int, code: str
) -> None:
    answer = ask(raw_body=raw, headers=headers)

    assert answer.status == status, answer.body
    assert set(answer.body) == {"error"}
    assert error_code(answer) == code


def test_when_ses_cannot_send_for_now_the_request_is_answered_503_and_keeps_nothing(
    content_table: str, unique: str
) -> None:
    # Given SES throttling every email
    email = address(unique)
    with ses_fault(addressed_to(email), answer=(429, "TooManyRequestsException")):
        # When someone asks
        answer = ask({"email": email, "kind": "export"})

    # Then they are told to retry, no email went, and no request is kept
    assert answer.status == 503, answer.body
    assert "retry-after" in answer.headers
    assert emails_to(email) == []
    requests = dynamo.client().scan(
        TableName=content_table,
        FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": "PRIVACY#"}},
    )
    assert requests["Items"] == []


# -- the link ------------------------------------------------------------------------------------


def test_opening_the_link_changes_nothing_and_offers_a_button(
    content_table: str, unique: str
) -> None:
    # Given the link of an export request
    email = address(unique)
    ask({"email": email, "kind": "export"})
    token = the_link(email)

    # When it is opened twice (a mail scanner, then a person)
    first, second = open_link(token, accept=JSON), open_link(token, accept=BROWSER)

    # Then both describe the download and offer the button, and it still works after
    assert first.status == 200, first.body
    assert first.body["button"] == "Download"
    assert first.body["action"] == "export"
    assert second.status == 200
    assert "<form" in str(second.body)
    assert "Download" in str(second.body)
    assert download(token).status == 200


def test_the_export_of_an_address_with_comments_on_three_articles_holds_each_and_its_emails(
    settings: Settings, content_table: str, unique: str
) -> None:
    # Given one address's comments on three articles (one held, one approved that asked for
    # replies and was edited, one spam), one by someone else, and the emails that followed
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS, disallowed_keys='["casino"]')
    slugs = [f"x{n}-{unique}" for n in range(3)]
    for slug in slugs:
        seed(content_table, slug)
    email = address(unique, "a")
    posts = [
        post_when_flood_allows(slugs[0], form(unique, reader="a", body="Held remark.")),
        post_when_flood_allows(
            slugs[1],
            form(
                unique,
                reader="a",
                body="Approved remark.",
                author_url="https://a.example.org/",
                notify_replies=True,
            ),
        ),
        post_when_flood_allows(slugs[2], form(unique, reader="a", body="My casino.")),
    ]
    ids = [p.body["id"] for p in posts]
    edited = edit_when_flood_allows(
        slugs[1], ids[1], "Approved remark, edited.", token=posts[1].body["edit_token"]
    )
    assert edited.status == 200, edited.body
    confirm_reply_notices(content_table, email)
    held = comment_item(content_table, slugs[1], ids[1])
    assert admin_action(slugs[1], ids[1], "approve").status == 200
    approved = comment_item(content_table, slugs[1], ids[1])
    assert handle(batch(stream_record(content_table, approved, held))) == ALL_DONE
    assert post_comment(slugs[0], form(unique, reader="b")).status == 201

    # When its owner asks for an export and follows the link
    ask({"email": email, "kind": "export"})
    answer = download(the_link(email))

    # Then a JSON attachment holds the three comments as stored, oldest first, and the emails
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"] == 'attachment; filename="comments-export.json"'
    assert answer.headers["cache-control"] == "no-store"
    exported = answer.body
    assert exported["email"] == email.lower()
    comments = exported["comments"]
    assert [(c["article"], c["id"]) for c in comments] == list(zip(slugs, ids, strict=True))
    assert [c["status"] for c in comments] == ["pending", "approved", "spam"]
    assert [c["text"] for c in comments] == [
        "Held remark.",
        "Approved remark, edited.",
        "My casino.",
    ]
    assert comments[1]["author_url"] == "https://a.example.org/"
    assert comments[1]["notify_replies"] is True
    assert comments[1]["edited_at"] is not None
    assert all(c["reply_notices_confirmed"] for c in comments)
    assert all(c["article_url"].endswith(f"/articles/{c['article']}") for c in comments)
    assert all(c["author_email"] == email for c in comments)
    emails = [(e["kind"], e["about"], e["state"]) for e in exported["emails"]]
    assert emails[0] == ("comment_live", ids[1], "sent")  # "your comment is live"
    assert [e[0] for e in emails[1:]] == ["privacy_link"]
    assert unique in json.dumps(exported)
    assert "reader-b" not in json.dumps(exported)


def test_the_export_link_works_once(content_table: str, unique: str) -> None:
    # Given an export link that was followed
    email = address(unique)
    ask({"email": email, "kind": "export"})
    token = the_link(email)
    assert download(token).status == 200

    # When it is followed again, and opened
    again, opened = download(token, accept=JSON), open_link(token, accept=JSON)

    # Then it is used: refused, and its page has no button
    assert again.status == 410, again.body
    assert error_code(again) == "link_used"
    assert opened.status == 200
    assert opened.body["button"] is None


class SignedADayAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(datetime.now(UTC).timestamp()) - 86_400 - 60


def test_an_export_link_older_than_24_hours_is_refused_as_expired(
    content_table: str, unique: str
) -> None:
    # Given an export request's link, genuine but signed 24 hours and a minute ago
    email = address(unique)
    ask({"email": email, "kind": "export"})
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    salt = "newsroom.privacy.v1"
    payload = URLSafeTimedSerializer(secret, salt=salt).loads(the_link(email))
    expired = URLSafeTimedSerializer(secret, salt=salt, signer=SignedADayAgo).dumps(payload)

    # When it is opened and followed
    opened, followed = open_link(str(expired), accept=JSON), download(str(expired), accept=JSON)

    # Then both are refused as expired
    assert (opened.status, error_code(opened)) == (410, "link_expired")
    assert (followed.status, error_code(followed)) == (410, "link_expired")


def test_a_tampered_export_link_is_refused_as_invalid(content_table: str, unique: str) -> None:
    email = address(unique)
    ask({"email": email, "kind": "export"})
    token = the_link(email)

    answer = download(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), accept=JSON)

    assert answer.status == 400, answer.body
    assert error_code(answer) == "link_invalid"
