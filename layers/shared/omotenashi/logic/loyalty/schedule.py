"""Loyalty timers: found due by the every-minute sweep (one Query per shard of the sparse due index,
so a run reads what is due, never all customers), each run by the loyalty worker.

- `confirm` (on an order's record): the return window ended; pending points become available.
- `warn` / `expire` (timer#expiry): the points_expiring email, then the expiry entry.
- `tier` (timer#tier, at a local day's start): the daily tier run; downgrades happen only here.
- `birthday` (timer#birthday): the yearly bonus, then the marketing email.
- `birthday_email` (timer#birthday_email): the marketing gate deferred the birthday email.

The sweep leases each due timer (moves it an hour on, conditionally) before enqueueing it, so
overlapping sweeps enqueue it once; a lost job comes up again when the lease runs out. Every job
re-reads the account and is idempotent, so a job delivered twice changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.dal.errors import DataAccessError
from omotenashi.dal.loyalty import Commit, LoyaltyConflict, TimerWrite
from omotenashi.domain import Store
from omotenashi.logic.core import directory, jobs
from omotenashi.logic.core.errors import ServiceUnavailable
from omotenashi.logic.loyalty import accounts, tiers
from omotenashi.logic.loyalty.settings import LoyaltySettings, from_store
from omotenashi.loyalty_domain import Entry, LedgerLine, LoyaltyAccount, TierChange
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import BirthdayBonusJob, LoyaltyNoticeJob, LoyaltyTimerJob

LEASE = timedelta(hours=1)


def run_sweep(now: datetime) -> int:
    stats = loyalty_data.SweepStats()
    enqueued = failed = 0
    for due in loyalty_data.due_timers(now, stats):
        if not loyalty_data.lease_timer(due, now + LEASE):
            continue  # another sweep took it, or the account moved it meanwhile
        job = LoyaltyTimerJob(
            store_id=due.store_id,
            customer_id=due.customer_id,
            item_key=due.item_key,
            due_kind=due.due_kind,
            due_at=due.due_at,
        )
        try:
            jobs.enqueue(job)
        except DataAccessError:
            # The lease brings it back in an hour; the other due timers still go now.
            failed += 1
            continue
        enqueued += 1
    metrics.add_metric(name="LoyaltyTimersEnqueued", unit="Count", value=enqueued)
    if failed:
        metrics.add_metric(name="LoyaltyTimersEnqueueFailed", unit="Count", value=failed)
        logger.warning("loyalty timers not enqueued: retried when their lease ends", extra={"failed": failed})
    logger.info("loyalty sweep", extra={"enqueued": enqueued, "items_read": stats.items_read})
    return enqueued


def run(job: LoyaltyTimerJob) -> str:
    """The loyalty worker's job."""
    jobs.bind_log_context(job)
    store = directory.require(job.store_id)
    settings = from_store(store)
    match job.due_kind:
        case "confirm":
            order_id = job.item_key.removeprefix("order#")
            return accounts.reconcile_order(store, job.customer_id, order_id, confirm=True)
        case "warn" | "expire":
            return _retry(lambda: _expiry(store, settings, job.customer_id))
        case "tier":
            return _retry(lambda: _daily_tier(store, settings, job.customer_id))
        case "birthday":
            return _birthday(store, settings, job)
        case "birthday_email":
            return _birthday_email_again(store, settings, job)
    logger.warning("unknown loyalty timer", extra={"due_kind": job.due_kind})
    return "unknown"


def _retry(step: Callable[[], str]) -> str:
    for attempt in range(accounts.ATTEMPTS):
        try:
            return step()
        except LoyaltyConflict as conflict:
            logger.info("loyalty timer conflicted: retrying", extra={"part": conflict.what})
            accounts.backoff(attempt)
    raise ServiceUnavailable("the customer's points are changing; retry")


def _expiry(store: Store, settings: LoyaltySettings, customer_id: str) -> str:
    account = loyalty_data.get_account(store.store_id, customer_id)
    expiry = tiers.expires_at(account.last_earned_at if account else None, settings, store.time_zone)
    if account is None or account.last_earned_at is None or expiry is None:
        loyalty_data.commit(Commit(store.store_id, customer_id, timers=[TimerWrite("expiry", None)]))
        return "nothing_to_expire"
    now = clock.now()
    seen = clock.instant(account.last_earned_at)
    warning = tiers.warning_at(expiry, settings)
    if now >= expiry:
        points = max(0, account.available)
        lines = []
        if points:
            # One expiry date may expire twice: points that came back after the first run keep the
            # date; the balance and last-earning conditions keep each run to once.
            entry_id = f"expire:{clock.instant(expiry)}:{clock.instant(now)}"
            entry = Entry(entry_id, "expire", -points, "available", None, "points expired")
            lines.append(LedgerLine(entry, now))
        loyalty_data.commit(
            Commit(
                store.store_id,
                customer_id,
                lines=lines,
                expect_available=account.available,
                expect_last_earned=seen,
                timers=[TimerWrite("expiry", None)],
            )
        )
        metrics.add_metric(name="LoyaltyPointsExpired", unit="Count", value=points)
        return "expired"
    if warning is not None and now >= warning:
        if account.available > 0:
            jobs.enqueue(
                LoyaltyNoticeJob(
                    store_id=store.store_id,
                    customer_id=customer_id,
                    kind="points_expiring",
                    reference=f"expiry:{clock.instant(expiry)}",
                    points=account.available,
                    expires_at=clock.instant(expiry),
                )
            )
        loyalty_data.commit(
            Commit(
                store.store_id,
                customer_id,
                expect_last_earned=seen,
                timers=[TimerWrite("expiry", expiry, "expire", clock.instant(expiry))],
            )
        )
        return "warned"
    # Early (a lease ran out before the earning that moved the date): put the timer where it belongs.
    timer = TimerWrite("expiry", warning or expiry, "warn" if warning else "expire", clock.instant(expiry))
    loyalty_data.commit(Commit(store.store_id, customer_id, expect_last_earned=seen, timers=[timer]))
    return "rescheduled"


