"""The loyalty orchestrator: reads, calls the pure rules (ledger.py, tiers.py), writes one
transaction (dal/loyalty.commit), then enqueues the emails the change calls for.

- **Orders** (event worker, and the confirmation timer): `reconcile_order` brings the ledger's
  record of an order in line with the order's whole stored history. A concurrent change of the
  same account makes the transaction fail on a version; it is read again and retried.
- **Redemptions and adjustments** (API): one transaction each; the balance condition keeps a
  redemption (or a negative adjustment) from taking `available` below zero, and the entry's
  deterministic key makes a repeat impossible to apply twice.
- **Emails**: enqueued after the transaction, and enqueued again when a retry finds the change
  already made (a crash in between loses nothing; the delivery record sends each email once).
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.dal import orders as order_data
from omotenashi.dal.loyalty import Commit, LoyaltyConflict, OrderWrite, TimerWrite
from omotenashi.domain import Locale, Store
from omotenashi.logic.core import jobs
from omotenashi.logic.core.errors import IdempotencyConflict, InsufficientPoints, NotFound, ServiceUnavailable
from omotenashi.logic.core.idempotency import Answer
from omotenashi.logic.loyalty import ledger, tiers
from omotenashi.logic.loyalty.settings import LoyaltySettings, from_store
from omotenashi.loyalty_domain import Entry, LedgerLine, LoyaltyAccount, OrderPoints, Redemption, TierChange
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import LoyaltyNoticeJob

KEY_WINDOW = timedelta(hours=24)
ATTEMPTS = 16  # concurrent changes of one account are rare; each retry re-reads after a jittered pause


def backoff(attempt: int) -> None:
    """A short, jittered pause before re-reading a contended account (so concurrent writers of
    one customer spread out instead of colliding again)."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 - jitter, not secrets


@dataclass(frozen=True)
class Profile:
    """What events say about the customer (for the emails and the birthday)."""

    email: str | None = None
    name: str | None = None
    locale: Locale | None = None
    birthday: str | None = None


def _merged(account: LoyaltyAccount, profile: Profile | None) -> LoyaltyAccount:
    if profile is None:
        return account
    return replace(
        account,
        email=profile.email or account.email,
        name=profile.name or account.name,
        locale=profile.locale or account.locale,
        birthday=profile.birthday or account.birthday,
    )


def _rate(account: LoyaltyAccount, settings: LoyaltySettings) -> Decimal:
    tier = settings.tier(account.tier)
    return (tier or settings.tiers[0]).rate_percent


def _line(entry: Entry, now: datetime, expiry: datetime | None) -> LedgerLine:
    return LedgerLine(entry, now, expiry if entry.bucket == "available" and entry.points > 0 else None)


def _earns(entries: tuple[Entry, ...] | list[Entry]) -> bool:
    return any(e.kind in ledger.EARNING_KINDS and e.bucket == "available" and e.points > 0 for e in entries)


def _expiry_timer(
    earned_at: datetime | None, settings: LoyaltySettings, time_zone: str, now: datetime | None = None
) -> TimerWrite:
    """The expiry timer of points whose last earning was `earned_at`, set at `now` (an earning, or
    points coming back: a cancelled redemption, a refund's return): the warning when it is still to
    come; at once when the points came back inside the warning window; the expiry itself (at once
    when its date has passed: returned points do not outlive the points they were)."""
    now = now or earned_at
    expiry = tiers.expires_at(earned_at, settings, time_zone)
    if expiry is None or now is None:
        return TimerWrite("expiry", None)
    warning = tiers.warning_at(expiry, settings)
    detail = clock.instant(expiry)
    if warning is not None and now < expiry:
        return TimerWrite("expiry", max(warning, now), "warn", detail)
    return TimerWrite("expiry", max(expiry, now), "expire", detail)


def _comes_back(entries: tuple[Entry, ...] | list[Entry]) -> bool:
    """Available points that come back without being an earning (they keep their expiry)."""
    return any(
        e.bucket == "available" and e.points > 0 and e.kind not in ledger.EARNING_KINDS for e in entries
    )


