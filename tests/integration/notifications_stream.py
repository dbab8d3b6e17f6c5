"""Driving the notifications function as Lambda's event source mapping would, with stream records
built from comment items as stored, and making the emulator's SES refuse chosen emails.

Records have the shape Lambda gives the function (as in events/stream_*.json): images are the
items read back with `GetItem`, keys and filter come from template.yaml, and each record has a
sequence number of its own so `batchItemFailures` can name it.
"""

from __future__ import annotations

import base64
import email
import email.policy
import itertools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.parsers import create_parser

from functions.notifications.app import lambda_handler
from newsroom import mail
from newsroom.data import dynamo
from newsroom.data.comments import comment_key
from newsroom.data.notifications import NotificationTable
from newsroom.privacy import subscriber_key
from newsroom.secrets import project_keys
from newsroom_tools.emulator import REGION
from newsroom_tools.event_filter import Pattern, matches_any, parse_filter_criteria
from newsroom_tools.streams import first_failed_index
from newsroom_tools.template import functions, load_template, resources
from tests.apigw import LambdaContext

if TYPE_CHECKING:
    from botocore.model import OperationModel

Item = dict[str, Any]  # an item in DynamoDB's JSON, as GetItem and the stream carry it
Event = dict[str, Any]

# Stream sequence numbers are decimal strings of 21 digits or more that grow along a shard.
_SEQUENCE = itertools.count(111_000_000_000_000_000_001)
_HOOK_ID = "tests-notifications-ses-fault"


@cache
def _trigger() -> dict[str, Any]:
    """The notifications function's `Type: DynamoDB` event properties in template.yaml."""
    for spec in functions(load_template()).values():
        for event in spec.events.values():
            if event.get("Type") == "DynamoDB":
                properties: dict[str, Any] = event["Properties"]
                return properties
    raise AssertionError("no function in template.yaml reads a DynamoDB stream")


@cache
def _filters() -> tuple[Pattern, ...]:
    return parse_filter_criteria(_trigger().get("FilterCriteria"))


def maximum_retry_attempts() -> int:
    """How often Lambda retries a failing batch (the trigger's `MaximumRetryAttempts`)."""
    return int(_trigger()["MaximumRetryAttempts"])


@cache
def _key_names() -> tuple[str, ...]:
    spec = resources(load_template(), "AWS::DynamoDB::Table")["ContentTable"]
    return tuple(key["AttributeName"] for key in spec["Properties"]["KeySchema"])


def comment_item(table: str, slug: str, comment_id: str) -> Item:
    """The comment's item as stored now (a consistent `GetItem`), in DynamoDB's JSON."""
    response = dynamo.client().get_item(
        TableName=table, Key=comment_key(slug, comment_id), ConsistentRead=True
    )
    assert "Item" in response, f"{comment_id} is not stored"
    return dict(response["Item"])


def stream_arn(table: str) -> str:
    """The table's latest stream, as Lambda names the source of each record."""
    described = dynamo.client().describe_table(TableName=table)["Table"]
    return str(described["LatestStreamArn"])


def stream_record(table: str, new: Item, old: Item | None = None) -> dict[str, Any]:
    """The record Lambda hands the function for a comment inserted (`old` None) or modified.

    Asserts that the template's `FilterCriteria` lets it through: a test never feeds the
    function a record Lambda would not deliver.
    """
    keys = {name: new[name] for name in _key_names()}
    images: dict[str, Any] = (
        {"NewImage": new} if old is None else {"NewImage": new, "OldImage": old}
    )
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT" if old is None else "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": keys,
            **images,
            "SequenceNumber": str(next(_SEQUENCE)),
            "SizeBytes": len(json.dumps([keys, images], separators=(",", ":")).encode()),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": stream_arn(table),
    }
    assert matches_any(_filters(), record), "the template's FilterCriteria would drop this record"
    return record


def removal_record(table: str, old: Item) -> dict[str, Any]:
    """The record DynamoDB's stream has for a comment deleted: its old image only. (Whether
    Lambda delivers it is the template's `FilterCriteria`'s to say: `delivered`.)"""
    keys = {name: old[name] for name in _key_names()}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": keys,
            "OldImage": old,
            "SequenceNumber": str(next(_SEQUENCE)),
            "SizeBytes": len(json.dumps([keys, old], separators=(",", ":")).encode()),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": stream_arn(table),
    }


def delivered(record: dict[str, Any]) -> bool:
    """Whether the template's `FilterCriteria` let the record reach the function."""
    return matches_any(_filters(), record)


