"""The DynamoDB client, item (de)serialisation and the mapping of AWS failures to domain errors."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from newsroom.deadline import refuse_late_attempts
from newsroom.errors import IndexNotReadyError, InvalidCursorError, ServiceUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)
# DynamoDB's answer to a read of an index it is still building: a ValidationException, told
# from the others by its message ("Cannot read from backfilling global secondary index: <name>").
_BACKFILLING = re.compile(r"backfilling global secondary index", re.IGNORECASE)
# Why a transaction was cancelled when trying it again shortly may do (not a failed condition):
# another transaction on one of its items, or an item or index over capacity.
CANCELLED_FOR_NOW = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# An attempt takes at most 3 s (DynamoDB answers in milliseconds; a 1 MB Query page well within
# a second); of the three attempts, those that cannot end before the invocation's deadline are
# not started (`newsroom.deadline`), so a 10 s function answers 503 rather than time out.
_CLIENT_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 3}
)


def new_client() -> DynamoDBClient:
    """A DynamoDB client with the layer's timeouts and deadline (endpoint and credentials from
    the usual AWS settings)."""
    return refuse_late_attempts(boto3.client("dynamodb", config=_CLIENT_CONFIG))


@cache
def client() -> DynamoDBClient:
    """The process-wide DynamoDB client (`new_client`)."""
    return new_client()


class TableAccess:
    """Reads and writes on one table, through `db` if given, else the process-wide client
    (looked up per call, so a cleared client cache is seen)."""

    def __init__(self, table: str, db: DynamoDBClient | None = None) -> None:
        self.table = table
        self._db = db

    @property
    def db(self) -> DynamoDBClient:
        return self._db or client()


def to_item(values: Mapping[str, Any]) -> Item:
    """Serialise plain Python values into a DynamoDB item, leaving out `None`s."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Deserialise a DynamoDB item into plain Python values (numbers become `int`)."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    # TypeDeserializer yields Decimal for every number; this project stores integers only.
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value)
    return value


def batch_get(
    db: DynamoDBClient,
    table: str,
    keys: list[Item],
    *,
    consistent: bool = True,
    attributes: tuple[str, ...] = (),
) -> list[Item]:
    """The items of `keys` (at most 100) that exist, in one `BatchGetItem` (repeated only for
    the keys DynamoDB leaves unprocessed under load); only `attributes` of each when given,
    eventually consistent (half the read cost) unless `consistent`."""
    found: list[Item] = []
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": consistent}}
    if attributes:
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        request[table] |= {
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
        }
    while request:
        with unavailable_as_domain_error():
            response = db.batch_get_item(RequestItems=request)
        found.extend(dict(item) for item in response.get("Responses", {}).get(table, []))
        request = dict(response.get("UnprocessedKeys") or {})
    return found


# What one listing page may hold, by DynamoDB's measure of item size: as much as one Query
# reads. Its JSON answer stays well within Lambda's 6 MB response even when every character
# is escaped.
PAGE_MAX_BYTES = 1_048_576
_START_KEY = re.compile(r"start(ing)? key", re.IGNORECASE)


def query_page(
    db: DynamoDBClient, query: Mapping[str, Any], *, limit: int, max_bytes: int = PAGE_MAX_BYTES
) -> tuple[list[Item], bool]:
    """The first `limit` items of a Query (fewer when they add up to more than `max_bytes`),
    and whether more items follow them.

    A Query stops at 1 MB read (`LastEvaluatedKey`) whatever its `Limit`, so this asks for one
    item more than the page holds and goes on from where DynamoDB stopped until the page is
    full and the item after it is seen, or DynamoDB has no more. Small items take one Query.

    Raises
    ------
    InvalidCursorError
        When DynamoDB refuses the `ExclusiveStartKey` the query starts from (a client's cursor).
    """
    page: list[Item] = []
    size = 0
    request = dict(query)
    from_cursor = "ExclusiveStartKey" in query  # the first Query starts where a client said
    while True:
        request["Limit"] = limit + 1 - len(page)
        try:
            with unavailable_as_domain_error():
                response = db.query(**request)
        except ClientError as exc:
            # "The provided starting key is invalid", "... does not match the range key
            # predicate", "Exclusive Start Key must have same size as table's key schema"
            refused_start = error_code(exc) == "ValidationException" and _START_KEY.search(
                str(exc.response.get("Error", {}).get("Message", ""))
            )
            if refused_start and from_cursor:
                raise InvalidCursorError() from exc
            raise
        from_cursor = False
        for item in response.get("Items", []):
            item_size = item_bytes(item)
            if len(page) == limit or (page and size + item_size > max_bytes):
                return page, True
            page.append(dict(item))
            size += item_size
        if "LastEvaluatedKey" not in response:
            return page, False
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def query_all(db: DynamoDBClient, query: Mapping[str, Any]) -> Iterator[Item]:
    """Every item a Query matches: a Query stops at 1 MB read (`LastEvaluatedKey`), so this
    goes on from where DynamoDB stopped until it has no more."""
    request = dict(query)
    while True:
        with unavailable_as_domain_error():
            response = db.query(**request)
        yield from (dict(item) for item in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def item_bytes(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it (attribute names and values, in bytes), near
    enough to bound a page."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Mapping[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind in ("N", "B"):
        return len(content)
    if kind == "M":
        return 3 + sum(1 + item_bytes({k: v}) for k, v in content.items())
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in content)
    if kind in ("SS", "NS", "BS"):
        return sum(len(v.encode() if isinstance(v, str) else v) for v in content)
    return 1  # BOOL, NULL


def sort_timestamp(moment: datetime) -> str:
    """A fixed-width UTC timestamp that sorts as text in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def unavailable_as_domain_error() -> Iterator[None]:
    """Turn throttling and AWS-side failures of any AWS call into `ServiceUnavailableError`
    (HTTP 503), and an attempt refused for lack of time (`newsroom.deadline`) too; a read of an
    index still being built into `IndexNotReadyError` (a 503 with a longer Retry-After)."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in _UNAVAILABLE_CODES:
            raise ServiceUnavailableError() from exc
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if code == "ValidationException" and _BACKFILLING.search(message):
            raise IndexNotReadyError() from exc
        raise
    except BotoCoreError as exc:  # connection refused, timeouts, ...
        raise ServiceUnavailableError() from exc