def tier_timer(
    account: LoyaltyAccount, now: datetime, settings: LoyaltySettings, time_zone: str
) -> TimerWrite:
    """The daily run's next look at the tier: tomorrow's start when spend already fell below the
    tier, else the start of the day after the next order leaves the window; none at the lowest."""
    if settings.rank(account.tier) <= 0:
        return TimerWrite("tier", None)
    spend = tiers.window_spend(account.spend_log, now, settings)
    if settings.rank(tiers.tier_for(spend, settings).name) < settings.rank(account.tier):
        return TimerWrite("tier", tiers.next_local_midnight(now, time_zone), "tier")
    leaving = tiers.next_leaving(account.spend_log, settings)
    if leaving is None:
        return TimerWrite("tier", None)
    return TimerWrite("tier", tiers.next_local_midnight(leaving, time_zone), "tier")


def _birthday_timer(
    birthday: str | None, now: datetime, settings: LoyaltySettings, time_zone: str
) -> TimerWrite:
    if not birthday or settings.birthday_points <= 0:
        return TimerWrite("birthday", None)
    # From the start of today: a birthday learnt on the day (after 09:00) is celebrated at once; the
    # year's entry keeps it to once.
    return TimerWrite(
        "birthday", tiers.next_birthday(birthday, tiers.start_of_day(now, time_zone), time_zone), "birthday"
    )


# --- orders ----------------------------------------------------------------------------------


def reconcile_order(
    store: Store, customer_id: str, order_id: str, *, confirm: bool = False, profile: Profile | None = None
) -> str:
    """Apply what the order's stored events say to the customer's ledger (once). `confirm`: the
    confirmation timer runs (pending points become available if the return window is over)."""
    settings = from_store(store)
    for attempt in range(ATTEMPTS):
        try:
            return _reconcile_once(store, settings, customer_id, order_id, confirm, profile)
        except LoyaltyConflict as conflict:
            backoff(attempt)
            metrics.add_metric(name="LoyaltyRetry", unit="Count", value=1)
            logger.info("loyalty change conflicted: retrying", extra={"part": conflict.what})
    raise ServiceUnavailable("the customer's points are changing; retry")


def _reconcile_once(
    store: Store,
    settings: LoyaltySettings,
    customer_id: str,
    order_id: str,
    confirm: bool,
    profile: Profile | None,
) -> str:
    facts = ledger.OrderFacts.from_history(order_id, order_data.history(store.store_id, order_id))
    if facts.placed and facts.customer_id != customer_id:
        # An event naming the customer another way (a guest's email for an id): the points are
        # the placing customer's, once; the other identity only learns the profile.
        if profile is not None:
            note_profile(store, customer_id, profile)
        customer_id, profile = facts.customer_id, None
    stored, held_or_none = loyalty_data.load(store.store_id, customer_id, order_id)
    held = held_or_none or OrderPoints()
    account = stored or LoyaltyAccount(store.store_id, customer_id)
    now = clock.now()
    # While the programme is off, an order first credited earns at 0 % (its rate stays 0 after);
    # orders credited before go on to their end, and returns of redeemed points still apply.
    rate = _rate(account, settings) if settings.enabled else Decimal(0)
    plan = ledger.plan_order(facts, held, rate_percent=rate, settings=settings, now=now, confirm=confirm)
    # The account's fields: the order's spend in the log, the tier (upgrades at once), the profile.
    spend_log = dict(account.spend_log)
    if plan.held.confirmed_at is not None and plan.held.spend > 0:
        spend_log[order_id] = (plan.held.confirmed_at, plan.held.spend)
    else:
        spend_log.pop(order_id, None)
    spend_log = tiers.prune(spend_log, now, settings)
    spend = tiers.window_spend(spend_log, now, settings)
    tier = (
        tiers.upgraded(account.tier, spend, settings, has_order=facts.placed)
        if settings.enabled
        else account.tier
    )
    updated = replace(_merged(account, profile), spend_log=spend_log, tier=tier)
    if tier != account.tier:
        change_id = f"tier:{account.revision + 1}:{tier}"
        updated = replace(
            updated, last_tier_change=TierChange(change_id, account.tier, str(tier), now, f"order:{order_id}")
        )
    fields_changed = updated != account
    held_changed = replace(plan.held, version=held.version, confirm_due_at=None) != replace(
        held, confirm_due_at=None
    ) or (plan.confirm_due_at != held.confirm_due_at and (facts.placed or held_or_none is not None))
    if not plan.entries and not fields_changed and not held_changed:
        _notices_again(store, settings, account, order_id, held)
        return "no_change"
    earning = _earns(plan.entries)
    timers: list[TimerWrite] = []
    if earning:
        timers.append(_expiry_timer(now, settings, store.time_zone))
    elif _comes_back(plan.entries):
        timers.append(_expiry_timer(account.last_earned_at, settings, store.time_zone, now))
    above_first = settings.rank(updated.tier) > 0 or settings.rank(account.tier) > 0
    if above_first and (updated.spend_log != account.spend_log or updated.tier != account.tier):
        timers.append(tier_timer(updated, now, settings, store.time_zone))
    if updated.birthday != account.birthday:
        timers.append(_birthday_timer(updated.birthday, now, settings, store.time_zone))
    expiry = tiers.expires_at(now, settings, store.time_zone) if earning else None
    loyalty_data.commit(
        Commit(
            store_id=store.store_id,
            customer_id=customer_id,
            lines=[_line(e, now, expiry) for e in plan.entries],
            fields=replace(updated, revision=account.revision) if fields_changed else None,
            earned_at=now if earning else None,
            order=OrderWrite(
                order_id,
                replace(plan.held, version=held.version + 1),
                held.version,
                plan.confirm_due_at,
            )
            if held_changed or plan.entries
            else None,
            timers=timers,
        )
    )
    for entry in plan.entries:
        metrics.add_metric(name=f"LoyaltyEntry_{entry.kind}", unit="Count", value=1)
    if plan.confirmed_now:
        _notify_earned(store, settings, customer_id, order_id, plan.held.remaining)
    if updated.tier != account.tier and updated.last_tier_change is not None:
        notify_tier(store, customer_id, updated.last_tier_change)
    return "applied"


