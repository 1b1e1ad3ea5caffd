"""The auto-reply worker: one acknowledgement email per inquiry, exactly once.

The inquiry records the outcome (pending -> sent, or pending -> suppressed by loop protection);
the send itself goes through logic/core/delivery.send_once, the exactly-once mechanism every email
shares, under the delivery id "auto_reply#<store>#<inquiry>".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.domain import Inquiry, Store
from omotenashi.logic.core import directory, jobs
from omotenashi.logic.core.delivery import delivery_id, send_once
from omotenashi.logic.core.rate_limit import admit_auto_reply
from omotenashi.logic.inquiries.loop_protection import automated_reason
from omotenashi.messaging.compose import Draft
from omotenashi.messaging.formatting import format_datetime
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import AutoReplyJob

KIND = "inquiry_auto_reply"

Outcome = Literal["sent", "already_done", "suppressed", "missing"]


@dataclass(frozen=True)
class AutoReplyResult:
    outcome: Outcome
    reason: str | None = None


def draft(store: Store, inquiry: Inquiry) -> Draft:
    locale = inquiry.locale
    context = {
        "customer": {"name": inquiry.customer.name, "email": inquiry.customer.email},
        "inquiry": {
            "id": inquiry.inquiry_id,
            "subject": inquiry.subject,
            "channel": inquiry.channel,
            "order_id": inquiry.order_id,
        },
        "received_at": format_datetime(inquiry.received_at, store.time_zone, locale),
        "reply_due_at": format_datetime(inquiry.reply_due_at, store.time_zone, locale),
        "locale": locale,
    }
    return Draft(
        kind=KIND,
        store=store,
        locale=locale,
        to=inquiry.customer.email,
        to_name=inquiry.customer.name,
        context=context,
        reference=f"{inquiry.inquiry_id}.{store.store_id}",
        headers=customer_headers(store, inquiry),
    )


def customer_headers(store: Store, inquiry: Inquiry) -> dict[str, str]:
    """Reply-To: the customer's reply address (an answer by email becomes a follow-up); for an
    inquiry that came by email, threaded under the customer's own message."""
    from omotenashi.logic.inquiries.reply_to import customer_reply_to, customers_message_id

    headers: dict[str, str] = {}
    address = customer_reply_to(store, inquiry.inquiry_id)
    if address:
        headers["Reply-To"] = address
    message_id = customers_message_id(inquiry)
    if message_id:
        headers["In-Reply-To"] = message_id
        headers["References"] = message_id
    return headers


def run(job: AutoReplyJob) -> str:
    """The inquiry worker's job: the log lines of this record carry its correlation id and ids."""
    jobs.bind_log_context(job)
    result = process_inquiry(job.store_id, job.inquiry_id)
    if result.outcome != "missing":
        # After the auto-reply, and again on a redelivery: send_once makes it one per staff member.
        from omotenashi.logic.inquiries import staff_notice

        staff_notice.notify(job.store_id, job.inquiry_id)
    return result.outcome


def process_inquiry(store_id: str, inquiry_id: str) -> AutoReplyResult:
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if inquiry is None:
        # Intake withdraws an inquiry whose enqueue reported failure; if that message was in fact
        # delivered it lands here. Nothing to send, and nothing a retry could fix.
        metrics.add_metric(name="AutoReplyInquiryMissing", unit="Count", value=1)
        logger.warning("auto-reply for a missing inquiry skipped")
        return AutoReplyResult("missing")
    if inquiry.auto_reply_state in ("sent", "suppressed"):
        logger.info("auto-reply already done")
        return AutoReplyResult("already_done")
    store = directory.require(store_id)  # a missing store keeps the job (DLQ), never drops it

    now = clock.now()
    reason = automated_reason(inquiry, store)
    if reason is None and not admit_auto_reply(store_id, inquiry.customer.email, inquiry_id, now):
        reason = "rate_limited"
    if reason is not None:
        inquiry_data.mark_auto_reply_suppressed(store_id, inquiry_id, reason=reason)
        metrics.add_metric(name="AutoReplySuppressed", unit="Count", value=1)
        logger.info("auto-reply suppressed", extra={"reason": reason})
        return AutoReplyResult("suppressed", reason)

    sent = send_once(
        delivery_id("auto_reply", store_id, inquiry_id), functools.partial(draft, store, inquiry)
    )
    # Recording on the inquiry may fail after the send; the redelivered message then finds the
    # delivery sent, sends nothing, and records again (with the id replies thread under).
    inquiry_data.mark_auto_reply_sent(store_id, inquiry_id, message_id=sent.message_id, sent_at=clock.now())
    if sent.message_id:
        # A customer's answer that lost our Reply-To still finds the inquiry by this Message-ID.
        from omotenashi.dal import inbound_mail, mailer

        inbound_mail.remember_thread(
            store_id, mailer.delivered_message_id(sent.message_id), inquiry_id, clock.now()
        )
    if not sent.now:
        return AutoReplyResult("already_done")
    metrics.add_metric(name="AutoReplySent", unit="Count", value=1)
    logger.info("auto-reply sent")
    return AutoReplyResult("sent")
