"""Inquiry records: storage-first intake and the auto-reply claim/lease state machine."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.clock import isoformat, parse_iso
from omotenashi.dal._pynamo import condition_failed, update_if
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import InquiryItem, bind
from omotenashi.domain import Attachment, Customer, Inquiry, Locale


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
        auto_reply_message_id=item.auto_reply_message_id,
        auto_reply_sent_at=item.auto_reply_sent_at,
        sla_round=int(item.sla_round or 0),
        alert_plan=_plan_from_json(item.alert_plan),
        alert_index=int(item.alert_index) if item.alert_index is not None else None,
        closed_at=item.closed_at,
        latest_message=item.latest_message,
        latest_message_at=item.latest_message_at,
        attachments=attachments_from_json(item.attachments),
        source_key=item.source_key,
        email_message_id=item.email_message_id,
    )


def attachments_from_json(document: Any) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(name=a["name"], content_type=a["content_type"], size=int(a["size"]), key=a["key"])
        for a in document or ()
    )


def attachments_to_json(attachments: tuple[Attachment, ...]) -> list[dict[str, Any]] | None:
    if not attachments:
        return None
    return [
        {"name": a.name, "content_type": a.content_type, "size": a.size, "key": a.key} for a in attachments
    ]


def _plan_from_json(text: str | None) -> tuple[tuple[str, datetime], ...]:
    if not text:
        return ()
    return tuple((entry["kind"], parse_iso(entry["at"])) for entry in json.loads(text))


def plan_to_json(plan: tuple[tuple[str, datetime], ...]) -> str:
    return json.dumps([{"kind": kind, "at": isoformat(at)} for kind, at in plan], separators=(",", ":"))


ALERT_SHARDS = 4


def alert_shard(inquiry_id: str) -> str:
    """Spread pending alerts over a few index partitions; the sweep queries each."""
    return f"s{int(hashlib.sha256(inquiry_id.encode()).hexdigest(), 16) % ALERT_SHARDS}"


def _alert_actions(inquiry_id: str, plan: tuple[tuple[str, datetime], ...], index: int | None) -> list[Any]:
    if index is None or index >= len(plan):
        return [
            InquiryItem.alert_index.remove(),
            InquiryItem.alert_shard.remove(),
            InquiryItem.next_alert_at.remove(),
        ]
    return [
        InquiryItem.alert_index.set(index),
        InquiryItem.alert_shard.set(alert_shard(inquiry_id)),
        InquiryItem.next_alert_at.set(isoformat(plan[index][1])),
    ]


# --- status and the open-by-customer index --------------------------------------------------------


def open_customer_key(store_id: str, email: str) -> str:
    """The open-by-customer index key: addresses compare case-insensitively."""
    return f"{store_id}#{email.lower()}"


def _status_fields(store_id: str, status: str, email: str | None) -> dict[str, str | None]:
    """Every write of `status` writes these fields together (None: remove), so the sparse
    open-by-customer index holds an inquiry exactly while it is open: set by the write that opens
    it (intake, a follow-up's new round), removed by the one that answers or closes it."""
    if status not in ("open", "answered", "closed"):
        raise ValueError(f"unknown inquiry status {status!r}")
    if status != "open":
        return {"status": status, "open_customer": None}
    if email is None:
        raise ValueError("opening an inquiry needs its customer's email")
    return {"status": status, "open_customer": open_customer_key(store_id, email)}


def _status_actions(store_id: str, status: str, email: str | None = None) -> list[Any]:
    actions: list[Any] = []
    for name, value in _status_fields(store_id, status, email).items():
        attribute = getattr(InquiryItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def has_open_inquiry(store_id: str, email: str) -> bool:
    """Whether the store has an open inquiry from this address: one Query (Limit 1) of the sparse
    open-by-customer index. Eventually consistent: a write shows up about a second later."""
    bind()
    try:
        found = InquiryItem.open_by_customer.query(open_customer_key(store_id, email), limit=1)
        return next(iter(found), None) is not None
    except PynamoDBException as error:
        raise StorageError("looking up a customer's open inquiries failed") from error


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
        received_at=inquiry.received_at,
        reply_due_at=inquiry.reply_due_at,
        order_id=inquiry.order_id,
        external_id=inquiry.external_id,
        source_headers=inquiry.source_headers or None,
        request_hash=inquiry.request_hash,
        accepted_response=inquiry.accepted_response,
        auto_reply_state="pending",
        sla_started_at=inquiry.received_at,
        sla_round=inquiry.sla_round,
        alert_plan=plan_to_json(inquiry.alert_plan),
        attachments=attachments_to_json(inquiry.attachments),
        source_key=inquiry.source_key,
        email_message_id=inquiry.email_message_id,
    )
    for name, value in _status_fields(inquiry.store_id, inquiry.status, inquiry.customer.email).items():
        setattr(item, name, value)
    if inquiry.alert_plan:
        item.alert_index = 0
        item.alert_shard = alert_shard(inquiry.inquiry_id)
        item.next_alert_at = isoformat(inquiry.alert_plan[0][1])
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
    return update_if(InquiryItem(store_id=store_id, inquiry_id=inquiry_id), actions, condition, what)


def mark_auto_reply_sent(
    store_id: str, inquiry_id: str, *, message_id: str | None, sent_at: datetime
) -> bool:
    """Idempotent: a repeat records the same SES id (from the delivery record) and keeps the first
    time."""
    state = InquiryItem.auto_reply_state
    actions: list[Any] = [
        state.set("sent"),
        InquiryItem.auto_reply_sent_at.set(InquiryItem.auto_reply_sent_at | sent_at),
    ]
    if message_id is not None:
        actions.append(InquiryItem.auto_reply_message_id.set(message_id))
    return _conditional_update(
        store_id, inquiry_id, actions, state.is_in("pending", "sent"), "recording a sent auto-reply"
    )


def mark_auto_reply_suppressed(store_id: str, inquiry_id: str, *, reason: str) -> bool:
    state = InquiryItem.auto_reply_state
    actions = [state.set("suppressed"), InquiryItem.auto_reply_reason.set(reason)]
    return _conditional_update(
        store_id, inquiry_id, actions, state.is_in("pending", "suppressed"), "suppressing an auto-reply"
    )


# --- SLA clock ------------------------------------------------------------------------------------


def advance_alert(
    store_id: str, inquiry_id: str, *, from_index: int, sla_round: int, plan: tuple[tuple[str, datetime], ...]
) -> bool:
    """Move the pending alert on by one. Conditional on nobody having moved it (overlapping
    sweeps) and on the same SLA round (a reply or follow-up restarts the plan)."""
    condition = (InquiryItem.alert_index == from_index) & (InquiryItem.sla_round == sla_round)
    actions = _alert_actions(inquiry_id, plan, from_index + 1)
    return _conditional_update(store_id, inquiry_id, actions, condition, "advancing an SLA alert")


def answer_round(store_id: str, inquiry_id: str, *, sla_round: int, at: datetime) -> bool:
    """A staff reply answers SLA round `sla_round`: status answered, alerts stopped, the first
    response time kept or set. False when that round is no longer the open one."""
    actions: list[Any] = [
        InquiryItem.first_response_at.set(InquiryItem.first_response_at | at),
        *_status_actions(store_id, "answered"),
        *_alert_actions(inquiry_id, (), None),
    ]
    condition = (InquiryItem.status == "open") & (InquiryItem.sla_round == sla_round)
    return _conditional_update(store_id, inquiry_id, actions, condition, "answering an inquiry")


def record_first_response(store_id: str, inquiry_id: str, *, at: datetime) -> bool:
    """Only the first response time (kept if set): a reply to a closed or later-round inquiry."""
    actions = [InquiryItem.first_response_at.set(InquiryItem.first_response_at | at)]
    condition = InquiryItem.inquiry_id.exists()
    return _conditional_update(store_id, inquiry_id, actions, condition, "recording a first response")


def stop_clock(store_id: str, inquiry_id: str, *, status: str, now: datetime) -> bool:
    """Close (or mark answered): no further alerts for this round."""
    if status == "open":
        raise ValueError("stop_clock closes or answers; a follow-up reopens (restart_clock)")
    actions = [*_status_actions(store_id, status), *_alert_actions(inquiry_id, (), None)]
    if status == "closed":
        actions.append(InquiryItem.closed_at.set(now))
    return _conditional_update(
        store_id, inquiry_id, actions, InquiryItem.inquiry_id.exists(), "stopping the clock"
    )


def restart_clock(
    store_id: str,
    inquiry_id: str,
    *,
    started_at: datetime,
    due_at: datetime,
    sla_round: int,
    plan: tuple[tuple[str, datetime], ...],
    expected_round: int,
    message: str,
    customer_email: str,
) -> bool:
    """A customer follow-up: the inquiry is open again with a next-response deadline (and back in
    the open-by-customer index, under its customer's address)."""
    actions = [
        *_status_actions(store_id, "open", customer_email),
        InquiryItem.sla_started_at.set(started_at),
        InquiryItem.reply_due_at.set(due_at),
        InquiryItem.sla_round.set(sla_round),
        InquiryItem.alert_plan.set(plan_to_json(plan)),
        InquiryItem.closed_at.remove(),
        InquiryItem.latest_message.set(message),
        InquiryItem.latest_message_at.set(started_at),
        *_alert_actions(inquiry_id, plan, 0),
    ]
    return _conditional_update(
        store_id, inquiry_id, actions, InquiryItem.sla_round == expected_round, "restarting the clock"
    )


def record_latest_message(
    store_id: str, inquiry_id: str, *, sla_round: int, message: str, at: datetime
) -> bool:
    """A follow-up joins the open round `sla_round` (the deadline stands; staff alerts quote it).
    False when that round is not the open one any more, or a newer message is already recorded."""
    condition = (
        (InquiryItem.status == "open")
        & (InquiryItem.sla_round == sla_round)
        & (InquiryItem.latest_message_at.does_not_exist() | (InquiryItem.latest_message_at <= at))
    )
    actions = [InquiryItem.latest_message.set(message), InquiryItem.latest_message_at.set(at)]
    return _conditional_update(store_id, inquiry_id, actions, condition, "recording a follow-up")