def _notices_again(
    store: Store, settings: LoyaltySettings, account: LoyaltyAccount, order_id: str, held: OrderPoints
) -> None:
    """A retry that finds the change made: enqueue its emails again (a crash may have come between
    the transaction and the enqueue); each email still goes once."""
    recent = clock.now() - timedelta(days=1)
    change = account.last_tier_change
    if change is not None and change.cause == f"order:{order_id}" and change.at >= recent:
        notify_tier(store, account.customer_id, change)
    if held.confirmed_at is not None and held.confirmed_at >= recent:
        _notify_earned(store, settings, account.customer_id, order_id, held.remaining)


def _notify_earned(
    store: Store, settings: LoyaltySettings, customer_id: str, order_id: str, points: int
) -> None:
    if not settings.points_earned_email or points <= 0:
        return
    jobs.enqueue(
        LoyaltyNoticeJob(
            store_id=store.store_id,
            customer_id=customer_id,
            kind="points_earned",
            reference=f"order:{order_id}",
            points=points,
            order_id=order_id,
        )
    )


def notify_tier(store: Store, customer_id: str, change: TierChange) -> None:
    jobs.enqueue(
        LoyaltyNoticeJob(
            store_id=store.store_id,
            customer_id=customer_id,
            kind="tier_changed",
            reference=change.change_id,
            tier=change.tier,
            previous_tier=change.previous,
        )
    )


# --- redemptions and adjustments -------------------------------------------------------------


def _request(
    idempotency_key: str | None, fingerprint: str, target: str, now: datetime
) -> tuple[str, str, str, datetime, datetime] | None:
    """The record of an Idempotency-Key, kept the contract's 24 hours."""
    if idempotency_key is None:
        return None
    return _key_digest(idempotency_key), fingerprint, target, now, now + KEY_WINDOW


def _key_digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def _check_key(
    store: Store, customer_id: str, idempotency_key: str | None, fingerprint: str, target: str
) -> None:
    """An Idempotency-Key used before on this account for another body (or another target) is 409."""
    if idempotency_key is None:
        return
    found = loyalty_data.get_request(store.store_id, customer_id, _key_digest(idempotency_key), clock.now())
    if found is not None and (found[0] != fingerprint or found[1] != target):
        raise IdempotencyConflict("this Idempotency-Key was used with a different body")


def _redemption_answer(redemption: Redemption, replayed: bool) -> Answer:
    body = {
        "redemption_id": redemption.redemption_id,
        "points": redemption.points,
        "available": redemption.available_after,
        "order_id": redemption.order_id,
    }
    return Answer(201, body, replayed=replayed)


