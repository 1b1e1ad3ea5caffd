from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omotenashi.logic.calendar import BusinessCalendar, CalendarError

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
