"""What a local system does beyond the API: the content table's stream feeds the notifications
function as Lambda's event source mapping would (the template's filter, Lambda's event, retries,
the dead-letter queue), and what its SES sent shows at /_local/outbox.

The function is a stand-in that records its events, so these tests are about the plumbing;
the local system has an emulator of its own on a free port.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from newsroom_tools.runner import LocalSystem, free_port
from newsroom_tools.template import load_template, parameter_defaults
from tests.local_runs import own_table_prefix

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

TEMPLATE_RETRIES = 5  # MaximumRetryAttempts of the CommentChanges event


class Recorder:
    """Stands in for NotificationsFunction: keeps every event; raises on a batch holding an
    item with a `poison` attribute."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self._lock:
            self.events.append(event)
        if any("poison" in r["dynamodb"].get("NewImage", {}) for r in event["Records"]):
            raise RuntimeError("this record always fails")
        return {"batchItemFailures": []}

    def records_for(self, pk: str) -> list[dict[str, Any]]:
        """Every record of the item partition `pk` the function was given, retries included."""
        with self._lock:
            events = list(self.events)
        return [
            record
            for event in events
            for record in event["Records"]
            if record["dynamodb"]["Keys"]["pk"]["S"] == pk
        ]

    def batches_for(self, pk: str) -> list[list[str]]:
        """The sort keys of each batch that held records of `pk`."""
        with self._lock:
            events = list(self.events)
        return [
            [record["dynamodb"]["Keys"]["sk"]["S"] for record in event["Records"]]
            for event in events
            if any(r["dynamodb"]["Keys"]["pk"]["S"] == pk for r in event["Records"])
        ]


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def system(recorder: Recorder) -> Iterator[LocalSystem]:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        seed=False,
        handlers={"NotificationsFunction": recorder},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def db(system: LocalSystem) -> DynamoDBClient:
    client: DynamoDBClient = boto3.client("dynamodb", endpoint_url=system.emulator_url)
    return client


def comment(pk: str, sk: str, **extra: str) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, "type": {"S": "comment"}, "status": {"S": "pending"}}
    return item | {name: {"S": value} for name, value in extra.items()}


def test_new_comment_reaches_the_function_as_lambdas_stream_event(
    system: LocalSystem, recorder: Recorder, db: DynamoDBClient, unique: str
) -> None:
    # Given a comment item
    pk = f"ARTICLE#{unique}"
    item = comment(pk, "COMMENT#1", body="First!")

    # When it is written to the content table
    before = int(time.time())
    db.put_item(TableName=system.table_names["ContentTable"], Item=item)
    system.wait_for_streams()

    # Then the function got it once, in Lambda's DynamoDB stream event
    (record,) = recorder.records_for(pk)
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventVersion"] == "1.1"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == system.table_names["ContentTable.StreamArn"]
    assert record["eventID"]
    stream = record["dynamodb"]
    assert stream["Keys"] == {"pk": {"S": pk}, "sk": {"S": "COMMENT#1"}}
    assert stream["NewImage"] == item
    assert "OldImage" not in stream
    assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert stream["SequenceNumber"].isdigit()
    assert stream["SizeBytes"] > 0
    assert before - 1 <= stream["ApproximateCreationDateTime"] <= time.time() + 1


def test_only_new_and_changed_comments_pass_the_templates_filter(
    system: LocalSystem, recorder: Recorder, db: DynamoDBClient, unique: str
) -> None:
    # Given an article and a comment on it
    table = system.table_names["ContentTable"]
    pk = f"ARTICLE#{unique}"
    db.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": "A"}, "type": {"S": "article"}})
    db.put_item(TableName=table, Item=comment(pk, "COMMENT#1"))

    # When the comment is approved, then deleted
    db.put_item(TableName=table, Item=comment(pk, "COMMENT#1", status="approved"))
    db.delete_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "COMMENT#1"}})
    system.wait_for_streams()

    # Then the function saw the comment's insert and change, not the article nor the delete
    records = recorder.records_for(pk)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"]) for r in records] == [
        ("INSERT", "COMMENT#1"),
        ("MODIFY", "COMMENT#1"),
    ]
    assert records[1]["dynamodb"]["OldImage"]["status"] == {"S": "pending"}
    assert records[1]["dynamodb"]["NewImage"]["status"] == {"S": "approved"}


