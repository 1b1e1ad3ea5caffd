"""An inquiry's conversation as people read it: the customer's first message, then every follow-up
and staff reply in time order, each with who wrote it. Staff appear under the display name the
store's email settings give them (staff_names), else as recorded.

Pure: the entries come from dal/replies.conversation; the thread view (views.py) and the staff
reply email (reply_emails.py) both read them through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from omotenashi.domain import Attachment, ConversationEntry, Inquiry, Store
from omotenashi.logic.inquiries.email_settings import settings_of


@dataclass(frozen=True)
class ThreadMessage:
    message_id: str
    type: Literal["customer", "staff"]
    author: str
    at: datetime
    message: str
    channel: str
    attachments: tuple[Attachment, ...] = ()


def customer_display_name(inquiry: Inquiry) -> str:
    return inquiry.customer.name or inquiry.customer.email


def staff_name(store: Store, author: str, author_email: str | None) -> str | None:
    """The display name configured for the member: by the address a reply by email came from, or
    by the recorded author (the API records an address)."""
    names = settings_of(store)
    for address in (author_email, author):
        if address:
            name = names.staff_name(address)
            if name:
                return name
    return None


def messages(store: Store, inquiry: Inquiry, entries: Sequence[ConversationEntry]) -> list[ThreadMessage]:
    first = ThreadMessage(
        message_id=inquiry.inquiry_id,
        type="customer",
        author=customer_display_name(inquiry),
        at=inquiry.received_at,
        message=inquiry.message,
        channel=inquiry.channel,
        attachments=inquiry.attachments,
    )
    rest = [
        ThreadMessage(
            message_id=entry.entry_id,
            type="customer" if entry.from_customer else "staff",
            author=(
                customer_display_name(inquiry)
                if entry.from_customer
                else staff_name(store, entry.author, entry.author_email) or entry.author
            ),
            at=entry.created_at,
            message=entry.message,
            channel=entry.channel,
            attachments=entry.attachments,
        )
        for entry in sorted(entries, key=lambda e: (e.created_at, e.entry_id))
    ]
    return [first, *rest]


def customer_words_before(
    inquiry: Inquiry, entries: Sequence[ConversationEntry], moment: datetime
) -> tuple[str, datetime]:
    """The customer's newest message written at or before `moment` (what a reply written then
    answers) and when: a follow-up, else the first message."""
    earlier = [e for e in entries if e.from_customer and e.created_at <= moment]
    if not earlier:
        return inquiry.message, inquiry.received_at
    newest = max(earlier, key=lambda e: (e.created_at, e.entry_id))
    return newest.message, newest.created_at
