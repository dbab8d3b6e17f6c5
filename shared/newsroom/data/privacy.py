"""Privacy requests in the content table.

Request item: ``pk=PRIVACY#<request id>``, ``sk=REQUEST``, ``type=privacy_request``, with the
address, the kind, ``requested_at``, ``used_at`` once its link acted, and ``expires_at`` (TTL: a
day after its link expires). Written with its rate-limit guards (per IP, per address: flood
guards of their own kinds) in one transaction; its link acts once, by a conditional write of
``used_at``. Its ``type`` is no comment's, so the stream's filter drops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsroom.data import dynamo
from newsroom.data.comments import (
    GUARD_SK,
    PROFILE_SK,
    CommentTable,
    FloodGuard,
    answered_duplicate_key,
    comment_key,
    duplicate_pk,
    profile_pk,
    sender_data_key,
)
from newsroom.data.notifications import (
    ERASURE_MEMORY,
    LEDGER_SK,
    erasure_key,
    subscriber_item_key,
)
from newsroom.errors import LinkUsedError, PrivacyRequestFloodError, ServiceUnavailableError
from newsroom.models.privacy import ERASED_NAME, ERASED_TEXT, StoredPrivacyRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from newsroom.models.comments import AnsweredDuplicate, StoredComment

REQUEST_SK = "REQUEST"


def request_key(request_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRIVACY#{request_id}"}, "sk": {"S": REQUEST_SK}}


class AddressRateLimitedError(Exception):
    """A request for this address came too recently: nothing is stored and nothing is sent, and
    the caller is answered as any other (the answer never tells about an address)."""


class PrivacyTable(CommentTable):
    """Privacy requests, and the comment reads and writes acting on them need."""

    def record_request(
        self,
        request: StoredPrivacyRequest,
        *,
        ip_guards: Sequence[FloodGuard],
        address_guards: Sequence[FloodGuard],
        interval: timedelta,
        expires_at: datetime,
    ) -> None:
        """Store a request with its guards, all or nothing.

        Raises
        ------
        PrivacyRequestFloodError
            The IP asked too recently (nothing is written).
        AddressRateLimitedError
            The address was asked for too recently: only the IP's guard is taken.
        """
        ips = self._flood_actions(request.requested_at, ip_guards, interval)
        addresses = self._flood_actions(request.requested_at, address_guards, interval)
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self.table,
                "Item": request_key(request.id)
                | dynamo.to_item(
                    {
                        "type": "privacy_request",
                        **request.model_dump(mode="json"),
                        "expires_at": int(expires_at.timestamp()),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        failed = self._transact(
            [*ips, *addresses, put],
            ["ip"] * len(ips) + ["address"] * len(addresses) + ["request"],
        )
        if failed == "address":
            # As if it had been stored: the IP's guard is taken all the same.
            failed = self._transact(ips, ["ip"] * len(ips))
            if failed is None:
                raise AddressRateLimitedError()
        if failed == "ip":
            raise PrivacyRequestFloodError(int(interval.total_seconds()))
        if failed is not None:  # a request id collision: vanishingly rare
            raise ServiceUnavailableError()

    def forget_request(self, request_id: str) -> None:
        """Delete a request whose email could not be sent (its link is then never used)."""
        with dynamo.unavailable_as_domain_error():
            self.db.delete_item(TableName=self.table, Key=request_key(request_id))

    def get_request(self, request_id: str) -> tuple[StoredPrivacyRequest, bool] | None:
        """The request, and whether its link was used; None when it is gone."""
        with dynamo.unavailable_as_domain_error():
            found = self.db.get_item(
                TableName=self.table, Key=request_key(request_id), ConsistentRead=True
            ).get("Item")
        if found is None:
            return None
        values = dynamo.from_item(found)
        return StoredPrivacyRequest.model_validate(values), "used_at" in values

    def use_request(self, request_id: str, at: datetime) -> None:
        """Record that the request's link acted, once.

        Raises
        ------
        LinkUsedError
            It acted before (or the request is gone).
        """
        from botocore.exceptions import ClientError

        try:
            with dynamo.unavailable_as_domain_error():
                self.db.update_item(
                    TableName=self.table,
                    Key=request_key(request_id),
                    # The address goes with the link's use: the request no longer needs it.
                    UpdateExpression="SET used_at = :at REMOVE email",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at)",
                    ExpressionAttributeValues={":at": {"S": at.isoformat()}},
                )
        except ClientError as exc:
            if dynamo.error_code(exc) == "ConditionalCheckFailedException":
                raise LinkUsedError() from exc
            raise

    # -- erasure -----------------------------------------------------------------------------

    def remember_erasure(self, author_key: str, at: datetime) -> None:
        """Record that the address (its keyed hash) is erased as of `at`, for as long as the
        stream may still deliver records written before (`ERASURE_MEMORY`)."""
        with dynamo.unavailable_as_domain_error():
            self.db.put_item(
                TableName=self.table,
                Item=erasure_key(author_key)
                | dynamo.to_item(
                    {
                        "type": "erased_address",
                        "erased_at": at.isoformat(),
                        "expires_at": int((at + ERASURE_MEMORY).timestamp()),
                    }
                ),
            )

    def anonymise(self, comment: StoredComment, at: datetime) -> bool:
        """Keep a comment that has replies in its place, without its author's data: no name,
        address, website, avatar or keyed hashes of them, its text replaced, no notices; its
        duplicate guard and sender data deleted, all in one transaction. Its status and
        revision stay, so the stream's record of it sends nothing (docs/notifications.md).

        False when it no longer holds the address read (erased meanwhile, or gone).
        """
        moderation = comment.moderation.model_dump(mode="json") | {
            "keyword": None,
            "explanation": "Removed at its author's request.",
            "by": "privacy request",
            "at": at.isoformat(),
        }
        sets = {
            "author_name": ERASED_NAME,
            "author_email": "",
            "avatar": "",
            "commenter": "",
            "duplicate_key": "",
            "body_markdown": ERASED_TEXT,
            "body_html": f"<p>{ERASED_TEXT}</p>",
            "moderation": moderation,
            "notify_replies": False,
            "erased_at": at.isoformat(),
        }
        names = {f"#s{i}": name for i, name in enumerate(sets)}
        values = {f":s{i}": value for i, value in enumerate(sets.values())}
        expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
        # (ip_hash: on a comment stored before sender data had an item of its own)
        expression += " REMOVE author_url, author_key, gsi4pk, gsi4sk, ip_hash"
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": comment_key(comment.slug, comment.id),
                    "UpdateExpression": expression,
                    "ConditionExpression": "author_email = :old",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": dynamo.to_item(
                        values | {":old": comment.author_email}
                    ),
                }
            },
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": {
                        "pk": {"S": duplicate_pk(comment.duplicate_key)},
                        "sk": {"S": GUARD_SK},
                    },
                }
            },
            {"Delete": {"TableName": self.table, "Key": sender_data_key(comment.slug, comment.id)}},
        ]
        return self._transact(actions, ["comment", "effect", "effect"]) is None

    def forget(
        self,
        *,
        profiles: Sequence[str],
        subscribers: Sequence[str],
        duplicates: Sequence[AnsweredDuplicate],
        ledger_entries: Sequence[str],
    ) -> None:
        """Delete what is keyed by an address alone once its comments are dealt with: its
        commenter profiles (so it is no longer "previously approved"), its confirmed reply
        notices, the duplicates answered in its name; and take its sent-email ledger entries
        out of the author index. The entries themselves stay until their TTL (30 days): they
        hold only a keyed hash of the address, and they are what keeps a stream record
        delivered again from mailing anyone twice."""
        keys: list[dynamo.Item] = [
            {"pk": {"S": profile_pk(p)}, "sk": {"S": PROFILE_SK}} for p in profiles
        ]
        keys += [subscriber_item_key(s) for s in subscribers]
        keys += [answered_duplicate_key(d.slug, d.id) for d in duplicates]
        with dynamo.unavailable_as_domain_error():
            for key in keys:
                self.db.delete_item(TableName=self.table, Key=key)
            for entry in ledger_entries:
                self._unindex(entry)

    def _unindex(self, entry: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.db.update_item(
                TableName=self.table,
                Key={"pk": {"S": entry}, "sk": {"S": LEDGER_SK}},
                UpdateExpression="REMOVE gsi4pk, gsi4sk",
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as exc:
            if dynamo.error_code(exc) != "ConditionalCheckFailedException":
                raise  # gone by TTL meanwhile: nothing to take out
