from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omotenashi.logic.core.calendar import BusinessCalendar, CalendarError

JST = ZoneInfo("Asia/Tokyo")
WEEKDAYS_9_18 = {
    "type": "business_hours",
    "hours": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": "JP",
}


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)


def test_24x7_is_plain_addition():
    calendar = BusinessCalendar.from_config(None, "Asia/Tokyo")
    start = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert calendar.add_open_time(start, timedelta(hours=24)) == start + timedelta(hours=24)


def test_friday_evening_with_8_hour_sla_is_due_next_open_day_at_1630():
    calendar = BusinessCalendar.from_config({**WEEKDAYS_9_18, "holidays": None}, "Asia/Tokyo")
    due = calendar.add_open_time(jst(2026, 11, 13, 17, 30), timedelta(hours=8))
    assert due == jst(2026, 11, 16, 16, 30)  # Monday


def test_japanese_public_holiday_is_skipped():
    # Monday 2026-11-23 is Labor Thanksgiving Day (勤労感謝の日).
    calendar = BusinessCalendar.from_config(WEEKDAYS_9_18, "Asia/Tokyo")
    due = calendar.add_open_time(jst(2026, 11, 20, 17, 30), timedelta(hours=8))
    assert due == jst(2026, 11, 24, 16, 30)  # Tuesday


def test_custom_closure_is_skipped():
    config = {**WEEKDAYS_9_18, "holidays": None, "closures": ["2026-11-16"]}
    calendar = BusinessCalendar.from_config(config, "Asia/Tokyo")
    assert calendar.add_open_time(jst(2026, 11, 13, 17, 30), timedelta(hours=8)) == jst(2026, 11, 17, 16, 30)


def test_new_year_closure_and_holiday_together():
    config = {
        **WEEKDAYS_9_18,
        "closures": ["2026-12-29", "2026-12-30", "2026-12-31", "2027-01-02", "2027-01-03"],
    }
    calendar = BusinessCalendar.from_config(config, "Asia/Tokyo")
    # Received Monday 2026-12-28 17:00; Jan 1 is a public holiday; Jan 4 (Monday) reopens.
    assert calendar.add_open_time(jst(2026, 12, 28, 17, 0), timedelta(hours=4)) == jst(2027, 1, 4, 12, 0)


def test_split_windows_lunch_break():
    config = {"type": "business_hours", "hours": {"mon": ["09:00-12:00", "13:00-18:00"]}, "holidays": None}
    calendar = BusinessCalendar.from_config(config, "Asia/Tokyo")
    assert calendar.add_open_time(jst(2026, 11, 16, 11, 0), timedelta(hours=2)) == jst(2026, 11, 16, 14, 0)
    assert not calendar.is_open(jst(2026, 11, 16, 12, 30))
    assert calendar.next_open(jst(2026, 11, 16, 12, 30)) == jst(2026, 11, 16, 13, 0)


def test_received_before_opening_starts_at_opening():
    calendar = BusinessCalendar.from_config({**WEEKDAYS_9_18, "holidays": None}, "Asia/Tokyo")
    assert calendar.add_open_time(jst(2026, 11, 16, 3, 0), timedelta(hours=1)) == jst(2026, 11, 16, 10, 0)


def test_open_until_midnight():
    config = {"type": "business_hours", "hours": {"sat": ["20:00-24:00"]}, "holidays": None}
    calendar = BusinessCalendar.from_config(config, "Asia/Tokyo")
    assert calendar.add_open_time(jst(2026, 11, 21, 22, 0), timedelta(hours=3)) == jst(2026, 11, 28, 21, 0)


def test_remaining_open_time_for_reminders():
    calendar = BusinessCalendar.from_config({**WEEKDAYS_9_18, "holidays": None}, "Asia/Tokyo")
    start = jst(2026, 11, 13, 17, 30)
    due = calendar.add_open_time(start, timedelta(hours=8))
    assert calendar.subtract_open_time(due, start, timedelta(hours=4)) == jst(2026, 11, 16, 12, 30)
    assert calendar.open_time_between(start, due) == timedelta(hours=8)


def test_reminder_that_falls_on_a_closing_time_waits_for_the_opening():
    """Fri 14:00 + 8 open hours = Mon 13:00. "4 hours left" is true from Fri 18:00 (closing) to
    Mon 09:00; staff can act on it at the opening, so that is when it goes out."""
    calendar = BusinessCalendar.from_config({**WEEKDAYS_9_18, "holidays": None}, "Asia/Tokyo")
    start = jst(2026, 11, 13, 14, 0)
    due = calendar.add_open_time(start, timedelta(hours=8))
    assert due == jst(2026, 11, 16, 13, 0)
    assert calendar.subtract_open_time(due, start, timedelta(hours=4)) == jst(2026, 11, 16, 9, 0)


def test_deadline_exactly_at_closing_is_that_closing_time():
    calendar = BusinessCalendar.from_config({**WEEKDAYS_9_18, "holidays": None}, "Asia/Tokyo")
    assert calendar.add_open_time(jst(2026, 11, 13, 10, 0), timedelta(hours=8)) == jst(2026, 11, 13, 18, 0)
    assert calendar.is_open(jst(2026, 11, 13, 17, 59))
    assert not calendar.is_open(jst(2026, 11, 13, 18, 0))
    assert calendar.next_open(jst(2026, 11, 13, 18, 0)) == jst(2026, 11, 16, 9, 0)


