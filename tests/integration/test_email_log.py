"""The email log (GET /admin/emails): ledger entries by status, newest first, moved by SES's
events with a precedence, through the comments function's handler on a table of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from functions.comments.app import lambda_handler
from newsroom.data.delivery import EMAIL_STATUSES, DeliveryTable
from newsroom.data.notifications import NotificationTable
from tests.apigw import Answer, invoke, rest_event

from .comments_api import own_content_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

# What a moderator's signed (AWS_IAM) request carries in its identity.
_ADMIN_EVENT = "get_admin_emails.json"
T0 = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
COMMENT = "c0193a4c2d8e1f2a3b4c5"


@pytest.fixture
def table(
    dynamodb: DynamoDBClient, content_table: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    # A table of its own (the log spans every article); the session's, for its key parameter.
    with own_content_table(dynamodb, monkeypatch, stream=False) as name:
        yield name


def list_emails(**query: str) -> Answer:
    event = rest_event("GET", "/admin/emails", query=query, base=_ADMIN_EVENT)
    return invoke(lambda_handler, event)


def settled(
    table: str,
    number: int,
    state: str = "sent",
    *,
    at: datetime = T0,
    detail: str = "",
    kind: str = "reply",
) -> tuple[str, str]:
    """An email claimed and settled as the notifications do it: (ledger key, SES message id)."""
    ledger = NotificationTable(table)
    key = f"SENT#{COMMENT}#{kind}#recipient{number}"
    message_id = f"ses-{number}" if state == "sent" else ""
    assert ledger.claim(key, now=at, lease=timedelta(seconds=30))
    ledger.settle(
        key,
        state,
        detail=detail or message_id,
        message_id=message_id,
        now=at,
        kind=kind,
        slug="storm-isolde-clean-up",
        comment_id=COMMENT,
    )
    return key, message_id


def statuses_listing(message_id: str) -> list[str]:
    """The statuses the log lists the email under (one, or none)."""
    found = []
    for status in EMAIL_STATUSES:
        answer = list_emails(status=status, limit="100")
        assert answer.status == 200, answer.body
        if any(item["ses_message_id"] == message_id for item in answer.body["items"]):
            found.append(status)
    return found


def test_settled_email_is_listed_under_its_status_with_what_it_was_and_no_address(
    table: str,
) -> None:
    # Given a sent email, one SES refused with a message quoting the address, and one held
    # back from a suppressed address
    settled(table, 1, "sent")
    refusal = "Email address is not verified. bad@example.org"
    settled(table, 2, "failed", at=T0 + timedelta(seconds=1), detail=refusal)
    settled(table, 3, "suppressed", at=T0 + timedelta(seconds=2))

    # When the log is asked for each status
    sent, failed, suppressed = (list_emails(status=s) for s in ("sent", "failed", "suppressed"))

    # Then each is listed under its own, as it was, with SES's id when sent
    assert [a.status for a in (sent, failed, suppressed)] == [200, 200, 200]
    assert sent.headers["cache-control"] == "no-store"
    assert sent.body == {
        "items": [
            {
                "kind": "reply",
                "slug": "storm-isolde-clean-up",
                "comment_id": COMMENT,
                "status": "sent",
                "delivery": None,
                "error_code": None,
                "settled_at": "2026-11-28T15:00:00Z",
                "delivery_at": None,
                "ses_message_id": "ses-1",
            }
        ],
        "next_cursor": None,
    }
    # and a refusal shows no more than that it was not a code: never its message
    (refused,) = failed.body["items"]
    assert (refused["status"], refused["error_code"]) == ("failed", "unrecognised")
    assert "@" not in json.dumps(failed.body)
    (held,) = suppressed.body["items"]
    assert (held["status"], held["ses_message_id"]) == ("suppressed", None)


def test_refusal_with_an_error_code_shows_the_code(table: str) -> None:
    settled(table, 1, "failed", detail="MessageRejected")

    answer = list_emails(status="failed")

    assert [item["error_code"] for item in answer.body["items"]] == ["MessageRejected"]


def test_log_is_newest_first_and_pages_follow_with_signed_cursors(table: str) -> None:
    # Given five emails sent a second apart
    for number in range(5):
        settled(table, number, at=T0 + timedelta(seconds=number))

    # When the log is read two at a time
    pages, cursor = [], None
    while True:
        answer = list_emails(status="sent", limit="2", **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        pages.append([item["ses_message_id"] for item in answer.body["items"]])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            break

    # Then every email comes once, newest first
    assert pages == [["ses-4", "ses-3"], ["ses-2", "ses-1"], ["ses-0"]]


# (events in the order they come, the outcome the entry keeps, the status it is listed under)
PRECEDENCE = [
    (["delivered"], "delivered", "delivered"),
    (["delayed"], "delayed", "sent"),
    (["delayed", "delivered"], "delivered", "delivered"),
    (["delivered", "delayed"], "delivered", "delivered"),
    (["delivered", "bounced:permanent"], "bounced:permanent", "bounced"),
    (["bounced:permanent", "delivered"], "bounced:permanent", "bounced"),
    (["bounced:transient", "bounced:permanent"], "bounced:permanent", "bounced"),
    (["bounced:permanent", "bounced:transient"], "bounced:permanent", "bounced"),
    (["delivered", "bounced:undetermined"], "bounced:undetermined", "bounced"),
    (["delivered", "complained"], "complained", "complained"),
    (["complained", "delivered"], "complained", "complained"),
    (["bounced:permanent", "complained"], "complained", "complained"),
    (["rejected", "delivered"], "rejected", "rejected"),
    (["rejected", "delayed"], "rejected", "rejected"),
]


@pytest.mark.parametrize(
    ("events", "kept", "status"), PRECEDENCE, ids=[" then ".join(p[0]) for p in PRECEDENCE]
)
def test_later_event_moves_the_email_only_when_it_says_more(
    table: str, events: list[str], kept: str, status: str
) -> None:
    # Given a sent email
    key, message_id = settled(table, 1)
    delivery = DeliveryTable(table)

    # When SES's events about it come, in this order
    for number, event in enumerate(events):
        at = T0 + timedelta(minutes=number + 1)
        delivery.record_delivery(key, event, message_id=message_id, at=at)

    # Then the entry keeps the strongest, and the log lists it under its status only
    answer = list_emails(status=status)
    (item,) = answer.body["items"]
    assert (item["delivery"], item["status"]) == (kept, status)
    assert item["settled_at"] == "2026-11-28T15:00:00Z"  # its place in the log is kept
    assert statuses_listing(message_id) == [status]


def test_event_about_an_earlier_sending_of_the_same_email_is_not_recorded(table: str) -> None:
    # Given an email sent once per period, sent again since (the ledger's entry is reused)
    ledger = NotificationTable(table)
    key = "SENT#ADDRESS#confirm_replies#recipient"
    for number, message_id in enumerate(("ses-first", "ses-second")):
        at = T0 + timedelta(days=number)
        assert ledger.claim(key, now=at, lease=timedelta(seconds=30))
        ledger.settle(key, "sent", detail=message_id, message_id=message_id, now=at, again_after=at)

    # When a late bounce of the first sending comes
    recorded = DeliveryTable(table).record_delivery(
        key, "bounced:permanent", message_id="ses-first", at=T0 + timedelta(days=1, hours=1)
    )

    # Then the second sending is left as it is, listed as sent
    (item,) = list_emails(status="sent").body["items"]
    assert recorded is False
    assert (item["ses_message_id"], item["delivery"]) == ("ses-second", None)
    assert list_emails(status="bounced").body["items"] == []


def test_entry_settled_before_the_log_existed_joins_it_at_its_first_event(
    table: str, dynamodb: DynamoDBClient
) -> None:
    # Given an entry as the ledger wrote it before the log: no kind, no place in the log
    key, message_id = "SENT#c0193a4c2d8e1f2a3b4c6@2#moderation#recipient", "ses-old"
    item: dict[str, Any] = {
        "pk": {"S": key},
        "sk": {"S": "SENT"},
        "state": {"S": "sent"},
        "detail": {"S": message_id},
        "ses_message_id": {"S": message_id},
        "type": {"S": "sent_email"},
    }
    dynamodb.put_item(TableName=table, Item=item)

    # When SES says it bounced
    DeliveryTable(table).record_delivery(
        key, "bounced:permanent", message_id=message_id, at=T0 + timedelta(hours=1)
    )

    # Then it is listed as bounced, what it was read from its key, at the event's time
    (listed,) = list_emails(status="bounced").body["items"]
    assert (listed["kind"], listed["comment_id"], listed["slug"]) == (
        "moderation",
        "c0193a4c2d8e1f2a3b4c6",
        None,
    )
    assert listed["settled_at"] == "2026-11-28T16:00:00Z"


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({"status": "opened"}, "invalid_request", "status"),
        ({"status": "sending"}, "invalid_request", "status"),
        ({"limit": "0"}, "invalid_request", "limit"),
        ({"limit": "101"}, "invalid_request", "limit"),
        ({"limit": "ten"}, "invalid_request", "limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor", "cursor"),
        ({"cursor": "x" * 1025}, "invalid_request", "cursor"),
    ],
    ids=["unknown status", "claim state", "limit 0", "limit 101", "limit word", "cursor", "long"],
)
def test_bad_query_is_refused_naming_the_parameter(
    table: str, query: dict[str, str], code: str, field: str
) -> None:
    answer = list_emails(**query)

    assert 400 <= answer.status < 500
    assert answer.body["error"]["code"] == code
    assert answer.error_fields == {field}


def test_cursor_of_one_status_is_refused_by_another(table: str) -> None:
    # Given a cursor of the sent emails' log
    for number in range(2):
        settled(table, number, at=T0 + timedelta(seconds=number))
    cursor = list_emails(status="sent", limit="1").body["next_cursor"]
    assert cursor

    # When it is sent with another status
    answer = list_emails(status="bounced", cursor=cursor)

    # Then it is refused, naming the cursor
    assert answer.status == 400
    assert answer.body["error"]["code"] == "invalid_cursor"
    assert answer.error_fields == {"cursor"}
