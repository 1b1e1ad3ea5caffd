"""The auto-reply worker: one acknowledgement email per inquiry, exactly once.

State machine on the inquiry item: pending -> sending (claimed, with a lease) -> sent, or
pending -> suppressed. Every single AWS failure is survivable without a duplicate or a loss:
- claim fails: nothing happened yet; the message is retried.
- SES fails: nothing was sent; the claim is released and the message retried.
- recording "sent" fails: retried here a few times, because the email is already out; if it still
  fails the claim stays held, so a redelivery does not send again until the lease runs out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import mailer
from omotenashi.dal.errors import DataAccessError, MailerError
from omotenashi.domain import Inquiry, OutboundEmail, Store
from omotenashi.logic.loop_protection import automated_reason
from omotenashi.logic.rate_limit import admit_auto_reply
from omotenashi.logic.stores import directory
from omotenashi.messaging.formatting import format_datetime
from omotenashi.messaging.mime import build_email
from omotenashi.messaging.templates import render
from omotenashi.observability import logger, metrics

KIND = "inquiry_auto_reply"
# Longer than the worker's timeout (30 s), so a live worker never loses its claim; shorter than the
# queue's visibility timeout (180 s), so a redelivery after a crash finds the lease run out and does
# not burn its receive count against a dead claim (tests/infrastructure checks both bounds).
CLAIM_LEASE = timedelta(minutes=2)
_RECORD_ATTEMPTS = 4

Outcome = Literal["sent", "already_done", "suppressed", "missing"]


class ClaimHeld(Exception):
    """Another worker holds a live claim; retry after its lease."""


@dataclass(frozen=True)
class AutoReplyResult:
    outcome: Outcome
    reason: str | None = None


def compose(store: Store, inquiry: Inquiry) -> OutboundEmail:
    locale = inquiry.locale
    context = {
        "store": {"name": store.name, "sender": store.sender},
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
    rendered = render(KIND, locale, context, store_id=store.store_id)
    return build_email(
        kind=KIND,
        sender=store.sender,
        sender_name=store.name,
        recipient=inquiry.customer.email,
        recipient_name=inquiry.customer.name,
        rendered=rendered,
        reference=f"{inquiry.inquiry_id}.{store.store_id}",
        sent_at=clock.now(),
    )


def process_inquiry(store_id: str, inquiry_id: str) -> AutoReplyResult:
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    log = {"store_id": store_id, "inquiry_id": inquiry_id}
    if inquiry is None:
        # Intake withdraws an inquiry whose enqueue reported failure; if that message was in fact
        # delivered it lands here. Nothing to send, and nothing a retry could fix.
        metrics.add_metric(name="AutoReplyInquiryMissing", unit="Count", value=1)
        logger.warning("auto-reply for a missing inquiry skipped", extra=log)
        return AutoReplyResult("missing")
    if inquiry.auto_reply_state in ("sent", "suppressed"):
        logger.info("auto-reply already done", extra=log)
        return AutoReplyResult("already_done")
    store = directory.get(store_id)
    if store is None:  # an inquiry outlived its store: keep the message (DLQ) for a person to see
        raise LookupError(f"store {store_id} not found")

    now = clock.now()
    reason = automated_reason(inquiry, store)
    if reason is None and not admit_auto_reply(store_id, inquiry.customer.email, inquiry_id, now):
        reason = "rate_limited"
    if reason is not None:
        inquiry_data.mark_auto_reply_suppressed(store_id, inquiry_id, reason=reason)
        metrics.add_metric(name="AutoReplySuppressed", unit="Count", value=1)
        logger.info("auto-reply suppressed", extra={**log, "reason": reason})
        return AutoReplyResult("suppressed", reason)

    email = compose(store, inquiry)
    if not inquiry_data.claim_auto_reply(store_id, inquiry_id, now=now, lease_until=now + CLAIM_LEASE):
        current = inquiry_data.get(store_id, inquiry_id, consistent=True)
        if current is not None and current.auto_reply_state in ("sent", "suppressed"):
            return AutoReplyResult("already_done")
        raise ClaimHeld(f"{store_id}/{inquiry_id}")

    try:
        ses_message_id = mailer.send(email)
    except MailerError:
        _release_quietly(store_id, inquiry_id)
        raise
    _record_sent(store_id, inquiry_id, ses_message_id)
    metrics.add_metric(name="AutoReplySent", unit="Count", value=1)
    logger.info("auto-reply sent", extra=log)
    return AutoReplyResult("sent")


def _release_quietly(store_id: str, inquiry_id: str) -> None:
    try:
        inquiry_data.release_auto_reply(store_id, inquiry_id)
    except DataAccessError:
        # The lease will run out instead; the retry then claims again. Nothing was sent.
        logger.warning(
            "releasing auto-reply claim failed", extra={"store_id": store_id, "inquiry_id": inquiry_id}
        )


def _record_sent(store_id: str, inquiry_id: str, ses_message_id: str) -> None:
    for attempt in range(_RECORD_ATTEMPTS):
        try:
            inquiry_data.mark_auto_reply_sent(
                store_id, inquiry_id, message_id=ses_message_id, sent_at=clock.now()
            )
            return
        except DataAccessError:
            if attempt == _RECORD_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
