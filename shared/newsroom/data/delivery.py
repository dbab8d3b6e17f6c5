"""What SES's delivery events write in the content table, and what `deliver` reads of it.

Message pointer: ``pk=SESMSG#<SES message id>``, ``sk=SESMSG``, with ``ledger_key`` (the ``pk``
of the sent-email ledger entry of that email) and ``expires_at`` (the ledger's retention):
written with the ledger's ``sent`` record, read by the delivery events function to find which
email an event is about (SES replaces our Message-ID header, so its id is the only link).

Suppression item: ``pk=SUPPRESSED#<keyed hash of the address>``, ``sk=SUPPRESSED``, with
``reason`` (``bounce`` or ``complaint``) and ``suppressed_at``, kept until removed: nothing is sent
to that address again (docs/notifications.md).

On the ledger entry itself the function records ``delivery`` (``delivered``,
``bounced:permanent``, ``bounced:transient``, ``bounced:undetermined``, ``complained``,
``rejected``, ``delayed``) and ``delivery_at``, beside its ``state`` (``sent``), which the claim
reads and which they never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from botocore.exceptions import ClientError

from newsroom.data import dynamo

MESSAGE_SK = "SESMSG"
SUPPRESSED_SK = "SUPPRESSED"
SUBSCRIBER_SK = "SUBSCRIBER"
# The sent-email ledger entry's sort key (newsroom.data.notifications writes the entries).
LEDGER_SK = "SENT"


def message_key(message_id: str) -> dynamo.Item:
    """The key of the pointer from SES's message id to its ledger entry."""
    return {"pk": {"S": f"SESMSG#{message_id}"}, "sk": {"S": MESSAGE_SK}}


def suppression_key(address_hash: str) -> dynamo.Item:
    """The key of the suppression item of an address (`privacy.email_hash`)."""
    return {"pk": {"S": f"SUPPRESSED#{address_hash}"}, "sk": {"S": SUPPRESSED_SK}}


def subscriber_item_key(key: str) -> dynamo.Item:
    """The key of the subscriber item of an address's keyed hash `key`."""
    return {"pk": {"S": f"SUBSCRIBER#{key}"}, "sk": {"S": SUBSCRIBER_SK}}


def message_pointer(message_id: str, ledger_key: str, *, expires_at: int) -> dynamo.Item:
    """The pointer item written with a ledger entry's ``sent`` record."""
    return message_key(message_id) | dynamo.to_item(
        {"ledger_key": ledger_key, "expires_at": expires_at, "type": "ses_message"}
    )


class DeliveryTable(dynamo.TableAccess):
    """The delivery events function's reads and writes: single items only."""

    def ledger_key_of(self, message_id: str) -> str | None:
        """The ledger entry (its ``pk``) of the email SES knows as `message_id`, if known."""
        found = self.db.get_item(
            TableName=self.table, Key=message_key(message_id), ConsistentRead=True
        ).get("Item")
        return str(found["ledger_key"]["S"]) if found and "ledger_key" in found else None

    def record_delivery(self, ledger_key: str, delivery: str, *, at: datetime) -> bool:
        """Record how the email ended on its ledger entry; False if the entry is gone, or if
        `delivery` is ``delayed`` and an outcome was recorded already (events come in any
        order: a delay does not undo a delivery or a bounce)."""
        condition = "attribute_exists(pk)"
        if delivery == "delayed":
            condition += " AND attribute_not_exists(delivery)"
        try:
            self.db.update_item(
                TableName=self.table,
                Key={"pk": {"S": ledger_key}, "sk": {"S": LEDGER_SK}},
                UpdateExpression="SET delivery = :delivery, delivery_at = :at",
                ConditionExpression=condition,
                ExpressionAttributeValues=dynamo.to_item(
                    {":delivery": delivery, ":at": at.isoformat()}
                ),
            )
        except ClientError as exc:
            if dynamo.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def suppress(self, address_hash: str, *, reason: str, at: datetime) -> None:
        """Suppress the address (the first reason and time are kept)."""
        self.db.update_item(
            TableName=self.table,
            Key=suppression_key(address_hash),
            UpdateExpression="SET reason = if_not_exists(reason, :reason), "
            "suppressed_at = if_not_exists(suppressed_at, :at), #type = :type",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues=dynamo.to_item(
                {":reason": reason, ":at": at.isoformat(), ":type": "suppression"}
            ),
        )

    def end_subscriptions(self, subscriber_keys: Sequence[str]) -> None:
        """Forget that these addresses (`privacy.subscriber_key`) confirmed reply notices."""
        for key in dict.fromkeys(subscriber_keys):
            self.db.delete_item(TableName=self.table, Key=subscriber_item_key(key))


def is_suppressed(table: dynamo.TableAccess, address_hashes: Sequence[str]) -> bool:
    """Whether any of the hashes of one address (one per key of the keyring) is suppressed."""
    if not address_hashes:
        return False
    keys = [suppression_key(h) for h in dict.fromkeys(address_hashes)]
    return bool(dynamo.batch_get(table.db, table.table, keys, attributes=("pk",)))
