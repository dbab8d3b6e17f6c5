"""Lambda's SQS event source mapping, played locally (`newsroom_tools.queues`): the template's
queues are made in the emulator with their redrive policy, a batch is invoked in Lambda's
shape, the messages a partial batch response names come back and, after the queue's
``maxReceiveCount``, are in its dead-letter queue; the others are deleted.

The function is a stand-in that records its events, so these tests are about the plumbing.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from newsroom_tools.queues import QueueMapping, QueuePoller, queue_mappings
from newsroom_tools.template import create_queues, load_template

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from pytest_localstack.session import RunningSession

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs(localstack: RunningSession) -> SQSClient:
    client: SQSClient = localstack.boto3.client("sqs")
    return client


def template_queues(sqs: SQSClient) -> dict[str, str]:
    """The template's queues, made under a prefix of this test's own."""
    return create_queues(sqs, load_template(), prefix=f"t{uuid.uuid4().hex[:8]}-")


class Recorder:
    """Stands in for the function: keeps each batch's bodies, and reports as failed every
    message whose body is "poison"."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.batches.append([record["body"] for record in event["Records"]])
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]}
                for record in event["Records"]
                if record["body"] == "poison"
            ]
        }

    def bodies(self) -> list[str]:
        with self._lock:
            return [body for batch in self.batches for body in batch]


def test_template_queue_keeps_its_redrive_policy_locally(sqs: SQSClient) -> None:
    names = template_queues(sqs)

    attributes = sqs.get_queue_attributes(
        QueueUrl=names["DeliveryEventsQueue"], AttributeNames=["All"]
    )["Attributes"]

    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": names["DeliveryEventsDeadLetterQueue.Arn"],
        "maxReceiveCount": 5,
    }
    assert attributes["VisibilityTimeout"] == "60"


def test_delivery_events_function_reads_its_queue_with_partial_batch_responses(
    sqs: SQSClient,
) -> None:
    names = template_queues(sqs)

    (mapping,) = queue_mappings(load_template(), names)

    assert mapping.function == "DeliveryEventsFunction"
    assert mapping.queue_url == names["DeliveryEventsQueue"]
    assert mapping.report_batch_item_failures is True


def test_failed_message_comes_back_alone_then_goes_to_the_dead_letter_queue(
    sqs: SQSClient,
) -> None:
    # Given a queue whose messages come back at once and go to a dead-letter queue after 3
    # receives, read in batches with partial batch responses
    prefix = uuid.uuid4().hex[:8]
    dead = sqs.create_queue(QueueName=f"{prefix}-dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
    queue = sqs.create_queue(
        QueueName=f"{prefix}-events",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
            ),
        },
    )["QueueUrl"]
    recorder = Recorder()
    mapping = QueueMapping(
        "Function",
        "Events",
        queue_url=queue,
        queue_arn=f"arn:aws:sqs:us-east-1:123456789012:{prefix}-events",
        report_batch_item_failures=True,
    )
    poller = QueuePoller(mapping, recorder, sqs=sqs, poll_interval=0.05).start()
    try:
        # When a good message and a poisoned one are sent
        sqs.send_message(QueueUrl=queue, MessageBody="good")
        sqs.send_message(QueueUrl=queue, MessageBody="poison")
        deadline = time.monotonic() + 15
        kept: list[Any] = []
        while not kept and time.monotonic() < deadline:
            kept = sqs.receive_message(QueueUrl=dead).get("Messages", [])
            time.sleep(0.05)
        poller.wait_idle(10)
    finally:
        poller.stop()

    # Then the good one was handled once and deleted; the poisoned one was tried three times,
    # then kept in the dead-letter queue
    assert recorder.bodies().count("good") == 1
    assert recorder.bodies().count("poison") == 3
    assert [m["Body"] for m in kept] == ["poison"]
    left = sqs.receive_message(QueueUrl=queue).get("Messages", [])
    assert left == []


def test_batch_the_function_raises_on_is_left_whole_in_the_queue(sqs: SQSClient) -> None:
    # Given a queue (messages invisible for a minute once received) and a function that raises
    queue = sqs.create_queue(
        QueueName=f"{uuid.uuid4().hex[:8]}-events", Attributes={"VisibilityTimeout": "60"}
    )["QueueUrl"]
    calls: list[int] = []

    def failing(event: dict[str, Any]) -> Any:
        calls.append(len(event["Records"]))
        raise RuntimeError("the function failed")

    mapping = QueueMapping(
        "Function", "Events", queue_url=queue, queue_arn="arn:aws:sqs:us-east-1:1:q"
    )
    poller = QueuePoller(mapping, failing, sqs=sqs, poll_interval=0.05).start()
    try:
        # When two messages are read in one batch
        sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": "b"}],
        )
        poller.wait_idle(10)
    finally:
        poller.stop()

    # Then neither was deleted: both are in flight, waiting out their visibility timeout
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert sum(calls) == 2
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
