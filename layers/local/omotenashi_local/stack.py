"""The local stack without its HTTP front: resources, warm functions, pollers, scheduler, clock.

Tests use it directly (with in-process moto); `python -m omotenashi_local` puts an HTTP server in
front of it (with the moto server).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from omotenashi import clock
from omotenashi.dal import aws
from omotenashi.logic.core.directory import directory
from omotenashi.settings import reset_settings
from omotenashi_local import moto_patches, outbox, provision
from omotenashi_local.provision import ACCOUNT_ID
from omotenashi_local.runtime import (
    FunctionPool,
    SqsPoller,
    api_gateway_event,
    install_sqs_wake_hook,
    scheduled_event,
)
from omotenashi_local.streams import StreamPoller, install_stream_wake_hook

DEFAULT_DEMO_SECRET = "demo-secret"
LOCAL_ENVIRONMENT = {
    # Quiet, offline observability: no X-Ray daemon, no EMF on stdout, warnings only.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


class Poller(Protocol):
    def poll_once(self) -> int: ...
    def start(self) -> None: ...
    def signal_stop(self) -> None: ...
    def stop(self) -> None: ...


@dataclass
class ApiRoute:
    resource: str
    method: str
    pool: FunctionPool

    def matches(self, method: str, path: str) -> bool:
        prefix = self.resource.split("{", 1)[0]
        method_ok = self.method.upper() in ("ANY", method.upper())
        if "{proxy+}" in self.resource:
            return method_ok and path.startswith(prefix) and len(path) > len(prefix)
        return method_ok and path == self.resource


@dataclass
class Schedule:
    name: str
    every_seconds: float
    pool: FunctionPool


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _rate_seconds(expression: str) -> float:
    match = _RATE.match(expression.strip())
    if not match:
        return 60.0  # cron expressions: run every minute locally; the job decides what is due
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


class LocalStack:
    def __init__(
        self, *, demo_secret: str | None = None, api_instances: int = 4, worker_instances: int = 1
    ) -> None:
        self.demo_secret = demo_secret or os.environ.get("OMOTENASHI_DEMO_SECRET") or DEFAULT_DEMO_SECRET
        for key, value in LOCAL_ENVIRONMENT.items():
            os.environ.setdefault(key, value)
        install_sqs_wake_hook()  # before any client below (and aws.reset()) is created
        moto_patches.apply()  # transactions snapshot the items they name, not whole tables
        install_stream_wake_hook()
        self.resources = provision.provision()
        os.environ.update(self.resources.environment)
        # The template's INFO suits CloudWatch; on a terminal warnings are enough (override with
        # OMOTENASHI_LOG_LEVEL=INFO to watch every request).
        from omotenashi.observability import logger

        logger.setLevel(os.environ.get("OMOTENASHI_LOG_LEVEL", "WARNING"))
        reset_settings()
        aws.reset()
        directory.clear()
        from omotenashi.logic.inquiries import inbound_mail

        inbound_mail.forget_domains()
        provision.verify_sender_domain("demo.example", self.resources.region)
        provision.seed_demo_store(self.demo_secret)

        self.routes: list[ApiRoute] = []
        self.pollers: list[SqsPoller] = []
        self.stream_pollers: list[StreamPoller] = []
        self.schedules: list[Schedule] = []
        # Every function's pool by its code folder (CodeUri ../functions/<folder>/): the local
        # endpoints that stand in for an AWS trigger (SES's SNS notifications) invoke one directly.
        self.functions: dict[str, FunctionPool] = {}
        queues_by_arn = {q.arn: q for q in self.resources.queues.values()}
        tables_by_stream = {
            arn: self.resources.tables[logical_id]
            for (logical_id, attribute), arn in self.resources.attributes.items()
            if attribute == "StreamArn"
        }
        for spec in self.resources.functions:
            kinds = {event.type for event in spec.events}
            pool = FunctionPool(
                spec, api_instances if "Api" in kinds else worker_instances, region=self.resources.region
            )
            self.functions[spec.code_dir.name] = pool
            for event in spec.events:
                if event.type == "Api":
                    self.routes.append(ApiRoute(event.properties["Path"], event.properties["Method"], pool))
                elif event.type == "SQS":
                    queue = queues_by_arn[event.properties["Queue"]]
                    # One poller per warm instance: Lambda runs that many batches at once.
                    for _ in range(worker_instances):
                        self.pollers.append(
                            SqsPoller(
                                queue, pool, event.properties.get("BatchSize", 10), self.resources.region
                            )
                        )
                elif event.type == "DynamoDB":
                    stream_arn = event.properties["Stream"]
                    failure = (event.properties.get("DestinationConfig") or {}).get("OnFailure") or {}
                    dead_letter = queues_by_arn.get(failure.get("Destination", ""))
                    self.stream_pollers.append(
                        StreamPoller(
                            tables_by_stream[stream_arn],
                            stream_arn,
                            pool,
                            event.properties,
                            self.resources.region,
                            dead_letter.url if dead_letter else None,
                        )
                    )
                elif event.type in ("Schedule", "ScheduleV2"):
                    expression = event.properties.get("Schedule") or event.properties.get(
                        "ScheduleExpression"
                    )
                    self.schedules.append(
                        Schedule(f"{spec.logical_id}-{event.name}", _rate_seconds(str(expression)), pool)
                    )
        self._scheduler_stop = threading.Event()
        self._lock = threading.Lock()

    @property
    def all_pollers(self) -> list[Poller]:
        """Stream pollers first: storefront events may enqueue work for the queue pollers."""
        return [*self.stream_pollers, *self.pollers]

    # -- HTTP API -------------------------------------------------------------------------------
    def api(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        path = raw_path.partition("?")[0]
        for route in self.routes:
            if route.matches(method, path):
                event = api_gateway_event(method, raw_path, headers, body, route.resource)
                result: dict[str, Any] = route.pool.invoke(event)
                return result
        return {
            "statusCode": 404,
            "headers": {"Content-Type": "application/json"},
            "body": '{"error": {"type": "not_found", "message": "no such route"}}',
        }

    # -- email (SES receiving) -------------------------------------------------------------------
    def inbound(self, raw: bytes, recipients: list[str] | None = None) -> dict[str, Any]:
        """What SES receiving does with an email: store it in the inbound bucket under its message
        id, then invoke the inbound function with the receipt. The id is a digest of the email and
        its envelope, so posting the same email twice is SES delivering it twice."""
        from omotenashi.dal import inbound_mail

        envelope = recipients if recipients else _header_recipients(raw)
        digest = hashlib.sha256(raw + b"\x00" + ",".join(envelope).encode()).hexdigest()
        message_id = f"local{digest[:35]}"
        inbound_mail.put_raw(inbound_mail.RAW_PREFIX + message_id, raw)
        now = clock.isoformat(clock.now())
        event = {
            "Records": [
                {
                    "eventSource": "aws:ses",
                    "eventVersion": "1.0",
                    "ses": {
                        "mail": {"messageId": message_id, "timestamp": now, "destination": envelope},
                        "receipt": {
                            "timestamp": now,
                            "recipients": envelope,
                            "action": {"type": "Lambda", "invocationType": "Event"},
                        },
                    },
                }
            ]
        }
        result: dict[str, Any] = self.functions["inbound_mail"].invoke(event)
        return {"message_id": message_id, "recipients": envelope, **result}

    # -- SES notifications ----------------------------------------------------------------------
    def ses_notification(self, payload: Any) -> dict[str, Any]:
        """Deliver one SES notification (bounce, complaint, delivery; as SES publishes it) the way
        a deployed stack does: an SNS event to the function in functions/ses_notifications/.
        Returns the function's account of it ({"notifications": [{"outcome": ...}, ...]})."""
        pool = self.functions.get("ses_notifications")
        if pool is None:
            raise LookupError(
                "infra/template.yaml has no function with CodeUri ../functions/ses_notifications/"
            )
        topics = [event.properties.get("Topic") for event in pool.spec.events if event.type == "SNS"]
        result: dict[str, Any] = pool.invoke(
            sns_event(payload, str(topics[0] if topics else ""), self.resources.region)
        )
        return result

    # -- queues and schedules -------------------------------------------------------------------
    def drain(self) -> None:
        """Run every queue's consumer until no message is visible."""
        for _ in range(10):
            for stream in self.stream_pollers:  # events first: they may enqueue work
                stream.drain()
            for poller in self.pollers:
                poller.drain()
            if not any(p.poll_once() for p in self.all_pollers):
                return

    def run_schedules(self) -> None:
        for schedule in self.schedules:
            schedule.pool.invoke(scheduled_event(schedule.name, clock.isoformat(clock.now())))

    def advance(self, seconds: float) -> str:
        with self._lock:
            clock.advance(seconds)
            self.drain()
            self.run_schedules()
            self.drain()
            self._settle()
            return clock.isoformat(clock.now())

    def _settle(self, timeout: float = 15.0) -> None:
        """Wait (bounded) for work a background poller took before the drain saw it: drain only
        receives visible messages, so one in a poller's hands would otherwise finish after the
        advance answered (a caller reading the outbox next would miss its email)."""
        deadline = time.monotonic() + timeout
        while self.pollers and time.monotonic() < deadline:
            in_flight = sum(poller.in_flight() for poller in self.pollers)
            if in_flight == 0:
                return
            time.sleep(0.02)
            self.drain()

    def outbox(self, offset: int = 0) -> list[dict[str, Any]]:
        return outbox.messages(self.resources.region, offset)

    # -- background operation (make run) -------------------------------------------------------
    def start_background(self) -> None:
        for poller in self.all_pollers:
            poller.start()

        def scheduler() -> None:
            due = {s.name: s.every_seconds for s in self.schedules}
            while not self._scheduler_stop.wait(1.0):
                for schedule in self.schedules:
                    due[schedule.name] -= 1.0
                    if due[schedule.name] <= 0:
                        due[schedule.name] = schedule.every_seconds
                        try:
                            schedule.pool.invoke(scheduled_event(schedule.name, clock.isoformat(clock.now())))
                        except Exception:  # noqa: S112 - keep the scheduler alive; the handler logged it
                            continue

        if self.schedules:
            threading.Thread(target=scheduler, name="scheduler", daemon=True).start()

    def stop(self, drain_seconds: float = 0.0) -> DrainReport:
        """Signal every poller first, then wait for them: stopping takes as long as the slowest
        batch in flight, not the sum of them. Then run what is still queued (auto-replies, staff
        alerts) for up to `drain_seconds`: the queues live in memory and die with the stack."""
        self._scheduler_stop.set()
        for poller in self.all_pollers:
            poller.signal_stop()
        for poller in self.all_pollers:
            poller.stop()
        return self.drain_for(drain_seconds)

    def drain_for(self, seconds: float) -> DrainReport:
        """Run every queue's consumer until nothing is visible or `seconds` have passed; report
        what ran and what is left (messages waiting for a retry back-off included)."""
        started = time.monotonic()
        deadline = started + seconds
        handled = 0
        while seconds > 0 and time.monotonic() < deadline:
            received = 0
            for poller in self.all_pollers:
                if time.monotonic() < deadline:
                    received += poller.poll_once()
            handled += received
            if received == 0:
                break
        return DrainReport(handled, self.queued(), time.monotonic() - started)

    def queued(self) -> int:
        """Messages in the stack's work queues (not their dead-letter queues), visible or not."""
        by_queue = {poller.queue.url: poller for poller in self.pollers}
        pending_events = sum(stream.queued() for stream in self.stream_pollers)
        return pending_events + sum(poller.queued() for poller in by_queue.values())


def _header_recipients(raw: bytes) -> list[str]:
    """The envelope SES would see when none is given: the email's To and Cc."""
    from email.parser import BytesHeaderParser
    from email.policy import compat32
    from email.utils import getaddresses

    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[: 256 * 1024])
    values = [str(v) for name in ("To", "Cc") for v in headers.get_all(name) or ()]
    return [address for _, address in getaddresses(values) if "@" in address][:50]


def sns_event(payload: Any, topic: str, region: str) -> dict[str, Any]:
    """An SNS notification as Lambda receives it: one record whose Message is `payload` as JSON."""
    name = topic or f"{provision.PREFIX}-ses-notifications"
    arn = name if name.startswith("arn:") else f"arn:aws:sns:{region}:{ACCOUNT_ID}:{name}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": arn,
                    "Subject": None,
                    "Message": json.dumps(payload, ensure_ascii=False),
                    "Timestamp": clock.isoformat(clock.now()),
                    "SignatureVersion": "1",
                    "Signature": "local",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {},
                },
            }
        ]
    }


@dataclass
class DrainReport:
    handled: int  # messages received and run while draining
    left: int  # still queued when the drain ended
    seconds: float
