"""The abandoned-cart sequence: planned when a cart is updated, found due by the every-minute
sweep, decided and sent by the marketing worker.

- **Plan** (event worker): an active cart's update plans the store's steps (default 1 h and 24 h
  after `updated_at`); a step more than 6 hours overdue when the cart arrives is skipped, so a late
  cart does not fire a burst. A newer update replans from its own time; an order, an emptied cart
  or a later update removes the pending step (dal/carts).
- **Sweep** (the every-minute schedule): a Query on the sparse due-reminders index, whose cost
  follows the reminders due; each due step is enqueued, then the cart's pending step moves on
  with a conditional write (overlapping sweeps cannot both move it; a crash in between enqueues
  again, and the delivery record drops the twin).
- **Send** (marketing worker): everything is checked again at send time (the cart is still active
  and at the same update, consent, suppression, open inquiry, quiet hours, the cap shared by all
  flows) through `logic/marketing/send.py`, the one marketing send path.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from omotenashi import clock
from omotenashi.dal import carts as cart_data
from omotenashi.domain import Cart
from omotenashi.logic.core import directory, jobs
from omotenashi.logic.marketing import coupons, send
from omotenashi.logic.marketing.settings import OVERDUE_SKIP_HOURS, MarketingSettings, from_store
from omotenashi.messaging.money import format_money
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import CartReminderJob

FLOW = "cart_reminder"


def plan(
    settings: MarketingSettings | None, updated_at: datetime, now: datetime
) -> tuple[tuple[int, str], ...]:
    """(step, due instant) of the steps still to come for a cart updated at `updated_at`."""
    if settings is None or not settings.cart_reminders_enabled:
        return ()
    oldest_allowed = now - timedelta(hours=OVERDUE_SKIP_HOURS)
    steps = []
    for number, step in enumerate(settings.cart_steps, start=1):
        due = updated_at + timedelta(hours=step.delay_hours)
        if due >= oldest_allowed:
            steps.append((number, clock.instant(due)))
    return tuple(steps)


def schedule(cart: Cart) -> None:
    """After a cart update became the newest: plan its reminders (none for a cart that is not
    active, or a store without marketing settings)."""
    steps: tuple[tuple[int, str], ...] = ()
    if cart.status == "active":
        store = directory.require(cart.store_id)
        steps = plan(from_store(store), cart.updated_at, clock.now())
    cart_data.schedule_reminders(
        cart.store_id, cart.cart_id, steps, updated_at=clock.instant(cart.updated_at)
    )


def run_sweep(now: datetime) -> int:
    """Enqueue every due step. A step more than 6 hours overdue (the sweep did not run: an outage)
    is skipped, as on a cart's late arrival: no burst of stale reminders."""
    stats = cart_data.SweepStats()
    enqueued = skipped = 0
    oldest_allowed = now - timedelta(hours=OVERDUE_SKIP_HOURS)
    for due in cart_data.due(now, stats):
        overdue = clock.parse_instant(due.due_at) < oldest_allowed
        if not overdue:
            jobs.enqueue(
                CartReminderJob(
                    store_id=due.store_id,
                    cart_id=due.subject_id,
                    step=due.step,
                    updated_at=due.version,
                    plan=list(due.plan),
                    due_at=due.due_at,
                )
            )
        if cart_data.advance_reminder(due):
            skipped += overdue
            enqueued += not overdue
    metrics.add_metric(name="CartRemindersEnqueued", unit="Count", value=enqueued)
    metrics.add_metric(name="CartRemindersSkippedOverdue", unit="Count", value=skipped)
    logger.info(
        "cart reminder sweep",
        extra={"enqueued": enqueued, "skipped_overdue": skipped, "items_read": stats.items_read},
    )
    return enqueued


def _pool_code(store_id: str, pool: str | None, reference: str) -> str | None:
    """One code from the step's pool, taken once per email; an empty pool sends without a code."""
    return coupons.take(store_id, pool, reference) if pool is not None else None


def deliver(job: CartReminderJob) -> str:
    """The marketing worker's job: one step of one cart's sequence."""
    jobs.bind_log_context(job)
    cart = cart_data.get(job.store_id, job.cart_id, consistent=True)
    reference = f"{job.cart_id}#{job.updated_at}#{job.step}"
    if cart is None or clock.instant(cart.updated_at) != job.updated_at:
        logger.info("cart reminder for an older update dropped")  # the newer update has its own plan
        return "superseded"
    if f"{job.updated_at}#{job.step}" in cart.reminded:
        # A copy of a job whose email went: not a new decision (a deferral now would put the step
        # back over the next one, and a claim would restart the customer's cap).
        return "already_sent"
    store = directory.require(job.store_id)
    if cart.status != "active":
        return send.skip(store.store_id, cart.customer_id, FLOW, reference, f"cart_{cart.status}")
    settings = from_store(store)
    if settings is None or not settings.cart_reminders_enabled or job.step > len(settings.cart_steps):
        return send.skip(store.store_id, cart.customer_id, FLOW, reference, "not_configured")
    if not cart.email or not cart.cart_url:
        return send.skip(store.store_id, cart.customer_id, FLOW, reference, "no_email_or_cart_url")
    step = settings.cart_steps[job.step - 1]
    locale = cart.locale or store.default_locale
    context = {
        "customer": {"name": cart.name},
        "items": [
            {
                "name": item.name,
                "quantity": item.quantity,
                "unit_price": format_money(item.unit_price, cart.currency, locale),
                "line_total": format_money(item.unit_price * item.quantity, cart.currency, locale),
                "image_url": item.image_url,
                "product_url": item.product_url,
            }
            for item in cart.items
        ],
        "subtotal": format_money(cart.subtotal, cart.currency, locale),
        "cart_url": cart.cart_url,
        "step": job.step,
        "discount_code": step.discount_code,
        "locale": locale,
    }
    outcome = send.marketing_email(
        send.Message(
            store=store,
            settings=settings,
            flow=FLOW,
            kind=step.template,
            customer_id=cart.customer_id,
            email=cart.email,
            name=cart.name,
            locale=locale,
            context=lambda: {
                **context,
                "discount_code": step.discount_code
                or _pool_code(store.store_id, step.discount_pool, reference),
            },
            reference=reference,
        )
    )
    if outcome.sent is not None:
        cart_data.record_reminder_sent(
            store.store_id,
            cart.cart_id,
            updated_at=job.updated_at,
            step=job.step,
            at=clock.instant(clock.now()),
        )
    elif outcome.defer_until is not None:
        cart_data.defer_reminder(
            store.store_id,
            cart.cart_id,
            updated_at=job.updated_at,
            step=job.step,
            plan=tuple(job.plan),
            until=clock.instant(outcome.defer_until),
        )
    return outcome.label
