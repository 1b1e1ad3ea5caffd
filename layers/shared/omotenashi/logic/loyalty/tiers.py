"""Tiers, expiry and birthdays, pure: functions of a customer's record, the settings and the time.

- **Tier spend** is the points value of the customer's confirmed orders (less their refunds) whose
  confirmation lies in the last `tier_window_months`. Upgrades happen at once (when an order is
  confirmed); downgrades only at the daily run, when spend leaves the window.
- **Expiry**: every available point expires `expiry_months` after the customer's last earning
  (each earning extends all of them), at the end of that day in the store's time zone.
- **Birthday**: once a year on the customer's day ("MM-DD") at 09:00 in the store's time zone;
  29 February is celebrated on 28 February in other years.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from omotenashi.logic.loyalty.settings import LoyaltySettings, Tier

BIRTHDAY_HOUR = 9  # local time: inside every store's open hours and outside quiet hours by default

SpendLog = Mapping[str, tuple[datetime, Decimal]]  # order id -> (confirmed at, points value)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (or earlier), clamped to the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def window_start(now: datetime, settings: LoyaltySettings) -> datetime:
    return add_months(now, -settings.tier_window_months)


def _in_window(at: datetime, now: datetime, settings: LoyaltySettings) -> bool:
    """An order counts from its confirmation until `tier_window_months` later (next_leaving)."""
    return at <= now < add_months(at, settings.tier_window_months)


def window_spend(log: SpendLog, now: datetime, settings: LoyaltySettings) -> Decimal:
    return sum((amount for at, amount in log.values() if _in_window(at, now, settings)), Decimal(0))


def prune(log: SpendLog, now: datetime, settings: LoyaltySettings) -> dict[str, tuple[datetime, Decimal]]:
    """The log without orders that left the window (or count for nothing)."""
    return {
        order: (at, amount)
        for order, (at, amount) in log.items()
        if amount > 0 and now < add_months(at, settings.tier_window_months)
    }


def tier_for(spend: Decimal, settings: LoyaltySettings) -> Tier:
    """The highest tier whose threshold the spend reaches (the first tier starts at 0)."""
    reached = [t for t in settings.tiers if spend >= t.threshold]
    return reached[-1] if reached else settings.tiers[0]


def next_tier(current: str | None, settings: LoyaltySettings) -> Tier | None:
    rank = settings.rank(current)
    return settings.tiers[rank + 1] if rank + 1 < len(settings.tiers) else None


def upgraded(
    current: str | None, spend: Decimal, settings: LoyaltySettings, *, has_order: bool
) -> str | None:
    """The tier after an order is placed or confirmed: never lower than now (downgrades wait for
    the daily run); the first tier from the first placed order."""
    if not has_order and current is None:
        return None
    target = tier_for(spend, settings)
    return target.name if settings.rank(target.name) > settings.rank(current) else current


def daily_tier(current: str | None, spend: Decimal, settings: LoyaltySettings) -> str | None:
    """The daily run's tier: the spend rule, both ways (a customer with a tier keeps at least the first)."""
    if current is None:
        return None
    return tier_for(spend, settings).name


def next_leaving(log: SpendLog, settings: LoyaltySettings) -> datetime | None:
    """When the next order leaves the spend window (the daily run's next reason to look)."""
    ends = [add_months(at, settings.tier_window_months) for at, amount in log.values() if amount > 0]
    return min(ends) if ends else None


def next_local_midnight(moment: datetime, time_zone: str) -> datetime:
    """The first local midnight strictly after `moment` (daily runs happen at the day's start)."""
    zone = ZoneInfo(time_zone)
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def start_of_day(moment: datetime, time_zone: str) -> datetime:
    """An instant just before the local day of `moment` began."""
    zone = ZoneInfo(time_zone)
    day = moment.astimezone(zone).date()
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1)


def expires_at(last_earned_at: datetime | None, settings: LoyaltySettings, time_zone: str) -> datetime | None:
    """When the available points expire: the end of the local day `expiry_months` after the last
    earning. None when points never expire (or nothing was earned)."""
    if settings.expiry_months is None or last_earned_at is None:
        return None
    local = last_earned_at.astimezone(ZoneInfo(time_zone))
    return next_local_midnight(add_months(local, settings.expiry_months), time_zone)


def warning_at(expiry: datetime | None, settings: LoyaltySettings) -> datetime | None:
    if expiry is None or settings.expiry_warning_days is None:
        return None
    return expiry - timedelta(days=settings.expiry_warning_days)


def next_birthday(birthday: str, after: datetime, time_zone: str) -> datetime:
    """The first birthday moment (09:00 local on the day) strictly after `after`."""
    month, day = (int(part) for part in birthday.split("-"))
    zone = ZoneInfo(time_zone)
    year = after.astimezone(zone).year
    while True:
        actual = min(day, calendar.monthrange(year, month)[1])  # 29 Feb -> 28 Feb in other years
        moment = datetime(year, month, actual, BIRTHDAY_HOUR, tzinfo=zone).astimezone(UTC)
        if moment > after:
            return moment
        year += 1


def birthday_year(moment: datetime, time_zone: str) -> int:
    return moment.astimezone(ZoneInfo(time_zone)).year


@dataclass(frozen=True)
class TierStanding:
    tier: Tier | None
    spend: Decimal
    next_tier: Tier | None
    spend_to_next: Decimal | None


def standing(current: str | None, log: SpendLog, now: datetime, settings: LoyaltySettings) -> TierStanding:
    spend = window_spend(log, now, settings)
    upcoming = next_tier(current, settings)
    return TierStanding(
        tier=settings.tier(current),
        spend=spend,
        next_tier=upcoming,
        spend_to_next=None if upcoming is None else max(Decimal(0), upcoming.threshold - spend),
    )