def test_closure_spanning_a_weekend():
    config = {**WEEKDAYS_9_18, "holidays": None, "closures": ["2026-12-25", "2026-12-28", "2026-12-29"]}
    calendar = BusinessCalendar.from_config(config, "Asia/Tokyo")
    due = calendar.add_open_time(jst(2026, 12, 24, 17, 0), timedelta(hours=2))
    assert due == jst(2026, 12, 30, 10, 0)  # Thu 1 h, then Fri, the weekend, Mon and Tue are closed


NEW_YORK = ZoneInfo("America/New_York")


def test_business_hours_across_the_autumn_dst_change():
    """New York leaves DST on Sunday 2026-11-01. Fri 16:00 EDT + 8 open hours (9-17 weekdays):
    1 h on Friday, 7 h on Monday in EST, so due Mon 16:00 EST (21:00 UTC), not an hour off."""
    hours = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    calendar = BusinessCalendar.from_config(
        {"type": "business_hours", "hours": hours, "holidays": None}, "America/New_York"
    )
    due = calendar.add_open_time(datetime(2026, 10, 30, 16, 0, tzinfo=NEW_YORK), timedelta(hours=8))
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 21, 0, tzinfo=UTC)


def test_window_in_the_repeated_hour_of_a_dst_change():
    """00:00-01:30 on the night clocks go back: 01:15 EST (the second 01:15) is after the window,
    which closed at 01:30 EDT. Comparing by wall clock would call the store open and count
    negative open time."""
    calendar = BusinessCalendar.from_config(
        {"type": "business_hours", "hours": {"sun": ["00:00-01:30"]}, "holidays": None}, "America/New_York"
    )
    second_0115 = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)
    assert not calendar.is_open(second_0115)
    assert calendar.is_open(datetime(2026, 11, 1, 5, 15, tzinfo=UTC))  # the first 01:15 (EDT)
    eight_days = timedelta(days=8)
    assert calendar.open_time_between(second_0115, second_0115 + eight_days) == timedelta(hours=1, minutes=30)
    due = calendar.add_open_time(second_0115, timedelta(hours=1))
    assert due.astimezone(UTC) == datetime(2026, 11, 8, 6, 0, tzinfo=UTC)  # Sun 01:00 EST a week later


@given(start_minutes=st.integers(0, 60 * 24 * 20), hours=st.integers(1, 30))
def test_deadlines_in_a_dst_zone_count_exact_open_time(start_minutes, hours):
    hours_config = {"sun": ["00:00-03:00"], "mon": ["09:00-17:00"], "sat": ["22:00-24:00"]}
    calendar = BusinessCalendar.from_config(
        {"type": "business_hours", "hours": hours_config, "holidays": None}, "America/New_York"
    )
    start = datetime(2026, 10, 20, tzinfo=UTC) + timedelta(minutes=start_minutes)
    due = calendar.add_open_time(start, timedelta(hours=hours))
    assert calendar.open_time_between(start, due) == timedelta(hours=hours)
    for begin, end in itertools.islice(calendar.open_intervals(start), 12):
        assert begin < end and begin >= start


@pytest.mark.parametrize(
    "config",
    [
        {"type": "weird"},
        {"type": "business_hours", "hours": {}},
        {"type": "business_hours", "hours": {"funday": ["09:00-10:00"]}},
        {"type": "business_hours", "hours": {"mon": ["10:00-09:00"]}},
        {"type": "business_hours", "hours": {"mon": ["9-10"]}},
        {"type": "business_hours", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}},
        {"type": "business_hours", "hours": {"mon": ["09:00-12:00"]}, "closures": ["tomorrow"]},
        {"type": "business_hours", "hours": {"mon": ["09:00-12:00"]}, "holidays": "XX"},
        {"type": "business_hours", "hours": {"mon": ["09:00-12:00"]}, "closures": "2026-12-31"},
        {"type": "business_hours", "hours": {"mon": "09:00-12:00"}},
        {"type": "business_hours", "hours": ["09:00-12:00"]},
        {"type": "business_hours", "hours": {"mon": ["25:00-26:00"]}},
    ],
)
def test_invalid_configs_are_refused(config):
    with pytest.raises(CalendarError):
        BusinessCalendar.from_config(config, "Asia/Tokyo")


def test_config_round_trip():
    config = {**WEEKDAYS_9_18, "closures": ["2026-08-13", "2026-08-14"]}
    calendar = BusinessCalendar.from_config(config, "Asia/Tokyo")
    assert BusinessCalendar.from_config(calendar.to_config(), "Asia/Tokyo") == calendar


@given(
    start_minutes=st.integers(0, 60 * 24 * 60),
    hours=st.integers(1, 80),
)
def test_deadline_properties(start_minutes, hours):
    calendar = BusinessCalendar.from_config(WEEKDAYS_9_18, "Asia/Tokyo")
    start = jst(2026, 1, 1) + timedelta(minutes=start_minutes)
    due = calendar.add_open_time(start, timedelta(hours=hours))
    assert due >= start + timedelta(hours=hours)  # never sooner than wall-clock time
    assert calendar.open_time_between(start, due) == timedelta(hours=hours)
    local = due.astimezone(JST)
    assert local.weekday() < 5 and not calendar.is_closed_day(local.date())
    assert 9 <= local.hour <= 18
    assert date(2026, 1, 1) <= local.date()
