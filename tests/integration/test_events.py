"""Every file in events/ is a real event its function accepts, as `sam local invoke -e` sends."""

from __future__ import annotations

import importlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsroom.data.articles import get_article
from newsroom.data.notifications import NotificationTable
from newsroom.delivery import MalformedDeliveryEventError
from newsroom.privacy import email_hash
from newsroom.secrets import project_keys
from newsroom_tools.outbox import Outbox
from newsroom_tools.queues import lambda_event
from newsroom_tools.template import PROJECT_ROOT, FunctionSpec, functions, load_template
from tests.apigw import EVENTS_DIR, LambdaContext, expected_status, invoke

pytestmark = pytest.mark.integration

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))


def _handler(spec: FunctionSpec) -> Any:
    relative = spec.module_file.relative_to(PROJECT_ROOT).with_suffix("")
    return getattr(importlib.import_module(".".join(relative.parts)), spec.handler_name)


def ses_rule() -> dict[str, Any]:
    """The properties of the template's EventBridge rule on SES's events."""
    (rule,) = [
        resource["Properties"]
        for resource in load_template()["Resources"].values()
        if resource["Type"] == "AWS::Events::Rule"
        and "aws.ses" in resource["Properties"]["EventPattern"]["source"]
    ]
    return rule


def _reads_queue(spec: FunctionSpec, queue_arns: list[Any]) -> bool:
    return any(
        e.get("Type") == "SQS" and e["Properties"]["Queue"] in queue_arns
        for e in spec.events.values()
    )


def handler_for(event: dict[str, Any]) -> Any:
    """The handler the template sends this event to: by `Api` resource and method; for a
    stream event, the function with a `DynamoDB` event; for an SES event (EventBridge), or a
    batch of them from a queue, the function reading the queue SES's rule puts them in."""
    ses_queues = [target["Arn"] for target in ses_rule()["Targets"]]
    from_queue = event.get("Records", [{}])[0].get("eventSource") == "aws:sqs"
    for spec in functions(load_template()).values():
        if event.get("source") == "aws.ses" or from_queue:
            if _reads_queue(spec, ses_queues):
                return _handler(spec)
            continue
        if "Records" in event:
            if any(e.get("Type") == "DynamoDB" for e in spec.events.values()):
                return _handler(spec)
            continue
        for route in spec.routes:
            if (route.path, route.method) == (event["resource"], event["httpMethod"]):
                return _handler(spec)
    raise AssertionError("no function in template.yaml takes this event")


def test_there_is_an_event_for_every_route() -> None:
    routes = {
        (route.method, route.path)
        for spec in functions(load_template()).values()
        for route in spec.routes
    }
    covered = {
        (event["httpMethod"], event["resource"])
        for event in (json.loads(path.read_text()) for path in EVENT_FILES)
        if "httpMethod" in event
    }

    assert routes <= covered


API_EVENT_FILES = [p for p in EVENT_FILES if not p.name.startswith(("stream_", "ses_", "sqs_"))]
STREAM_EVENT_FILES = [p for p in EVENT_FILES if p.name.startswith("stream_")]
SES_EVENT_FILES = [p for p in EVENT_FILES if p.name.startswith("ses_")]
# What each SES event records on the ledger entry of its email, and whether it suppresses the
# address it names (docs/notifications.md).
SES_OUTCOMES = {
    "ses_bounce_permanent.json": ("bounced:permanent", True),
    "ses_bounce_transient.json": ("bounced:transient", False),
    "ses_complaint.json": ("complained", True),
    "ses_delivery.json": ("delivered", False),
    "ses_reject.json": ("rejected", False),
    "ses_delivery_delay.json": ("delayed", False),
}


def expected_recipients(path: Path, content_table: str) -> list[str]:
    """Who the stream event's change must email (see docs/notifications.md)."""
    article = get_article("storm-isolde-clean-up", table=content_table)
    assert article is not None
    moderators: list[str] = json.loads(os.environ["MODERATOR_EMAILS"])
    return {
        "stream_comment_held.json": moderators,
        # approved after being held: the article's author, and the commenter who asked
        "stream_comment_approved.json": [article.author.email, "morwenna@example.net"],
        # a public reply whose parent is not stored: only the article's author
        "stream_reply_posted.json": [article.author.email],
        # a public comment its author edited links into, held again: the moderators
        "stream_comment_edited_held_again.json": moderators,
    }[path.name]


