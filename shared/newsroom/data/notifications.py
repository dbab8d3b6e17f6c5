"""The sent-email ledger and the reads the notifications need, in the content table.

Ledger item: ``pk=SENT#<comment id>#<kind>#<recipient hash>`` (or ``SENT#ADDRESS#<kind>#...``
for an email sent at most once per address per period), ``sk=SENT``, with ``state``
(``sending`` while claimed, then ``sent``, ``failed`` or ``suppressed``), ``ses_message_id``
(what SES returned for a sent email; its ``SESMSG#`` pointer, `newsroom.data.delivery`, finds the
entry from SES's delivery events, which record ``delivery`` on it), ``lease_until_ms`` (while
claimed: when the claiming invocation would be stopped), ``again_after_ms`` (when a per-period
email may go again) and ``expires_at``. Claiming is a conditional write, so a redelivered stream
record finds the email already sent. Once settled it also holds what the email was (``kind``,
and the ``slug`` and ``comment_id`` it was about, when it was about a comment; never an address
or a name), ``settled_at``, and its place in the email log (``GET /admin/emails``): ``gsi3pk =
EMAILS#<status>`` (``sent``, ``failed`` or ``suppressed``, then moved by SES's events to
``delivered``, ``bounced``, ``complained`` or ``rejected``), ``gsi3sk = <settled_at>#<ledger
key>``. A failed email's ``detail`` is SES's error code, never its message (which may quote the
address).

Subscriber item: ``pk=SUBSCRIBER#<keyed hash of the address>``, ``sk=SUBSCRIBER``, with
``confirmed_at``: the address confirmed, by a signed link, that it wants reply notices.

Erasure item: ``pk=ERASED#<keyed hash of the address>``, ``sk=ERASED``, with ``erased_at`` and
``expires_at`` (TTL, `ERASURE_MEMORY`): a stream record of a comment written before then with
that address sends nothing (its images carry what was erased).

Restore record: ``pk=RESTORE``, ``sk=RESTORE``, written by `newsroom import backup` before the
first item it restores, with ``restored_through``: the creation time of the newest comment of
the backup. A restore writes every comment again, each an insert on the stream; an insert of a
comment created no later than that is the restore's, and sends nothing (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from newsroom import deadline
from newsroom.data import dynamo
from newsroom.data.articles import ARTICLE_SK, article_pk
from newsroom.data.comments import COMMENT_PREFIX, SpentToken, author_index_values, comment_key
from newsroom.data.delivery import (
    LEDGER_SK,
    email_log_position,
    email_partition,
    is_suppressed,
    message_pointer,
    subscriber_item_key,
)
from newsroom.errors import LinkUsedError, ServiceUnavailableError
from newsroom.models.articles import StoredArticle
from newsroom.models.comments import StoredComment

LEDGER_RETENTION = timedelta(days=30)


class ClaimHeldError(Exception):
    """Another invocation claimed this email and its lease has not ended: it is sending it,
    or it died and its lease runs until it would have been stopped anyway."""

    def __init__(self, key: str, *, lease_until: datetime | None = None) -> None:
        super().__init__(key)
        self.lease_until = lease_until


# How a claimed email ends (`NotificationTable.settle`).
SETTLED_STATES = frozenset({"sent", "failed", "suppressed"})


@dataclass(frozen=True)
class NotificationContext:
    article: StoredArticle | None
    answered: StoredComment | None  # the comment a reply answers
    # Addresses (normalised) that confirmed they want reply notices, of those asked about.
    confirmed: frozenset[str] = frozenset()
    # When the address of the comment was erased at its owner's request, if it was lately.
    erased_at: datetime | None = None
    # Comments created no later than this were written by a restore (`restore_record_key`).
    restored_through: datetime | None = None


def _ledger_key(key: str) -> dynamo.Item:
    return {"pk": {"S": key}, "sk": {"S": LEDGER_SK}}


ERASURE_SK = "ERASED"
# How long an erasure is remembered: the stream keeps a record 24 hours, and a failing one is
# retried within that; a record older than the erasure delivered later must send nothing.
ERASURE_MEMORY = timedelta(days=2)


def erasure_key(author_key: str) -> dynamo.Item:
    """The key of the record that an address (its keyed hash) was erased."""
    return {"pk": {"S": f"ERASED#{author_key}"}, "sk": {"S": ERASURE_SK}}


RESTORE_SK = "RESTORE"


def restore_record_key() -> dynamo.Item:
    """The key of the record a restore of a backup keeps in the table (see the module's text)."""
    return {"pk": {"S": "RESTORE"}, "sk": {"S": RESTORE_SK}}


# Defined with the other delivery keys (newsroom.data.delivery, which this module imports), known
# here too.
__all__ = ["LEDGER_SK", "subscriber_item_key"]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class NotificationTable(dynamo.TableAccess):
    """Ledger writes and context reads on one content table."""

    def load_context(
        self, slug: str, answered_id: str | None, *, erased: Sequence[str] = ()
    ) -> NotificationContext:
        """The article, the comment a reply answers, of the author keys `erased` (the keyed
        hashes of the comment's address) when that address was last erased, and what a restore
        wrote: one `BatchGetItem`."""
        keys: list[dynamo.Item] = [
            {"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}},
            restore_record_key(),
        ]
        if answered_id:
            keys.append(comment_key(slug, answered_id))
        keys += [erasure_key(key) for key in dict.fromkeys(erased)]
        items = dynamo.batch_get(self.db, self.table, keys)
        found = {item["sk"]["S"]: dynamo.from_item(item) for item in items}
        article = found.get(ARTICLE_SK)
        answered = found.get(COMMENT_PREFIX + answered_id) if answered_id else None
        erasures = [
            datetime.fromisoformat(str(item["erased_at"]["S"]))
            for item in items
            if item["sk"]["S"] == ERASURE_SK
        ]
        restored = found.get(RESTORE_SK, {}).get("restored_through")
        return NotificationContext(
            article=StoredArticle.model_validate(article) if article else None,
            answered=StoredComment.model_validate(answered) if answered else None,
            erased_at=max(erasures) if erasures else None,
            restored_through=datetime.fromisoformat(str(restored)) if restored else None,
        )

    def claim(
        self,
        key: str,
        *,
        now: datetime,
        lease: timedelta,
        earlier: Sequence[str] = (),
        recipient: str | None = None,
    ) -> bool:
        """Take the right to send the email `key`: True if ours to send, False if it was
        already sent (or given up on).

        `earlier` are the same email's keys under the previous keys of a rotation: if one of
        them was sent, so was this email. `recipient` (the keyed hash of the address,
        `privacy.email_hash`) places the entry in the author index, so that an export or an
        erasure of that address finds it.

        Raises
        ------
        ClaimHeldError
            When another invocation holds an unexpired claim (it says until when).
        """
        names = {"#state": "state"}
        values: dict[str, Any] = {":sending": "sending", ":now": _ms(now)}
        claimable = (
            "attribute_not_exists(pk) OR (#state = :sending AND lease_until_ms < :now)"
            " OR again_after_ms < :now"
        )
        indexed = {} if recipient is None else author_index_values(recipient, "SENT", key, now)
        update: Any = {
            "TableName": self.table,
            "Key": _ledger_key(key),
            "UpdateExpression": "SET #state = :sending, lease_until_ms = :lease, "
            "expires_at = :expires, #type = :type"
            + "".join(f", {name} = :{name}" for name in indexed)
            # An email sent once per period, claimed again: what its last sending recorded is
            # not this one's, and it leaves the email log while it is being sent.
            + " REMOVE again_after_ms, ses_message_id, delivery, delivery_at, gsi3pk, gsi3sk",
            "ConditionExpression": claimable,
            "ExpressionAttributeNames": names | {"#type": "type"},
            "ExpressionAttributeValues": dynamo.to_item(
                values
                | {f":{name}": value for name, value in indexed.items()}
                | {
                    ":lease": _ms(now + lease),
                    ":expires": int((now + LEDGER_RETENTION).timestamp()),
                    ":type": "sent_email",
                }
            ),
        }
        earlier = [k for k in dict.fromkeys(earlier) if k != key]
        try:
            if not earlier:
                self.db.update_item(**update, ReturnValuesOnConditionCheckFailure="ALL_OLD")
            else:
                checks: list[Any] = [
                    {
                        "ConditionCheck": {
                            "TableName": self.table,
                            "Key": _ledger_key(k),
                            "ConditionExpression": claimable,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": dynamo.to_item(values),
                        }
                    }
                    for k in earlier
                ]
                self.db.transact_write_items(TransactItems=[{"Update": update}, *checks])
        except ClientError as exc:
            code = dynamo.error_code(exc)
            if code == "ConditionalCheckFailedException":
                entries: list[Any] = [exc.response.get("Item", {})]
            elif code == "TransactionCanceledException":
                entries = self._entries([key, *earlier])
            else:
                raise
            states = [entry.get("state", {}).get("S") for entry in entries]
            if {"sent", "failed", "suppressed"} & set(states):
                return False
            leases = [
                int(entry["lease_until_ms"]["N"])
                for entry in entries
                if entry.get("state", {}).get("S") == "sending" and "lease_until_ms" in entry
            ]
            if "sending" in states:
                until = datetime.fromtimestamp(max(leases) / 1000, UTC) if leases else None
                raise ClaimHeldError(key, lease_until=until) from exc
            raise  # cancelled for another reason (a conflict): the record is retried
        return True

    def _entries(self, keys: list[str]) -> list[dynamo.Item]:
        """The ledger entries of `keys` that exist, read consistently."""
        return dynamo.batch_get(self.db, self.table, [_ledger_key(k) for k in keys])

    def settle(
        self,
        key: str,
        state: str,
        *,
        detail: str = "",
        again_after: datetime | None = None,
        message_id: str = "",
        now: datetime | None = None,
        kind: str = "",
        slug: str = "",
        comment_id: str = "",
    ) -> None:
        """Record how a claimed email ended: ``sent``, ``failed`` or ``suppressed``, never sent
        again (or, with `again_after`, not before then), and list it under that status in the
        email log at `now` (the settling time). What the email was is kept with it: its `kind`,
        and the article (`slug`) and comment (`comment_id`) it was about, when it was about one
        (never an address or a name). Tried whatever time the invocation has left: not
        recording an email that went out would have it sent again.

        A sent email's SES `message_id` is kept on the entry, and a ``SESMSG#`` pointer to the
        entry (kept as long as the entry), by which its delivery events find it, is written
        first: the entry is never settled as sent without its pointer, whose absence would
        leave a bounce or complaint unmatched and the address unsuppressed. A process that dies
        between the two leaves a pointer to an entry still claimed: the email's events still
        find it and suppress the address (`newsroom.delivery`), and the entry is sent again
        once its lease ends, as any email whose sending was not recorded. Both writes are
        unconditional, so a resend by botocore after a lost answer is harmless. (Not one
        `TransactWriteItems`: it would cost twice the write units for the same guarantee.)"""
        if state not in SETTLED_STATES:
            raise ValueError(f"not a settled state: {state!r}")
        at = now or datetime.now(UTC)
        expression = (
            "SET #state = :state, detail = :detail, settled_at = :settled_at, "
            "gsi3pk = :status, gsi3sk = :position"
        )
        values: dict[str, Any] = {
            ":state": state,
            ":detail": detail,
            ":settled_at": at.isoformat(),
            ":status": email_partition(state),
            ":position": email_log_position(at, key),
        }
        names = {"#state": "state"}
        for name, value in {"kind": kind, "slug": slug, "comment_id": comment_id}.items():
            if value:  # named by placeholder: DynamoDB reserves many words
                expression += f", #{name} = :{name}"
                names[f"#{name}"] = name
                values[f":{name}"] = value
        if again_after is not None:
            expression += ", again_after_ms = :again"
            values[":again"] = _ms(again_after)
        if message_id:
            expression += ", ses_message_id = :message_id"
            values[":message_id"] = message_id
        update: Any = {
            "TableName": self.table,
            "Key": _ledger_key(key),
            "UpdateExpression": expression + " REMOVE lease_until_ms",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": dynamo.to_item(values),
        }
        with deadline.regardless():
            if message_id:
                expires = int((at + LEDGER_RETENTION).timestamp())
                self.db.put_item(
                    TableName=self.table, Item=message_pointer(message_id, key, expires_at=expires)
                )
            self.db.update_item(**update)

    def suppressed(self, address_hashes: Sequence[str]) -> bool:
        """Whether the address these hashes stand for (one per key) is suppressed."""
        return is_suppressed(self, address_hashes)

    def release(self, key: str) -> None:
        """Give a claim back after a failure worth retrying, so the retry may claim it (tried
        whatever time the invocation has left, or the retry waits for the claim's lease)."""
        try:
            with deadline.regardless():
                self.db.delete_item(
                    TableName=self.table,
                    Key=_ledger_key(key),
                    ConditionExpression="#state = :sending",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":sending": {"S": "sending"}},
                )
        except ClientError as exc:
            if dynamo.error_code(exc) != "ConditionalCheckFailedException":
                raise

    def stop_reply_notices(self, slug: str, comment_id: str) -> bool:
        """Turn off "notify me of replies" on a comment; False if there is no such comment."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key=comment_key(slug, comment_id),
                UpdateExpression="SET notify_replies = :false",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":false": {"BOOL": False}},
            )
        except ClientError as exc:
            if dynamo.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def confirmed_subscribers(self, keys: Sequence[str]) -> set[str]:
        """Which of the subscriber `keys` confirmed reply notices, in one `BatchGetItem`."""
        if not keys:
            return set()
        found = dynamo.batch_get(
            self.db, self.table, [subscriber_item_key(k) for k in dict.fromkeys(keys)]
        )
        return {
            item["pk"]["S"].removeprefix("SUBSCRIBER#") for item in found if "confirmed_at" in item
        }

    def confirm_subscriber(
        self, key: str, *, at: datetime, spend_token: SpentToken | None = None
    ) -> None:
        """Record that the address `key` stands for wants reply notices (keeping the first
        confirmation's time), spending the signed link's one-time id in the same transaction.

        Raises
        ------
        LinkUsedError
            When the link's token was spent already.
        """
        confirm: Any = {
            "Update": {
                "TableName": self.table,
                "Key": subscriber_item_key(key),
                "UpdateExpression": "SET confirmed_at = if_not_exists(confirmed_at, :at), "
                "#type = :type",
                "ExpressionAttributeNames": {"#type": "type"},
                "ExpressionAttributeValues": dynamo.to_item(
                    {":at": at.isoformat(), ":type": "subscriber"}
                ),
            }
        }
        if spend_token is None:
            with dynamo.unavailable_as_domain_error():
                self.db.update_item(**confirm["Update"])
            return
        spend = spend_token.put(self.table)
        try:
            with dynamo.unavailable_as_domain_error():
                self.db.transact_write_items(TransactItems=[confirm, spend])
        except ClientError as exc:
            if dynamo.error_code(exc) != "TransactionCanceledException":
                raise
            codes = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            if codes[1:2] == ["ConditionalCheckFailed"]:
                raise LinkUsedError() from exc
            if set(codes) & dynamo.CANCELLED_FOR_NOW:
                raise ServiceUnavailableError() from exc
            raise