def redeem(
    store: Store,
    customer_id: str,
    redemption_id: str,
    points: int,
    order_id: str | None,
    fingerprint: str,
    idempotency_key: str | None,
) -> Answer:
    """Take `points` from the available balance (201), or 409 insufficient_points with nothing
    written. A repeat of the same redemption id answers as the first did."""
    target = f"redemption#{redemption_id}"
    for attempt in range(ATTEMPTS):
        _check_key(store, customer_id, idempotency_key, fingerprint, target)
        existing = loyalty_data.get_redemption(store.store_id, customer_id, redemption_id)
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise IdempotencyConflict("this redemption_id was used with a different body")
            if existing.order_id and existing.state == "active":
                _settle_order_after_redemption(store, customer_id, existing.order_id)  # a retry finishes it
            return _redemption_answer(existing, replayed=True)
        account = loyalty_data.get_account(store.store_id, customer_id)
        available = account.available if account else 0
        if available < points:
            metrics.add_metric(name="LoyaltyRedemptionRefused", unit="Count", value=1)
            raise InsufficientPoints(f"{points} points asked, {max(available, 0)} available")
        now = clock.now()
        redemption = Redemption(
            store_id=store.store_id,
            customer_id=customer_id,
            redemption_id=redemption_id,
            points=points,
            order_id=order_id,
            state="active",
            request_hash=fingerprint,
            available_after=available - points,
            created_at=now,
        )
        entry = Entry(f"redeem:{redemption_id}", "redeem", -points, "available", order_id, "redeemed")
        try:
            loyalty_data.commit(
                Commit(
                    store_id=store.store_id,
                    customer_id=customer_id,
                    lines=[LedgerLine(entry, now)],
                    expect_available=available,  # the answer's balance is exact; a race re-reads
                    order_redeemed=(order_id, points) if order_id else None,
                    redemption=redemption,
                    request=_request(idempotency_key, fingerprint, target, now),
                )
            )
        except LoyaltyConflict as conflict:
            backoff(attempt)
            metrics.add_metric(name="LoyaltyRetry", unit="Count", value=1)
            logger.info("redemption conflicted: retrying", extra={"part": conflict.what})
            continue
        metrics.add_metric(name="LoyaltyRedeemed", unit="Count", value=1)
        if order_id:
            _settle_order_after_redemption(store, customer_id, order_id)
        return _redemption_answer(redemption, replayed=False)
    raise ServiceUnavailable("the customer's points are changing; retry")


def _settle_order_after_redemption(store: Store, customer_id: str, order_id: str) -> None:
    """A redemption naming an order already refunded or cancelled gets its share back at once."""
    _, held = loyalty_data.load(store.store_id, customer_id, order_id)
    if held is not None and ledger.taken_back_ratio(held.base, held.refunded, held.cancelled) > 0:
        reconcile_order(store, customer_id, order_id)


def cancel_redemption(store: Store, customer_id: str, redemption_id: str) -> dict[str, object]:
    """DELETE: the redemption's points come back, once (less what a refund of its order already
    gave back for it). A repeat answers as the first did; an unknown id is 404."""
    for attempt in range(ATTEMPTS):
        redemption = loyalty_data.get_redemption(store.store_id, customer_id, redemption_id)
        if redemption is None:
            raise NotFound("no such redemption")
        if redemption.state == "cancelled":
            return _cancel_answer(
                redemption_id, redemption.returned_on_cancel or 0, redemption.available_after_cancel
            )
        account, held = loyalty_data.load(store.store_id, customer_id, redemption.order_id)
        back, new_held = ledger.cancel_redemption(redemption.points, held if redemption.order_id else None)
        available_after = (account.available if account else 0) + back
        now = clock.now()
        settings = from_store(store)
        last_earned = account.last_earned_at if account else None
        timers = [_expiry_timer(last_earned, settings, store.time_zone, now)] if back > 0 else []
        lines = []
        if back:
            entry = Entry(
                f"redemption_cancel:{redemption_id}",
                "redemption_cancel",
                back,
                "available",
                redemption.order_id,
                "redemption cancelled",
            )
            lines.append(LedgerLine(entry, now))
        try:
            loyalty_data.commit(
                Commit(
                    store_id=store.store_id,
                    customer_id=customer_id,
                    lines=lines,
                    expect_available=account.available if account else None,
                    redemption_cancelled=(redemption_id, back, available_after),
                    timers=timers,
                    order_after_cancel=(str(redemption.order_id), new_held)
                    if new_held is not None and held is not None
                    else None,
                )
            )
        except LoyaltyConflict as conflict:
            backoff(attempt)
            logger.info("redemption cancel conflicted: retrying", extra={"part": conflict.what})
            continue
        metrics.add_metric(name="LoyaltyRedemptionCancelled", unit="Count", value=1)
        return _cancel_answer(redemption_id, back, available_after)
    raise ServiceUnavailable("the customer's points are changing; retry")


def _cancel_answer(redemption_id: str, back: int, available: int | None) -> dict[str, object]:
    return {
        "redemption_id": redemption_id,
        "status": "cancelled",
        "points_returned": back,
        "available": available if available is not None else 0,
    }


