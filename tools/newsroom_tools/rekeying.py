"""Re-deriving the keyed values stored with comments under the current key, after a rotation.

A comment keeps what was derived from its author's name and email and its text with the key of
the day it was posted: its `avatar`, its `commenter` key (and so the commenter profile that
makes a returning commenter "previously approved"), its `duplicate_key` (and its duplicate
guard) and its `author_key` (the keyed hash of the email, by which the author index finds every
comment of an address; a comment from before it was kept gets it here), and a comment from
before sender data had an item of its own loses the IP hash it kept; an address that
confirmed reply notices, or that is suppressed (a bounce, a complaint), is known by its keyed
hash. Each comment is moved in one transaction, conditional on the values read, so a comment
changed meanwhile is left for the next run; then each old profile's count moves to the new
profile in one transaction conditional on the count read, and each confirmed subscriber and
each suppression of a commenter's address to its new key. Running it again changes nothing.

An operator's tool (a `Scan` of the whole table), never run on a request path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from newsroom.data import dynamo
from newsroom.data.comments import (
    GUARD_SK,
    PROFILE_SK,
    author_index_values,
    duplicate_guard,
    duplicate_pk,
    profile_pk,
)
from newsroom.data.delivery import subscriber_item_key, suppression_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Derived:
    """What the current key gives for one comment."""

    avatar: str
    commenter: str
    duplicate_key: str
    author_key: str | None = None


@dataclass
class RekeyReport:
    comments_seen: int = 0
    comments_rekeyed: int = 0
    profiles_moved: int = 0
    subscribers_moved: int = 0
    suppressions_moved: int = 0
    changed_meanwhile: list[str] = field(default_factory=list)
    # The commenters' addresses, for what is keyed by address alone (subscribers,
    # suppressions); kept in memory only.
    emails: set[str] = field(default_factory=set)


def _comments(db: DynamoDBClient, table: str) -> Iterator[dict[str, Any]]:
    scan: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "#type = :comment",
        "ExpressionAttributeNames": {"#type": "type"},
        "ExpressionAttributeValues": {":comment": {"S": "comment"}},
        "ConsistentRead": True,
    }
    while True:
        response = db.scan(**scan)
        for item in response.get("Items", []):
            yield dynamo.from_item(item)
        if "LastEvaluatedKey" not in response:
            return
        scan["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def rekey_comments(
    db: DynamoDBClient, table: str, derive: Callable[[dict[str, Any]], Derived]
) -> RekeyReport:
    """Give every comment the values `derive` makes of it, moving guards and profiles along."""
    report = RekeyReport()
    moved_profiles: dict[str, str] = {}  # old commenter key -> new
    for comment in _comments(db, table):
        report.comments_seen += 1
        if comment.get("erased_at"):
            continue  # its author's data is gone: no hash may be made of what is left
        if comment["author_email"]:  # blank: imported from where an address was optional
            report.emails.add(str(comment["author_email"]))
        new = derive(comment)
        if comment.get("commenter") != new.commenter:
            moved_profiles[str(comment["commenter"])] = new.commenter
        old = Derived(
            avatar=str(comment.get("avatar")),
            commenter=str(comment.get("commenter")),
            duplicate_key=str(comment.get("duplicate_key")),
            author_key=None if comment.get("author_key") is None else str(comment["author_key"]),
        )
        # A comment stored before sender data had an item of its own keeps its IP hash, with
        # no expiry: nothing reads it, so it goes (docs/operations.md).
        if old == new and "ip_hash" not in comment:
            continue
        if _move_comment(db, table, comment, old, new):
            report.comments_rekeyed += 1
        else:
            report.changed_meanwhile.append(str(comment["id"]))
    for old_key, new_key in moved_profiles.items():
        if _move_profile(db, table, old_key, new_key):
            report.profiles_moved += 1
    return report


def _move_comment(
    db: DynamoDBClient, table: str, comment: dict[str, Any], old: Derived, new: Derived
) -> bool:
    author_index = author_index_values(
        new.author_key,
        str(comment["slug"]),
        str(comment["id"]),
        datetime.fromisoformat(str(comment["created_at"])),
    )
    sets = {"avatar": new.avatar, "commenter": new.commenter, "duplicate_key": new.duplicate_key}
    sets |= {"author_key": new.author_key, **author_index} if new.author_key else {}
    actions: list[Any] = [
        {
            "Update": {
                "TableName": table,
                "Key": dynamo.to_item({"pk": comment["pk"], "sk": comment["sk"]}),
                "UpdateExpression": "SET "
                + ", ".join(f"{name} = :{name}" for name in sets)
                + (" REMOVE ip_hash" if "ip_hash" in comment else ""),
                "ConditionExpression": "commenter = :old_commenter AND "
                "duplicate_key = :old_duplicate",
                "ExpressionAttributeValues": dynamo.to_item(
                    {f":{name}": value for name, value in sets.items()}
                    | {
                        ":old_commenter": old.commenter,
                        ":old_duplicate": old.duplicate_key,
                    }
                ),
            }
        }
    ]
    if old.duplicate_key != new.duplicate_key:
        actions.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": duplicate_guard(
                        new.duplicate_key, str(comment["slug"]), str(comment["id"])
                    ),
                }
            }
        )
        actions.append(
            {
                "Delete": {
                    "TableName": table,
                    "Key": dynamo.to_item({"pk": duplicate_pk(old.duplicate_key), "sk": GUARD_SK}),
                }
            }
        )
    return _applied(db, actions)


def _move_profile(db: DynamoDBClient, table: str, old_key: str, new_key: str) -> bool:
    """Add the old profile's approvals to the new one and delete it, if it still holds what was
    read; False if there was nothing to move or it changed meanwhile."""
    old = {"pk": {"S": profile_pk(old_key)}, "sk": {"S": PROFILE_SK}}
    found = db.get_item(TableName=table, Key=old, ConsistentRead=True).get("Item")
    if found is None:
        return False
    count = found.get("approved_count", {"N": "0"})
    return _applied(
        db,
        [
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": profile_pk(new_key)}, "sk": {"S": PROFILE_SK}},
                    "UpdateExpression": "ADD approved_count :count SET #type = :type",
                    "ExpressionAttributeNames": {"#type": "type"},
                    "ExpressionAttributeValues": {":count": count, ":type": {"S": "commenter"}},
                }
            },
            {
                "Delete": {
                    "TableName": table,
                    "Key": old,
                    "ConditionExpression": "approved_count = :count",
                    "ExpressionAttributeValues": {":count": count},
                }
            },
        ],
    )


def move_subscriber(db: DynamoDBClient, table: str, old_key: str, new_key: str) -> bool:
    """Carry an address's confirmed reply notices from its old key to its new one (keeping
    the first confirmation's time); False if there was nothing to move."""
    return _move_kept(
        db,
        table,
        subscriber_item_key(old_key),
        subscriber_item_key(new_key),
        kept=("confirmed_at",),
        item_type="subscriber",
    )


