"""The embedded emulator behaves as DynamoDB does where moto alone does not."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration


def guarded_put(table: str, pk: str) -> dict[str, object]:
    return {
        "Put": {
            "TableName": table,
            "Item": {"pk": {"S": pk}, "sk": {"S": "EMULATOR"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def test_transaction_repeated_with_its_client_token_succeeds_without_applying_twice(
    dynamodb: DynamoDBClient, content_table: str, unique: str
) -> None:
    # Given a conditional transaction that succeeded once with a client token
    token = str(uuid.uuid4())
    actions = [guarded_put(content_table, f"EMU#{unique}")]
    dynamodb.transact_write_items(TransactItems=actions, ClientRequestToken=token)  # type: ignore[arg-type]

    # When a client resends it with the same token (its first answer was lost)
    dynamodb.transact_write_items(TransactItems=actions, ClientRequestToken=token)  # type: ignore[arg-type]

    # Then the resend succeeds, as DynamoDB's idempotent transactions do, and a new token
    # is a new transaction whose condition now fails
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(  # type: ignore[call-overload]
            TransactItems=actions, ClientRequestToken=str(uuid.uuid4())
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_concurrent_transactions_on_one_item_each_apply_once(
    dynamodb: DynamoDBClient, content_table: str, unique: str
) -> None:
    # Given a counter
    key = {"pk": {"S": f"EMU#{unique}"}, "sk": {"S": "COUNTER"}}
    dynamodb.put_item(TableName=content_table, Item={**key, "n": {"N": "0"}})

    def add_one(_: int) -> None:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": content_table,
                        "Key": key,
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
        )

    # When 40 transactions add to it at once
    with ThreadPoolExecutor(max_workers=8) as workers:
        list(workers.map(add_one, range(40)))

    # Then none is lost
    item = dynamodb.get_item(TableName=content_table, Key=key, ConsistentRead=True)["Item"]
    assert item["n"] == {"N": "40"}
