"""The SLA sweep and the staff alert emails it causes.

The sweep runs every minute. It reads the sparse due-alerts index (only inquiries with a pending
alert are in it), enqueues one job per due alert and moves the inquiry's pending alert on with a
conditional update, so overlapping sweeps cannot both move it. Enqueue happens first: a crash in
between re-enqueues on the next sweep, and the message worker's delivery record drops the twin.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omotenashi import clock
from omotenashi.dal import alerts as alert_data
from omotenashi.dal import digests, queue
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.domain import Inquiry, OutboundEmail, Store
from omotenashi.logic import sla
from omotenashi.logic.delivery import send_once
from omotenashi.logic.stores import directory
from omotenashi.messaging.formatting import format_datetime, format_duration
from omotenashi.messaging.labels import label
from omotenashi.messaging.mime import build_email
from omotenashi.messaging.templates import render
from omotenashi.observability import logger, metrics

EXCERPT_CHARS = 300
EXCERPT_LINES = 5


@dataclass
class SweepResult:
    enqueued: int
    skipped: int
    items_read: int
    queries: int


def run_sweep(now: datetime | None = None) -> SweepResult:
    now = now or clock.now()
    stats = alert_data.SweepStats()
    enqueued = skipped = 0
    for due in alert_data.due_alerts(now, stats):
        index = due.alert_index
        while index < len(due.plan) and due.plan[index][1] <= now:
            kind, at = due.plan[index]
            superseded = kind == sla.REMINDER and index + 1 < len(due.plan) and due.plan[index + 1][1] <= now
            if not superseded:  # "4 hours left" is no use once the breach is due too
                queue.enqueue_message(
                    {
                        "type": "sla_alert",
                        "store_id": due.store_id,
                        "inquiry_id": due.inquiry_id,
                        "sla_round": due.sla_round,
                        "alert_index": index,
                        "kind": kind,
                        "due_at": clock.isoformat(at),
                    }
                )
            if not inquiry_data.advance_alert(
                due.store_id, due.inquiry_id, from_index=index, sla_round=due.sla_round, plan=due.plan
            ):
                break  # another sweep moved it on
            if superseded:
                skipped += 1
            else:
                enqueued += 1
            index += 1
    metrics.add_metric(name="SlaAlertsEnqueued", unit="Count", value=enqueued)
    logger.info("sla sweep", extra={"enqueued": enqueued, "items_read": stats.items_read})
    return SweepResult(enqueued, skipped, stats.items_read, stats.queries)


def _staff_recipients(store: Store, kind: str) -> tuple[str, ...]:
    recipients = list(store.staff_addresses)
    if kind == sla.ESCALATION:
        recipients += [a for a in store.policy.escalation_addresses if a not in recipients]
    return tuple(recipients)


def _excerpt(message: str) -> str:
    lines = message.strip().splitlines()[:EXCERPT_LINES]
    text = "\n".join(lines)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"


def _time_left(store: Store, due: datetime, now: datetime, locale: str) -> str:
    """Wall-clock time for a 24x7 store; open time for business hours, since a reminder sent on
    Friday evening about a Monday-noon deadline has 4 working hours left, not 2 days 19 hours."""
    calendar = sla.calendar_of(store)
    if calendar.always_open or now >= due:
        return format_duration(due - now, locale)
    return format_duration(calendar.open_time_between(now, due), locale, open_hours=True)


def _inquiry_context(inquiry: Inquiry, locale: str) -> dict[str, Any]:
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


def compose_alert(
    store: Store, inquiry: Inquiry, kind: str, alert_index: int, recipient: str
) -> OutboundEmail:
    locale = store.default_locale
    now = clock.now()
    latest_at = inquiry.latest_message_at
    context: dict[str, Any] = {
        "store": {"name": store.name, "sender": store.sender},
        "inquiry": _inquiry_context(inquiry, locale),
        "customer": {"name": inquiry.customer.name, "email": inquiry.customer.email},
        "received_at": format_datetime(inquiry.received_at, store.time_zone, locale),
        "latest_message_at": format_datetime(latest_at, store.time_zone, locale) if latest_at else None,
        "reply_due_at": format_datetime(inquiry.reply_due_at, store.time_zone, locale),
        "time_left": _time_left(store, inquiry.reply_due_at, now, locale),
        "overdue": now >= inquiry.reply_due_at,
        "escalation_number": sum(1 for k, _ in inquiry.alert_plan[: alert_index + 1] if k == sla.ESCALATION),
    }
    rendered = render(kind, locale, context, store_id=store.store_id)
    return build_email(
        kind=kind,
        sender=store.sender,
        sender_name=store.name,
        recipient=recipient,
        recipient_name=None,
        rendered=rendered,
        reference=f"{inquiry.inquiry_id}.{inquiry.sla_round}.{alert_index}.{store.store_id}",
        sent_at=now,
    )


def _open_inquiry(store_id: str, inquiry_id: str, sla_round: int) -> Inquiry | None:
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if inquiry is None or inquiry.status != "open" or inquiry.sla_round != sla_round:
        return None
    return inquiry


def deliver_alert(job: dict[str, Any]) -> str:
    store_id, inquiry_id = job["store_id"], job["inquiry_id"]
    if job["kind"] == digests.DIGEST_KIND:
        return deliver_digest(store_id, inquiry_id)
    inquiry = inquiry_data.get(store_id, inquiry_id, consistent=True)
    if inquiry is None:
        return "missing"
    if inquiry.status != "open" or inquiry.sla_round != job["sla_round"]:
        return "stale"  # answered, closed or restarted since the sweep: no alert
    store = directory.get(store_id)
    if store is None:
        raise LookupError(f"store {store_id} not found")
    kind = job["kind"]
    calendar = sla.calendar_of(store)
    now = clock.now()
    if store.policy.morning_digest and not calendar.always_open and not calendar.is_open(now):
        entry = f"{inquiry_id}|{kind}|{job['sla_round']}"
        if digests.hold(store_id, calendar.next_open(now), entry) is not None:
            logger.info(
                "sla alert held for the morning digest",
                extra={"store_id": store_id, "inquiry_id": inquiry_id},
            )
            return "held"
        # That digest has already gone out (the store opened meanwhile): send this one now.
    outcomes = []
    alert_index = int(job["alert_index"])
    recipients = _staff_recipients(store, kind)
    if not recipients:
        metrics.add_metric(name="SlaAlertsWithoutRecipients", unit="Count", value=1)
        logger.warning("sla alert has no staff address to go to", extra={"store_id": store_id})
    for recipient in recipients:
        delivery_id = f"alert#{store_id}#{inquiry_id}#{job['sla_round']}#{alert_index}#{recipient}"
        compose = functools.partial(compose_alert, store, inquiry, kind, alert_index, recipient)
        outcomes.append(send_once(delivery_id, compose))
    metrics.add_metric(name="SlaAlertsSent", unit="Count", value=sum(1 for o in outcomes if o.now))
    logger.info("sla alert delivered", extra={"store_id": store_id, "inquiry_id": inquiry_id, "kind": kind})
    return "sent" if outcomes else "no_recipients"


_SEVERITY = (sla.REMINDER, sla.BREACH, sla.ESCALATION)


def deliver_digest(store_id: str, digest_id: str) -> str:
    """One email at opening time listing every held alert whose inquiry is still unanswered."""
    store = directory.get(store_id)
    if store is None:
        raise LookupError(f"store {store_id} not found")
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
        compose = functools.partial(compose_digest, store, digest_id, rows, recipient)
        outcomes.append(send_once(f"digest#{store_id}#{digest_id}#{recipient}", compose))
    return "sent" if outcomes else "no_recipients"


def _digest_row(store: Store, inquiry: Inquiry, kind: str) -> dict[str, Any]:
    locale = store.default_locale
    return {
        **_inquiry_context(inquiry, locale),
        "customer": inquiry.customer.name or inquiry.customer.email,
        "kind": kind,
        "reply_due_at": format_datetime(inquiry.reply_due_at, store.time_zone, locale),
        "time_left": _time_left(store, inquiry.reply_due_at, clock.now(), locale),
    }


def compose_digest(store: Store, digest_id: str, rows: list[dict[str, Any]], recipient: str) -> OutboundEmail:
    context = {"store": {"name": store.name}, "rows": rows, "count": len(rows)}
    rendered = render(digests.DIGEST_KIND, store.default_locale, context, store_id=store.store_id)
    return build_email(
        kind=digests.DIGEST_KIND,
        sender=store.sender,
        sender_name=store.name,
        recipient=recipient,
        recipient_name=None,
        rendered=rendered,
        reference=f"{digest_id.replace('#', '.')}.{store.store_id}",
        sent_at=clock.now(),
    )
