"""Settling a sent email's ledger entry with its ``SESMSG#`` pointer, against the emulator: one
`TransactWriteItems`, so that a failure leaves neither written (an entry settled as sent
without its pointer would leave the email's bounce or complaint unmatched)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from newsroom.data import dynamo
from newsroom.data.delivery import LEDGER_SK, message_key
from newsroom.data.notifications import NotificationTable

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


def test_settling_a_sent_email_writes_the_entry_and_its_pointer_in_one_transaction(
    content_table: str,
) -> None:
    # Given an email claimed for sending, and the message id SES gave it
    ledger, key = claimed(content_table)
    message_id = f"0100-{uuid.uuid4().hex}"

    # When it is settled as sent
    with dynamodb_calls() as calls:
        ledger.settle(key, "sent", message_id=message_id, kind="reply")

    # Then one TransactWriteItems recorded both the entry and the pointer to it
    assert calls == ["TransactWriteItems"]
    assert (entry(content_table, key)["state"], entry(content_table, key)["ses_message_id"]) == (
        "sent",
        message_id,
    )
    assert "lease_until_ms" not in entry(content_table, key)
    found = pointer(content_table, message_id)
    assert found is not None
    assert found["ledger_key"] == key


def test_a_failed_settling_leaves_neither_the_entry_settled_nor_the_pointer(
    content_table: str,
) -> None:
    # Given an email claimed for sending
    ledger, key = claimed(content_table)
    message_id = f"0100-{uuid.uuid4().hex}"

    # When the request that writes its pointer fails
    with dynamodb_calls(refusing=f"SESMSG#{message_id}") as calls, pytest.raises(ClientError):
        ledger.settle(key, "sent", message_id=message_id, kind="reply")

    # Then nothing of it was written: the entry is still claimed (its retry will settle it, or
    # its lease end lets another claim it), and no pointer leads to it
    assert entry(content_table, key)["state"] == "sending"
    assert pointer(content_table, message_id) is None
    assert calls == ["TransactWriteItems"]


def test_settling_without_a_message_id_is_one_update(content_table: str) -> None:
    ledger, key = claimed(content_table)

    with dynamodb_calls() as calls:
        ledger.settle(key, "failed", detail="MessageRejected", kind="reply")

    assert calls == ["UpdateItem"]
    assert entry(content_table, key)["state"] == "failed"
