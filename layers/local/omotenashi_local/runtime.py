"""Runs the Lambda handlers in-process the way Lambda would: one invocation per instance at a time,
real event shapes (API Gateway REST proxy, SQS batch, scheduled), partial batch failures honoured."""

from __future__ import annotations

import base64
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
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    timeout_seconds: int = 30

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = (
            self.invoked_function_arn or f"arn:aws:lambda:local:{ACCOUNT_ID}:function:{self.function_name}"
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


class FunctionPool:
    """N warm instances of one function; each serves one invocation at a time, like Lambda, and
    the whole process runs one invocation at a time (INVOCATION_LOCK)."""

    def __init__(self, spec: FunctionSpec, instances: int = 1, lock: Any = INVOCATION_LOCK) -> None:
        self.spec = spec
        self._lock = lock
        self._free: queue_module.Queue[Any] = queue_module.Queue()
        for _ in range(instances):
            self._free.put(_load_handler(spec))

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = self._free.get()
        try:
            with self._lock:  # the timeout starts when the invocation does, as on Lambda
                return handler(event, FakeContext(self.spec.logical_id, timeout_seconds=self.spec.timeout))
        finally:
            self._free.put(handler)


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
            "path": f"/local{path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "accountId": ACCOUNT_ID,
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


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
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue.url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_delay(receives),
                )
        return len(messages)

    def drain(self, max_rounds: int = 1000) -> None:
        for _ in range(max_rounds):
            if self.poll_once() == 0:
                return

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
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    if self.poll_once() == 0:
                        self._stop.wait(0.02)
                except Exception:  # keep polling: the stack must survive a bad moment
                    self._stop.wait(0.5)

        self._thread = threading.Thread(target=loop, name=f"poller-{self.queue.logical_id}", daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
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
