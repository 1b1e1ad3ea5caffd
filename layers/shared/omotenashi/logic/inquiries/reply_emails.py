"""Emailing a staff reply to the customer (the message worker's half of replies; the API's half,
which records replies and moves the SLA clock, is replies.py and never loads email code)."""

from __future__ import annotations

from omotenashi import clock
from omotenashi.dal import inbound_mail, mailer
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import replies as reply_data
from omotenashi.domain import Inquiry, Reply, Store
from omotenashi.logic.core import directory
from omotenashi.logic.core.delivery import delivery_id, send_once
from omotenashi.messaging.compose import Draft
from omotenashi.observability import logger
from omotenashi.schemas.jobs import ReplyEmailJob

REPLY_KIND = "inquiry_reply"


def draft_reply(store: Store, inquiry: Inquiry, reply: Reply) -> Draft:
    # Thread under the auto-reply, by the Message-ID its recipient saw (SES replaces ours).
    threading = {}
    if inquiry.auto_reply_message_id:
        auto_reply_id = mailer.delivered_message_id(inquiry.auto_reply_message_id)
        threading = {"In-Reply-To": auto_reply_id, "References": auto_reply_id}
    subject = inquiry.subject if inquiry.subject.lower().startswith("re:") else f"Re: {inquiry.subject}"
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
            "subject": subject,
        },
        reference=f"{reply.reply_id}.{store.store_id}",
        automated=False,  # a person's answer
        headers=threading,
    )


def deliver_reply(job: ReplyEmailJob) -> str:
    store_id, inquiry_id, reply_id = job.store_id, job.inquiry_id, job.reply_id
    reply = reply_data.get(store_id, inquiry_id, reply_id)
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if reply is None or inquiry is None:
        return "missing"
    store = directory.require(store_id)  # a missing store keeps the job (DLQ), never drops it
    sent = send_once(delivery_id("reply", store_id, reply_id), lambda: draft_reply(store, inquiry, reply))
    if sent.message_id:
        # A customer's answer that lost our Reply-To still finds the inquiry by this Message-ID.
        inbound_mail.remember_thread(
            store_id, mailer.delivered_message_id(sent.message_id), inquiry_id, clock.now()
        )
    reply_data.mark_emailed(store_id, inquiry_id, reply_id)
    outcome = "sent" if sent.now else "already_sent"
    logger.info("staff reply email", extra={"reply_id": reply_id, "outcome": outcome})
    return outcome
