"""Dates and times as a reader in the store's time zone expects them, in ja or en."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_JA_WEEKDAYS = "月火水木金土日"
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_JA_ZONE_NAMES = {"Asia/Tokyo": "日本時間"}


def _zone_label(local: datetime, time_zone: str, locale: str) -> str:
    if locale == "ja" and time_zone in _JA_ZONE_NAMES:
        return _JA_ZONE_NAMES[time_zone]
    abbreviation = local.tzname() or time_zone
    # Zones without a letter abbreviation print "+07"; the IANA name reads better then.
    return time_zone if abbreviation[:1] in "+-" else abbreviation


def format_datetime(moment: datetime, time_zone: str, locale: str) -> str:
    """ja: 2026年11月23日(月) 10:02（日本時間）  en: Monday, November 23, 2026, 10:02 AM JST"""
    local = moment.astimezone(ZoneInfo(time_zone))
    zone = _zone_label(local, time_zone, locale)
    if locale == "ja":
        weekday = _JA_WEEKDAYS[local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日({weekday}) {local:%H:%M}（{zone}）"
    hour12 = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return (
        f"{_EN_WEEKDAYS[local.weekday()]}, {_EN_MONTHS[local.month - 1]} {local.day}, {local.year}, "
        f"{hour12}:{local:%M} {meridiem} {zone}"
    )


def format_duration(delta: timedelta, locale: str, *, open_hours: bool = False) -> str:
    """Time left (positive) or overdue (negative): ja 残り3時間20分 / 2時間5分超過, en 3 h 20 min left.
    Under a minute either way reads "due now". `open_hours`: the time counts business hours only."""
    overdue = delta.total_seconds() < 0
    minutes = round(abs(delta.total_seconds()) / 60)  # 3 h 59 min 58 s reads as 4 h
    if minutes == 0:
        return "期限到達" if locale == "ja" else "due now"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    # Each unit that is not zero: "4時間", "1日5分", "3 h 20 min".
    if locale == "ja":
        text = (
            (f"{days}日" if days else "") + (f"{hours}時間" if hours else "") + (f"{mins}分" if mins else "")
        )
        if overdue:
            return f"{text}超過"
        return f"営業時間で残り{text}" if open_hours else f"残り{text}"
    parts = (
        ([f"{days} d"] if days else [])
        + ([f"{hours} h"] if hours else [])
        + ([f"{mins} min"] if mins else [])
    )
    if overdue:
        return " ".join(parts) + " overdue"
    return " ".join(parts) + (" of business hours left" if open_hours else " left")


def format_date(moment: datetime, time_zone: str, locale: str) -> str:
    """The local calendar day of `moment`. ja: 2027年11月22日(月)  en: Monday, November 22, 2027"""
    local = moment.astimezone(ZoneInfo(time_zone))
    if locale == "ja":
        return f"{local.year}年{local.month}月{local.day}日({_JA_WEEKDAYS[local.weekday()]})"
    return f"{_EN_WEEKDAYS[local.weekday()]}, {_EN_MONTHS[local.month - 1]} {local.day}, {local.year}"
