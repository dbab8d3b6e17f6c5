"""The DynamoDB client, item (de)serialisation and the mapping of AWS failures to domain errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from newsroom.errors import ServiceUnavailableError

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
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Short timeouts and few retries: an API Gateway request has 29 seconds, a reader less patience.
_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
)


@cache
def client() -> DynamoDBClient:
    """The process-wide DynamoDB client (endpoint and credentials from the usual AWS settings)."""
    return boto3.client("dynamodb", config=_CLIENT_CONFIG)


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


def batch_get(db: DynamoDBClient, table: str, keys: list[Item]) -> list[Item]:
    """The items of `keys` that exist, strongly consistent, in one `BatchGetItem` (repeated only
    for the keys DynamoDB leaves unprocessed under load)."""
    found: list[Item] = []
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    while request:
        with unavailable_as_domain_error():
            response = db.batch_get_item(RequestItems=request)
        found.extend(dict(item) for item in response.get("Responses", {}).get(table, []))
        request = dict(response.get("UnprocessedKeys") or {})
    return found


def sort_timestamp(moment: datetime) -> str:
    """A fixed-width UTC timestamp that sorts as text in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def unavailable_as_domain_error() -> Iterator[None]:
    """Turn throttling and AWS-side failures into `ServiceUnavailableError` (HTTP 503)."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in _UNAVAILABLE_CODES:
            raise ServiceUnavailableError() from exc
        raise
    except BotoCoreError as exc:  # connection refused, timeouts, ...
        raise ServiceUnavailableError() from exc
