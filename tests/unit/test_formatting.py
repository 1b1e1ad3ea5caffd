from __future__ import annotations

from datetime import UTC, datetime

from omotenashi.messaging.formatting import format_datetime

MOMENT = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)  # Monday 10:02 JST


def test_japanese():
    assert format_datetime(MOMENT, "Asia/Tokyo", "ja") == "2026年11月23日(月) 10:02（日本時間）"


def test_english_in_tokyo():
    assert format_datetime(MOMENT, "Asia/Tokyo", "en") == "Monday, November 23, 2026, 10:02 AM JST"


def test_english_in_new_york_has_dst_aware_abbreviation():
    assert format_datetime(MOMENT, "America/New_York", "en") == "Sunday, November 22, 2026, 8:02 PM EST"
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert format_datetime(summer, "America/New_York", "en").endswith("8:00 AM EDT")


def test_zone_without_abbreviation_uses_iana_name():
    assert format_datetime(MOMENT, "Asia/Ho_Chi_Minh", "en").endswith("Asia/Ho_Chi_Minh")


def test_japanese_reader_in_other_zone():
    assert format_datetime(MOMENT, "UTC", "ja") == "2026年11月23日(月) 01:02（UTC）"


def test_noon_and_midnight_in_english():
    assert "12:00 PM" in format_datetime(datetime(2026, 1, 1, 3, 0, tzinfo=UTC), "Asia/Tokyo", "en")
    assert "12:00 AM" in format_datetime(datetime(2026, 1, 1, 15, 0, tzinfo=UTC), "Asia/Tokyo", "en")


def test_durations():
    from datetime import timedelta

    from omotenashi.messaging.formatting import format_duration

    assert format_duration(timedelta(hours=4) - timedelta(seconds=2), "ja") == "残り4時間"
    assert format_duration(timedelta(hours=3, minutes=20), "en") == "3 h 20 min left"
    assert format_duration(-timedelta(hours=2, minutes=5), "ja") == "2時間5分超過"
    assert format_duration(-timedelta(days=1, hours=4), "en") == "1 d 4 h overdue"
    assert format_duration(timedelta(minutes=5), "en") == "5 min left"
    assert format_duration(timedelta(seconds=20), "ja") == "期限到達"
    assert format_duration(-timedelta(seconds=29), "en") == "due now"
    assert format_duration(timedelta(hours=4), "ja", open_hours=True) == "営業時間で残り4時間"
    assert format_duration(timedelta(hours=4), "en", open_hours=True) == "4 h of business hours left"
    assert format_duration(-timedelta(hours=1), "en", open_hours=True) == "1 h overdue"
    assert format_duration(timedelta(days=1, minutes=5), "ja") == "残り1日5分"
    assert format_duration(-timedelta(days=2), "en") == "2 d overdue"
