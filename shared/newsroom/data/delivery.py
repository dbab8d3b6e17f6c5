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
reads and which they never change; and it moves the entry's place in the email log (``gsi3pk =
EMAILS#<status>``, `email_partition`) to the status the outcome gives (`DELIVERY_STATUS`).
Events come in any order and SES may send one twice: an outcome is recorded only when it says
more than the one recorded (`DELIVERY_RANK`), so a delivery after a bounce leaves ``bounced``,
and a complaint after a delivery makes it ``complained``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from newsroom.data import dynamo

if TYPE_CHECKING:
    from newsroom.models.emails import EmailStatus

MESSAGE_SK = "SESMSG"
SUPPRESSED_SK = "SUPPRESSED"
SUBSCRIBER_SK = "SUBSCRIBER"
# The sent-email ledger entry's sort key (newsroom.data.notifications writes the entries).
LEDGER_SK = "SENT"

# The email log's status of an entry an SES event was recorded on (a delay leaves it ``sent``).
DELIVERY_STATUS = {
    "delayed": "sent",
    "delivered": "delivered",
    "bounced:transient": "bounced",
    "bounced:undetermined": "bounced",
    "bounced:permanent": "bounced",
    "rejected": "rejected",
    "complained": "complained",
}
# How much an outcome says: a later event is recorded only when it ranks higher than the one
# recorded. A delay says least (the email may still arrive); a delivery is undone by a bounce
# that comes after it (the receiving server accepted, then bounced it); a permanent bounce
# outranks a transient or undetermined one; SES rejects an email before sending it, so nothing
# follows a rejection but events delivered out of order; a complaint, the recipient marking
# the email as spam, says most, whatever came before it.
DELIVERY_RANK = {
    "delayed": 0,
    "delivered": 1,
    "bounced:transient": 2,
    "bounced:undetermined": 2,
    "bounced:permanent": 3,
    "rejected": 3,
    "complained": 4,
}
# A ledger entry's statuses in the email log: how its sending ended (`settle`), then what SES
# said of a sent one.
EMAIL_STATUSES: tuple[EmailStatus, ...] = (
    "sent",
    "delivered",
    "bounced",
    "complained",
    "suppressed",
    "failed",
    "rejected",
)
EMAIL_LOG_PREFIX = "EMAILS#"


def email_partition(status: str) -> str:
    """The email log's partition (``gsi3pk``) of the ledger entries with this status."""
    return EMAIL_LOG_PREFIX + status


def email_log_position(at: datetime, ledger_key: str) -> str:
    """The email log's sort key (``gsi3sk``) of an entry settled `at`: time order, then key."""
    return f"{dynamo.sort_timestamp(at)}#{ledger_key}"


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

    def record_delivery(
        self, ledger_key: str, delivery: str, *, message_id: str, at: datetime
    ) -> bool:
        """Record how the email SES knows as `message_id` ended on its ledger entry, and move
        the entry to the email log's status this gives, in one conditional write.

        False when nothing was recorded: the entry is gone, or it is another email's now (an
        email sent once per period went again since), or `delivery` says no more than what is
        recorded already (`DELIVERY_RANK`; events come in any order, and some twice).

        An entry settled before the email log existed has no place in it (``gsi3sk``): it is
        given one at the event's time.
        """
        rank = DELIVERY_RANK[delivery]
        weaker = sorted(name for name, other in DELIVERY_RANK.items() if other < rank)
        outranked = "attribute_not_exists(delivery)"
        if weaker:
            placeholders = ", ".join(f":weaker{i}" for i in range(len(weaker)))
            outranked = f"({outranked} OR delivery IN ({placeholders}))"
        values: dict[str, Any] = {
            ":delivery": delivery,
            ":at": at.isoformat(),
            ":message_id": message_id,
            ":status": email_partition(DELIVERY_STATUS[delivery]),
            ":position": email_log_position(at, ledger_key),
        } | {f":weaker{i}": name for i, name in enumerate(weaker)}
        try:
            self.db.update_item(
                TableName=self.table,
                Key={"pk": {"S": ledger_key}, "sk": {"S": LEDGER_SK}},
                UpdateExpression="SET delivery = :delivery, delivery_at = :at, "
                "gsi3pk = :status, gsi3sk = if_not_exists(gsi3sk, :position)",
                ConditionExpression=f"ses_message_id = :message_id AND {outranked}",
                ExpressionAttributeValues=dynamo.to_item(values),
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

    def unsuppress(self, address_hashes: Sequence[str]) -> list[dict[str, Any]]:
        """Remove the suppression of an address under each of its hashes (one per key of the
        keyring); the suppressions there were (``reason``, ``suppressed_at``), none if none."""
        removed = []
        for address_hash in dict.fromkeys(address_hashes):
            old = self.db.delete_item(
                TableName=self.table, Key=suppression_key(address_hash), ReturnValues="ALL_OLD"
            ).get("Attributes")
            if old:
                removed.append(dynamo.from_item(old))
        return removed

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
