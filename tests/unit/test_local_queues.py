"""The local SQS event source mapping's reading of a partial batch response, and its event."""

from __future__ import annotations

from typing import Any

import pytest

from newsroom_tools.queues import failed_message_ids, lambda_event

IDS = ["m-1", "m-2", "m-3"]


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        ({"batchItemFailures": []}, set()),
        (None, set()),  # a handler returning nothing: the batch succeeded
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m-2"}]}, {"m-2"}),
        ({"batchItemFailures": [{"itemIdentifier": "m-9"}]}, set(IDS)),  # unknown: all failed
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, set(IDS)),
        ({"batchItemFailures": [{}]}, set(IDS)),
        ({"batchItemFailures": "m-2"}, set(IDS)),
        ("not a response", set(IDS)),
    ],
)
def test_partial_batch_response_is_read_as_lambda_reads_it(response: Any, failed: set[str]) -> None:
    assert failed_message_ids(response, IDS) == failed


def test_event_is_lambdas_sqs_event() -> None:
    event = lambda_event(
        [
            {
                "MessageId": "m-1",
                "ReceiptHandle": "r-1",
                "Body": '{"source": "aws.ses"}',
                "Attributes": {"ApproximateReceiveCount": "2"},
            }
        ],
        "arn:aws:sqs:eu-west-1:123456789012:events",
    )

    (record,) = event["Records"]
    assert record["messageId"] == "m-1"
    assert record["receiptHandle"] == "r-1"
    assert record["body"] == '{"source": "aws.ses"}'
    assert record["attributes"] == {"ApproximateReceiveCount": "2"}
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:events"
    assert record["awsRegion"] == "eu-west-1"
    assert len(record["md5OfBody"]) == 32
