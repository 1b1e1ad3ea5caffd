"""The only marketing send path: every marketing email of every flow (cart reminders, review
requests and their reminder, birthday bonuses) is decided by the gate just before it goes, with
facts read at that moment, and every decision is recorded (MarketingTable) and counted (metric
`MarketingDecision` by outcome and reason), so a store can answer "why did this customer get nothing?".

Send: the customer's one email of the cap window is claimed atomically (two flows deciding at once
cannot both pass the cap), then the email goes once (send_once) through the one email skeleton,
which adds the legal footer and the RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from omotenashi import clock
from omotenashi.dal import marketing as marketing_data
from omotenashi.domain import Store
from omotenashi.logic.core.delivery import Sent, delivery_id, send_once
from omotenashi.logic.inquiries import views as inquiries
from omotenashi.logic.marketing import consent, gate, unsubscribe
from omotenashi.logic.marketing.settings import MarketingSettings
from omotenashi.messaging.compose import Draft, MarketingFooter
from omotenashi.observability import logger, metrics
from omotenashi.settings import get_settings


@dataclass(frozen=True)
class Message:
    store: Store
    settings: MarketingSettings
    flow: str  # cart_reminder, review_request, ...
    kind: str  # the template kind
    customer_id: str
    email: str
    name: str | None
    locale: str
    # Built only once the email is really going (after the gate and the cap): a discount code taken
    # from a pool is not spent on an email that is skipped or deferred.
    context: Callable[[], Mapping[str, Any]]
    reference: str  # unique per email of the flow: the delivery id and the decisions derive from it


@dataclass(frozen=True)
class Outcome:
    label: str  # sent, already_sent, skipped:<reason>, deferred
    sent: Sent | None = None
    defer_until: datetime | None = None


def _decided(
    store_id: str,
    customer_id: str,
    flow: str,
    reference: str,
    outcome: str,
    reason: str,
    defer_until: datetime | None = None,
) -> None:
    marketing_data.record_decision(
        store_id,
        customer_id,
        flow=flow,
        reference=reference,
        outcome=outcome,
        reason=reason,
        at=clock.now(),
        defer_until=defer_until,
    )
    metrics.add_metric(name="MarketingDecision", unit="Count", value=1)
    logger.info("marketing decision", extra={"flow": flow, "outcome": outcome, "reason": reason})


def skip(store_id: str, customer_id: str, flow: str, reference: str, reason: str) -> str:
    """A flow's own reason not to send (cart ordered, not configured): recorded like the gate's."""
    _decided(store_id, customer_id, flow, reference, "skip", reason)
    return f"skipped:{reason}"


def marketing_email(message: Message) -> Outcome:
    store, now = message.store, clock.now()
    recipient = gate.Recipient(
        consent=consent.current(store.store_id, message.customer_id),
        # Unsubscribes withdraw consent (checked above); bounces and complaints suppress the address.
        suppressed=marketing_data.is_suppressed(store.store_id, message.email),
        open_inquiry=inquiries.customer_has_open_inquiry(store.store_id, message.email),
        last_marketing_sent_at=marketing_data.last_sent_at(
            store.store_id, message.customer_id, other_than=message.reference
        ),
    )
    decision = gate.decide(message.settings.policy, recipient, now)
    if decision.outcome == "skip":
        return Outcome(
            skip(store.store_id, message.customer_id, message.flow, message.reference, decision.reason)
        )
    if decision.outcome == "defer":
        _decided(
            store.store_id,
            message.customer_id,
            message.flow,
            message.reference,
            "defer",
            decision.reason,
            decision.defer_until,
        )
        return Outcome("deferred", defer_until=decision.defer_until)
    cap = timedelta(hours=message.settings.policy.cap_hours)
    if not marketing_data.claim_send(
        store.store_id, message.customer_id, now=now, cap=cap, reference=message.reference
    ):
        return Outcome(
            skip(store.store_id, message.customer_id, message.flow, message.reference, "frequency_cap")
        )
    sent = send_once(delivery_id(message.flow, store.store_id, message.reference), lambda: _draft(message))
    _decided(store.store_id, message.customer_id, message.flow, message.reference, "send", "ok")
    metrics.add_metric(name="MarketingSent", unit="Count", value=1 if sent.now else 0)
    return Outcome("sent" if sent.now else "already_sent", sent=sent)


def _draft(message: Message) -> Draft:
    link = unsubscribe.link_for(message.store, message.customer_id, get_settings().public_api_url)
    return Draft(
        kind=message.kind,
        store=message.store,
        locale=message.locale,
        to=message.email,
        to_name=message.name,
        context=message.context(),
        # The Message-ID derives from it: a digest keeps it within RFC 5322's characters.
        reference=hashlib.sha256(message.reference.encode()).hexdigest()[:32],
        marketing=MarketingFooter(message.settings.postal_address, message.settings.contact, link),
    )


def decisions(store_id: str, customer_id: str) -> list[dict[str, str | None]]:
    """Every recorded decision about the customer's marketing email, oldest first: why they got,
    or did not get, each email."""
    found = marketing_data.decisions(store_id, customer_id)
    return sorted(found, key=lambda d: d["at"] or "")
