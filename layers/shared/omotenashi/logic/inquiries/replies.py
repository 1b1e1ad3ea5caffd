"""Staff replies and closing: what stops the SLA clock. The reply email itself is the message
worker's job (reply_emails.py); this module never loads email code."""

from __future__ import annotations

from typing import Any

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import replies as reply_data
from omotenashi.domain import Attachment, Inquiry, Reply, Store
from omotenashi.logic.core import idempotency, jobs
from omotenashi.logic.core.idempotency import Answer, request_fingerprint
from omotenashi.logic.inquiries import views
from omotenashi.observability import metrics
from omotenashi.schemas.jobs import ReplyEmailJob


def first_entry_id(prefix: str, scope: str, store_id: str, inquiry_id: str, key: str | None) -> str:
    return idempotency.entry_id(prefix, f"{store_id}\x00{inquiry_id}\x00{scope}", key)


def add_reply(
    store: Store,
    inquiry_id: str,
    author: str,
    message: str,
    parsed_body: Any,
    idempotency_key: str | None,
    *,
    author_email: str | None = None,
    source_key: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> Answer:
    """`author_email` and `source_key`: a staff member answered by email (inbound_mail.py)."""
    inquiry = views.inquiry_or_404(store, inquiry_id)
    now = clock.now()
    fingerprint = request_fingerprint(parsed_body)
    reply, replayed = idempotency.create_or_replay(
        first_entry_id("rep", "reply", store.store_id, inquiry_id, idempotency_key),
        build=lambda reply_id: Reply(
            store_id=store.store_id,
            inquiry_id=inquiry_id,
            reply_id=reply_id,
            author=author,
            message=message,
            created_at=now,
            request_hash=fingerprint,
            sla_round=inquiry.sla_round,
            author_email=author_email,
            channel="email" if source_key else "api",
            source_key=source_key,
            attachments=attachments,
        ),
        create_if_absent=reply_data.create_if_absent,
        fetch=lambda reply_id: reply_data.get(store.store_id, inquiry_id, reply_id),
        created_at=lambda existing: existing.created_at,
        fingerprint=fingerprint,
        now=now,
    )
    # Idempotent, so a retry finishes whatever a failed first attempt left undone.
    _stop_clock_for_reply(store, reply)
    if reply.email_state != "sent":
        jobs.enqueue(ReplyEmailJob(store_id=store.store_id, inquiry_id=inquiry_id, reply_id=reply.reply_id))
    if not replayed:
        metrics.add_metric(name="StaffReply", unit="Count", value=1)
    return Answer(201, {"reply_id": reply.reply_id, "inquiry_id": inquiry_id}, replayed)


def _stop_clock_for_reply(store: Store, reply: Reply) -> None:
    """The reply answers the round it was written in, if that round is still open; it never answers
    a round a later customer message started. Either way the first response time is recorded."""
    args = (store.store_id, reply.inquiry_id)
    if not inquiry_data.answer_round(*args, sla_round=reply.sla_round, at=reply.created_at):
        inquiry_data.record_first_response(*args, at=reply.created_at)


def close(store: Store, inquiry_id: str) -> Inquiry:
    inquiry = views.inquiry_or_404(store, inquiry_id)
    if inquiry.status != "closed":
        inquiry_data.stop_clock(store.store_id, inquiry_id, status="closed", now=clock.now())
    return views.inquiry_or_404(store, inquiry_id)
