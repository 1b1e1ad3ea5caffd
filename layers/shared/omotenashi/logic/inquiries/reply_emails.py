"""Emailing a staff reply to the customer (the message worker's half of replies; the API's half,
which records replies and moves the SLA clock, is replies.py and never loads email code)."""

from __future__ import annotations

from collections.abc import Sequence

from omotenashi import clock
from omotenashi.dal import inbound_mail, mailer
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import replies as reply_data
from omotenashi.domain import ConversationEntry, Inquiry, Reply, Store
from omotenashi.logic.core import directory
from omotenashi.logic.core.delivery import delivery_id, send_once
from omotenashi.logic.inquiries import reply_to, thread
from omotenashi.messaging.compose import Draft, OutgoingFile
from omotenashi.messaging.formatting import format_datetime
from omotenashi.observability import logger
from omotenashi.schemas.jobs import ReplyEmailJob

REPLY_KIND = "inquiry_reply"


def threading_headers(inquiry: Inquiry) -> dict[str, str]:
    """In-Reply-To and References: under the customer's own email when the inquiry came by email,
    else under the auto-reply, by the Message-ID its recipient saw (SES replaces ours)."""
    auto_reply = (
        mailer.delivered_message_id(inquiry.auto_reply_message_id) if inquiry.auto_reply_message_id else None
    )
    customers = reply_to.customers_message_id(inquiry)
    parent = customers or auto_reply
    if parent is None:
        return {}
    return {"In-Reply-To": parent, "References": " ".join(i for i in (customers, auto_reply) if i)}


def draft_reply(
    store: Store, inquiry: Inquiry, reply: Reply, conversation: Sequence[ConversationEntry] = ()
) -> Draft:
    """The staff reply, signed with the member's display name (staff_names) when the store gives
    one, quoting the customer's newest message as of the reply (from `conversation`, the inquiry's
    entries; else the first message), with a Reply-To that brings the customer's answer back to
    the inquiry when the store receives mail."""
    headers = threading_headers(inquiry)
    address = reply_to.customer_reply_to(store, inquiry.inquiry_id)
    if address is not None:
        headers["Reply-To"] = address
    subject = inquiry.subject if inquiry.subject.lower().startswith("re:") else f"Re: {inquiry.subject}"
    quoted, quoted_at = thread.customer_words_before(inquiry, conversation, reply.created_at)
    return Draft(
        kind=REPLY_KIND,
        store=store,
        locale=inquiry.locale,
        to=inquiry.customer.email,
        to_name=inquiry.customer.name,
        context={
            "customer": {"name": inquiry.customer.name},
            "inquiry": {"id": inquiry.inquiry_id, "subject": inquiry.subject},
            "reply": {"message": reply.message},
            # Never an address: the API records the author's address, which customers are not shown.
            "staff": {"name": thread.staff_name(store, reply.author, reply.author_email)},
            "quote": {
                "author": thread.customer_display_name(inquiry),
                "at": format_datetime(quoted_at, store.time_zone, inquiry.locale),
                "message": quoted,
                "lines": quoted.splitlines() or [""],
            },
            "subject": subject,
        },
        reference=f"{reply.reply_id}.{store.store_id}",
        automated=False,  # a person's answer
        headers=headers,
        attachments=tuple(
            OutgoingFile(a.name, a.content_type, inbound_mail.read_attachment(a.key))
            for a in reply.attachments
        ),
    )


def deliver_reply(job: ReplyEmailJob) -> str:
    store_id, inquiry_id, reply_id = job.store_id, job.inquiry_id, job.reply_id
    reply = reply_data.get(store_id, inquiry_id, reply_id)
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if reply is None or inquiry is None:
        return "missing"
    store = directory.require(store_id)  # a missing store keeps the job (DLQ), never drops it
    sent = send_once(
        delivery_id("reply", store_id, reply_id),
        lambda: draft_reply(store, inquiry, reply, reply_data.conversation(store_id, inquiry_id)),
    )
    if sent.message_id:
        # A customer's answer that lost our Reply-To still finds the inquiry by this Message-ID.
        inbound_mail.remember_thread(
            store_id, mailer.delivered_message_id(sent.message_id), inquiry_id, clock.now()
        )
    reply_data.mark_emailed(store_id, inquiry_id, reply_id)
    outcome = "sent" if sent.now else "already_sent"
    logger.info("staff reply email", extra={"reply_id": reply_id, "outcome": outcome})
    return outcome
