"""Lambda's SQS event source mapping without Docker: reads a template queue in the emulator and
invokes the function whose `Type: SQS` event names it, in process, as Lambda's poller does.

One `QueuePoller` (one thread) per `Type: SQS` event in template.yaml. What it mirrors from
Lambda, on purpose:

- the event is Lambda's (``Records`` of ``messageId``, ``receiptHandle``, ``body``,
  ``attributes`` with ``ApproximateReceiveCount``, ``eventSource`` ``aws:sqs``,
  ``eventSourceARN``);
- batches hold up to `BatchSize` messages;
- a batch that succeeds is deleted; with `ReportBatchItemFailures`, the messages named in
  ``batchItemFailures`` are left in the queue and the others deleted; an unknown or empty
  ``itemIdentifier`` or a malformed answer fails the whole batch; an exception always does;
- a message left in the queue comes back after the queue's visibility timeout, and the queue's
  own `RedrivePolicy` (kept by the emulator) moves it to its dead-letter queue after
  ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsroom_tools.emulator import REGION
from newsroom_tools.polling import REPORT_BATCH_ITEM_FAILURES, Invoke, PollingThread

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

DEFAULT_POLL_INTERVAL = 1.0  # an idle receive costs moto ~10 ms: 0.1 s would be 10% of a core
log = logging.getLogger(__name__)


class QueueConfigError(Exception):
    """A `Type: SQS` event of the template cannot be set up locally."""


@dataclass(frozen=True)
class QueueMapping:
    """One `Type: SQS` event of a function: which queue to read and how to deliver it."""

    function: str  # the function's logical id
    event: str  # the event's name in the template
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    report_batch_item_failures: bool = False
    enabled: bool = True

    @property
    def name(self) -> str:
        return f"{self.function}.{self.event}"


def queue_mappings(template: Mapping[str, Any], names: Mapping[str, str]) -> list[QueueMapping]:
    """Every `Type: SQS` event of the template's functions, its queue (`!GetAtt Queue.Arn`)
    resolved with `names` (what `template.provision` returned).

    Raises
    ------
    QueueConfigError
        When the queue is not one of the template's.
    """
    from newsroom_tools.template import functions

    found = []
    for spec in functions(dict(template)).values():
        for event_name, event in spec.events.items():
            if event.get("Type") != "SQS":
                continue
            props = event.get("Properties", {})
            queue = props.get("Queue")
            logical = (
                (queue or {}).get("Fn::GetAtt", [None])[0] if isinstance(queue, dict) else None
            )
            if logical is None or logical not in names:
                raise QueueConfigError(f"{spec.name}.{event_name}: queue {queue!r} is not local")
            found.append(
                QueueMapping(
                    function=spec.name,
                    event=event_name,
                    queue_url=names[logical],
                    queue_arn=names[f"{logical}.Arn"],
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES
                    in props.get("FunctionResponseTypes", []),
                    enabled=props.get("Enabled", True) is not False,
                )
            )
    return found


def lambda_event(messages: Sequence[MessageTypeDef], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller invokes a function with, for these received messages."""
    region = queue_arn.split(":")[3] if queue_arn.count(":") >= 5 else REGION
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_message_ids(response: Any, message_ids: Sequence[str]) -> set[str]:
    """The messages a partial batch response says failed: all of them when the answer is not
    one Lambda can read (not a mapping, ``batchItemFailures`` not a list, an identifier empty
    or not in the batch)."""
    everything = set(message_ids)
    if response is None:
        return set()
    if not isinstance(response, Mapping):
        return everything
    failures = response.get("batchItemFailures", [])
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not identifier or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed


class QueuePoller(PollingThread):
    """Reads one queue and invokes its function with each batch, in a thread.

    In a test::

        poller = QueuePoller(mapping, handler, endpoint_url=url).start()
        ...send messages...
        poller.wait_idle()  # every message sent before it handled (a failed one waits out
                            # its visibility timeout)
    """

    source = "queue"

    def __init__(
        self,
        mapping: QueueMapping,
        invoke: Invoke,
        *,
        endpoint_url: str | None = None,
        region: str = REGION,
        sqs: SQSClient | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        import boto3

        super().__init__(mapping.name, poll_interval)
        self.mapping = mapping
        self.invocations = 0
        self._invoke = invoke
        self._sqs = sqs or boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)

    def start(self) -> QueuePoller:
        if self._thread is None and self.mapping.enabled:
            self._start_thread(f"newsroom-queue-{self.mapping.name}")
        return self

    def _poll(self) -> tuple[bool, bool]:
        """Receive one batch and deliver it: (whether there was one, True: nothing is held)."""
        received = self._sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, 10),
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return False, True
        ids = [message["MessageId"] for message in received]
        self.invocations += 1
        try:
            response = self._invoke(lambda_event(received, self.mapping.queue_arn))
        except Exception:
            log.exception("%s: the function failed a batch of %d", self.mapping.name, len(ids))
            return True, True
        failed = (
            failed_message_ids(response, ids) if self.mapping.report_batch_item_failures else set()
        )
        done = [m for m in received if m["MessageId"] not in failed]
        if failed:
            log.warning("%s: %d of %d messages failed", self.mapping.name, len(failed), len(ids))
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return True, True


def pollers_for(
    template: Mapping[str, Any],
    names: Mapping[str, str],
    invokers: Mapping[str, Invoke],
    *,
    endpoint_url: str | None = None,
    region: str = REGION,
) -> list[QueuePoller]:
    """One poller (not started) per `Type: SQS` event whose function is in `invokers`."""
    return [
        QueuePoller(mapping, invokers[mapping.function], endpoint_url=endpoint_url, region=region)
        for mapping in queue_mappings(template, names)
        if mapping.function in invokers and mapping.enabled
    ]
