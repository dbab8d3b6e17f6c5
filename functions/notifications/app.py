"""Notifications function: sends the emails that follow comments, from the table's stream."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import deadline, notifications, snapstart
from newsroom.config import notifications_settings
from newsroom.models.stream import CommentChangeRecord
from newsroom.observability import logger, metrics, tracer

# After a SnapStart restore, the keys' cache is dropped and random reseeded (newsroom.snapstart).
snapstart.register_restore_hooks()

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=CommentChangeRecord)


@tracer.capture_method
def handle_comment_change(record: CommentChangeRecord, lambda_context: LambdaContext) -> None:
    report = notifications.handle_change(
        record.dynamodb.OldImage,
        record.dynamodb.NewImage,
        deadline=notifications.deadline_of(lambda_context),
    )
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=report.sent)
    if report.rejected:
        metrics.add_metric(name="EmailsRejected", unit=MetricUnit.Count, value=report.rejected)
    settings = notifications_settings()
    if settings.akismet_key_parameter_name:
        # After the emails, which the ledger keeps from going twice whatever follows.
        from newsroom.akismet_check import tell_of_moderation

        tell_of_moderation(record.dynamodb.OldImage, record.dynamodb.NewImage, settings)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with deadline.invocation(context):
        return dict(
            process_partial_response(
                event=event,
                record_handler=handle_comment_change,
                processor=processor,
                context=context,
            )
        )
