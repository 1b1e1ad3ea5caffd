"""Loyalty emails. `points_earned`, `tier_changed` and `points_expiring` report the customer's own
balance: transactional (message worker), no marketing gate, but never to a suppressed address
(bounces, complaints). `birthday_bonus` is marketing (marketing worker): it passes the one gate,
and the points were credited whether or not the email goes.

Each email is sent once per (kind, customer, reference) by the delivery record.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.dal import marketing as marketing_data
from omotenashi.domain import Store
from omotenashi.logic.core import directory, jobs
from omotenashi.logic.core.delivery import delivery_id, send_once
from omotenashi.logic.loyalty import schedule, tiers
from omotenashi.logic.loyalty.settings import LoyaltySettings, from_store
from omotenashi.logic.marketing import send
from omotenashi.logic.marketing.settings import from_store as marketing_settings
from omotenashi.loyalty_domain import LoyaltyAccount
from omotenashi.messaging.compose import Draft
from omotenashi.messaging.formatting import format_date
from omotenashi.messaging.money import format_money
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import BirthdayBonusJob, LoyaltyNoticeJob


def _customer_ref(customer_id: str) -> str:
    return hashlib.sha256(customer_id.encode()).hexdigest()[:24]


def _expires_on(account: LoyaltyAccount, settings: LoyaltySettings, store: Store, locale: str) -> str | None:
    expiry = tiers.expires_at(account.last_earned_at, settings, store.time_zone)
    return _last_day(expiry, store, locale) if expiry is not None else None


def _last_day(expiry: datetime, store: Store, locale: str) -> str:
    """Points expire at the start of a local day: the reader is told the last day they are valid."""
    return format_date(expiry - timedelta(seconds=1), store.time_zone, locale)


def _home_currency(settings: LoyaltySettings) -> str:
    """The currency tier spend is shown in: the one worth one point of value (JPY by default)."""
    return next((c for c, v in settings.unit_points.items() if v == 1), next(iter(settings.unit_points)))


def _percent(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _context(job: LoyaltyNoticeJob, account: LoyaltyAccount, store: Store, locale: str) -> dict[str, Any]:
    settings = from_store(store)
    base: dict[str, Any] = {"customer": {"name": account.name}, "locale": locale}
    match job.kind:
        case "points_earned":
            tier = settings.tier(account.tier)
            return {
                **base,
                "points": job.points or 0,
                "order_id": job.order_id,
                "available": account.available,
                "expires_on": _expires_on(account, settings, store, locale),
                "tier_label": tier.label(locale) if tier else None,
            }
        case "tier_changed":
            new = settings.tier(job.tier)
            previous = settings.tier(job.previous_tier)
            standing = tiers.standing(job.tier, account.spend_log, clock.now(), settings)
            direction = "up" if settings.rank(job.tier) > settings.rank(job.previous_tier) else "down"
            return {
                **base,
                "tier_label": new.label(locale) if new else job.tier,
                "previous_tier_label": previous.label(locale) if previous else None,
                "direction": direction,
                "rate_percent": _percent(new.rate_percent) if new else None,
                "next_tier_label": standing.next_tier.label(locale) if standing.next_tier else None,
                "spend_to_next": format_money(standing.spend_to_next, _home_currency(settings), locale)
                if standing.spend_to_next is not None
                else None,
                "window_months": settings.tier_window_months,
            }
        case "points_expiring":
            expiry = clock.parse_instant(job.expires_at) if job.expires_at else None
            return {
                **base,
                "points": job.points or 0,
                "expires_on": _last_day(expiry, store, locale) if expiry else None,
            }


def deliver_notice(job: LoyaltyNoticeJob) -> str:
    """The message worker's loyalty job: one transactional email, once."""
    jobs.bind_log_context(job)
    store = directory.require(job.store_id)
    account = loyalty_data.get_account(store.store_id, job.customer_id)
    if account is None or not account.email:
        logger.info("loyalty email skipped: no address", extra={"kind": job.kind})
        return "skipped:no_email"
    if marketing_data.is_suppressed(store.store_id, account.email):
        metrics.add_metric(name="LoyaltyEmailSuppressed", unit="Count", value=1)
        return "skipped:suppressed"
    if job.kind == "points_expiring" and account.available <= 0:
        return "skipped:nothing_left"  # spent since the warning was planned
    locale = account.locale or store.default_locale
    email = account.email
    key = delivery_id(job.kind, store.store_id, _customer_ref(job.customer_id), job.reference)
    sent = send_once(
        key,
        lambda: Draft(
            kind=job.kind,
            store=store,
            locale=locale,
            to=email,
            to_name=account.name,
            context=_context(job, account, store, locale),
            reference=hashlib.sha256(key.encode()).hexdigest()[:32],
        ),
    )
    metrics.add_metric(name="LoyaltyEmailSent", unit="Count", value=1 if sent.now else 0)
    return "sent" if sent.now else "already_sent"


def deliver_birthday(job: BirthdayBonusJob) -> str:
    """The marketing worker's birthday job: the gate decides; a deferral comes back on time."""
    jobs.bind_log_context(job)
    store = directory.require(job.store_id)
    reference = f"birthday#{_customer_ref(job.customer_id)}#{job.year}"
    account = loyalty_data.get_account(store.store_id, job.customer_id)
    settings = marketing_settings(store)
    if account is None or not account.email or settings is None:
        schedule.birthday_email_done(store.store_id, job.customer_id)  # nothing deferred stays behind
        reason = "not_configured" if settings is None else "no_email"
        return send.skip(store.store_id, job.customer_id, "birthday_bonus", reference, reason)
    locale = account.locale or store.default_locale
    loyalty = from_store(store)
    outcome = send.marketing_email(
        send.Message(
            store=store,
            settings=settings,
            flow="birthday_bonus",
            kind="birthday_bonus",
            customer_id=job.customer_id,
            email=account.email,
            name=account.name,
            locale=locale,
            context=lambda: {
                "customer": {"name": account.name},
                "points": job.points,
                "available": account.available,
                "expires_on": _expires_on(account, loyalty, store, locale),
                "locale": locale,
            },
            reference=reference,
        )
    )
    if outcome.defer_until is not None:
        schedule.defer_birthday_email(store.store_id, job.customer_id, job.year, outcome.defer_until)
    else:
        schedule.birthday_email_done(store.store_id, job.customer_id)
    return outcome.label
