"""Inquiry records: storage-first intake and the auto-reply claim/lease state machine."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.clock import instant, isoformat, parse_iso
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


def status_key(store_id: str, status: str) -> str:
    """The store-status index key: one partition per store and status."""
    return f"{store_id}#{status}"


def received_key(received_at: datetime, inquiry_id: str) -> str:
    """Both list indexes' range key: newest first is descending order of this text (fixed-width
    instants compare as the times; the id breaks ties)."""
    return f"{instant(received_at)}#{inquiry_id}"


def _status_fields(store_id: str, status: str, email: str | None) -> dict[str, str | None]:
    """Every write of `status` writes these fields together (None: remove), so the sparse
    open-by-customer index holds an inquiry exactly while it is open: set by the write that opens
    it (intake, a follow-up's new round), removed by the one that answers or closes it; and the
    store-status index lists it under its current status."""
    if status not in ("open", "answered", "closed"):
        raise ValueError(f"unknown inquiry status {status!r}")
    if status != "open":
        return {"status": status, "open_customer": None, "status_key": status_key(store_id, status)}
    if email is None:
        raise ValueError("opening an inquiry needs its customer's email")
    return {
        "status": status,
        "open_customer": open_customer_key(store_id, email),
        "status_key": status_key(store_id, status),
    }


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
        received_key=received_key(inquiry.received_at, inquiry.inquiry_id),
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


# --- listing: the store-received and store-status indexes -----------------------------------------

LIST_PAGES_PER_REQUEST = 10  # Query pages one list request may read (a filter may skip many items)
FILTERED_PAGE_SIZE = 100  # items per Query page when a filter (overdue) decides what is listed

_INSTANT_KEY = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#(inq_[a-z0-9]{1,64})")


class InvalidPosition(ValueError):
    """A list position that is not one this store's list (with this status) could have given."""


def _list_index(store_id: str, status: str | None) -> tuple[Any, str, tuple[str, ...]]:
    """The index, its hash key value, and the names of a position's (LastEvaluatedKey's) keys."""
    if status is None:
        return InquiryItem.store_received, store_id, ("store_id", "inquiry_id", "received_key")
    if status not in ("open", "answered", "closed"):
        raise ValueError(f"unknown inquiry status {status!r}")
    return (
        InquiryItem.store_status,
        status_key(store_id, status),
        ("status_key", "store_id", "inquiry_id", "received_key"),
    )


def _start_key(store_id: str, status: str | None, position: Any) -> dict[str, Any] | None:
    """The ExclusiveStartKey of a position the list gave out; InvalidPosition unless it is a
    position of this store's list with this status."""
    if position is None:
        return None
    _, hash_value, names = _list_index(store_id, status)
    if not isinstance(position, dict) or set(position) != set(names):
        raise InvalidPosition("not a list position")
    if not all(isinstance(value, str) for value in position.values()):
        raise InvalidPosition("not a list position")
    found = _INSTANT_KEY.fullmatch(position["received_key"])
    if (
        position["store_id"] != store_id
        or position.get("status_key", hash_value) != hash_value
        or found is None
        or found[1] != position["inquiry_id"]
    ):
        raise InvalidPosition("a position of another list")
    return {name: {"S": position[name]} for name in names}


def _list_filter(status: str | None, overdue: bool | None, now: datetime) -> Any:
    """overdue True: open and due before now; False: anything else; None: no filter."""
    due_passed = InquiryItem.reply_due_at < now  # UTC fixed-width text: compares as the times
    if overdue is None:
        return None
    if overdue:
        if status != "open":
            raise ValueError("only open inquiries are overdue")
        return due_passed
    if status == "open":
        return InquiryItem.reply_due_at >= now
    if status is None:
        return (InquiryItem.status != "open") | (InquiryItem.reply_due_at >= now)
    return None  # answered and closed inquiries are never overdue


def list_page(
    store_id: str,
    *,
    status: str | None,
    overdue: bool | None,
    now: datetime,
    limit: int,
    position: dict[str, str] | None,
) -> tuple[list[Inquiry], dict[str, str] | None]:
    """Up to `limit` of the store's inquiries (of `status`; overdue or not as of `now`), newest
    first (received_at, then inquiry_id), from the position the previous page ended at. Returns the
    page and the position after it (None: nothing more).

    One Query of the store-received or store-status index reads limit + 1 items (the extra one
    tells whether more follow). With a filter, DynamoDB counts items before filtering, so pages of
    FILTERED_PAGE_SIZE are read until the page is full, the index ends, or
    LIST_PAGES_PER_REQUEST pages were read: then the page may be short (even empty) and still have
    a position after it. Eventually consistent (GSIs have no consistent read): a write shows up
    about a second later."""
    bind()
    index, hash_value, names = _list_index(store_id, status)
    start = _start_key(store_id, status, position)
    condition = _list_filter(status, overdue, now)
    wanted = limit + 1
    found: list[InquiryItem] = []
    after: dict[str, str] | None = None
    try:
        pages = index.query(
            hash_value, filter_condition=condition, scan_index_forward=False, last_evaluated_key=start
        ).page_iter
        for _ in range(LIST_PAGES_PER_REQUEST):
            pages.page_size = wanted - len(found) if condition is None else FILTERED_PAGE_SIZE
            page = next(pages, None)
            if page is None:
                break
            for raw in page.get("Items", ()):
                found.append(InquiryItem.from_raw_data(raw))
                if len(found) == wanted:
                    break
            if len(found) == wanted or pages.last_evaluated_key is None:
                break
        else:  # the page bound: continue after the last item read
            last = pages.last_evaluated_key
            after = {name: last[name]["S"] for name in names} if last else None
    except PynamoDBException as error:
        raise StorageError("listing inquiries failed") from error
    if len(found) == wanted:
        found.pop()
        after = {name: str(getattr(found[-1], name)) for name in names}
    return [_to_domain(item) for item in found], after


def backfill_index_keys(store_id: str) -> int:
    """Ops: give the store's inquiries stored before the list indexes existed their keys
    (received_key; status_key and open_customer through the status helper), so the list shows
    them. Queries the store's partition (never Scan); each write is conditional on the key still
    missing and the status unchanged, so it is safe beside live traffic and when repeated.
    Returns how many inquiries it updated."""
    bind()
    updated = 0
    try:
        items = InquiryItem.query(
            store_id,
            InquiryItem.inquiry_id.startswith("inq_"),
            filter_condition=InquiryItem.received_key.does_not_exist(),
        )
        for item in items:
            actions = [
                InquiryItem.received_key.set(received_key(item.received_at, item.inquiry_id)),
                *_status_actions(store_id, item.status, item.customer_email),
            ]
            condition = InquiryItem.received_key.does_not_exist() & (InquiryItem.status == item.status)
            if update_if(
                InquiryItem(store_id=store_id, inquiry_id=item.inquiry_id), actions, condition, "backfilling"
            ):
                updated += 1
    except PynamoDBException as error:
        raise StorageError("backfilling the list keys failed") from error
    return updated
