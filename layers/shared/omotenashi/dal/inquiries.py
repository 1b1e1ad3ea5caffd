"""Inquiry records: storage-first intake and the auto-reply claim/lease state machine."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import InquiryItem, bind
from omotenashi.domain import Customer, Inquiry, Locale


def _to_domain(item: InquiryItem) -> Inquiry:
    return Inquiry(
        store_id=item.store_id,
        inquiry_id=item.inquiry_id,
        customer=Customer(
            email=item.customer_email,
            name=item.customer_name,
            customer_id=item.customer_id,
            locale=cast(Locale | None, item.customer_locale),
        ),
        locale=cast(Locale, item.locale),
        channel=item.channel,
        subject=item.subject,
        message=item.message,
        priority=item.priority,
        priority_reason=item.priority_reason,
        status=item.status,
        received_at=item.received_at,
        reply_due_at=item.reply_due_at,
        request_hash=item.request_hash,
        accepted_response=item.accepted_response,
        order_id=item.order_id,
        external_id=item.external_id,
        source_headers=dict(item.source_headers.as_dict()) if item.source_headers else {},
        first_response_at=item.first_response_at,
        auto_reply_state=item.auto_reply_state,
        auto_reply_reason=item.auto_reply_reason,
        auto_reply_lease_until=item.auto_reply_lease_until,
        auto_reply_message_id=item.auto_reply_message_id,
        auto_reply_sent_at=item.auto_reply_sent_at,
    )


def create_if_absent(inquiry: Inquiry) -> bool:
    """One conditional PutItem. False when an inquiry with this id already exists."""
    bind()
    item = InquiryItem(
        store_id=inquiry.store_id,
        inquiry_id=inquiry.inquiry_id,
        customer_email=inquiry.customer.email,
        customer_name=inquiry.customer.name,
        customer_id=inquiry.customer.customer_id,
        customer_locale=inquiry.customer.locale,
        locale=inquiry.locale,
        channel=inquiry.channel,
        subject=inquiry.subject,
        message=inquiry.message,
        priority=inquiry.priority,
        priority_reason=inquiry.priority_reason,
        status=inquiry.status,
        received_at=inquiry.received_at,
        reply_due_at=inquiry.reply_due_at,
        order_id=inquiry.order_id,
        external_id=inquiry.external_id,
        source_headers=inquiry.source_headers or None,
        request_hash=inquiry.request_hash,
        accepted_response=inquiry.accepted_response,
        auto_reply_state="pending",
    )
    try:
        item.save(condition=InquiryItem.inquiry_id.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("storing an inquiry failed") from error
    return True


def delete_unprocessed(store_id: str, inquiry_id: str, *, request_hash: str) -> bool:
    """Undo an intake whose hand-off failed: only our own, still untouched, inquiry is removed."""
    bind()
    item = InquiryItem(store_id=store_id, inquiry_id=inquiry_id)
    condition = (InquiryItem.request_hash == request_hash) & (InquiryItem.auto_reply_state == "pending")
    try:
        item.delete(condition=condition)
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("withdrawing an inquiry failed") from error
    return True


def get(store_id: str, inquiry_id: str, *, consistent: bool = False) -> Inquiry | None:
    bind()
    try:
        return _to_domain(InquiryItem.get(store_id, inquiry_id, consistent_read=consistent))
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading an inquiry failed") from error


def _conditional_update(store_id: str, inquiry_id: str, actions: list, condition: object, what: str) -> bool:
    bind()
    item = InquiryItem(store_id=store_id, inquiry_id=inquiry_id)
    try:
        item.update(actions=actions, condition=condition)  # type: ignore[arg-type]
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError(f"{what} failed") from error
    return True


def claim_auto_reply(store_id: str, inquiry_id: str, *, now: datetime, lease_until: datetime) -> bool:
    """Take the right to send the auto-reply. Succeeds when pending, or when an earlier claim's
    lease ran out without the send being recorded (that worker died before it sent)."""
    state = InquiryItem.auto_reply_state
    condition = InquiryItem.inquiry_id.exists() & (
        (state == "pending") | ((state == "sending") & (InquiryItem.auto_reply_lease_until < now))
    )
    actions = [state.set("sending"), InquiryItem.auto_reply_lease_until.set(lease_until)]
    return _conditional_update(store_id, inquiry_id, actions, condition, "claiming an auto-reply")


def release_auto_reply(store_id: str, inquiry_id: str) -> bool:
    """Give the claim back after a send that certainly failed, so a retry may send."""
    state = InquiryItem.auto_reply_state
    actions = [state.set("pending"), InquiryItem.auto_reply_lease_until.remove()]
    return _conditional_update(store_id, inquiry_id, actions, state == "sending", "releasing an auto-reply")


def mark_auto_reply_sent(store_id: str, inquiry_id: str, *, message_id: str, sent_at: datetime) -> bool:
    state = InquiryItem.auto_reply_state
    actions = [
        state.set("sent"),
        InquiryItem.auto_reply_message_id.set(message_id),
        InquiryItem.auto_reply_sent_at.set(sent_at),
        InquiryItem.auto_reply_lease_until.remove(),
    ]
    return _conditional_update(
        store_id, inquiry_id, actions, state.is_in("sending", "sent"), "recording a sent auto-reply"
    )


def mark_auto_reply_suppressed(store_id: str, inquiry_id: str, *, reason: str) -> bool:
    state = InquiryItem.auto_reply_state
    actions = [state.set("suppressed"), InquiryItem.auto_reply_reason.set(reason)]
    return _conditional_update(
        store_id, inquiry_id, actions, state.is_in("pending", "suppressed"), "suppressing an auto-reply"
    )
