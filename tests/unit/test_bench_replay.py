"""make bench's baseline (tests/bench/replay.py): a bare handler's source makes the recorded
AWS calls, in order, as recorded."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.bench.replay import bare_handler_source, describe

GET = {
    "service": "dynamodb",
    "operation": "GetItem",
    "params": {"TableName": "local-content", "Key": {"pk": {"S": "ARTICLE#a"}}},
    "fresh": [],
    "error": None,
}
TRANSACTION = {
    "service": "dynamodb",
    "operation": "TransactWriteItems",
    "params": {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "local-content", "Key": {}}},
            {"Put": {"TableName": "local-content", "Item": {}}},
            {"Put": {"TableName": "local-content", "Item": {}}},
        ],
        "ClientRequestToken": "recorded-token",
    },
    "fresh": ["ClientRequestToken"],
    "error": None,
}
SEND = {
    "service": "sesv2",
    "operation": "SendEmail",
    "params": {"Content": {"Raw": {"Data": b"From: newsroom@example.com\n\nHello"}}},
    "fresh": [],
    "error": None,
}


class FakeClient:
    """Stands in for a boto3 client: writes down each call; `refuse` names an operation that
    fails with an error code."""

    def __init__(self, service: str, made: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.service = service
        self.made = made
        self.refuse: dict[str, str] = {}

    def __getattr__(self, method: str) -> Any:
        def call(**params: Any) -> dict[str, Any]:
            self.made.append((self.service, method, params))
            if method in self.refuse:
                error = {"Error": {"Code": self.refuse[method], "Message": "refused"}}
                raise ClientError(error, method)  # type: ignore[arg-type]
            return {"answered": method}

        return call


def load_handler(source: str, monkeypatch: pytest.MonkeyPatch, **refuse: str) -> tuple[Any, Any]:
    """The handler `source` defines, with boto3 faked; and the list of calls it makes."""
    made: list[tuple[str, str, dict[str, Any]]] = []

    def client(service: str) -> FakeClient:
        fake = FakeClient(service, made)
        fake.refuse = refuse
        return fake

    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=client))
    namespace: dict[str, Any] = {}
    exec(compile(source, "app.py", "exec"), namespace)  # noqa: S102 - the source under test
    return namespace["lambda_handler"], made


def test_the_bare_handler_makes_the_recorded_calls_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = bare_handler_source("a test", [GET, TRANSACTION, SEND], {"statusCode": 201})
    handler, made = load_handler(source, monkeypatch)

    answer = handler({}, None)

    assert [(service, method) for service, method, _ in made] == [
        ("dynamodb", "get_item"),
        ("dynamodb", "transact_write_items"),
        ("sesv2", "send_email"),
    ]
    assert made[0][2] == GET["params"]
    assert made[2][2] == SEND["params"]
    assert answer["statusCode"] == 201


def test_the_bare_handler_sends_a_fresh_idempotency_token_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, made = load_handler(bare_handler_source("a test", [TRANSACTION], {}), monkeypatch)

    handler({}, None)
    handler({}, None)

    tokens = [params["ClientRequestToken"] for _, _, params in made]
    assert "recorded-token" not in tokens
    assert len(set(tokens)) == 2
    assert made[0][2]["TransactItems"] == TRANSACTION["params"]["TransactItems"]


def test_a_batch_handlers_bare_answer_is_the_functions_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = bare_handler_source("a test", [SEND], {"batchItemFailures": []})
    handler, _ = load_handler(source, monkeypatch)

    assert handler({"Records": []}, None) == {"batchItemFailures": []}


def test_an_error_the_function_got_is_expected_and_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = {**GET, "error": "ConditionalCheckFailedException"}
    source = bare_handler_source("a test", [refused, SEND], {"statusCode": 200})

    handler, made = load_handler(source, monkeypatch, get_item="ConditionalCheckFailedException")
    handler({}, None)
    assert [method for _, method, _ in made] == ["get_item", "send_email"]

    handler, _ = load_handler(source, monkeypatch, get_item="ThrottlingException")
    with pytest.raises(ClientError):
        handler({}, None)


def test_the_calls_are_described_with_their_tables_logical_ids() -> None:
    lines = describe([GET, TRANSACTION, SEND], {"local-content": "ContentTable"})

    assert lines == [
        "dynamodb.GetItem ContentTable",
        "dynamodb.TransactWriteItems [1x ConditionCheck ContentTable, 2x Put ContentTable]",
        "sesv2.SendEmail",
    ]
