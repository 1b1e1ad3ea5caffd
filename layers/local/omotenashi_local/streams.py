"""DynamoDB stream event sources, run the way Lambda runs them: records in order per shard, a
batch at a time, the event source's filter applied, partial batch failures honoured (the batch is
retried from the first failed record), a batch that keeps failing sent to the OnFailure
destination after MaximumRetryAttempts, and pollers woken by the writes that feed the stream."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import boto3

from omotenashi_local.runtime import IDLE_REPOLL_SECONDS, SIGNALS, FunctionPool

_TABLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def table_signal(table_name: str) -> str:
    return f"table:{table_name}"


def _remember_table(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if model.name not in _TABLE_WRITES:
        return
    names: set[str] = set()
    if isinstance(params.get("TableName"), str):
        names.add(params["TableName"])
    names.update(name for name in params.get("RequestItems") or {} if isinstance(name, str))
    for entry in params.get("TransactItems") or []:
        for action in entry.values():
            if isinstance(action, dict) and isinstance(action.get("TableName"), str):
                names.add(action["TableName"])
    context["omotenashi_local_tables"] = names


def _wake_streams(http_response: Any, context: dict[str, Any], **_: Any) -> None:
    names = context.get("omotenashi_local_tables")
    if names and http_response is not None and http_response.status_code < 300:
        for name in names:
            SIGNALS.notify(table_signal(name))


def install_stream_wake_hook() -> None:
    import botocore.handlers

    entries = [("before-parameter-build.dynamodb", _remember_table), ("after-call.dynamodb", _wake_streams)]
    for entry in entries:
        if entry not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(entry)


def _matches(record: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    """The event source's FilterCriteria, for the simple patterns the template uses: every key of
    a pattern must hold one of its listed values (top-level keys of the record)."""
    if not filters:
        return True
    for entry in filters:
        pattern = json.loads(entry["Pattern"])
        if all(record.get(key) in values for key, values in pattern.items()):
            return True
    return False


class StreamPoller:
    def __init__(
        self,
        table_name: str,
        stream_arn: str,
        pool: FunctionPool,
        properties: dict[str, Any],
        region: str,
        dead_letter_url: str | None,
    ) -> None:
        self.table_name = table_name
        self.stream_arn = stream_arn
        self.pool = pool
        self.batch_size = int(properties.get("BatchSize", 100))
        self.max_retries = int(properties.get("MaximumRetryAttempts", -1))
        self.filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
        self.region = region
        self.dead_letter_url = dead_letter_url
        self._streams: Any = boto3.client("dynamodbstreams", region_name=region)
        self._sqs: Any = boto3.client("sqs", region_name=region)
        self._iterators: dict[str, str | None] = {}
        self._pending: list[dict[str, Any]] = []  # fetched, filtered, not yet done (in order)
        self._attempts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one batch at a time per shard (ParallelizationFactor 1)
        self.invocations = 0

    def _fetch(self) -> None:
        description = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None:
                continue
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            self._iterators[shard_id] = response.get("NextShardIterator")
            for raw in response.get("Records", []):
                record = self._record(raw)
                if _matches(record, self.filters):
                    self._pending.append(record)

    def _record(self, raw: dict[str, Any]) -> dict[str, Any]:
        dynamodb = dict(raw["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):  # boto3 parses it; Lambda sends epoch seconds
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": raw["eventID"],
            "eventName": raw["eventName"],
            "eventVersion": raw.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": dynamodb,
            "eventSourceARN": self.stream_arn,
        }

    def poll_once(self) -> int:
        """One batch: returns how many records were handed to the function."""
        with self._lock:
            if not self._pending:
                self._fetch()
            batch = self._pending[: self.batch_size]
            if not batch:
                return 0
            try:
                result = self.pool.invoke({"Records": batch}) or {}
                failed = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            except Exception:  # a crashed invocation fails the whole batch, as on Lambda
                failed = [batch[0]["dynamodb"]["SequenceNumber"]]
            self.invocations += 1
            numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
            first_failed = min((numbers.index(f) for f in failed if f in numbers), default=None)
            if first_failed is None:
                del self._pending[: len(batch)]
                self._attempts = 0
                return len(batch)
            del self._pending[:first_failed]  # done up to the first failure; retry from there
            self._attempts += 1
            if 0 <= self.max_retries < self._attempts:
                self._give_up(self._pending[: len(batch) - first_failed])
            return len(batch)

    def _give_up(self, records: list[dict[str, Any]]) -> None:
        """Like Lambda's OnFailure destination: the failed records' stream positions, not their data."""
        if self.dead_letter_url:
            numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
            detail = {
                "requestContext": {
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": self._attempts,
                },
                "DDBStreamBatchInfo": {
                    "streamArn": self.stream_arn,
                    "startSequenceNumber": numbers[0],
                    "endSequenceNumber": numbers[-1],
                    "batchSize": len(numbers),
                },
            }
            self._sqs.send_message(QueueUrl=self.dead_letter_url, MessageBody=json.dumps(detail))
        del self._pending[: len(records)]
        self._attempts = 0

    def drain(self, max_rounds: int = 1000) -> int:
        handled = 0
        for _ in range(max_rounds):
            count = self.poll_once()
            if count == 0:
                break
            handled += count
        return handled

    def queued(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        name = table_signal(self.table_name)

        def loop() -> None:
            while not self._stop.is_set():
                seen = SIGNALS.generation(name)  # before polling: a write meanwhile is not lost
                try:
                    if self.poll_once() == 0:
                        SIGNALS.wait(name, seen, IDLE_REPOLL_SECONDS, self._stop)
                except Exception:  # keep polling: the stack must survive a bad moment
                    self._stop.wait(0.5)

        self._thread = threading.Thread(target=loop, name=f"stream-{self.table_name}", daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()
        SIGNALS.wake_all()

    def stop(self) -> None:
        self.signal_stop()
        if self._thread:
            self._thread.join(timeout=5)
