"""Business calendars: when a store is open, and deadlines that count only open time.

A store is either open 24x7 (the default) or open in weekly windows (several per day allowed, e.g.
09:00-12:00 and 13:00-18:00) in its time zone, closed on public holidays of a country (Japan by
default, from the maintained `holidays` package) and on custom closure dates (New Year, Obon,
Golden Week...). All arithmetic happens in the store's local time, so DST zones work too.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Looking further than this for open time means the calendar has (almost) none: refuse, not loop.
_HORIZON_DAYS = 3 * 366


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str = "Asia/Tokyo"
    always_open: bool = True
    # weekday (0 = Monday) -> sorted, non-overlapping (start, end) windows; end may be 24:00 (time.max)
    weekly: tuple[tuple[tuple[time, time], ...], ...] = field(default_factory=lambda: ((),) * 7)
    holiday_country: str | None = "JP"
    closures: frozenset[date] = frozenset()

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict[str, Any] | None, time_zone: str) -> BusinessCalendar:
        """{"type": "24x7"} or {"type": "business_hours", "hours": {"mon": ["09:00-12:00",
        "13:00-18:00"], ...}, "holidays": "JP" | null, "closures": ["2026-12-29", ...]}"""
        try:
            ZoneInfo(time_zone)
        except (KeyError, ValueError) as error:
            raise CalendarError(f"unknown time zone {time_zone!r}") from error
        if not config or config.get("type", "24x7") == "24x7":
            return cls(time_zone=time_zone)
        if config.get("type") != "business_hours":
            raise CalendarError("calendar type must be 24x7 or business_hours")
        hours = config.get("hours") or {}
        if not isinstance(hours, dict):
            raise CalendarError('hours must map weekdays to windows, e.g. {"mon": ["09:00-18:00"]}')
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise CalendarError(f"unknown weekday keys: {sorted(unknown)}")
        weekly = tuple(_parse_windows(hours.get(day, [])) for day in WEEKDAYS)
        if not any(weekly):
            raise CalendarError("business hours need at least one open window")
        closures_config = config.get("closures") or []
        if not isinstance(closures_config, list):
            raise CalendarError("closures must be a list of dates (YYYY-MM-DD)")
        closures = frozenset(_parse_date(text) for text in closures_config)
        country = config.get("holidays", "JP")
        if country is not None:
            _holiday_calendar(str(country), 2026)  # fail now on an unknown country code
        return cls(time_zone, False, weekly, country, closures)

    def to_config(self) -> dict[str, Any]:
        if self.always_open:
            return {"type": "24x7"}
        return {
            "type": "business_hours",
            "hours": {
                WEEKDAYS[i]: [f"{_hhmm(s)}-{_hhmm(e)}" for s, e in windows]
                for i, windows in enumerate(self.weekly)
                if windows
            },
            "holidays": self.holiday_country,
            "closures": sorted(d.isoformat() for d in self.closures),
        }

    # -- queries ------------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_closed_day(self, day: date) -> bool:
        if day in self.closures:
            return True
        return self.holiday_country is not None and day in _holiday_calendar(self.holiday_country, day.year)

    def open_intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals from `start` on, in order, as UTC datetimes. Windows are laid out in the
        store's wall-clock time, but every comparison is in UTC: Python compares two datetimes
        of the same zone by wall clock, which is wrong across a DST change."""
        begin_at = start.astimezone(UTC)
        if self.always_open:
            yield begin_at, begin_at + timedelta(days=_HORIZON_DAYS)
            return
        first_day = begin_at.astimezone(self.zone).date()
        for offset in range(_HORIZON_DAYS):
            day = first_day + timedelta(days=offset)
            if self.is_closed_day(day):
                continue
            for opens, closes in self.weekly[day.weekday()]:
                begin = datetime.combine(day, opens, self.zone).astimezone(UTC)
                end = (
                    datetime.combine(day + timedelta(days=1), time(0), self.zone)
                    if closes == time.max
                    else datetime.combine(day, closes, self.zone)
                ).astimezone(UTC)
                if end <= begin_at or end <= begin:
                    continue
                yield max(begin, begin_at), end
        raise CalendarError("no open time within three years")

    def is_open(self, moment: datetime) -> bool:
        first = next(self.open_intervals(moment))
        return first[0] <= moment.astimezone(UTC) < first[1]

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the next opening (UTC)."""
        return next(self.open_intervals(moment))[0]

    def add_open_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when `duration` of open time has passed since `start`. Landing exactly on
        a closing time gives that closing time (the deadline is the end of the last open hour)."""
        if duration <= timedelta(0):
            return start
        if self.always_open:
            return start + duration
        remaining = duration
        for begin, end in self.open_intervals(start):
            if end - begin >= remaining:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= end - begin
        raise CalendarError("no open time within three years")  # pragma: no cover

    def subtract_open_time(self, end: datetime, start: datetime, duration: timedelta) -> datetime:
        """The latest moment at which `duration` of open time is left before `end` (not earlier
        than `start`): "remind when 4 open hours remain". When that point falls on a closing
        time, the next opening has the same open time left and is when staff can act on it."""
        total = self.open_time_between(start, end)
        if total <= duration:
            return start
        moment = self.add_open_time(start, total - duration)
        return self.next_open(moment).astimezone(start.tzinfo)

    def open_time_between(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        for begin, close in self.open_intervals(start):
            if begin >= end:
                break
            total += min(close, end) - begin
        return total


@functools.lru_cache(maxsize=64)
def _holiday_calendar(country: str, year: int) -> Any:
    import holidays  # imported on first use: ~80 ms that 24x7 stores never pay

    try:
        return holidays.country_holidays(country, years=[year])
    except NotImplementedError as error:
        raise CalendarError(f"no public holiday calendar for country {country!r}") from error


def _parse_time(text: str) -> time:
    if text == "24:00":
        return time.max
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as error:
        raise CalendarError(f"invalid time {text!r} (use HH:MM)") from error


def _parse_windows(windows: Any) -> tuple[tuple[time, time], ...]:
    if not isinstance(windows, list):
        raise CalendarError('opening hours per day must be a list such as ["09:00-18:00"]')
    parsed = []
    for window in windows:
        start_text, sep, end_text = str(window).partition("-")
        if not sep:
            raise CalendarError(f"invalid window {window!r} (use HH:MM-HH:MM)")
        start, end = _parse_time(start_text.strip()), _parse_time(end_text.strip())
        if end <= start:
            raise CalendarError(f"window {window!r} ends before it starts")
        parsed.append((start, end))
    parsed.sort()
    for (_, first_end), (second_start, _) in itertools.pairwise(parsed):
        if second_start < first_end:
            raise CalendarError("opening windows overlap")
    return tuple(parsed)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError as error:
        raise CalendarError(f"invalid closure date {text!r} (use YYYY-MM-DD)") from error


def _hhmm(moment: time) -> str:
    return "24:00" if moment == time.max else moment.strftime("%H:%M")