def confirm_reply_notices(table: str, address: str) -> None:
    """Record that `address` confirmed it wants reply notices, as following the link in its
    confirmation email does (keyed as the functions key it, with the project's current key)."""
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    key = subscriber_key(secret, address)
    NotificationTable(table).confirm_subscriber(key, at=datetime.now(UTC))


def batch(*records: dict[str, Any]) -> Event:
    return {"Records": list(records)}


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def handle(event: Event) -> dict[str, Any]:
    """Invoke the notifications function once with `event`, as Lambda does."""
    result: dict[str, Any] = lambda_handler(event, LambdaContext())
    return result


def failed(result: dict[str, Any]) -> list[str]:
    """The sequence numbers a `ReportBatchItemFailures` answer names."""
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def retry_as_lambda(event: Event, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Lambda's retries after `result`: the batch again from its lowest reported sequence
    number (the records before it are done), until an answer reports nothing or the trigger's
    `MaximumRetryAttempts` run out. The answers, in order."""
    answers = []
    records = event["Records"]
    for _ in range(maximum_retry_attempts()):
        resume = first_failed_index(result, records)
        if resume is None:
            break
        records = records[resume:]
        result = handle(batch(*records))
        answers.append(result)
    return answers


# -- SES faults --------------------------------------------------------------------------------


def sent_message(params: dict[str, Any]) -> EmailMessage:
    """The MIME message inside a serialised SES v2 `SendEmail` request."""
    body = json.loads(params["body"])
    raw = base64.b64decode(body["Content"]["Raw"]["Data"])
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
    return message


def addressed_to(recipient: str) -> Callable[[EmailMessage], bool]:
    return lambda message: str(message["To"]).lower() == recipient.lower()


def mentioning(text: str) -> Callable[[EmailMessage], bool]:
    def match(message: EmailMessage) -> bool:
        part = message.get_body(preferencelist=("plain",))
        return part is not None and text in str(part.get_content())

    return match


def ses_error(
    model: OperationModel, status: int, code: str | None, message: str
) -> tuple[AWSResponse, dict[str, Any]]:
    """What SES v2 answers with an error, parsed by botocore's own rest-json parser. Without a
    `code`, the answer names no error type (a load balancer's 503, say)."""
    fields = {"Content-Type": "application/json"}
    if code is not None:
        fields["X-Amzn-ErrorType"] = f"{code}:http://internal.amazon.com/coral/com.amazonaws.sesv2/"
    headers = HTTPHeaders.from_dict(fields)
    wire = {
        "status_code": status,
        "headers": headers,
        "body": json.dumps({"message": message}).encode(),
    }
    assert model.output_shape is not None
    parsed: dict[str, Any] = create_parser("rest-json").parse(wire, model.output_shape)
    url = "https://email.us-east-1.amazonaws.com/v2/email/outbound-emails"
    return AWSResponse(url, status, headers, None), parsed


@dataclass
class SesFault:
    """What an armed fault saw: every `SendEmail` it matched, failed or let through."""

    matched: list[EmailMessage] = field(default_factory=list)
    failed: list[EmailMessage] = field(default_factory=list)


@contextmanager
def ses_fault(
    matches: Callable[[EmailMessage], bool],
    *,
    answer: tuple[int, str | None] | None = None,
    crash: Exception | None = None,
    times: int | None = None,
) -> Iterator[SesFault]:
    """Make the notifications mailer's SES client fail the `SendEmail` calls whose message
    `matches`: with the SES error `answer` (status, and error code or None), or by raising
    `crash` (a bug, not a mail error); only the first `times` of them when given.

    The hook is `before-call` on the cached client (`newsroom.mail._client()`), so botocore
    builds the error as for a real answer, without its retries; it is removed on leaving.
    """
    seen = SesFault()

    def intercept(model: OperationModel, params: dict[str, Any], **_: Any) -> Any:
        message = sent_message(params)
        if not matches(message):
            return None
        seen.matched.append(message)
        if times is not None and len(seen.failed) >= times:
            return None
        seen.failed.append(message)
        if crash is not None:
            raise crash
        assert answer is not None
        status, code = answer
        return ses_error(model, status, code, f"{code or status} (injected by the test)")

    events = mail._client().meta.events
    events.register("before-call.sesv2.SendEmail", intercept, unique_id=_HOOK_ID)
    try:
        yield seen
    finally:
        events.unregister("before-call.sesv2.SendEmail", unique_id=_HOOK_ID)
