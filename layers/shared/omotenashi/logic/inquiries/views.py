"""Reading inquiries: for the storefront, and whether a customer is waiting for an answer."""

from __future__ import annotations

from omotenashi import clock
from omotenashi.dal import attachment_links
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import replies as reply_data
from omotenashi.domain import Attachment, Inquiry, Store
from omotenashi.logic.core.errors import NotFound
from omotenashi.logic.inquiries import thread
from omotenashi.schemas.inquiries import (
    AttachmentOut,
    CustomerOut,
    InquiryOut,
    InquiryThreadOut,
    MessageOut,
)

ATTACHMENT_LINK_SECONDS = 15 * 60


def view(store: Store, inquiry_id: str) -> InquiryThreadOut:
    """The inquiry with its conversation (messages, oldest first)."""
    # An eventually consistent read (half the read capacity) is enough for showing an inquiry.
    inquiry = inquiry_or_404(store, inquiry_id, consistent=False)
    entries = reply_data.conversation(store.store_id, inquiry_id)
    messages = [
        MessageOut(
            id=message.message_id,
            type=message.type,
            author=message.author,
            at=clock.isoformat(message.at),
            message=message.message,
            channel=message.channel,
            attachments=[_attachment(a) for a in message.attachments],
        )
        for message in thread.messages(store, inquiry, entries)
    ]
    return InquiryThreadOut(**to_view(inquiry).model_dump(), messages=messages)


def _attachment(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        name=attachment.name,
        content_type=attachment.content_type,
        size=attachment.size,
        url=attachment_links.presigned_url(attachment.key, expires_seconds=ATTACHMENT_LINK_SECONDS),
    )


def customer_has_open_inquiry(store_id: str, email: str) -> bool:
    """Whether the customer (by address, case-insensitively) has an inquiry of this store waiting
    for an answer: the marketing gate holds marketing back meanwhile. One Query, Limit 1, on the
    sparse open-by-customer index.

    Index reads are eventually consistent (a write shows up about a second later), which a hold
    can afford. A just-answered inquiry may still count as open for that second: one marketing
    email is skipped that could have gone (the safe direction for a courtesy hold). An inquiry
    stored in that second may be missed and one email goes out: but a customer who writes a second
    before a reminder leaves could just as well have written a second after it, which no read
    prevents. The hold is about customers waiting for minutes or days, and those it always sees.
    (GSIs offer no strongly consistent read; a consistent answer would need a Query of the
    store's whole partition, growing with its inquiries.)

    Inquiries stored before the index existed have no key and are not seen until a follow-up
    reopens them (docs/architecture.md, "Marketing holds")."""
    return inquiry_data.has_open_inquiry(store_id, email)


def inquiry_or_404(store: Store, inquiry_id: str, *, consistent: bool = True) -> Inquiry:
    """The store's inquiry (keyed by store: no cross-store reads); strongly consistent by default,
    as every change decides on what it read."""
    inquiry = inquiry_data.get(store.store_id, inquiry_id, consistent=consistent)
    if inquiry is None:
        raise NotFound("no such inquiry")
    return inquiry


def to_view(inquiry: Inquiry) -> InquiryOut:
    return InquiryOut(
        inquiry_id=inquiry.inquiry_id,
        status=inquiry.status,  # type: ignore[arg-type]
        channel=inquiry.channel,
        subject=inquiry.subject,
        message=inquiry.message,
        customer=CustomerOut(
            email=inquiry.customer.email,
            name=inquiry.customer.name,
            id=inquiry.customer.customer_id,
            locale=inquiry.customer.locale,
        ),
        locale=inquiry.locale,
        priority=inquiry.priority,  # type: ignore[arg-type]
        priority_reason=inquiry.priority_reason,
        received_at=clock.isoformat(inquiry.received_at),
        reply_due_at=clock.isoformat(inquiry.reply_due_at),
        first_response_at=clock.isoformat(inquiry.first_response_at) if inquiry.first_response_at else None,
        closed_at=clock.isoformat(inquiry.closed_at) if inquiry.closed_at else None,
        order_id=inquiry.order_id,
        external_id=inquiry.external_id,
        auto_reply=inquiry.auto_reply_state,  # type: ignore[arg-type]
    )