def _daily_tier(store: Store, settings: LoyaltySettings, customer_id: str) -> str:
    account = loyalty_data.get_account(store.store_id, customer_id)
    if account is None:
        loyalty_data.commit(Commit(store.store_id, customer_id, timers=[TimerWrite("tier", None)]))
        return "no_account"
    now = clock.now()
    log = tiers.prune(account.spend_log, now, settings)
    tier = tiers.daily_tier(account.tier, tiers.window_spend(log, now, settings), settings)
    updated = LoyaltyAccount(**{**account.__dict__, "spend_log": log, "tier": tier})
    changed = tier != account.tier
    if changed:
        change = TierChange(f"tier:{account.revision + 1}:{tier}", account.tier, str(tier), now, "daily")
        updated = LoyaltyAccount(**{**updated.__dict__, "last_tier_change": change})
    loyalty_data.commit(
        Commit(
            store.store_id,
            customer_id,
            fields=updated if (changed or log != account.spend_log) else None,
            timers=[accounts.tier_timer(updated, now, settings, store.time_zone)],
        )
    )
    if changed and updated.last_tier_change is not None:
        accounts.notify_tier(store, customer_id, updated.last_tier_change)
        metrics.add_metric(name="LoyaltyTierDowngraded", unit="Count", value=1)
        return "downgraded"
    last = account.last_tier_change
    if last is not None and last.cause == "daily" and last.at >= now - timedelta(days=1):
        accounts.notify_tier(store, customer_id, last)  # a retry after the change: its email, once
    return "unchanged"


def _birthday(store: Store, settings: LoyaltySettings, job: LoyaltyTimerJob) -> str:
    account = loyalty_data.get_account(store.store_id, job.customer_id)
    now = clock.now()
    if account is None or not account.birthday:
        _retry(
            lambda: _commit(Commit(store.store_id, job.customer_id, timers=[TimerWrite("birthday", None)]))
        )
        return "no_birthday"
    if settings.birthday_points <= 0 or not settings.enabled:
        # Off for now: the timer moves to next year's birthday (it comes back on with the setting).
        later = tiers.next_birthday(
            account.birthday, max(now, clock.parse_instant(job.due_at)), store.time_zone
        )
        timer = TimerWrite("birthday", later, "birthday")
        _retry(lambda: _commit(Commit(store.store_id, job.customer_id, timers=[timer])))
        return "birthday_bonus_off"
    year = tiers.birthday_year(clock.parse_instant(job.due_at), store.time_zone)
    points = settings.birthday_points
    credited = accounts.credit_bonus(
        store, job.customer_id, f"birthday:{year}", "birthday", points, f"birthday {year}"
    )
    nxt = tiers.next_birthday(account.birthday, max(now, clock.parse_instant(job.due_at)), store.time_zone)
    loyalty_data.commit(
        Commit(store.store_id, job.customer_id, timers=[TimerWrite("birthday", nxt, "birthday", str(year))])
    )
    jobs.enqueue(
        BirthdayBonusJob(store_id=store.store_id, customer_id=job.customer_id, year=year, points=points)
    )
    return "credited" if credited else "credited_before"


def _birthday_email_again(store: Store, settings: LoyaltySettings, job: LoyaltyTimerJob) -> str:
    _, _, detail = loyalty_data.get_timer(store.store_id, job.customer_id, "birthday_email")
    if detail is None:
        return "nothing_deferred"
    jobs.enqueue(
        BirthdayBonusJob(
            store_id=store.store_id,
            customer_id=job.customer_id,
            year=int(detail),
            points=settings.birthday_points,
        )
    )
    return "enqueued"


def _commit(change: Commit) -> str:
    loyalty_data.commit(change)
    return "written"


def defer_birthday_email(store_id: str, customer_id: str, year: int, until: datetime) -> None:
    """The marketing gate deferred the birthday email (quiet hours): try again at `until`."""
    loyalty_data.commit(
        Commit(
            store_id, customer_id, timers=[TimerWrite("birthday_email", until, "birthday_email", str(year))]
        )
    )


def birthday_email_done(store_id: str, customer_id: str) -> None:
    loyalty_data.commit(Commit(store_id, customer_id, timers=[TimerWrite("birthday_email", None)]))
