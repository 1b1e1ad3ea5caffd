"""Review requests: planned when an order's delivery becomes known, found due by the every-minute
sweep, decided and sent by the marketing worker; the reminder follows the request.

- **Plan** (event worker, after every order event and review): `decide` (pure) reads the order's
  whole history, so events arriving late, twice or out of order plan the same thing: the request
  is due `request_delay_days` after `delivered` (or the first of fulfilled/delivered), once per
  order. A cancelled or fully refunded order stops the sequence; a reviewed one never gets a
  request or reminder; a request more than OVERDUE_SKIP_DAYS overdue is not planned.
- **Sweep**: the due-reminders index of ReviewsTable, the carts' mechanism (dal/due_reminders).
- **Send** (marketing worker): everything is checked again with facts read at that moment (order
  still wanted, not reviewed, the request went before a reminder) and the one marketing send path
  decides (consent, suppression, open inquiry, quiet hours, the cap shared by every flow). When
  the request goes, the reminder becomes pending `reminder_delay_days` later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from omotenashi import clock
from omotenashi.dal import orders as order_data
from omotenashi.dal import reviews as review_data
from omotenashi.domain import LineItem, OrderEvent, Store
from omotenashi.logic.core import directory, jobs
from omotenashi.logic.marketing import send
from omotenashi.logic.marketing.settings import from_store as marketing_settings
from omotenashi.logic.reviews import tokens
from omotenashi.logic.reviews.settings import (
    OVERDUE_SKIP_DAYS,
    ReviewSettings,
    Reward,
    from_store,
    promised,
)
from omotenashi.messaging.formatting import format_date
from omotenashi.observability import logger, metrics
from omotenashi.review_domain import ReviewSequence
from omotenashi.schemas.jobs import ReviewRequestJob

REQUEST, REMINDER = 1, 2
FLOWS = {REQUEST: "review_request", REMINDER: "review_reminder"}


@dataclass(frozen=True)
class OrderFacts:
    """What the review sequence needs from an order's history (any order of arrival)."""

    placed: OrderEvent | None
    fulfilled_at: datetime | None
    delivered_at: datetime | None
    cancelled: bool
    fully_refunded: bool
    kept_items: tuple[LineItem, ...]

    @classmethod
    def from_history(cls, events: list[OrderEvent]) -> OrderFacts:
        placed = next((e for e in events if e.type == "placed"), None)
        refunds = list({e.refund_id: e for e in events if e.type == "refunded"}.values())  # once each
        refunded = sum((e.refund_amount or Decimal(0) for e in refunds), Decimal(0))
        returned: Counter[str] = Counter()
        for refund in refunds:
            for item in refund.items:
                returned[item.sku] += item.quantity
        kept = []
        for item in placed.items if placed else ():
            quantity = item.quantity - returned[item.sku]
            returned[item.sku] = max(0, returned[item.sku] - item.quantity)
            if quantity > 0:
                kept.append(
                    LineItem(item.sku, item.name, quantity, item.unit_price, item.product_url, item.image_url)
                )
        total = placed.total if placed and placed.total is not None else None
        return cls(
            placed=placed,
            fulfilled_at=min((e.occurred_at for e in events if e.type == "fulfilled"), default=None),
            delivered_at=min((e.occurred_at for e in events if e.type == "delivered"), default=None),
            cancelled=any(e.type == "cancelled" for e in events),
            # An order paid wholly with points (total 0): refunded wholly when nothing is kept.
            fully_refunded=bool(refunds)
            and total is not None
            and (refunded >= total if total > 0 else placed is not None and not kept),
            kept_items=tuple(kept),
        )

    def basis(self, settings: ReviewSettings) -> datetime | None:
        """The instant the request is timed from."""
        if settings.request_after == "fulfilled":
            return min(filter(None, (self.fulfilled_at, self.delivered_at)), default=None)
        return self.delivered_at


@dataclass(frozen=True)
class Plan:
    basis: str
    steps: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Stop:
    reason: str  # order_cancelled, order_refunded


@dataclass(frozen=True)
class Wait:
    reason: str  # not_delivered, not_placed, disabled, overdue, reviewed