def adjust(
    store: Store,
    customer_id: str,
    adjustment_id: str,
    points: int,
    reason: str,
    author: str,
    fingerprint: str,
    idempotency_key: str | None,
) -> Answer:
    """A staff adjustment (201): positive ones are an earning (they extend expiry); negative ones
    obey the redemption rule (409 insufficient_points, nothing written)."""
    entry_id = f"adjust:{adjustment_id}"
    target = f"entry#{entry_id}"
    settings = from_store(store)
    for attempt in range(ATTEMPTS):
        _check_key(store, customer_id, idempotency_key, fingerprint, target)
        existing = loyalty_data.get_entry(store.store_id, customer_id, entry_id)
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise IdempotencyConflict("this adjustment_id was used with a different body")
            body = {"adjustment_id": adjustment_id, "points": points, "available": existing.available_after}
            return Answer(201, body, replayed=True)
        account = loyalty_data.get_account(store.store_id, customer_id)
        available = account.available if account else 0
        if points < 0 and available + points < 0:
            raise InsufficientPoints(f"{-points} points asked, {max(available, 0)} available")
        now = clock.now()
        entry = Entry(entry_id, "adjust", points, "available", None, reason, author)
        earning = points > 0
        expiry = tiers.expires_at(now, settings, store.time_zone) if earning else None
        try:
            loyalty_data.commit(
                Commit(
                    store_id=store.store_id,
                    customer_id=customer_id,
                    lines=[_line(entry, now, expiry)],
                    expect_available=available,
                    earned_at=now if earning else None,
                    entry_extra={entry_id: (fingerprint, available + points)},
                    request=_request(idempotency_key, fingerprint, target, now),
                    timers=[_expiry_timer(now, settings, store.time_zone)] if earning else [],
                )
            )
        except LoyaltyConflict as conflict:
            backoff(attempt)
            logger.info("adjustment conflicted: retrying", extra={"part": conflict.what})
            continue
        metrics.add_metric(name="LoyaltyAdjusted", unit="Count", value=1)
        return Answer(
            201, {"adjustment_id": adjustment_id, "points": points, "available": available + points}, False
        )
    raise ServiceUnavailable("the customer's points are changing; retry")


def credit_bonus(
    store: Store,
    customer_id: str,
    entry_id: str,
    kind: str,
    points: int,
    reason: str,
    *,
    profile: Profile | None = None,
) -> bool:
    """Credit available bonus points once per `entry_id` (birthday, review and survey rewards).
    False: credited before."""
    settings = from_store(store)
    for attempt in range(ATTEMPTS):
        if loyalty_data.get_entry(store.store_id, customer_id, entry_id) is not None:
            return False
        now = clock.now()
        expiry = tiers.expires_at(now, settings, store.time_zone)
        entry = Entry(entry_id, kind, points, "available", None, reason)  # type: ignore[arg-type]
        try:
            loyalty_data.commit(
                Commit(
                    store_id=store.store_id,
                    customer_id=customer_id,
                    lines=[_line(entry, now, expiry)],
                    earned_at=now,
                    timers=[_expiry_timer(now, settings, store.time_zone)],
                )
            )
        except LoyaltyConflict as conflict:
            backoff(attempt)
            if conflict.what == "entry":
                return False
            continue
        metrics.add_metric(name=f"LoyaltyEntry_{kind}", unit="Count", value=1)
        return True
    raise ServiceUnavailable("the customer's points are changing; retry")


def note_profile(store: Store, customer_id: str, profile: Profile) -> None:
    """Remember what an event (a cart, consent) says about the customer: the birthday starts its
    yearly timer. Writes only when something changed."""
    settings = from_store(store)
    for attempt in range(ATTEMPTS):
        account = loyalty_data.get_account(store.store_id, customer_id) or LoyaltyAccount(
            store.store_id, customer_id
        )
        updated = _merged(account, profile)
        if updated == account:
            return
        timers = []
        if updated.birthday != account.birthday:
            timers.append(_birthday_timer(updated.birthday, clock.now(), settings, store.time_zone))
        try:
            loyalty_data.commit(
                Commit(
                    store.store_id,
                    customer_id,
                    fields=replace(updated, revision=account.revision),
                    timers=timers,
                )
            )
            return
        except LoyaltyConflict:
            backoff(attempt)
            continue
    raise ServiceUnavailable("the customer's points are changing; retry")
