"""The first-response SLA: deadlines per priority on the store's business calendar, and the staff
alert plan (reminders before the deadline, the breach, escalations after it)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from omotenashi import clock
from omotenashi.addresses import is_valid_email
from omotenashi.domain import DEFAULT_SLA_HOURS, PRIORITIES, SlaPolicy, Store
from omotenashi.logic.core.calendar import BusinessCalendar, CalendarError

REMINDER = "sla_reminder"
BREACH = "sla_breach"
ESCALATION = "sla_escalation"


class InvalidPolicy(ValueError):
    pass


@dataclass(frozen=True)
class PlannedAlert:
    kind: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "at": self.at.isoformat()}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def policy_from_config(
    config: dict[str, Any] | None, time_zone: str, *, normal_hours: float = DEFAULT_SLA_HOURS["normal"]
) -> SlaPolicy:
    """Validate a policy document: {"hours": {"urgent": 4, ...}, "reminder_hours_before": [4],
    "escalation": {"after_hours": 4, "every_hours": 24, "max": 3, "addresses": [...]},
    "morning_digest": false, "calendar": {...}} (every key optional). `normal_hours` is the
    store's current promise for normal inquiries, kept when the document does not set it."""
    config = dict(config or {})
    default = SlaPolicy()  # every key the document leaves out takes the policy's default
    hours = {**dict(default.hours), "normal": float(normal_hours)}
    hours_config = config.get("hours") or {}
    if not isinstance(hours_config, dict):
        raise InvalidPolicy('hours must map priorities to hours, e.g. {"high": 8}')
    for priority, value in hours_config.items():
        if priority not in PRIORITIES:
            raise InvalidPolicy(f"hours: unknown priority {priority!r}")
        if not _is_number(value) or not 0.25 <= value <= 24 * 30:
            raise InvalidPolicy(f"hours.{priority} must be a number of hours between 0.25 and 720")
        hours[priority] = float(value)
    reminders = config.get("reminder_hours_before", list(default.reminder_hours_before))
    if not isinstance(reminders, list) or not all(_is_number(r) and 0 < r < 24 * 30 for r in reminders):
        raise InvalidPolicy("reminder_hours_before must be a list of positive hours")
    escalation = config.get("escalation") or {}
    if not isinstance(escalation, dict):
        raise InvalidPolicy("escalation must be an object")
    after = escalation.get("after_hours", default.escalate_after_hours)
    every = escalation.get("every_hours", default.escalate_every_hours)
    maximum = escalation.get("max", default.escalate_max)
    addresses = escalation.get("addresses", list(default.escalation_addresses))
    if not _is_number(after) or after < 0:
        raise InvalidPolicy("escalation.after_hours must be >= 0")
    if not _is_number(every) or every <= 0:
        raise InvalidPolicy("escalation.every_hours must be > 0")
    if not isinstance(maximum, int) or isinstance(maximum, bool) or not 0 <= maximum <= 20:
        raise InvalidPolicy("escalation.max must be an integer from 0 to 20")
    if not isinstance(addresses, list) or not all(
        isinstance(a, str) and is_valid_email(a) for a in addresses
    ):
        raise InvalidPolicy("escalation.addresses must be email addresses")
    calendar_config = config.get("calendar") or dict(default.calendar)
    if not isinstance(calendar_config, dict):
        raise InvalidPolicy('calendar must be an object, e.g. {"type": "24x7"}')
    try:
        calendar = BusinessCalendar.from_config(calendar_config, time_zone)
        # A calendar with almost no open time cannot hold the longest SLA: refuse it now rather
        # than fail every inquiry of that priority later.
        calendar.add_open_time(clock.now(), timedelta(hours=max(hours.values())))
    except CalendarError as error:
        raise InvalidPolicy(f"calendar: {error}") from error
    digest = config.get("morning_digest", default.morning_digest)
    if not isinstance(digest, bool):
        raise InvalidPolicy("morning_digest must be true or false")
    if digest and calendar.always_open:
        raise InvalidPolicy("morning_digest needs a business_hours calendar (a 24x7 store never closes)")
    return SlaPolicy(
        hours=tuple(hours.items()),
        reminder_hours_before=tuple(sorted({float(r) for r in reminders}, reverse=True)),
        escalate_after_hours=float(after),
        escalate_every_hours=float(every),
        escalate_max=maximum,
        escalation_addresses=tuple(addresses),
        morning_digest=digest,
        calendar=tuple(sorted(calendar_config.items())),
    )


@functools.lru_cache(maxsize=256)
def _calendar(config_json: str, time_zone: str) -> BusinessCalendar:
    return BusinessCalendar.from_config(json.loads(config_json), time_zone)


def calendar_of(store: Store) -> BusinessCalendar:
    return _calendar(json.dumps(dict(store.policy.calendar), sort_keys=True), store.time_zone)


def sla_hours(store: Store, priority: str) -> float:
    # `normal` is the store's own sla_hours (set at creation or by the policy's hours.normal; the
    # data layer keeps the two the same); other priorities default to 4/8/48.
    return float(store.sla_hours) if priority == "normal" else store.policy.hours_for(priority)


def reply_due_at(store: Store, started_at: datetime, priority: str) -> datetime:
    due = calendar_of(store).add_open_time(started_at, timedelta(hours=sla_hours(store, priority)))
    return due.replace(microsecond=0)


def alert_plan(store: Store, started_at: datetime, due_at: datetime) -> list[PlannedAlert]:
    """Every staff alert for one SLA clock, in time order. Reminders count open time ("4 open
    hours left"); escalations count wall-clock time after the breach."""
    calendar = calendar_of(store)
    policy = store.policy
    plan = []
    for hours_before in policy.reminder_hours_before:
        at = calendar.subtract_open_time(due_at, started_at, timedelta(hours=hours_before))
        if started_at < at < due_at:
            plan.append(PlannedAlert(REMINDER, at.replace(microsecond=0)))
    plan.append(PlannedAlert(BREACH, due_at))
    for n in range(policy.escalate_max):
        hours = policy.escalate_after_hours + n * policy.escalate_every_hours
        plan.append(PlannedAlert(ESCALATION, (due_at + timedelta(hours=hours)).replace(microsecond=0)))
    return sorted(plan, key=lambda alert: alert.at)
