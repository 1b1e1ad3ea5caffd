"""Runs the Lambda handlers in-process the way Lambda would: one invocation per instance at a time,
real event shapes (API Gateway REST proxy, SQS batch, scheduled), partial batch failures honoured."""

from __future__ import annotations

import base64
import heapq
import importlib.util
import itertools
import json
import queue as queue_module
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

import boto3

from omotenashi_local.provision import ACCOUNT_ID, QueueInfo
from omotenashi_local.template import FunctionSpec

_module_counter = itertools.count()


@dataclass
class FakeContext:
    """What Lambda hands a handler; Powertools' Logger logs function_name, memory, ARN and request
    id from it."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    timeout_seconds: int = 30
    region: str = "local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = (
            self.invoked_function_arn
            or f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self.function_version = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_handler(spec: FunctionSpec) -> Any:
    module_file, _, attribute = spec.handler.rpartition(".")
    path = spec.code_dir / f"{module_file.replace('.', '/')}.py"
    name = f"omotenashi_fn_{spec.logical_id}_{next(_module_counter)}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, attribute)


INVOCATION_LOCK = threading.RLock()
"""Held for every invocation in this process. Lambda runs one invocation per execution environment
and one function per process; here every function shares one process, and the handlers share
class-level state: Powertools keeps the current API event on `BaseRouter` (a class attribute), its
Logger's keys (function_name, request id, appended ids) on one formatter that all four functions'
modules share, and Metrics' metric set on class attributes. Two invocations at once would see each
other's request, log lines and metrics, so the process runs one invocation at a time. (Re-entrant
only so that a handler invoking another in-process can never deadlock the stack; none does.)"""


@dataclass
class _Instance:
    handler: Any
    cold: bool = True


def _start_cold() -> None:
    """Powertools keeps "cold start" in module globals, once per process; on Lambda every
    execution environment has its first (cold) invocation."""
    from aws_lambda_powertools.logging import logger as powertools_logger
    from aws_lambda_powertools.metrics.provider import cold_start

    powertools_logger.is_cold_start = True
    cold_start.is_cold_start = True


def _discard_unpublished_metrics() -> None:
    """With POWERTOOLS_METRICS_DISABLED, Powertools' flush neither prints nor clears the metric
    set (class attributes shared by every Metrics object), so values pile up across invocations
    until add_metric reaches 100 values and prints the EMF blob anyway, disabled or not. Lambda
    would have printed and cleared them at the end of the invocation: clear them unprinted."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        Metrics().clear_metrics()


class FunctionPool:
    """N warm instances of one function; each serves one invocation at a time, like Lambda, and
    the whole process runs one invocation at a time (INVOCATION_LOCK)."""

    def __init__(
        self, spec: FunctionSpec, instances: int = 1, lock: Any = INVOCATION_LOCK, region: str = "local"
    ) -> None:
        self.spec = spec
        self.region = region
        self._lock = lock
        self._free: queue_module.Queue[_Instance] = queue_module.Queue()
        for _ in range(instances):
            self._free.put(_Instance(_load_handler(spec)))

    def invoke(self, event: dict[str, Any]) -> Any:
        instance = self._free.get()
        try:
            with self._lock:  # the timeout starts when the invocation does, as on Lambda
                if instance.cold:
                    _start_cold()
                    instance.cold = False
                context = FakeContext(
                    self.spec.function_name,
                    memory_limit_in_mb=self.spec.memory,
                    timeout_seconds=self.spec.timeout,
                    region=self.region,
                )
                try:
                    return instance.handler(event, context)
                finally:
                    _discard_unpublished_metrics()
        finally:
            self._free.put(instance)


def api_gateway_event(
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    resource: str,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    path, _, query = raw_path.partition("?")
    multi_query = parse_qs(query, keep_blank_values=True) if query else {}
    try:
        text: str | None = body.decode("utf-8") if body else None
        is_base64 = False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode("ascii"), True
    prefix = resource.split("{", 1)[0]
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path[len(prefix) :]} if "{proxy+}" in resource else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "path": path,  # as behind a custom domain: no stage prefix (Swagger's "Try it out" works)
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "accountId": ACCOUNT_ID,
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": is_base64,
        # Not in a REST API's event: the query exactly as sent, so signatures over any encoding
        # verify locally (the guard rebuilds common encodings when it is absent, as on AWS).
        "rawQueryString": query,
    }


IDLE_REPOLL_SECONDS = 10.0
"""How long an idle poller sleeps when nothing wakes it: a safety net only. Every message this
process sends, or makes visible again, wakes its queue's pollers at once (QueueSignals)."""


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class QueueSignals:
    """Wake-ups for SQS pollers, so that waiting costs nothing and adds no latency. Everything that
    sends to the local queues runs in this process (the handlers' boto3 clients talk to the
    embedded moto server), so a botocore hook sees each SendMessage, SendMessageBatch and
    ChangeMessageVisibility and wakes that queue's pollers: at once, or when the delay or the
    visibility timeout ends. Each queue has a generation counter: a poller notes it, polls, and
    (if it got nothing) waits for it to change, so no wake-up is ever lost between the two."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation: dict[str, int] = {}
        self._due: list[tuple[float, str]] = []  # (monotonic time, queue name), a heap

    def generation(self, queue: str) -> int:
        with self._condition:
            return self._generation.get(queue, 0)

    def notify(self, queue: str, delay: float = 0.0) -> None:
        with self._condition:
            if delay > 0:
                heapq.heappush(self._due, (time.monotonic() + delay, queue))
            else:
                self._generation[queue] = self._generation.get(queue, 0) + 1
            self._condition.notify_all()

    def wake_all(self) -> None:
        with self._condition:
            for queue in list(self._generation):
                self._generation[queue] += 1
            self._condition.notify_all()

    def wait(self, queue: str, seen: int, timeout: float, stop: threading.Event) -> None:
        """Until `queue`'s generation moves past `seen`, `stop` is set, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not stop.is_set() and self._generation.get(queue, 0) == seen:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    _, due_queue = heapq.heappop(self._due)
                    self._generation[due_queue] = self._generation.get(due_queue, 0) + 1
                if self._generation.get(queue, 0) != seen or now >= deadline:
                    return
                until = min(deadline, self._due[0][0]) if self._due else deadline
                self._condition.wait(until - now)


