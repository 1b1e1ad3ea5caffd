"""The new-inquiry notice to the store's staff (kind `staff_new_inquiry`, issue 11): who wrote,
through which channel, how urgent and why, the message, the deadline, the files that came with it,
and how to answer: reply to the notice. Each staff member's copy carries their own reply address
(reply_to.staff_reply_to), so an answer by email reaches the customer as that member's reply.

Sent by the inquiry worker right after the auto-reply, once per staff member (send_once), unless
the store switched it off (email.json `new_inquiry_notice`) or the inquiry was answered first. A
store whose SLA policy uses the morning digest gets it held like the SLA alerts: outside business
hours it waits for the digest at opening.
"""

from __future__ import annotations

import functools
from typing import Any

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.domain import Inquiry, Store
from omotenashi.logic.core import directory
from omotenashi.logic.core.delivery import delivery_id, send_once
from omotenashi.logic.inquiries import email_settings
from omotenashi.logic.inquiries.sla_emails import held_for_digest, staff_email_context, staff_headers
from omotenashi.messaging.compose import Draft
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import StaffReplyRefusedJob

KIND = "staff_new_inquiry"
MESSAGE_CHARS = 4000  # the notice carries the message; a longer one is cut (the API has it all)
LINK_SECONDS = 24 * 3600  # pre-signed attachment links in the notice


def notify(store_id: str, inquiry_id: str) -> str:
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if inquiry is None:
        return "missing"
    store = directory.require(store_id)
    if not email_settings.settings_of(store).new_inquiry_notice:
        return "off"
    if inquiry.status != "open" or inquiry.sla_round != 0:
        return "stale"  # answered or closed before the notice went: nothing to ask staff for
    if not store.staff_addresses:
        metrics.add_metric(name="StaffNoticeWithoutRecipients", unit="Count", value=1)
        logger.warning("new-inquiry notice has no staff address to go to")
        return "no_recipients"
    if held_for_digest(store, inquiry_id, KIND, inquiry.sla_round):
        return "held"
    sent = [
        send_once(
            delivery_id("notice", store_id, inquiry_id, recipient),
            functools.partial(draft_notice, store, inquiry, recipient),
        )
        for recipient in store.staff_addresses
    ]
    metrics.add_metric(name="StaffNoticesSent", unit="Count", value=sum(1 for s in sent if s.now))
    logger.info("new-inquiry notice delivered")
    return "sent"


def draft_notice(store: Store, inquiry: Inquiry, recipient: str) -> Draft:
    message = inquiry.message
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS].rstrip() + "…"
    headers, context = staff_email_context(store, inquiry, recipient, clock.now())
    # The notice shows the first message whole, even if a follow-up came before it went.
    context["inquiry"].update(excerpt=message, follow_up=False)
    context.update(
        whole_message=True,
        latest_message_at=None,
        attachments=_attachment_links(inquiry),
        original_url=_original_link(inquiry),
        link_hours=LINK_SECONDS // 3600,
    )
    return Draft(
        kind=KIND,
        store=store,
        locale=store.default_locale,
        to=recipient,
        to_name=None,
        context=context,
        reference=f"{inquiry.inquiry_id}.notice.{store.store_id}",
        headers=headers,
    )


# --- a staff reply by email that was not sent --------------------------------------------------------

REFUSED_KIND = "staff_reply_refused"


def deliver_refusal(job: StaffReplyRefusedJob) -> str:
    """Tell the member their reply went nowhere, why, and how to send it: once per email (its SES
    message id), with their own reply address again so that answering this email is a new try."""
    inquiry = inquiry_data.get(job.store_id, job.inquiry_id, consistent=True)
    if inquiry is None:
        return "missing"
    store = directory.require(job.store_id)
    sent = send_once(
        delivery_id("refused", job.store_id, job.email_ref, job.staff),
        functools.partial(draft_refusal, store, inquiry, job.staff, job.reason, job.email_ref),
    )
    logger.info("staff told their reply was not sent", extra={"reason": job.reason})
    return "sent" if sent.now else "already_sent"


def draft_refusal(store: Store, inquiry: Inquiry, staff: str, reason: str, email_ref: str) -> Draft:
    headers, reply_by_email = staff_headers(store, inquiry, staff)
    return Draft(
        kind=REFUSED_KIND,
        store=store,
        locale=store.default_locale,
        to=staff,
        to_name=None,
        context={
            "inquiry": {"id": inquiry.inquiry_id, "subject": inquiry.subject},
            "customer": {"name": inquiry.customer.name, "email": inquiry.customer.email},
            "reason": reason,
            "reply_by_email": reply_by_email,
        },
        reference=f"{inquiry.inquiry_id}.refused.{email_ref}.{store.store_id}",
        headers=headers,
    )


def _attachment_links(inquiry: Inquiry) -> list[dict[str, Any]]:
    if not inquiry.attachments:
        return []
    from omotenashi.dal import attachment_links

    return [
        {
            "name": attachment.name,
            "content_type": attachment.content_type,
            "size": _size_label(attachment.size),
            "url": attachment_links.presigned_url(attachment.key, expires_seconds=LINK_SECONDS),
        }
        for attachment in inquiry.attachments
    ]


def _original_link(inquiry: Inquiry) -> str | None:
    """The raw email as it came (.eml), for one that came by email: what a too large or broken
    email held is only there."""
    if inquiry.channel != "email" or not inquiry.source_key:
        return None
    from omotenashi.dal import attachment_links

    return attachment_links.presigned_url(inquiry.source_key, expires_seconds=LINK_SECONDS)


def _size_label(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