def stop_reason(facts: OrderFacts) -> str | None:
    if facts.cancelled:
        return "order_cancelled"
    if facts.fully_refunded:
        return "order_refunded"
    if facts.placed is not None and not facts.kept_items:
        return "nothing_kept"
    return None


def decide(
    settings: ReviewSettings, facts: OrderFacts, *, reviewed: bool, now: datetime
) -> Plan | Stop | Wait:
    """What to plan for an order now (pure)."""
    stopped = stop_reason(facts)
    if stopped is not None:
        return Stop(stopped)
    if reviewed:
        return Wait("reviewed")
    if not settings.enabled:
        return Wait("disabled")
    basis = facts.basis(settings)
    if basis is None:
        return Wait("not_delivered")
    if facts.placed is None:
        return Wait("not_placed")
    due = basis + timedelta(days=settings.request_delay_days)
    if due < now - timedelta(days=OVERDUE_SKIP_DAYS):
        return Wait("overdue")
    return Plan(clock.instant(basis), ((REQUEST, clock.instant(due)),))


def with_reminder(
    plan: tuple[tuple[int, str], ...], sent_at: datetime, settings: ReviewSettings
) -> tuple[tuple[int, str], ...] | None:
    """The plan with the reminder `reminder_delay_days` after the request went (None: no reminder)."""
    if settings.reminder_delay_days is None:
        return None
    due = sent_at + timedelta(days=settings.reminder_delay_days)
    return (*[p for p in plan if p[0] == REQUEST], (REMINDER, clock.instant(due)))


def schedule(store: Store, order_id: str, sequence: ReviewSequence | None) -> str:
    """After an order event of `order_id` (its sequence as read just before): plan, stop or leave
    the sequence."""
    settings = from_store(store)
    if marketing_settings(store) is None:
        return "waiting:no_marketing_settings"  # no marketing email at all without the legal details
    facts = OrderFacts.from_history(order_data.history(store.store_id, order_id))
    reviewed = sequence is not None and sequence.reviewed_at is not None
    match decide(settings, facts, reviewed=reviewed, now=clock.now()):
        case Plan(basis=basis, steps=steps):
            if sequence is not None and (sequence.request_sent_at or sequence.planned_basis == basis):
                return "planned_already"
            planned = review_data.plan_request(store.store_id, order_id, steps, basis=basis)
            if planned:
                metrics.add_metric(name="ReviewRequestPlanned", unit="Count", value=1)
            return "planned" if planned else "planned_already"
        case Stop(reason=reason):
            if sequence is not None and sequence.stopped is None:
                review_data.stop(store.store_id, order_id, reason)
            return f"stopped:{reason}"
        case Wait(reason=reason):
            if reason == "overdue":
                logger.info("review request too late to send: not planned")
            return f"waiting:{reason}"
    raise AssertionError("unreachable")  # pragma: no cover


def run_sweep(now: datetime) -> int:
    """Enqueue every due request and reminder (the step then moves on; a crash in between enqueues
    again, and the delivery record drops the twin)."""
    stats = review_data.SweepStats()
    enqueued = 0
    for due in review_data.due(now, stats):
        jobs.enqueue(
            ReviewRequestJob(
                store_id=due.store_id,
                order_id=due.subject_id,
                step=due.step,
                basis=due.version,
                plan=list(due.plan),
                due_at=due.due_at,
            )
        )
        enqueued += review_data.advance(due)
    metrics.add_metric(name="ReviewRequestsEnqueued", unit="Count", value=enqueued)
    logger.info("review request sweep", extra={"enqueued": enqueued, "items_read": stats.items_read})
    return enqueued


# -- the marketing worker's half -------------------------------------------------------------------


def _review_link(
    store: Store, settings: ReviewSettings, facts: OrderFacts, item: LineItem, now: datetime
) -> str | None:
    placed = facts.placed
    if settings.review_url is None or placed is None:
        return item.product_url
    expires = int(now.timestamp()) + tokens.VALID_DAYS * 86400
    secret = max(store.secrets, key=lambda s: s.created_at).value if store.secrets else ""
    values = {
        "order_id": placed.order_id,
        "sku": item.sku,
        "customer_id": placed.customer_id,
        "token": tokens.sign(
            secret,
            store_id=store.store_id,
            order_id=placed.order_id,
            sku=item.sku,
            customer_id=placed.customer_id,
            expires=expires,
        ),
    }
    link = settings.review_url
    for name, value in values.items():
        link = link.replace("{" + name + "}", quote(value, safe=""))
    return link