SIGNALS = QueueSignals()
_WAKE_OPERATIONS = (
    "SendMessage",
    "SendMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
)
_hook_lock = threading.Lock()


def _wake_delays(operation: str, params: dict[str, Any]) -> list[float]:
    if operation == "SendMessage":
        return [float(params.get("DelaySeconds") or 0)]
    if operation == "SendMessageBatch":
        return [float(e.get("DelaySeconds") or 0) for e in params.get("Entries", [])]
    if operation == "ChangeMessageVisibility":
        return [float(params.get("VisibilityTimeout") or 0)]
    return [float(e.get("VisibilityTimeout") or 0) for e in params.get("Entries", [])]


def _remember_queue(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if model.name in _WAKE_OPERATIONS and isinstance(params.get("QueueUrl"), str):
        context["omotenashi_local_wake"] = (
            _queue_name(params["QueueUrl"]),
            set(_wake_delays(model.name, params)),
        )


def _wake_pollers(http_response: Any, context: dict[str, Any], **_: Any) -> None:
    wake = context.get("omotenashi_local_wake")
    if wake and http_response is not None and http_response.status_code < 300:
        queue, delays = wake
        for delay in delays:
            SIGNALS.notify(queue, delay)


def install_sqs_wake_hook() -> None:
    """Register the hook on every botocore session created from now on (idempotent). botocore
    copies a session's handlers into each client it creates, so this must run before the clients
    exist: the stack calls it before it resets the cached clients."""
    import botocore.handlers

    entries = [("before-parameter-build.sqs", _remember_queue), ("after-call.sqs", _wake_pollers)]
    with _hook_lock:
        for entry in entries:
            if entry not in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.append(entry)


class SqsPoller:
    """Feeds one SQS event source to its function, deleting what succeeded. Failed messages come
    back after a short back-off (instead of the queue's full visibility timeout) to keep local
    retries quick; the redrive policy still moves a poison message to its dead-letter queue."""

    def __init__(self, queue: QueueInfo, pool: FunctionPool, batch_size: int, region: str) -> None:
        self.queue = queue
        self.pool = pool
        self.batch_size = min(int(batch_size), 10)
        self.region = region
        self._sqs: Any = boto3.client("sqs", region_name=region)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.invocations = 0
        self._busy = 0  # the background thread is inside poll_once (received work may be running)
        self.retry_delay: Callable[[int], int] = lambda receives: min(2 ** (receives - 1), 30)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One receive + invoke. Returns how many messages were received."""
        response = self._sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self.pool.invoke(event) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # a crashed invocation fails the whole batch, as on Lambda
            failed = {m["MessageId"] for m in messages}
        self.invocations += 1
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        for message in messages:
            if message["MessageId"] in failed:
                receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                delay = self.retry_delay(receives)
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay
                )
                SIGNALS.notify(_queue_name(self.queue.url), delay)  # the hook may miss this client
        return len(messages)

    def drain(self, max_rounds: int = 1000) -> int:
        """Poll until nothing is visible; returns how many messages were received."""
        received = 0
        for _ in range(max_rounds):
            count = self.poll_once()
            if count == 0:
                break
            received += count
        return received

    def in_flight(self) -> int:
        """Batches this poller is running right now (0 or 1)."""
        return self._busy

    def queued(self) -> int:
        """Messages in this queue: visible, in flight (or waiting for a retry) and delayed."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue.url, AttributeNames=names)
        return sum(int(value) for value in attributes["Attributes"].values())

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue.arn,
            "awsRegion": self.region,
        }

    def start(self) -> None:
        name = _queue_name(self.queue.url)

        def loop() -> None:
            while not self._stop.is_set():
                seen = SIGNALS.generation(name)  # before polling: a send meanwhile is not lost
                self._busy = 1
                try:
                    received = self.poll_once()
                except Exception:  # keep polling: the stack must survive a bad moment
                    self._busy = 0
                    self._stop.wait(0.5)
                    continue
                self._busy = 0
                if received == 0:
                    SIGNALS.wait(name, seen, IDLE_REPOLL_SECONDS, self._stop)

        self._thread = threading.Thread(target=loop, name=f"poller-{self.queue.logical_id}", daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()
        SIGNALS.wake_all()

    def stop(self) -> None:
        self.signal_stop()
        if self._thread:
            self._thread.join(timeout=5)


def scheduled_event(rule_name: str, when: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": when,
        "region": "local",
        "resources": [f"arn:aws:events:local:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


def api_response_bytes(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return int(result.get("statusCode", 200)), headers, data


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
