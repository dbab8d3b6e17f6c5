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
from newsroom.data.comments import CommentTable, FloodGuard
from newsroom.errors import LinkUsedError, PrivacyRequestFloodError, ServiceUnavailableError
from newsroom.models.privacy import StoredPrivacyRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

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
                    UpdateExpression="SET used_at = :at",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at)",
                    ExpressionAttributeValues={":at": {"S": at.isoformat()}},
                )
        except ClientError as exc:
            if dynamo.error_code(exc) == "ConditionalCheckFailedException":
                raise LinkUsedError() from exc
            raise
