"""Settling a sent email's ledger entry with its ``SESMSG#`` pointer, against the emulator: the
pointer first, so that an entry is never settled as sent without it (the email's bounce or
complaint would find nothing, and the address would never be suppressed), and a process that
dies between the two writes leaves a pointer by which the email's bounce still suppresses the
address."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from newsroom.data import dynamo
from newsroom.data.delivery import LEDGER_SK, DeliveryTable, message_key
from newsroom.data.notifications import NotificationTable
from newsroom.delivery import handle_event
from newsroom.privacy import email_hash
from newsroom.secrets import project_keys
from tests.apigw import EVENTS_DIR

if TYPE_CHECKING:
    from botocore.model import OperationModel

pytestmark = pytest.mark.integration

_HOOK_ID = "tests-ledger-settle-calls"
LEASE = timedelta(minutes=1)


@contextmanager
def dynamodb_calls(*, refusing: str | None = None) -> Iterator[list[str]]:
    """The operations the layer's DynamoDB client is asked for while the block runs (botocore's
    `before-call`: once per call, whatever its retries); with `refusing`, a call whose request
    holds that text (a key, say) fails with a `ClientError` instead of reaching the emulator,
    as a crash or an error answer between requests would leave it."""
    calls: list[str] = []

    def observe(model: OperationModel, params: dict[str, Any], **_: Any) -> None:
        calls.append(model.name)
        if refusing is not None and refusing in repr(params):
            error = {"Error": {"Code": "InternalServerError", "Message": "injected"}}
            raise ClientError(error, model.name)  # type: ignore[arg-type]

    events = dynamo.client().meta.events
    events.register("before-call.dynamodb.*", observe, unique_id=_HOOK_ID)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb.*", unique_id=_HOOK_ID)


def claimed(table: str) -> tuple[NotificationTable, str]:
    """A ledger on `table` and the key of an email it has just claimed."""
    ledger = NotificationTable(table)
    key = f"SENT#c{uuid.uuid4().hex[:20]}#reply#{uuid.uuid4().hex}"
    assert ledger.claim(key, now=datetime.now(UTC), lease=LEASE)
    return ledger, key


def entry(table: str, key: str) -> dict[str, Any]:
    found = dynamo.client().get_item(
        TableName=table, Key={"pk": {"S": key}, "sk": {"S": LEDGER_SK}}, ConsistentRead=True
    )["Item"]
    return dynamo.from_item(found)


def pointer(table: str, message_id: str) -> dict[str, Any] | None:
    found = (
        dynamo.client()
        .get_item(TableName=table, Key=message_key(message_id), ConsistentRead=True)
        .get("Item")
    )
    return None if found is None else dynamo.from_item(found)


def test_settling_a_sent_email_writes_its_pointer_then_the_entry(content_table: str) -> None:
    # Given an email claimed for sending, and the message id SES gave it
    ledger, key = claimed(content_table)
    message_id = f"0100-{uuid.uuid4().hex}"

    # When it is settled as sent
    with dynamodb_calls() as calls:
        ledger.settle(key, "sent", message_id=message_id, kind="reply")

    # Then the pointer was written, then the entry
    assert calls == ["PutItem", "UpdateItem"]
    assert (entry(content_table, key)["state"], entry(content_table, key)["ses_message_id"]) == (
        "sent",
        message_id,
    )
    assert "lease_until_ms" not in entry(content_table, key)
    found = pointer(content_table, message_id)
    assert found is not None
    assert found["ledger_key"] == key


def test_a_failed_pointer_write_leaves_the_entry_unsettled(content_table: str) -> None:
    # Given an email claimed for sending
    ledger, key = claimed(content_table)
    message_id = f"0100-{uuid.uuid4().hex}"

    # When the request that writes its pointer fails
    with dynamodb_calls(refusing=f"SESMSG#{message_id}") as calls, pytest.raises(ClientError):
        ledger.settle(key, "sent", message_id=message_id, kind="reply")

    # Then the entry is not settled as sent without its pointer: it is still claimed (its
    # retry will settle it, or its lease end lets another claim it)
    assert calls == ["PutItem"]
    assert entry(content_table, key)["state"] == "sending"
    assert pointer(content_table, message_id) is None


def test_a_bounce_after_a_settling_cut_short_still_suppresses_the_address(
    content_table: str,
) -> None:
    # Given an email whose settling stopped after its pointer (the process died, or the
    # entry's write failed for good)
    ledger, key = claimed(content_table)
    message_id = f"0100-{uuid.uuid4().hex}"
    with dynamodb_calls(refusing="REMOVE lease_until_ms"), pytest.raises(ClientError):
        ledger.settle(key, "sent", message_id=message_id, kind="reply")
    assert entry(content_table, key)["state"] == "sending"
    address = f"cut-short-{uuid.uuid4().hex[:8]}@example.org"
    bounce = json.loads((EVENTS_DIR / "ses_bounce_permanent.json").read_text())
    bounce["detail"]["mail"]["messageId"] = message_id
    bounce["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = address
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])

    # When SES's bounce of it comes
    handle_event(bounce, table=DeliveryTable(content_table), keys=lambda: keys)

    # Then the pointer led to the entry, and the address is suppressed
    assert ledger.suppressed([email_hash(keys.current, address)])


def test_settling_without_a_message_id_is_one_update(content_table: str) -> None:
    ledger, key = claimed(content_table)

    with dynamodb_calls() as calls:
        ledger.settle(key, "failed", detail="MessageRejected", kind="reply")

    assert calls == ["UpdateItem"]
    assert entry(content_table, key)["state"] == "failed"