@pytest.mark.parametrize("path", STREAM_EVENT_FILES, ids=lambda path: Path(path).name)
def test_stream_event_file_sends_its_emails_once(
    path: Path, demo_articles: list[str], content_table: str
) -> None:
    # Given the demo articles and a stream event file, unchanged
    event = json.loads(path.read_text())
    outbox = Outbox.in_process()
    recipients = expected_recipients(path, content_table)
    before = {to: len(outbox.emails(to=to)) for to in recipients}

    # When the function with the stream trigger handles it, twice (a redelivery)
    first = handler_for(event)(event, LambdaContext())
    again = handler_for(event)(event, LambdaContext())

    # Then no record failed, and each recipient got one email
    assert first == again == {"batchItemFailures": []}
    assert {to: len(outbox.emails(to=to)) - before[to] for to in recipients} == dict.fromkeys(
        recipients, 1
    )


@pytest.mark.parametrize("path", API_EVENT_FILES, ids=lambda path: Path(path).name)
def test_event_file_is_answered_by_its_function(path: Path, demo_articles: list[str]) -> None:
    # Given the demo articles and an event file, unchanged
    event = json.loads(path.read_text())

    # When the function the template routes it to handles it
    answer = invoke(handler_for(event), event)

    # Then it answers as the event expects
    assert answer.status == expected_status(path), answer.body


def test_there_is_an_ses_event_for_every_detail_type_the_rule_takes() -> None:
    taken = set(ses_rule()["EventPattern"]["detail-type"])

    covered = {json.loads(path.read_text())["detail-type"] for path in SES_EVENT_FILES}

    assert taken == covered
    assert sorted(SES_OUTCOMES) == [p.name for p in SES_EVENT_FILES]


@pytest.mark.parametrize("path", SES_EVENT_FILES, ids=lambda path: Path(path).name)
def test_ses_event_file_is_recorded_on_the_ledger_entry_of_its_email(
    path: Path, content_table: str, unique: str
) -> None:
    # Given an email in the ledger, sent as SES's message id (the event file's, made unique
    # so that each test has its own email)
    event = json.loads(path.read_text())
    message_id = f"{event['detail']['mail']['messageId']}-{unique}"
    event["detail"]["mail"]["messageId"] = message_id
    ledger = NotificationTable(content_table)
    key = f"SENT#c-{unique}#reply#recipient"
    now = datetime.now(UTC)
    assert ledger.claim(key, now=now, lease=timedelta(seconds=30))
    ledger.settle(key, "sent", detail=message_id, message_id=message_id, now=now)

    # When the function the template's rule sends SES's events to handles it
    result = handler_for(event)(event, LambdaContext())

    # Then the entry records the outcome, and the address is suppressed when it must be
    delivery, suppresses = SES_OUTCOMES[path.name]
    entry = ledger.db.get_item(TableName=content_table, Key=_ledger(key))["Item"]
    assert result == {"result": "recorded"}
    assert entry["delivery"]["S"] == delivery
    assert entry["state"]["S"] == "sent"  # the claim's state is left alone
    named = event["detail"]["mail"]["destination"]  # the one recipient the event is about
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    assert ledger.suppressed([email_hash(keys.current, a) for a in named]) is suppresses


def test_ses_event_for_a_message_nobody_sent_is_ignored_not_failed(
    content_table: str, unique: str
) -> None:
    # Given a bounce for a message id the table does not know (expired, or not ours)
    event = json.loads((EVENTS_DIR / "ses_bounce_permanent.json").read_text())
    event["detail"]["mail"]["messageId"] = f"unknown-{unique}"
    event["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = f"{unique}@example.org"

    # When the function handles it
    result = handler_for(event)(event, LambdaContext())

    # Then it succeeds (no retry, no dead letter) and suppresses nobody
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    assert result == {"result": "ignored"}
    assert not NotificationTable(content_table).suppressed(
        [email_hash(keys.current, f"{unique}@example.org")]
    )


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: e["detail"]["mail"].pop("messageId"),
        lambda e: e["detail"].pop("bounce"),
        lambda e: e["detail"]["bounce"].update(bounceType="Soft"),
        lambda e: e.update({"detail-type": "Email Opened"}),
    ],
    ids=["no message id", "no bounce", "unknown bounce type", "unexpected detail-type"],
)
def test_malformed_ses_event_fails_so_lambda_retries_it_then_dead_letters_it(
    spoil: Any,
) -> None:
    event = json.loads((EVENTS_DIR / "ses_bounce_permanent.json").read_text())
    spoil(event)

    with pytest.raises(MalformedDeliveryEventError):
        handler_for(event)(event, LambdaContext())


