"""Delivery events function: SES's bounces, complaints, deliveries, rejections and delays
(EventBridge, from the configuration set every email is sent with, through DeliveryEventsQueue),
recorded on the ledger."""

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import delivery, snapstart
from newsroom.observability import logger, metrics, tracer

# After a SnapStart restore, the keys' cache is dropped and random reseeded (newsroom.snapstart).
snapstart.register_restore_hooks()


def handle_delivery_event(event: dict[str, Any]) -> str:
    """Raises `delivery.MalformedDeliveryEventError` on an event it cannot read."""
    table, keys = delivery.from_settings()
    result = delivery.handle_event(event, table=table, keys=keys)
    metrics.add_metric(name=f"DeliveryEvents_{result}", unit=MetricUnit.Count, value=1)
    if delivery.is_rejection(event):
        # EmailsRejectedAlarm adds these to the notifications function's refusals.
        metrics.add_metric(name="EmailsRejected", unit=MetricUnit.Count, value=1)
    return result


def handle_queued_event(record: dict[str, Any]) -> None:
    """One queued message: the EventBridge event, as the rule put it in the queue."""
    event = json.loads(record["body"])
    if not isinstance(event, dict):
        raise delivery.MalformedDeliveryEventError("a queued message that is not an event")
    handle_delivery_event(event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A batch from DeliveryEventsQueue. The messages it fails on (one it cannot read, or
    DynamoDB failing) are named in ``batchItemFailures``: only they return to the queue, and
    after five receives they are kept in its dead-letter queue. One EventBridge event given
    directly (``sam local invoke -e events/ses_bounce_permanent.json``) is handled alone, and
    a malformed one raises.

    The partial batch response is built here rather than by Powertools' BatchProcessor, whose
    import (about 55 ms with its data classes) would be most of this small function's start."""
    if "Records" not in event:
        return {"result": handle_delivery_event(event)}
    failures = []
    for record in event["Records"]:
        try:
            handle_queued_event(record)
        except Exception as exc:
            logger.exception(
                "delivery event failed; returned to the queue",
                message_id=record.get("messageId"),
                error=type(exc).__name__,
            )
            failures.append({"itemIdentifier": record["messageId"]})
    if failures:
        metrics.add_metric(name="DeliveryEventsFailed", unit=MetricUnit.Count, value=len(failures))
    return {"batchItemFailures": failures}
