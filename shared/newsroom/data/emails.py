"""The email log: the sent-email ledger's entries by status, newest first, from the index the
moderation queues use (gsi3), which the entries join under ``gsi3pk = EMAILS#<status>``,
``gsi3sk = <settled time>#<ledger key>`` (`newsroom.data.notifications`, `newsroom.data.delivery`).

A page is one Query of the index for the entries' keys (the index carries none of their
attributes: its projection is the moderation queue's), then one `BatchGetItem` of the entries,
read consistently. The index itself cannot be read consistently (no index can): an entry an
SES event moved a moment ago may still be found under its old status. Such an entry is left
out of that status's page (the table, read after, says it moved), so a page can hold fewer
entries than asked for even when more follow; it is listed under its new status as soon as the
index has caught up, normally within a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsroom.data import dynamo
from newsroom.data.delivery import LEDGER_SK, email_partition
from newsroom.models.common import Page
from newsroom.models.emails import EmailStatus, LoggedEmail, error_code_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from newsroom.data.pagination import CursorSigner

EMAIL_LOG_INDEX = "gsi3"
_FREE = frozenset({"pk", "sk", "gsi3sk"})
_KEYS = ("pk", "sk", "gsi3pk", "gsi3sk")
# A BatchGetItem takes at most 100 keys.
_BATCH = 100


class EmailLogTable(dynamo.TableAccess):
    """Reads of the email log on one content table; its cursors signed by `cursors`."""

    def __init__(
        self, table: str, *, cursors: CursorSigner | None = None, db: DynamoDBClient | None = None
    ) -> None:
        super().__init__(table, db)
        self.cursors = cursors

    def list_by_status(
        self, status: EmailStatus, *, limit: int, cursor: str | None = None
    ) -> Page[LoggedEmail]:
        """One page of the entries with `status`, newest first, and the cursor of the next.

        Raises
        ------
        InvalidCursorError
            When the cursor is not one this listing issued.
        """
        if self.cursors is None:
            raise TypeError("listing pages needs a CursorSigner")
        partition = email_partition(status)
        query = self._query(status)
        if cursor is not None:
            start = self.cursors.decode(cursor, fixed={"gsi3pk": partition}, free=_FREE)
            query["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        found, more = dynamo.query_page(self.db, query, limit=limit)
        next_cursor = None
        if more:
            last = found[-1]
            next_cursor = self.cursors.encode({k: last[k]["S"] for k in _KEYS})
        return Page[LoggedEmail](items=self._entries(found, status), next_cursor=next_cursor)

    def every(self, status: EmailStatus, *, since: datetime | None = None) -> Iterator[LoggedEmail]:
        """Every entry with `status` (settled at `since` or later), newest first, read as the
        pages are (an operator's tool: `newsroom emails list`)."""
        query = self._query(status, since=since)
        keys: list[dynamo.Item] = []
        for key in dynamo.query_all(self.db, query):
            keys.append(key)
            if len(keys) == _BATCH:
                yield from self._entries(keys, status)
                keys = []
        if keys:
            yield from self._entries(keys, status)

    def _query(self, status: EmailStatus, *, since: datetime | None = None) -> dict[str, Any]:
        condition = "gsi3pk = :p"
        values: dict[str, Any] = {":p": {"S": email_partition(status)}}
        if since is not None:
            condition += " AND gsi3sk >= :since"
            values[":since"] = {"S": dynamo.sort_timestamp(since)}
        return {
            "TableName": self.table,
            "IndexName": EMAIL_LOG_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": ", ".join(_KEYS),
            "ScanIndexForward": False,
        }

    def _entries(self, found: list[dynamo.Item], status: EmailStatus) -> list[LoggedEmail]:
        """The ledger entries of the index's `found` keys, in the index's order, that still
        have `status` (see the module's text)."""
        if not found:
            return []
        keys: list[dynamo.Item] = [
            {"pk": {"S": item["pk"]["S"]}, "sk": {"S": LEDGER_SK}} for item in found
        ]
        read = dynamo.batch_get(self.db, self.table, keys)
        by_key = {item["pk"]["S"]: dynamo.from_item(item) for item in read}
        entries = (by_key.get(item["pk"]["S"]) for item in found)
        return [
            logged_email(entry)
            for entry in entries
            if entry is not None and entry.get("gsi3pk") == email_partition(status)
        ]


def logged_email(entry: dict[str, Any]) -> LoggedEmail:
    """A ledger entry (plain values) as the email log shows it.

    What the email was comes from the entry's ``kind``, ``slug`` and ``comment_id``; an entry
    settled before they were kept has its kind and comment read from its key
    (``SENT#<comment id>[@<revision>]#<kind>#<recipient hash>``), and its place in the log
    (``gsi3sk``) gives its time.
    """
    key = str(entry["pk"])
    about, key_kind, _ = key.removeprefix("SENT#").rsplit("#", 2)
    comment_id = entry.get("comment_id")
    if comment_id is None and about.startswith("c"):
        comment_id = about.split("@", 1)[0]
    status = str(entry["gsi3pk"]).removeprefix("EMAILS#")
    settled_at = entry.get("settled_at") or _time_of(str(entry["gsi3sk"]))
    return LoggedEmail.model_validate(
        {
            "kind": entry.get("kind") or key_kind,
            "slug": entry.get("slug"),
            "comment_id": comment_id,
            "status": status,
            "delivery": entry.get("delivery"),
            "error_code": error_code_of(str(entry.get("detail", "")))
            if entry.get("state") == "failed"
            else None,
            "settled_at": settled_at,
            "delivery_at": entry.get("delivery_at"),
            "ses_message_id": entry.get("ses_message_id"),
        }
    )


def _time_of(position: str) -> str:
    """The time an email log position (``<sort timestamp>#<ledger key>``) starts with, as ISO."""
    return position.split("#", 1)[0].replace("Z", "+00:00")