def _ledger(key: str) -> Any:
    return {"pk": {"S": key}, "sk": {"S": "SENT"}}


def test_late_delay_event_does_not_undo_a_delivery(content_table: str, unique: str) -> None:
    # Given an email SES said was delivered
    ledger = NotificationTable(content_table)
    key, message_id = f"SENT#c-{unique}#reply#late", f"late-{unique}"
    now = datetime.now(UTC)
    assert ledger.claim(key, now=now, lease=timedelta(seconds=30))
    ledger.settle(key, "sent", detail=message_id, message_id=message_id, now=now)
    for name in ("ses_delivery.json", "ses_delivery_delay.json"):  # events come in any order
        event = json.loads((EVENTS_DIR / name).read_text())
        event["detail"]["mail"]["messageId"] = message_id

        # When its events come, the delay after the delivery
        handler_for(event)(event, LambdaContext())

    # Then the delivery stands
    entry = ledger.db.get_item(TableName=content_table, Key=_ledger(key))["Item"]
    assert entry["delivery"]["S"] == "delivered"


QUEUED_SES_EVENT_FILES = [p for p in EVENT_FILES if p.name.startswith("sqs_")]


@pytest.mark.usefixtures("content_table")
@pytest.mark.parametrize("path", QUEUED_SES_EVENT_FILES, ids=lambda path: Path(path).name)
def test_queued_ses_events_file_holds_ses_events_its_function_reads(path: Path) -> None:
    # Given a batch as Lambda reads it from the delivery events queue (messages nobody here sent,
    # looked up in the content table's ledger)
    event = json.loads(path.read_text())
    bodies = [json.loads(record["body"]) for record in event["Records"]]

    # When the function reading that queue handles it
    result = handler_for(event)(event, LambdaContext())

    # Then every message is done (an unknown email's event is ignored, not failed)
    assert {body["source"] for body in bodies} == {"aws.ses"}
    assert result == {"batchItemFailures": []}


def test_a_batch_fails_only_the_events_it_cannot_read_and_records_the_others(
    content_table: str, unique: str
) -> None:
    # Given a sent email, and a batch holding its bounce between a message that is not JSON
    # and an event without its message id
    ledger = NotificationTable(content_table)
    key, message_id = f"SENT#c-{unique}#reply#batch", f"batch-{unique}"
    now = datetime.now(UTC)
    assert ledger.claim(key, now=now, lease=timedelta(seconds=30))
    ledger.settle(key, "sent", detail=message_id, message_id=message_id, now=now)
    bounce = json.loads((EVENTS_DIR / "ses_bounce_permanent.json").read_text())
    bounce["detail"]["mail"]["messageId"] = message_id
    address = f"batch-{unique}@example.org"
    bounce["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = address
    spoiled = json.loads((EVENTS_DIR / "ses_complaint.json").read_text())
    spoiled["detail"]["mail"].pop("messageId")
    batch = lambda_event(  # as Lambda reads it from the queue
        [
            {"MessageId": message, "ReceiptHandle": f"handle-{message}", "Body": body}
            for message, body in [
                ("m-not-json", "{not json"),
                ("m-bounce", json.dumps(bounce)),
                ("m-spoiled", json.dumps(spoiled)),
            ]
        ],
        "arn:aws:sqs:us-east-1:123456789012:DeliveryEventsQueue",
    )

    # When the function reads the batch
    result = handler_for(batch)(batch, LambdaContext())

    # Then only the two it could not read return to the queue, and the bounce is recorded
    assert result == {
        "batchItemFailures": [{"itemIdentifier": "m-not-json"}, {"itemIdentifier": "m-spoiled"}]
    }
    entry = ledger.db.get_item(TableName=content_table, Key=_ledger(key))["Item"]
    assert entry["delivery"]["S"] == "bounced:permanent"
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    assert ledger.suppressed([email_hash(keys.current, address)])
