"""Tiers, expiry and birthdays: the spend rule at its thresholds, the rolling window, upgrades at
once and downgrades only daily, month arithmetic that clamps, expiry at the end of the local day,
and birthdays at 09:00 local time (29 February on 28 February in other years)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.logic.loyalty.settings import DEFAULTS, LoyaltySettings
from omotenashi.logic.loyalty.tiers import (
    BIRTHDAY_HOUR,
    add_months,
    birthday_year,
    daily_tier,
    expires_at,
    next_birthday,
    next_leaving,
    next_local_midnight,
    next_tier,
    prune,
    standing,
    tier_for,
    upgraded,
    warning_at,
    window_spend,
    window_start,
)

BOUNDED = settings(max_examples=200, deadline=None)
TOKYO = "Asia/Tokyo"
JST = ZoneInfo(TOKYO)
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
US = timedelta(microseconds=1)
NAMES = [t.name for t in DEFAULTS.tiers]
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
SPENDS = st.integers(0, 400_000).map(Decimal) | st.sampled_from(
    [Decimal(49999), Decimal(50000), Decimal(150000)]
)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=JST)


# --- the spend rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spend", "tier"),
    [
        ("0", "silver"),
        ("-1", "silver"),  # refunds cannot take a customer below the first tier
        ("49999", "silver"),
        ("49999.99", "silver"),
        ("50000", "gold"),
        ("149999", "gold"),
        ("150000", "platinum"),
        ("1000000000", "platinum"),
    ],
)
def test_tier_for_at_the_thresholds(spend, tier):
    assert tier_for(Decimal(spend), DEFAULTS).name == tier


def test_tier_rates():
    assert [(t.name, t.threshold, t.rate_percent) for t in DEFAULTS.tiers] == [
        ("silver", Decimal(0), Decimal(1)),
        ("gold", Decimal(50000), Decimal(2)),
        ("platinum", Decimal(150000), Decimal(3)),
    ]


@BOUNDED
@given(SPENDS, SPENDS)
def test_more_spend_never_means_a_lower_tier(a, b):
    low, high = sorted([a, b])
    assert DEFAULTS.rank(tier_for(low, DEFAULTS).name) <= DEFAULTS.rank(tier_for(high, DEFAULTS).name)


def test_next_tier():
    assert next_tier(None, DEFAULTS) == DEFAULTS.tiers[0]
    assert next_tier("silver", DEFAULTS) == DEFAULTS.tiers[1]
    assert next_tier("gold", DEFAULTS) == DEFAULTS.tiers[2]
    assert next_tier("platinum", DEFAULTS) is None


# --- the window -----------------------------------------------------------------------------


def test_window_spend_counts_only_orders_confirmed_in_the_last_12_months():
    log = {
        "twelve months ago": (datetime(2024, 6, 15, 12, 0, tzinfo=UTC), Decimal(1)),
        "just inside": (datetime(2024, 6, 15, 12, 0, tzinfo=UTC) + US, Decimal(10)),
        "last month": (datetime(2025, 5, 15, tzinfo=UTC), Decimal(100)),
        "now": (NOW, Decimal(1000)),
        "later": (NOW + US, Decimal(10000)),  # not confirmed yet, as of now
        "two years ago": (datetime(2023, 6, 15, tzinfo=UTC), Decimal(100000)),
    }
    assert window_start(NOW, DEFAULTS) == datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
    assert window_spend(log, NOW, DEFAULTS) == Decimal(1110)
    assert window_spend(log, NOW, LoyaltySettings(tier_window_months=36)) == Decimal(101111)
    assert window_spend({}, NOW, DEFAULTS) == 0


def test_prune_drops_orders_out_of_the_window_and_those_worth_nothing():
    log = {
        "old": (datetime(2024, 6, 15, 12, 0, tzinfo=UTC), Decimal(5)),
        "kept": (datetime(2024, 6, 16, tzinfo=UTC), Decimal(5)),
        "refunded": (datetime(2025, 6, 1, tzinfo=UTC), Decimal(0)),
    }
    assert prune(log, NOW, DEFAULTS) == {"kept": log["kept"]}


def test_upgrades_happen_at_once_and_never_lower():
    assert upgraded("silver", Decimal(50000), DEFAULTS, has_order=True) == "gold"
    assert upgraded("silver", Decimal(150000), DEFAULTS, has_order=True) == "platinum"
    assert upgraded("gold", Decimal(0), DEFAULTS, has_order=True) == "gold"
    assert upgraded("platinum", Decimal(60000), DEFAULTS, has_order=True) == "platinum"
    assert upgraded(None, Decimal(0), DEFAULTS, has_order=False) is None  # no order yet: no tier
    assert upgraded(None, Decimal(0), DEFAULTS, has_order=True) == "silver"  # the first order
    assert upgraded(None, Decimal(70000), DEFAULTS, has_order=True) == "gold"


@BOUNDED
@given(st.sampled_from([None, *NAMES]), SPENDS, st.booleans())
def test_upgraded_is_the_higher_of_the_tier_now_and_the_spend_rule(current, spend, has_order):
    result = upgraded(current, spend, DEFAULTS, has_order=has_order)
    if current is None and not has_order:
        assert result is None
        return
    assert DEFAULTS.rank(result) >= DEFAULTS.rank(current)
    assert DEFAULTS.rank(result) == max(DEFAULTS.rank(current), DEFAULTS.rank(tier_for(spend, DEFAULTS).name))


def test_the_daily_run_lowers_the_tier_when_spend_leaves_the_window():
    confirmed = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
    log = {"o-1": (confirmed, Decimal(60000)), "o-2": (datetime(2025, 1, 10, tzinfo=UTC), Decimal(20000))}
    tier = upgraded("silver", window_spend(log, confirmed, DEFAULTS), DEFAULTS, has_order=True)
    assert tier == "gold"
    day_before = datetime(2025, 5, 31, 9, 0, tzinfo=UTC)
    assert daily_tier(tier, window_spend(log, day_before, DEFAULTS), DEFAULTS) == "gold"
    assert next_leaving(log, DEFAULTS) == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    leaving = next_leaving(log, DEFAULTS)
    assert leaving is not None
    assert window_spend(log, leaving, DEFAULTS) == Decimal(20000)
    assert daily_tier(tier, window_spend(log, leaving, DEFAULTS), DEFAULTS) == "silver"
    assert next_leaving(prune(log, leaving, DEFAULTS), DEFAULTS) == datetime(2026, 1, 10, tzinfo=UTC)


def test_the_daily_run_raises_too_and_leaves_customers_without_a_tier_alone():
    assert daily_tier("silver", Decimal(150000), DEFAULTS) == "platinum"
    assert daily_tier("platinum", Decimal(0), DEFAULTS) == "silver"  # keeps the first tier
    assert daily_tier(None, Decimal(150000), DEFAULTS) is None


def test_next_leaving():
    assert next_leaving({}, DEFAULTS) is None
    assert next_leaving({"o": (NOW, Decimal(0))}, DEFAULTS) is None  # worth nothing: no reason to look
    log = {"a": (NOW, Decimal(1)), "b": (NOW - timedelta(days=40), Decimal(1))}
    assert next_leaving(log, DEFAULTS) == add_months(NOW - timedelta(days=40), 12)


@BOUNDED
@given(MOMENTS.filter(lambda m: m.day <= 28), st.integers(1, 36))
def test_an_order_leaves_the_window_at_next_leaving(confirmed, months):
    window = LoyaltySettings(tier_window_months=months)
    log = {"o": (confirmed, Decimal(100))}
    leaving = next_leaving(log, window)
    assert leaving is not None
    assert window_spend(log, leaving - US, window) == 100
    assert window_spend(log, leaving, window) == 0


@pytest.mark.parametrize(
    ("confirmed", "months"),
    [
        (datetime(2024, 2, 29, 12, 0, tzinfo=UTC), 12),
        (datetime(2025, 1, 31, 12, 0, tzinfo=UTC), 1),
    ],
)
def test_an_order_on_a_day_the_month_lacks_leaves_the_window_at_next_leaving(confirmed, months):
    window = LoyaltySettings(tier_window_months=months)
    log = {"o": (confirmed, Decimal(100))}
    leaving = next_leaving(log, window)
    assert leaving is not None
    assert window_spend(log, leaving, window) == 0


def test_standing():
    log = {"o-1": (datetime(2025, 3, 1, tzinfo=UTC), Decimal(60000))}
    gold = standing("gold", log, NOW, DEFAULTS)
    assert gold.tier == DEFAULTS.tiers[1] and gold.spend == Decimal(60000)
    assert gold.next_tier == DEFAULTS.tiers[2] and gold.spend_to_next == Decimal(90000)
    # Not upgraded yet (the daily run will): the next tier is already reached.
    silver = standing("silver", log, NOW, DEFAULTS)
    assert silver.next_tier == DEFAULTS.tiers[1] and silver.spend_to_next == 0
    top = standing("platinum", log, NOW, DEFAULTS)
    assert top.next_tier is None and top.spend_to_next is None
    nobody = standing(None, {}, NOW, DEFAULTS)
    assert nobody.tier is None and nobody.spend == 0 and nobody.next_tier == DEFAULTS.tiers[0]


# --- months ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2025, 1, 31), 1, datetime(2025, 2, 28)),
        (datetime(2024, 1, 31), 1, datetime(2024, 2, 29)),
        (datetime(2024, 2, 29), 12, datetime(2025, 2, 28)),
        (datetime(2024, 2, 29), 48, datetime(2028, 2, 29)),
        (datetime(2025, 3, 31), -1, datetime(2025, 2, 28)),
        (datetime(2025, 5, 31), 1, datetime(2025, 6, 30)),
        (datetime(2025, 12, 31), 1, datetime(2026, 1, 31)),
        (datetime(2025, 1, 31), 13, datetime(2026, 2, 28)),
        (datetime(2025, 1, 15), -1, datetime(2024, 12, 15)),
        (datetime(2025, 1, 1), -13, datetime(2023, 12, 1)),
        (datetime(2025, 1, 1), -24, datetime(2023, 1, 1)),
        (datetime(2025, 7, 4, 13, 14, 15, 16), 0, datetime(2025, 7, 4, 13, 14, 15, 16)),
    ],
)
def test_add_months_clamps_to_the_last_day(moment, months, expected):
    assert add_months(moment, months) == expected
    aware = add_months(moment.replace(tzinfo=JST), months)
    assert aware.tzinfo is JST and aware.replace(tzinfo=None) == expected


@BOUNDED
@given(MOMENTS, st.integers(-120, 120))
def test_add_months_moves_the_month_and_keeps_the_day_where_it_can(moment, months):
    result = add_months(moment, months)
    assert (result.year * 12 + result.month) - (moment.year * 12 + moment.month) == months
    assert result.day == min(moment.day, calendar.monthrange(result.year, result.month)[1])
    assert result.timetz() == moment.timetz()


# --- expiry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "expiry"),
    [
        (jst(2025, 5, 10, 15, 0), jst(2026, 5, 11)),
        (jst(2025, 5, 10, 0, 0), jst(2026, 5, 11)),
        (jst(2025, 5, 10, 23, 59, 59), jst(2026, 5, 11)),
        # 23:30 UTC on 10 May is already 11 May in Tokyo: the local day counts.
        (datetime(2025, 5, 10, 23, 30, tzinfo=UTC), jst(2026, 5, 12)),
        (jst(2024, 2, 29, 10, 0), jst(2025, 3, 1)),
        (jst(2025, 12, 31, 18, 0), jst(2027, 1, 1)),
    ],
)
def test_points_expire_at_the_end_of_the_local_day_12_months_after_the_last_earning(earned, expiry):
    result = expires_at(earned, DEFAULTS, TOKYO)
    assert result == expiry
    assert result is not None and result.tzinfo is not None
    assert warning_at(result, DEFAULTS) == expiry - timedelta(days=30)


def test_no_expiry():
    never = LoyaltySettings(expiry_months=None, expiry_warning_days=None)
    assert expires_at(jst(2025, 5, 10, 15), never, TOKYO) is None
    assert expires_at(None, DEFAULTS, TOKYO) is None
    assert warning_at(None, DEFAULTS) is None
    assert warning_at(jst(2026, 5, 11), LoyaltySettings(expiry_warning_days=None)) is None
    assert expires_at(jst(2025, 5, 10, 15), LoyaltySettings(expiry_months=6), TOKYO) == jst(2025, 11, 11)


@BOUNDED
@given(MOMENTS, st.integers(1, 120))
def test_expiry_is_the_first_tokyo_midnight_after_the_same_moment_months_later(earned, months):
    result = expires_at(earned, LoyaltySettings(expiry_months=months), TOKYO)
    assert result is not None
    local = result.astimezone(JST)
    assert local.time() == time(0)
    later = add_months(earned.astimezone(JST), months)
    assert later < result <= later + timedelta(days=1)


def test_next_local_midnight():
    assert next_local_midnight(jst(2025, 5, 10, 23, 59, 59), TOKYO) == jst(2025, 5, 11)
    assert next_local_midnight(jst(2025, 5, 11), TOKYO) == jst(2025, 5, 12)  # strictly after
    assert next_local_midnight(jst(2025, 5, 11), TOKYO).tzinfo == UTC


# --- birthdays ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birthday", "after", "expected"),
    [
        ("02-29", jst(2027, 1, 1), jst(2027, 2, 28, 9)),
        ("02-29", jst(2028, 1, 1), jst(2028, 2, 29, 9)),
        ("02-29", jst(2027, 2, 28, 9), jst(2028, 2, 29, 9)),  # strictly after
        ("02-29", jst(2028, 2, 29, 9) - US, jst(2028, 2, 29, 9)),
        ("02-29", jst(2099, 3, 1), jst(2100, 2, 28, 9)),  # 2100 is no leap year
        ("05-10", jst(2025, 5, 10, 8, 59), jst(2025, 5, 10, 9)),
        ("05-10", jst(2025, 5, 10, 9, 0, 1), jst(2026, 5, 10, 9)),
        ("12-31", jst(2027, 12, 31, 9), jst(2028, 12, 31, 9)),
        # 23:00 UTC on 31 December is 08:00 on 1 January in Tokyo: this year's birthday is still to come.
        ("01-01", datetime(2026, 12, 31, 23, 0, tzinfo=UTC), jst(2027, 1, 1, 9)),
    ],
)
def test_next_birthday(birthday, after, expected):
    result = next_birthday(birthday, after, TOKYO)
    assert result == expected and result > after and result.tzinfo == UTC


def test_next_birthday_in_another_zone_is_at_nine_local_time():
    new_york = ZoneInfo("America/New_York")
    result = next_birthday("03-09", datetime(2025, 1, 1, tzinfo=UTC), "America/New_York")
    assert result.astimezone(new_york) == datetime(2025, 3, 9, 9, tzinfo=new_york)  # the DST day
    assert result == datetime(2025, 3, 9, 13, tzinfo=UTC)


def test_birthday_year_is_the_local_year():
    assert birthday_year(datetime(2025, 12, 31, 20, tzinfo=UTC), TOKYO) == 2026
    assert birthday_year(datetime(2025, 12, 31, 14, tzinfo=UTC), TOKYO) == 2025


def _birthday_in(year: int, month: int, day: int) -> datetime:
    return jst(year, month, min(day, calendar.monthrange(year, month)[1]), BIRTHDAY_HOUR)


@BOUNDED
@given(st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2000, 12, 31).date()), MOMENTS)
def test_the_next_birthday_is_the_first_one_strictly_after(day, after):
    birthday = f"{day.month:02d}-{day.day:02d}"  # 2000 is a leap year: 02-29 comes up too
    result = next_birthday(birthday, after, TOKYO)
    local = result.astimezone(JST)
    assert result > after
    assert local == _birthday_in(local.year, day.month, day.day)
    assert _birthday_in(local.year - 1, day.month, day.day) <= after  # none skipped
    assert result - after <= timedelta(days=366)
