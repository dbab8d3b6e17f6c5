"""SES's delivery events through the local run: mail to the mailbox simulator's addresses
yields the events SES would publish (`newsroom_tools.mailbox_simulator`), which
DeliveryEventsFunction records on the ledger; a permanent bounce or a complaint suppresses the
address, so that its next notification is not sent and is recorded as suppressed."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from newsroom.data.delivery import message_key, subscriber_item_key
from newsroom.data.notifications import NotificationTable
from newsroom.privacy import subscriber_key
from newsroom.secrets import read_keyring
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import loopback_address, request
from tests.local_runs import own_table_prefix

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

SLUG = "storm-isolde-clean-up"  # a demo article of the local run, open for comments
BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"
SUCCESS = "success@simulator.amazonses.com"


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    moderators = json.dumps([BOUNCE, COMPLAINT, SUCCESS])
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        parameters={"ModeratorEmails": moderators},
    ) as running:
        yield running


def db(system: LocalSystem) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=system.emulator_url, region_name="us-east-1")


def table(system: LocalSystem) -> str:
    return system.table_names["ContentTable"]


def post_held_comment(system: LocalSystem) -> str:
    """A first comment from a new address: held, so every moderator is asked about it."""
    unique = uuid.uuid4().hex[:8]
    posted = request(
        f"{system.api_url}/articles/{SLUG}/comments",
        method="POST",
        json_body={
            "author_name": f"Reader {unique}",
            "author_email": f"reader-{unique}@example.org",
            "body": f"A first comment, {unique}.",
        },
        source_ip=loopback_address(),
    )
    assert posted.status == 201, posted.text
    assert posted.json()["status"] == "pending"
    system.wait_for_delivery_events()
    return unique


def sent_to(system: LocalSystem, address: str, text: str) -> list[str]:
    """The SES message ids of the emails to `address` whose text has `text`."""
    assert system.outbox is not None
    return [e.id for e in system.outbox.emails(to=address) if text in (e.text or "")]


def ledger_entry(system: LocalSystem, message_id: str) -> dict[str, Any]:
    """The ledger entry of an email, found as the delivery events function finds it."""
    pointer = db(system).get_item(TableName=table(system), Key=message_key(message_id))["Item"]
    key = {"pk": pointer["ledger_key"], "sk": {"S": "SENT"}}
    return dict(db(system).get_item(TableName=table(system), Key=key)["Item"])


def ledger_states(system: LocalSystem) -> dict[str, str]:
    """Every ledger entry's state (the ledger knows recipients by keyed hash only)."""
    page = db(system).scan(TableName=table(system), ConsistentRead=True)
    return {
        item["pk"]["S"]: item["state"]["S"]
        for item in page["Items"]
        if item.get("type") == {"S": "sent_email"}
    }


def test_bounce_and_complaint_suppress_the_address_and_its_next_email_is_not_sent(
    system: LocalSystem,
) -> None:
    # Given the complaining address confirmed reply notices
    keys = read_keyring(os.environ["SECRET_PARAMETER_NAME"])  # the local run's environment
    subscribed = subscriber_key(keys.current, COMPLAINT)
    NotificationTable(table(system), db(system)).confirm_subscriber(
        subscribed, at=datetime.now(UTC)
    )

    # When a held comment asks the three moderators, and SES's events for the emails come
    first = post_held_comment(system)

    # Then each got the email, and its ledger entry records what SES said of it
    (bounced,) = sent_to(system, BOUNCE, first)
    (complained,) = sent_to(system, COMPLAINT, first)
    (delivered,) = sent_to(system, SUCCESS, first)
    assert ledger_entry(system, bounced)["delivery"] == {"S": "bounced:permanent"}
    assert ledger_entry(system, complained)["delivery"] == {"S": "complained"}
    assert ledger_entry(system, delivered)["delivery"] == {"S": "delivered"}
    assert ledger_entry(system, delivered)["ses_message_id"] == {"S": delivered}
    # and the outbox page shows it
    page = request(f"{system.root_url}/_local/outbox?format=json")
    shown = {item["id"]: item["delivery"] for item in page.json()}
    assert (shown[bounced], shown[delivered]) == ("bounced:permanent", "delivered")
    # and the complaint ended the address's reply notices
    gone = db(system).get_item(TableName=table(system), Key=subscriber_item_key(subscribed))
    assert "Item" not in gone

    # When the next held comment asks them
    before = ledger_states(system)
    second = post_held_comment(system)

    # Then only the address that neither bounced nor complained gets it; the two others'
    # emails are recorded as suppressed, not sent
    assert sent_to(system, BOUNCE, second) == []
    assert sent_to(system, COMPLAINT, second) == []
    assert len(sent_to(system, SUCCESS, second)) == 1
    new = {k: v for k, v in ledger_states(system).items() if k not in before}
    assert sorted(new.values()) == ["sent", "suppressed", "suppressed"]
