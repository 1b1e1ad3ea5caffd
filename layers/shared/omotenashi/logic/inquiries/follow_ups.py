"""Customer follow-ups on an inquiry: what restarts the SLA clock (next-response deadline)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import replies as reply_data
from omotenashi.domain import CustomerMessage, EmailOrigin, Store
from omotenashi.logic.core import idempotency
from omotenashi.logic.core.errors import NotFound, ServiceUnavailable
from omotenashi.logic.core.idempotency import Answer, request_fingerprint
from omotenashi.logic.inquiries import sla, views
from omotenashi.logic.inquiries.replies import first_entry_id


def follow_up(
    store: Store,
    inquiry_id: str,
    text: str,
    parsed_body: Any,
    idempotency_key: str | None,
    *,
    email: EmailOrigin | None = None,
) -> Answer:
    """The customer wrote again. On an answered or closed inquiry this starts a new SLA round: open
    again, with a next-response deadline (same hours as the first response) and a fresh alert
    plan. On an open inquiry the deadline stands. Either way staff alerts quote the new message.

    The message is stored first (deduplicated by Idempotency-Key) with the round and deadline it
    sets; applying it to the inquiry is conditional on the round, so a retry completes a failed
    first attempt and never starts a second round."""
    inquiry = views.inquiry_or_404(store, inquiry_id)
    now = clock.now()
    if inquiry.status == "open":
        sla_round, due = inquiry.sla_round, inquiry.reply_due_at
    else:
        sla_round, due = inquiry.sla_round + 1, sla.reply_due_at(store, now, inquiry.priority)
    fingerprint = request_fingerprint(parsed_body)
    message, replayed = idempotency.create_or_replay(
        first_entry_id("msg", "message", store.store_id, inquiry_id, idempotency_key),
        build=lambda message_id: CustomerMessage(
            store_id=store.store_id,
            inquiry_id=inquiry_id,
            message_id=message_id,
            message=text,
            created_at=now,
            request_hash=fingerprint,
            sla_round=sla_round,
            reply_due_at=due,
            channel="email" if email else "api",
            attachments=email.attachments if email else (),
            source_key=email.source_key if email else None,
        ),
        create_if_absent=reply_data.create_message_if_absent,
        fetch=lambda message_id: reply_data.get_message(store.store_id, inquiry_id, message_id),
        created_at=lambda existing: existing.created_at,
        fingerprint=fingerprint,
        now=now,
    )
    message = _apply_follow_up(store, inquiry.priority, message)
    body = {
        "message_id": message.message_id,
        "inquiry_id": inquiry_id,
        "status": "open",
        "reply_due_at": clock.isoformat(message.reply_due_at),
    }
    return Answer(201, body, replayed)


def _apply_follow_up(store: Store, priority: str, message: CustomerMessage) -> CustomerMessage:
    """Bring the inquiry in line with a stored follow-up; idempotent, so a retry completes a failed
    first attempt. Every write is conditional on the round, so a follow-up never opens two rounds,
    and races with staff replies and other follow-ups are settled by re-reading:
    - a later round exists: this message is history;
    - the inquiry is still one round behind: open the message's round;
    - same round, open: the message joins it (the deadline stands);
    - same round, answered or closed after the message was decided on: if the message was already
      applied (the staff answered after it) nothing is left to do, else it opens the next round.
    The message's own record ends up with the round and deadline it got, which retries answer."""
    for _ in range(4):
        inquiry = inquiry_data.get(store.store_id, message.inquiry_id, consistent=True)
        if inquiry is None:
            raise NotFound("no such inquiry")
        if inquiry.sla_round > message.sla_round:
            return message
        if inquiry.sla_round < message.sla_round:
            if _open_round(store, inquiry.customer.email, message):
                return message
            continue
        if inquiry.status == "open":
            newer = inquiry.latest_message_at is not None and inquiry.latest_message_at > message.created_at
            if newer or inquiry_data.record_latest_message(
                store.store_id,
                message.inquiry_id,
                sla_round=message.sla_round,
                message=message.message,
                at=message.created_at,
            ):
                return _settle(message, reply_due_at=inquiry.reply_due_at)
            continue
        seen = inquiry.latest_message_at is not None and inquiry.latest_message_at >= message.created_at
        if seen:
            return message
        # Decided on a read that staff overtook: this message starts the next round.
        due = sla.reply_due_at(store, clock.now(), priority)
        message = _settle(message, sla_round=inquiry.sla_round + 1, reply_due_at=due)
    raise ServiceUnavailable("the inquiry keeps changing; retry the same request")


def _settle(message: CustomerMessage, **outcome: Any) -> CustomerMessage:
    settled = replace(message, **outcome)
    if settled != message:
        reply_data.set_message_outcome(settled)
    return settled


def _open_round(store: Store, customer_email: str, message: CustomerMessage) -> bool:
    plan = tuple((a.kind, a.at) for a in sla.alert_plan(store, message.created_at, message.reply_due_at))
    return inquiry_data.restart_clock(
        store.store_id,
        message.inquiry_id,
        started_at=message.created_at,
        due_at=message.reply_due_at,
        sla_round=message.sla_round,
        plan=plan,
        expected_round=message.sla_round - 1,
        message=message.message,
        customer_email=customer_email,
    )
