"""Staff replies, closing, and customer follow-ups: what stops and restarts the SLA clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import mailer, queue
from omotenashi.dal import replies as reply_data
from omotenashi.dal.errors import DataAccessError
from omotenashi.domain import CustomerMessage, Inquiry, OutboundEmail, Reply, Store
from omotenashi.logic import idempotency, sla
from omotenashi.logic.delivery import send_once
from omotenashi.logic.errors import NotFound, ServiceUnavailable
from omotenashi.logic.intake import request_fingerprint
from omotenashi.logic.stores import directory
from omotenashi.messaging.mime import build_email
from omotenashi.messaging.templates import render
from omotenashi.observability import logger, metrics

REPLY_KIND = "inquiry_reply"


@dataclass(frozen=True)
class ReplyResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def _first_id(prefix: str, store_id: str, inquiry_id: str, idempotency_key: str | None) -> str:
    return idempotency.entry_id(prefix, f"{store_id}\x00{inquiry_id}\x00{prefix}", idempotency_key)


def _inquiry_or_404(store: Store, inquiry_id: str) -> Inquiry:
    inquiry = inquiry_data.get(store.store_id, inquiry_id, consistent=True)
    if inquiry is None:
        raise NotFound("no such inquiry")
    return inquiry


def add_reply(
    store: Store, inquiry_id: str, author: str, message: str, parsed_body: Any, idempotency_key: str | None
) -> ReplyResult:
    try:
        inquiry = _inquiry_or_404(store, inquiry_id)
        now = clock.now()
        fingerprint = request_fingerprint(parsed_body)
        reply, replayed = idempotency.create_or_replay(
            _first_id("rep", store.store_id, inquiry_id, idempotency_key),
            build=lambda reply_id: Reply(
                store_id=store.store_id,
                inquiry_id=inquiry_id,
                reply_id=reply_id,
                author=author,
                message=message,
                created_at=now,
                request_hash=fingerprint,
                sla_round=inquiry.sla_round,
            ),
            create_if_absent=reply_data.create_if_absent,
            fetch=lambda reply_id: reply_data.get(store.store_id, inquiry_id, reply_id),
            created_at=lambda existing: existing.created_at,
            fingerprint=fingerprint,
            now=now,
        )
        # A retry finishes what a failed first attempt left undone: the round it answered may
        # still be open, or the first response may be unrecorded.
        unapplied = (inquiry.status == "open" and inquiry.sla_round == reply.sla_round) or (
            inquiry.first_response_at is None
        )
        if not replayed or unapplied:
            _stop_clock_for_reply(store, inquiry, reply)
        if reply.email_state != "sent":
            queue.enqueue_message(
                {
                    "type": "inquiry_reply",
                    "store_id": store.store_id,
                    "inquiry_id": inquiry_id,
                    "reply_id": reply.reply_id,
                }
            )
    except DataAccessError as error:
        logger.warning(
            "reply dependency failed", extra={"store_id": store.store_id, "inquiry_id": inquiry_id}
        )
        raise ServiceUnavailable("temporarily unable to record the reply; retry the same request") from error
    if not replayed:
        metrics.add_metric(name="StaffReply", unit="Count", value=1)
    return ReplyResult(201, {"reply_id": reply.reply_id, "inquiry_id": inquiry_id}, replayed)


def _stop_clock_for_reply(store: Store, inquiry: Inquiry, reply: Reply) -> None:
    for _ in range(3):  # the status may change under us (a close); re-read and apply again
        if reply_data.apply_to_inquiry(
            store.store_id, inquiry.inquiry_id, now=reply.created_at, was_open=inquiry.status == "open"
        ):
            return
        inquiry = _inquiry_or_404(store, inquiry.inquiry_id)
    raise ServiceUnavailable("the inquiry keeps changing; retry")


def close(store: Store, inquiry_id: str) -> Inquiry:
    try:
        inquiry = _inquiry_or_404(store, inquiry_id)
        if inquiry.status != "closed":
            inquiry_data.stop_clock(store.store_id, inquiry_id, status="closed", now=clock.now())
        return _inquiry_or_404(store, inquiry_id)
    except DataAccessError as error:
        raise ServiceUnavailable("temporarily unable to close the inquiry; retry") from error


def follow_up(
    store: Store, inquiry_id: str, text: str, parsed_body: Any, idempotency_key: str | None
) -> ReplyResult:
    """The customer wrote again. On an answered or closed inquiry this starts a new SLA round: open
    again, with a next-response deadline (same hours as the first response) and a fresh alert
    plan. On an open inquiry the deadline stands. Either way staff alerts quote the new message.

    The message is stored first (deduplicated by Idempotency-Key) with the round and deadline it
    sets; applying it to the inquiry is conditional on the round, so a retry completes a failed
    first attempt and never starts a second round."""
    try:
        inquiry = _inquiry_or_404(store, inquiry_id)
        now = clock.now()
        if inquiry.status == "open":
            sla_round, due = inquiry.sla_round, inquiry.reply_due_at
        else:
            sla_round, due = inquiry.sla_round + 1, sla.reply_due_at(store, now, inquiry.priority)
        fingerprint = request_fingerprint(parsed_body)
        message, replayed = idempotency.create_or_replay(
            _first_id("msg", store.store_id, inquiry_id, idempotency_key),
            build=lambda message_id: CustomerMessage(
                store_id=store.store_id,
                inquiry_id=inquiry_id,
                message_id=message_id,
                message=text,
                created_at=now,
                request_hash=fingerprint,
                sla_round=sla_round,
                reply_due_at=due,
            ),
            create_if_absent=reply_data.create_message_if_absent,
            fetch=lambda message_id: reply_data.get_message(store.store_id, inquiry_id, message_id),
            created_at=lambda existing: existing.created_at,
            fingerprint=fingerprint,
            now=now,
        )
        if inquiry.sla_round < message.sla_round:
            _start_round(store, message)
        elif inquiry.sla_round == message.sla_round:
            inquiry_data.record_latest_message(
                store.store_id, inquiry_id, message=message.message, at=message.created_at
            )
    except DataAccessError as error:
        raise ServiceUnavailable(
            "temporarily unable to record the message; retry the same request"
        ) from error
    body = {
        "message_id": message.message_id,
        "inquiry_id": inquiry_id,
        "status": "open",
        "reply_due_at": clock.isoformat(message.reply_due_at),
    }
    return ReplyResult(201, body, replayed)


def _start_round(store: Store, message: CustomerMessage) -> None:
    plan = tuple((a.kind, a.at) for a in sla.alert_plan(store, message.created_at, message.reply_due_at))
    if not inquiry_data.restart_clock(
        store.store_id,
        message.inquiry_id,
        started_at=message.created_at,
        due_at=message.reply_due_at,
        sla_round=message.sla_round,
        plan=plan,
        expected_round=message.sla_round - 1,
        message=message.message,
    ):
        # Another follow-up started this round first: the inquiry is open again either way.
        current = inquiry_data.get(store.store_id, message.inquiry_id, consistent=True)
        if current is None or current.sla_round < message.sla_round:
            raise ServiceUnavailable("the inquiry keeps changing; retry the same request")


def compose_reply(store: Store, inquiry: Inquiry, reply: Reply) -> OutboundEmail:
    # Thread under the auto-reply, by the Message-ID its recipient saw (SES replaces ours).
    threading = {}
    if inquiry.auto_reply_message_id:
        auto_reply_id = mailer.delivered_message_id(inquiry.auto_reply_message_id)
        threading = {"In-Reply-To": auto_reply_id, "References": auto_reply_id}
    subject = inquiry.subject if inquiry.subject.lower().startswith("re:") else f"Re: {inquiry.subject}"
    context = {
        "store": {"name": store.name, "sender": store.sender},
        "customer": {"name": inquiry.customer.name},
        "inquiry": {"id": inquiry.inquiry_id, "subject": inquiry.subject},
        "reply": {"message": reply.message},
        "subject": subject,
    }
    rendered = render(REPLY_KIND, inquiry.locale, context, store_id=store.store_id)
    return build_email(
        kind=REPLY_KIND,
        sender=store.sender,
        sender_name=store.name,
        recipient=inquiry.customer.email,
        recipient_name=inquiry.customer.name,
        rendered=rendered,
        reference=f"{reply.reply_id}.{store.store_id}",
        sent_at=clock.now(),
        automated=False,
        extra_headers=threading,
    )


def deliver_reply(job: dict[str, Any]) -> str:
    store_id, inquiry_id, reply_id = job["store_id"], job["inquiry_id"], job["reply_id"]
    reply = reply_data.get(store_id, inquiry_id, reply_id)
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    store = directory.get(store_id)
    if reply is None or inquiry is None or store is None:
        return "missing"
    message_id = send_once(f"reply#{store_id}#{reply_id}", lambda: compose_reply(store, inquiry, reply))
    reply_data.mark_emailed(store_id, inquiry_id, reply_id)
    return "sent" if message_id else "already_sent"
