"""Delivery events function: SES's bounces, complaints, deliveries, rejections and delays
(EventBridge, from the configuration set every email is sent with), recorded on the ledger."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import delivery, snapstart
from newsroom.observability import logger, metrics, tracer

# After a SnapStart restore, the keys' cache is dropped and random reseeded (newsroom.snapstart).
snapstart.register_restore_hooks()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Raises `delivery.MalformedDeliveryEventError` on an event it cannot read: Lambda retries
    the asynchronous invocation twice, then the event is kept in the dead-letter queue."""
    table, keys = delivery.from_settings()
    result = delivery.handle_event(event, table=table, keys=keys)
    metrics.add_metric(name=f"DeliveryEvents_{result}", unit=MetricUnit.Count, value=1)
    if delivery.is_rejection(event):
        # EmailsRejectedAlarm adds these to the notifications function's refusals.
        metrics.add_metric(name="EmailsRejected", unit=MetricUnit.Count, value=1)
    return {"result": result}
