"""Staff alert emails (reminder, breach, escalation) and the morning digest: the message
worker's half of the SLA. Each goes out exactly once per recipient through send_once."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from omotenashi import clock
from omotenashi.dal import digests
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.domain import Inquiry, Store
from omotenashi.logic.core import directory
from omotenashi.logic.core.delivery import delivery_id, send_once
from omotenashi.logic.inquiries import sla
from omotenashi.messaging.compose import Draft
from omotenashi.messaging.formatting import format_datetime, format_duration
from omotenashi.messaging.labels import label
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import SlaAlertJob

EXCERPT_CHARS = 300
EXCERPT_LINES = 5


def _staff_recipients(store: Store, kind: str) -> tuple[str, ...]:
    recipients = list(store.staff_addresses)
    if kind == sla.ESCALATION:
        recipients += [a for a in store.policy.escalation_addresses if a not in recipients]
    return tuple(recipients)


def _excerpt(message: str) -> str:
    lines = message.strip().splitlines()[:EXCERPT_LINES]
    text = "\n".join(lines)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"


def time_left(store: Store, due: datetime, now: datetime, locale: str) -> str:
    """Wall-clock time for a 24x7 store; open time for business hours, since a reminder sent on
    Friday evening about a Monday-noon deadline has 4 working hours left, not 2 days 19 hours."""
    calendar = sla.calendar_of(store)
    if calendar.always_open or now >= due:
        return format_duration(due - now, locale)
    return format_duration(calendar.open_time_between(now, due), locale, open_hours=True)


def inquiry_context(inquiry: Inquiry, locale: str) -> dict[str, Any]:
    return {
        "id": inquiry.inquiry_id,
        "subject": inquiry.subject,
        "channel": inquiry.channel,
        "channel_label": label("channel", inquiry.channel, locale),
        "excerpt": _excerpt(inquiry.newest_customer_message),
        "follow_up": inquiry.latest_message is not None,
        "priority": inquiry.priority,
        "priority_label": label("priority", inquiry.priority, locale),
        "priority_reason": inquiry.priority_reason,
        "priority_reason_label": label("priority_reason", inquiry.priority_reason, locale),
        "order_id": inquiry.order_id,
    }


def staff_headers(store: Store, inquiry: Inquiry, recipient: str) -> tuple[dict[str, str], bool]:
    """The Reply-To that makes a staff member's answer by email a reply to the customer (bound to
    that member), and whether there is one."""
    from omotenashi.logic.inquiries.reply_to import staff_reply_to

    address = staff_reply_to(store, inquiry.inquiry_id, recipient)
    return ({"Reply-To": address}, True) if address else ({}, False)


def staff_email_context(
    store: Store, inquiry: Inquiry, recipient: str, now: datetime
) -> tuple[dict[str, str], dict[str, Any]]:
    """The headers and every variable of the staff_alert partial, which the SLA alerts and the
    new-inquiry notice (staff_notice.py) share; the notice's own (the whole message, attachment
    and original-email links) start empty."""
    locale = store.default_locale
    latest_at = inquiry.latest_message_at
    headers, reply_by_email = staff_headers(store, inquiry, recipient)
    return headers, {
        "inquiry": inquiry_context(inquiry, locale),
        "customer": {"name": inquiry.customer.name, "email": inquiry.customer.email},
        "received_at": format_datetime(inquiry.received_at, store.time_zone, locale),
        "latest_message_at": format_datetime(latest_at, store.time_zone, locale) if latest_at else None,
        "reply_due_at": format_datetime(inquiry.reply_due_at, store.time_zone, locale),
        "time_left": time_left(store, inquiry.reply_due_at, now, locale),
        "reply_by_email": reply_by_email,
        "whole_message": False,
        "attachments": [],
        "link_hours": 0,
        "original_url": None,
    }


def draft_alert(store: Store, inquiry: Inquiry, kind: str, alert_index: int, recipient: str) -> Draft:
    now = clock.now()
    headers, context = staff_email_context(store, inquiry, recipient, now)
    context["overdue"] = now >= inquiry.reply_due_at
    context["escalation_number"] = sum(
        1 for k, _ in inquiry.alert_plan[: alert_index + 1] if k == sla.ESCALATION
    )
    return Draft(
        kind=kind,
        store=store,
        locale=store.default_locale,
        to=recipient,
        to_name=None,
        context=context,
        reference=f"{inquiry.inquiry_id}.{inquiry.sla_round}.{alert_index}.{store.store_id}",
        headers=headers,
    )


def _open_inquiry(store_id: str, inquiry_id: str, sla_round: int) -> Inquiry | None:
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if inquiry is None or inquiry.status != "open" or inquiry.sla_round != sla_round:
        return None
    return inquiry


def held_for_digest(store: Store, inquiry_id: str, kind: str, sla_round: int) -> bool:
    """A store using the morning digest gets staff emails outside business hours in one digest at
    opening: True when this one was added to it. False when the store is open, has no digest, or
    that digest has already gone out (the store opened meanwhile): send it now."""
    calendar = sla.calendar_of(store)
    now = clock.now()
    if not store.policy.morning_digest or calendar.always_open or calendar.is_open(now):
        return False
    if digests.hold(store.store_id, calendar.next_open(now), f"{inquiry_id}|{kind}|{sla_round}") is None:
        return False
    logger.info("staff email held for the morning digest", extra={"kind": kind})
    return True


def deliver_alert(job: SlaAlertJob) -> str:
    store_id, inquiry_id = job.store_id, job.inquiry_id
    if job.kind == digests.DIGEST_KIND:
        return deliver_digest(store_id, inquiry_id)
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if inquiry is None:
        return "missing"
    if inquiry.status != "open" or inquiry.sla_round != job.sla_round:
        return "stale"  # answered, closed or restarted since the sweep: no alert
    store = directory.require(store_id)  # a missing store keeps the job (DLQ), never drops it
    kind = job.kind
    if held_for_digest(store, inquiry_id, kind, job.sla_round):
        return "held"
    outcomes = []
    alert_index = job.alert_index
    recipients = _staff_recipients(store, kind)
    if not recipients:
        metrics.add_metric(name="SlaAlertsWithoutRecipients", unit="Count", value=1)
        logger.warning("sla alert has no staff address to go to")
    for recipient in recipients:
        key = delivery_id("alert", store_id, inquiry_id, job.sla_round, alert_index, recipient)
        outcomes.append(
            send_once(key, functools.partial(draft_alert, store, inquiry, kind, alert_index, recipient))
        )
    metrics.add_metric(name="SlaAlertsSent", unit="Count", value=sum(1 for o in outcomes if o.now))
    logger.info("sla alert delivered", extra={"kind": kind})
    return "sent" if outcomes else "no_recipients"


# A held new-inquiry notice (staff_notice.py) is the least serious row of a digest.
_SEVERITY = ("staff_new_inquiry", sla.REMINDER, sla.BREACH, sla.ESCALATION)


def deliver_digest(store_id: str, digest_id: str) -> str:
    """One email at opening time listing every held alert whose inquiry is still unanswered."""
    store = directory.require(store_id)  # a missing store keeps the job (DLQ), never drops it
    # One row per inquiry, under the most serious alert it had overnight.
    held: dict[tuple[str, int], str] = {}
    for entry in digests.close_and_read(store_id, digest_id, clock.now()):
        inquiry_id, kind, round_text = entry.split("|")
        key = (inquiry_id, int(round_text))
        held[key] = max(held.get(key, kind), kind, key=_SEVERITY.index)
    rows: list[dict[str, Any]] = []
    for (inquiry_id, sla_round), kind in held.items():
        inquiry = _open_inquiry(store_id, inquiry_id, sla_round)
        if inquiry is not None:
            rows.append(_digest_row(store, inquiry, kind))
    if not rows:
        return "nothing_to_send"  # everything was answered or closed before opening
    outcomes = []
    # Escalation addresses get the digest only when it holds an escalation, as they would have
    # got that alert on its own.
    escalated = any(row["kind"] == sla.ESCALATION for row in rows)
    for recipient in _staff_recipients(store, sla.ESCALATION if escalated else sla.REMINDER):
        draft = functools.partial(draft_digest, store, digest_id, rows, recipient)
        outcomes.append(send_once(delivery_id("digest", store_id, digest_id, recipient), draft))
    return "sent" if outcomes else "no_recipients"


def _digest_row(store: Store, inquiry: Inquiry, kind: str) -> dict[str, Any]:
    locale = store.default_locale
    return {
        **inquiry_context(inquiry, locale),
        "customer": inquiry.customer.name or inquiry.customer.email,
        "kind": kind,
        "reply_due_at": format_datetime(inquiry.reply_due_at, store.time_zone, locale),
        "time_left": time_left(store, inquiry.reply_due_at, clock.now(), locale),
    }


def draft_digest(store: Store, digest_id: str, rows: list[dict[str, Any]], recipient: str) -> Draft:
    return Draft(
        kind=digests.DIGEST_KIND,
        store=store,
        locale=store.default_locale,
        to=recipient,
        to_name=None,
        context={"rows": rows, "count": len(rows)},
        reference=f"{digest_id.replace('#', '.')}.{store.store_id}",
    )
