"""Inquiry intake: storage-first. Store once (idempotently), hand off to the queue, answer 202.

The warm path makes two AWS calls: one conditional PutItem and one SQS SendMessage. The inquiry id
is derived from the idempotency key (logic/core/idempotency.py), so the conditional put is also the
duplicate check.
"""

from __future__ import annotations

import json
from typing import Any

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal.errors import DataAccessError, QueueError
from omotenashi.domain import Customer, EmailOrigin, Inquiry, Store
from omotenashi.logic.core import idempotency, jobs
from omotenashi.logic.core.idempotency import Answer, request_fingerprint
from omotenashi.logic.inquiries.priority import classify
from omotenashi.logic.inquiries.sla import alert_plan, reply_due_at
from omotenashi.observability import logger, metrics
from omotenashi.schemas.inquiries import InquiryIn
from omotenashi.schemas.jobs import AutoReplyJob


def first_inquiry_id(store_id: str, idempotency_key: str | None, external_id: str | None) -> str:
    """Deterministic for a given key, so a retried request lands on the same item."""
    if idempotency_key is not None:
        return idempotency.entry_id("inq", f"{store_id}\x00idempotency-key", idempotency_key)
    if external_id is not None:
        return idempotency.entry_id("inq", f"{store_id}\x00external-id", external_id)
    return idempotency.entry_id("inq", store_id, None)


def accept_inquiry(
    store: Store,
    request: InquiryIn,
    parsed_body: Any,
    idempotency_key: str | None,
    *,
    email: EmailOrigin | None = None,
) -> Answer:
    """`email`: the inquiry came by email (logic/inquiries/inbound_mail.py), with what it kept."""
    fingerprint = request_fingerprint(parsed_body)
    received_at = clock.now()
    priority: str
    priority_reason: str | None
    if request.priority is not None:
        priority, priority_reason = request.priority, "set_by_storefront"
    else:
        classified = classify(request.subject, request.message)
        priority, priority_reason = classified.priority, classified.reason
    due = reply_due_at(store, received_at, priority)
    plan = tuple((alert.kind, alert.at) for alert in alert_plan(store, received_at, due))

    def build(inquiry_id: str) -> Inquiry:
        accepted = {
            "inquiry_id": inquiry_id,
            "status": "open",
            "received_at": clock.isoformat(received_at),
            "reply_due_at": clock.isoformat(due),
        }
        return Inquiry(
            store_id=store.store_id,
            inquiry_id=inquiry_id,
            customer=Customer(
                email=request.customer.email,
                name=request.customer.name,
                customer_id=request.customer.id,
                locale=request.customer.locale,
            ),
            locale=request.customer.locale or store.default_locale,
            channel=request.channel,
            subject=request.subject,
            message=request.message,
            priority=priority,
            priority_reason=priority_reason,
            status="open",
            alert_plan=plan,
            received_at=received_at,
            reply_due_at=due,
            request_hash=fingerprint,
            accepted_response=json.dumps(accepted, separators=(",", ":")),
            order_id=request.order_id,
            external_id=request.external_id,
            source_headers=dict(request.headers or {}),
            attachments=email.attachments if email else (),
            source_key=email.source_key if email else None,
            email_message_id=email.message_id if email else None,
        )

    inquiry, replayed = idempotency.create_or_replay(
        first_inquiry_id(store.store_id, idempotency_key, request.external_id),
        build=build,
        create_if_absent=inquiry_data.create_if_absent,
        fetch=lambda inquiry_id: inquiry_data.get(store.store_id, inquiry_id, consistent=True),
        created_at=lambda existing: existing.received_at,
        fingerprint=fingerprint,
        now=received_at,
    )
    if replayed:
        return _replay(store, inquiry)
    _hand_off(inquiry)
    metrics.add_metric(name="InquiryAccepted", unit="Count", value=1)
    logger.append_keys(inquiry_id=inquiry.inquiry_id)  # store_id is on every line of the request
    logger.info("inquiry accepted")
    return Answer(202, json.loads(inquiry.accepted_response), replayed=False)


def _hand_off(inquiry: Inquiry) -> None:
    """Enqueue, or withdraw the stored inquiry so that a 503 means "nothing happened" and the
    client's retry starts clean (a 503 that left the inquiry behind would be a partial write)."""
    try:
        jobs.enqueue(AutoReplyJob(store_id=inquiry.store_id, inquiry_id=inquiry.inquiry_id))
    except QueueError:
        try:
            inquiry_data.delete_unprocessed(
                inquiry.store_id, inquiry.inquiry_id, request_hash=inquiry.request_hash
            )
        except DataAccessError:
            # Two failures in a row: the inquiry stays stored; the retry with the same key
            # replays it and enqueues it again, so nothing is lost.
            logger.warning("withdrawing an inquiry failed")
        raise


def _replay(store: Store, existing: Inquiry) -> Answer:
    if existing.auto_reply_state == "pending":
        # The first attempt may have stored the inquiry and then failed to enqueue it. Enqueueing
        # again is safe: the worker's claim makes the auto-reply happen once.
        jobs.enqueue(AutoReplyJob(store_id=store.store_id, inquiry_id=existing.inquiry_id))
    metrics.add_metric(name="InquiryReplayed", unit="Count", value=1)
    logger.append_keys(inquiry_id=existing.inquiry_id)
    logger.info("inquiry replayed")
    return Answer(202, json.loads(existing.accepted_response), replayed=True)
