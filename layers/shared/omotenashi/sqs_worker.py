"""The Lambda handler of every SQS worker, built once: each record's body goes to the worker's
one logic call, with partial batch failures (SQS retries exactly the failed records) and every
failed record logged with its traceback, never silent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.observability import batch_logger, logger, metrics, tracer

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def sqs_handler(run: Callable[[str], str]) -> Handler:
    """A handler that gives each record's body to `run` (its return value names the outcome)."""
    # Failed records are reported instead of raising when all fail: SQS retries exactly those.
    processor = BatchProcessor(
        event_type=EventType.SQS, raise_on_entire_batch_failure=False, logger=batch_logger
    )

    @tracer.capture_method
    def record_handler(record: SQSRecord) -> str:
        return run(record.body)

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)

    return handler