def test_record_the_function_keeps_failing_goes_to_the_dead_letter_queue(
    system: LocalSystem, recorder: Recorder, db: DynamoDBClient, unique: str
) -> None:
    # Given a comment the function always fails on, and a good one after it
    table = system.table_names["ContentTable"]
    pk = f"ARTICLE#{unique}"
    db.put_item(TableName=table, Item=comment(pk, "COMMENT#poison", poison="yes"))
    db.put_item(TableName=table, Item=comment(pk, "COMMENT#good"))

    # When the stream has been delivered
    system.wait_for_streams(timeout=20)

    # Then the bad record alone was tried once plus the template's retries, then described in
    # the dead-letter queue; the good one was delivered
    batches = recorder.batches_for(pk)
    assert batches.count(["COMMENT#poison"]) == 1 + TEMPLATE_RETRIES
    assert any("COMMENT#good" in batch and "COMMENT#poison" not in batch for batch in batches)
    poison = next(
        r["dynamodb"]["SequenceNumber"]
        for r in recorder.records_for(pk)
        if r["dynamodb"]["Keys"]["sk"]["S"] == "COMMENT#poison"
    )
    sqs = boto3.client("sqs", endpoint_url=system.emulator_url)
    received = sqs.receive_message(
        QueueUrl=system.table_names["NotificationsDeadLetterQueue"], MaxNumberOfMessages=10
    )
    messages = [json.loads(m["Body"]) for m in received.get("Messages", [])]
    (message,) = [m for m in messages if m["DDBStreamBatchInfo"]["startSequenceNumber"] == poison]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["functionArn"].endswith(":function:NotificationsFunction")
    assert message["responseContext"]["functionError"] == "Unhandled"
    info = message["DDBStreamBatchInfo"]
    assert info["endSequenceNumber"] == poison
    assert info["batchSize"] == 1
    assert info["streamArn"] == system.table_names["ContentTable.StreamArn"]


def test_email_sent_through_ses_shows_in_the_outbox(system: LocalSystem, unique: str) -> None:
    # Given an email from the template's sender identity (verified by the local run)
    sender = parameter_defaults(load_template())["SenderEmail"]
    reader = f"reader-{unique}@example.com"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = reader
    message["Subject"] = f"Reply {unique}"
    message["List-Unsubscribe"] = f"<https://news.example/unsubscribe/{unique}>"
    message.set_content("A reply.")
    message.add_alternative("<p>A <b>reply</b>.</p>", subtype="html")

    # When it is sent through SES v2
    boto3.client("sesv2", endpoint_url=system.emulator_url).send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [reader]},
        Content={"Raw": {"Data": message.as_bytes()}},
    )

    # Then the outbox lists it, serves it alone, and shows it to a browser
    (listed,) = get_json(f"{system.root_url}/_local/outbox?to={reader}")
    assert listed["subject"] == f"Reply {unique}"
    assert listed["to"] == [reader]
    assert listed["headers"]["List-Unsubscribe"] == f"<https://news.example/unsubscribe/{unique}>"
    assert listed["text"] == "A reply.\n"
    assert listed["html"] == "<p>A <b>reply</b>.</p>\n"
    one = get_json(f"{system.root_url}/_local/outbox/{listed['number']}")
    assert one["id"] == listed["id"]
    page = urllib.request.Request(  # noqa: S310 - http to loopback
        f"{system.root_url}/_local/outbox?to={reader}", headers={"Accept": "text/html"}
    )
    with urllib.request.urlopen(page, timeout=10) as response:  # noqa: S310
        assert response.headers["Content-Type"].startswith("text/html")
        assert f"Reply {unique}" in response.read().decode()


def get_json(url: str) -> Any:
    sent = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(sent, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())