def reward_context(reward: Reward | None, settings: ReviewSettings) -> dict[str, Any] | None:
    """What the emails say about the reward (the request states it, and that the rating does not
    matter)."""
    if reward is None:
        return None
    return {
        "kind": reward.kind,
        "points": reward.points,
        "limit_days": settings.reward_limit_days,
    }


def deliver(job: ReviewRequestJob) -> str:
    """The marketing worker's job: one step (request or reminder) of one order's sequence."""
    jobs.bind_log_context(job)
    flow = FLOWS.get(job.step, "review_request")
    reference = f"{job.order_id}#{flow}"
    sequence = review_data.get_sequence(job.store_id, job.order_id)
    if sequence is None or sequence.planned_basis != job.basis:
        logger.info("review request for an older plan dropped")
        return "superseded"
    store = directory.require(job.store_id)
    facts = OrderFacts.from_history(order_data.history(store.store_id, job.order_id))
    placed = facts.placed
    customer_id = placed.customer_id if placed else ""

    def skip(reason: str) -> str:
        return send.skip(store.store_id, customer_id, flow, reference, reason)

    settings, marketing = from_store(store), marketing_settings(store)
    if placed is None:
        return skip("not_placed")
    if marketing is None or not settings.enabled:
        return skip("not_configured")
    stopped = stop_reason(facts)
    if stopped is not None:
        review_data.stop(store.store_id, job.order_id, stopped)
        return skip(stopped)
    if sequence.reviewed_at is not None:
        return skip("already_reviewed")
    if (sequence.request_sent_at if job.step == REQUEST else sequence.reminder_sent_at) is not None:
        # A copy of a job whose email went: not a new decision (a deferral now would put the step
        # back over the reminder's, and a claim would restart the customer's cap).
        return "already_sent"
    if job.step == REMINDER and sequence.request_sent_at is None:
        return skip("request_not_sent")
    if not placed.email:
        return skip("no_email")
    locale = placed.locale or store.default_locale
    now = clock.now()

    def context() -> dict[str, Any]:
        return {
            "customer": {"name": placed.name},
            "order_id": placed.order_id,
            "ordered_on": format_date(placed.occurred_at, store.time_zone, locale),
            "items": [
                {
                    "sku": item.sku,
                    "name": item.name,
                    "quantity": item.quantity,
                    "image_url": item.image_url,
                    "product_url": item.product_url,
                    "review_url": _review_link(store, settings, facts, item, now),
                }
                for item in facts.kept_items
            ],
            # The reminder repeats what the request promised, whatever the settings say now.
            "reward": reward_context(
                settings.reward if job.step == REQUEST else promised(sequence.offered_reward, settings),
                settings,
            ),
            "step": job.step,
            "locale": locale,
        }

    plan = tuple((int(s), str(d)) for s, d in job.plan)
    outcome = send.marketing_email(
        send.Message(
            store=store,
            settings=marketing,
            flow=flow,
            kind=flow,
            customer_id=customer_id,
            email=placed.email,
            name=placed.name,
            locale=locale,
            context=context,
            reference=reference,
        )
    )
    if outcome.sent is not None:
        at = clock.instant(now)
        if job.step == REQUEST:
            reminder = with_reminder(plan, now, settings)
            review_data.record_request_sent(
                store.store_id,
                job.order_id,
                basis=job.basis,
                at=at,
                reminder_plan=reminder,
                offered_reward=settings.reward.to_document() if settings.reward else None,
            )
        else:
            review_data.record_reminder_sent(store.store_id, job.order_id, at=at)
    elif outcome.defer_until is not None:
        review_data.defer(
            store.store_id,
            job.order_id,
            basis=job.basis,
            step=job.step,
            plan=plan,
            until=clock.instant(outcome.defer_until),
        )
    return outcome.label
