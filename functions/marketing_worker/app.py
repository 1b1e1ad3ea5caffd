"""Marketing worker: marketing email only (abandoned-cart reminders, birthday bonuses), each
decided by the marketing gate just before it goes and sent once (SQS partial batch failures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.logic.marketing import jobs
from omotenashi.observability import batch_logger, logger, metrics, tracer
from omotenashi.schemas.jobs import MarketingQueueJob
from omotenashi.settings import require_settings

require_settings("marketing_worker")
processor = BatchProcessor(
    event_type=EventType.SQS,
    raise_on_entire_batch_failure=False,
    logger=batch_logger,  # a failed record is logged (warning, with its traceback), never silent
)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    return jobs.run(parse(event=record.body, model=MarketingQueueJob))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
