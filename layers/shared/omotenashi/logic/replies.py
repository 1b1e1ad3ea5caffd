"""Staff replies, closing, and customer follow-ups: what stops and restarts the SLA clock."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, replace
from typing import Any

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import queue
from omotenashi.dal import replies as reply_data
from omotenashi.dal.errors import DataAccessError
from omotenashi.domain import Inquiry, OutboundEmail, Reply, Store
from omotenashi.logic import sla
from omotenashi.logic.delivery import send_once
from omotenashi.logic.errors import IdempotencyConflict, NotFound, ServiceUnavailable
from omotenashi.logic.intake import request_fingerprint
from omotenashi.logic.stores import directory
from omotenashi.messaging.mime import build_email, message_id_for
from omotenashi.messaging.templates import render
from omotenashi.observability import logger, metrics

REPLY_KIND = "inquiry_reply"


@dataclass(frozen=True)
class ReplyResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def _reply_id(store_id: str, inquiry_id: str, idempotency_key: str | None) -> str:
    raw = (
        hashlib.sha256(f"{store_id}\x00{inquiry_id}\x00reply\x00{idempotency_key}".encode()).digest()
        if idempotency_key is not None
        else secrets.token_bytes(20)
    )
    return "rep_" + base64.b32encode(raw).decode("ascii").rstrip("=").lower()[:26]


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
        reply = Reply(
            store_id=store.store_id,
            inquiry_id=inquiry_id,
            reply_id=_reply_id(store.store_id, inquiry_id, idempotency_key),
            author=author,
            message=message,
            created_at=clock.now(),
            request_hash=request_fingerprint(parsed_body),
        )
        replayed = not reply_data.create_if_absent(reply)
        if replayed:
            existing = reply_data.get(store.store_id, inquiry_id, reply.reply_id)
            if existing is None or existing.request_hash != reply.request_hash:
                raise IdempotencyConflict(
                    "this idempotency key was already used with a different request body"
                )
            reply = existing
        if not replayed or inquiry.first_response_at is None:
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


def follow_up(store: Store, inquiry_id: str) -> Inquiry:
    """The customer wrote again: an answered or closed inquiry is open again, with a fresh
    next-response deadline (same hours as the first response) and a fresh alert plan."""
    try:
        inquiry = _inquiry_or_404(store, inquiry_id)
        if inquiry.status == "open":
            return inquiry  # the clock is already running; the first deadline stands
        started = clock.now()
        due = sla.reply_due_at(store, started, inquiry.priority)
        plan = tuple((a.kind, a.at) for a in sla.alert_plan(store, started, due))
        if not inquiry_data.restart_clock(
            store.store_id,
            inquiry_id,
            started_at=started,
            due_at=due,
            sla_round=inquiry.sla_round + 1,
            plan=plan,
            expected_round=inquiry.sla_round,
        ):
            return _inquiry_or_404(store, inquiry_id)  # a concurrent follow-up restarted it
        return replace(
            inquiry, status="open", reply_due_at=due, sla_round=inquiry.sla_round + 1, alert_plan=plan
        )
    except DataAccessError as error:
        raise ServiceUnavailable("temporarily unable to record the message; retry") from error


def compose_reply(store: Store, inquiry: Inquiry, reply: Reply) -> OutboundEmail:
    auto_reply_id = message_id_for(
        "inquiry_auto_reply", f"{inquiry.inquiry_id}.{store.store_id}", store.sender
    )
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
        extra_headers={"In-Reply-To": auto_reply_id, "References": auto_reply_id},
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
