"""Event worker: applies storefront cart and order events from the events table's stream (partial
batch failures: a failed record is retried, the batch bisected, and a batch that keeps failing goes
to the event dead-letter queue)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.dal.events import from_stream_image
from omotenashi.logic.events import dispatch
from omotenashi.observability import batch_logger, logger, metrics, tracer
from omotenashi.settings import require_settings

require_settings("event_worker")
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams,
    raise_on_entire_batch_failure=False,
    logger=batch_logger,  # a failed record is logged (warning, with its traceback), never silent
)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> str:
    return dispatch.apply(from_stream_image(record.raw_event["dynamodb"]["NewImage"]))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
