"""Reading inquiries for the storefront."""

from __future__ import annotations

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.domain import Inquiry, Store
from omotenashi.logic.core.errors import NotFound
from omotenashi.schemas.inquiries import CustomerOut, InquiryOut


def view(store: Store, inquiry_id: str) -> InquiryOut:
    # An eventually consistent read (half the read capacity) is enough for showing an inquiry.
    return to_view(inquiry_or_404(store, inquiry_id, consistent=False))


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