def move_suppression(db: DynamoDBClient, table: str, old_hash: str, new_hash: str) -> bool:
    """Carry an address's suppression from its old keyed hash to its new one (keeping the
    first reason and time); False if there was nothing to move."""
    return _move_kept(
        db,
        table,
        suppression_key(old_hash),
        suppression_key(new_hash),
        kept=("reason", "suppressed_at"),
        item_type="suppression",
    )


def _move_kept(
    db: DynamoDBClient,
    table: str,
    old: dynamo.Item,
    new: dynamo.Item,
    *,
    kept: tuple[str, ...],
    item_type: str,
) -> bool:
    """Write the `kept` attributes of the item at `old` to the item at `new` (where they are
    not set yet) and delete the old one, in one transaction; False if the old item holds none
    of the first attribute."""
    found = db.get_item(TableName=table, Key=old, ConsistentRead=True).get("Item")
    if found is None or kept[0] not in found:
        return False
    present = [name for name in kept if name in found]
    return _applied(
        db,
        [
            {
                "Update": {
                    "TableName": table,
                    "Key": new,
                    "UpdateExpression": "SET "
                    + ", ".join(f"{name} = if_not_exists({name}, :{name})" for name in present)
                    + ", #type = :type",
                    "ExpressionAttributeNames": {"#type": "type"},
                    "ExpressionAttributeValues": {f":{name}": found[name] for name in present}
                    | {":type": {"S": item_type}},
                }
            },
            {"Delete": {"TableName": table, "Key": old}},
        ],
    )


def _applied(db: DynamoDBClient, actions: list[Any]) -> bool:
    """Run a transaction; False if a condition refused it (nothing was written)."""
    try:
        db.transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if dynamo.error_code(exc) == "TransactionCanceledException":
            return False
        raise
    return True
