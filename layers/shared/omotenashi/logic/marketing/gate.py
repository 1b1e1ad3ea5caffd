"""The marketing gate: may this one marketing email go to this one customer now?

Every marketing email of every flow (cart reminders, review requests and their reminder, birthday
bonuses) asks `decide` just before it is sent, and again whenever a deferred one comes due. The
answer is one of

- **send** (reason `ok`);
- **skip** with a reason: the email is dropped for good, and the flow moves on;
- **defer** until a UTC instant: the email is kept and decided again at that instant.

The gate is pure: a function of the store's `MarketingPolicy`, the `Recipient`'s facts as read just
before the send, and `now` (passed in; only omotenashi/clock.py reads the time). It imports no data
access, SDK, HTTP or email code, so it is tested exhaustively on its own and every flow shares it.

The checks run in this order, and the first that fails decides:

1. **Consent** (`consent_missing`, `consent_withdrawn`). Without current consent nothing else
   matters (特定電子メール法: advertising email only with prior opt-in). A consent never recorded
   and a consent withdrawn (or refused, or unsubscribed by link) are both skips, never defers: a
   reminder held until consent comes back would be a reminder the customer did not ask for.
2. **Suppression** (`suppressed`): the address bounced, complained or unsubscribed. Checked after
   consent only so that a customer without consent is reported as such (the more basic reason).
3. **Open inquiry** (`open_inquiry`): skip, the flow does not send while the customer waits for an
   answer (no "you forgot something" email while a broken item is being discussed).
4. **Quiet hours** (`quiet_hours`): defer, never drop, to the end of the window in the store's time
   zone. With 21:00-08:00 in Asia/Tokyo, an email due at 20:30 goes now; one due at 21:30 waits
   until 08:00 the next morning, one due at 07:59 until 08:00 the same morning.
5. **Frequency cap** (`frequency_cap`): skip when another marketing email (of any flow) went to
   this customer less than `cap_hours` ago, as Klaviyo's Smart Sending does; exactly `cap_hours`
   ago is allowed. It comes after quiet hours because a deferred email is decided again when it is
   due, and by then the cap may have run out: deciding the cap first would skip an email that
   would have been allowed at 08:00.

Quiet hours are a half-open window [start, end) of local wall-clock time; the window wraps midnight
when end < start (21:00-08:00) and does not otherwise (13:00-14:00). Each occurrence of the window
is one interval of real time, from the first instant the store's clock reads `start` to the first
instant it then reads `end`. On a day with a clock change (DST) that instant is the first valid
one at or after the wall time: a time that does not exist (skipped by a spring-forward) resolves
to the moment of the jump, and a time that occurs twice (fall-back) to its first occurrence. So a
night's quiet time is one unbroken interval even when the clock repeats an hour inside it, and all
arithmetic is done on aware datetimes compared in UTC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

# -- the defaults, once: store configuration, the CLI and docs/marketing.md read these ----------
DEFAULT_TIME_ZONE = "Asia/Tokyo"
DEFAULT_QUIET_HOURS: tuple[time, time] = (time(21, 0), time(8, 0))
DEFAULT_CAP_HOURS = 16.0
MAX_CAP_HOURS = 168.0  # one week; 0 = no cap
# The keys of a policy document (validate_policy); a caller checking a larger file for unknown keys
# (the marketing.json of `omotenashi stores set-marketing`) accepts these for the policy.
POLICY_KEYS = ("time_zone", "quiet_hours", "cap_hours")

Outcome = Literal["send", "skip", "defer"]
SkipReason = Literal["consent_missing", "consent_withdrawn", "suppressed", "open_inquiry", "frequency_cap"]
DeferReason = Literal["quiet_hours"]
Reason = Literal["ok", SkipReason, DeferReason]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
SKIP_REASONS: tuple[SkipReason, ...] = get_args(SkipReason)
REASONS: tuple[Reason, ...] = get_args(Reason)  # "ok", then the checks in their order


class InvalidMarketingPolicy(ValueError):
    """A marketing policy that cannot be used; the message names the field."""


@dataclass(frozen=True)
class MarketingPolicy:
    """One store's marketing rules. `quiet_hours` is (start, end) in local wall-clock time, or None
    for none; `cap_hours` is the minimum time between two marketing emails to one customer (0 = no
    cap). Construction checks every field, so a policy that exists is usable."""

    time_zone: str = DEFAULT_TIME_ZONE
    quiet_hours: tuple[time, time] | None = DEFAULT_QUIET_HOURS
    cap_hours: float = DEFAULT_CAP_HOURS

    def __post_init__(self) -> None:
        _zone(self.time_zone)
        if self.quiet_hours is not None:
            start, end = self.quiet_hours
            if start.tzinfo is not None or end.tzinfo is not None:
                raise InvalidMarketingPolicy("quiet_hours are local wall-clock times, without a zone")
            if start == end:
                raise InvalidMarketingPolicy(
                    "quiet_hours.end must differ from quiet_hours.start (use null for no quiet hours)"
                )
        if (
            isinstance(self.cap_hours, bool)
            or not isinstance(self.cap_hours, int | float)
            or not math.isfinite(self.cap_hours)
            or not 0 <= self.cap_hours <= MAX_CAP_HOURS
        ):
            raise InvalidMarketingPolicy(f"cap_hours must be a number from 0 to {MAX_CAP_HOURS:g}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_config(self) -> dict[str, Any]:
        """The document `validate_policy` reads back into an equal policy."""
        quiet = (
            None
            if self.quiet_hours is None
            else {"start": _hhmm(self.quiet_hours[0]), "end": _hhmm(self.quiet_hours[1])}
        )
        cap = int(self.cap_hours) if float(self.cap_hours).is_integer() else self.cap_hours
        return {"time_zone": self.time_zone, "quiet_hours": quiet, "cap_hours": cap}


@dataclass(frozen=True, kw_only=True)
class Recipient:
    """What is known about the customer just before the send. Every field must be stated: a
    forgotten fact must not default to "allowed".

    consent: the current marketing_email state (None = never recorded, False = refused or
    withdrawn, unsubscribe links included). suppressed: the address bounced, complained or
    unsubscribed. open_inquiry: the customer has an inquiry waiting for an answer.
    last_marketing_sent_at: the last marketing email of any flow to this customer, or None."""

    consent: bool | None
    suppressed: bool
    open_inquiry: bool
    last_marketing_sent_at: datetime | None

    def __post_init__(self) -> None:
        if self.last_marketing_sent_at is not None and self.last_marketing_sent_at.tzinfo is None:
            raise ValueError("last_marketing_sent_at must be timezone-aware")


@dataclass(frozen=True)
class Decision:
    """send (reason "ok"), skip (a SkipReason) or defer (reason "quiet_hours", until a UTC instant).
    Build one with `Decision.send()`, `Decision.skip(reason)` or `Decision.defer(until)`."""

    outcome: Outcome
    reason: Reason
    defer_until: datetime | None = None

    def __post_init__(self) -> None:
        consistent = {
            "send": self.reason == "ok" and self.defer_until is None,
            "skip": self.reason in SKIP_REASONS and self.defer_until is None,
            "defer": self.reason == "quiet_hours"
            and self.defer_until is not None
            and self.defer_until.utcoffset() == timedelta(0),
        }.get(self.outcome, False)
        if not consistent:
            raise ValueError(f"inconsistent decision {self!r}")

    @classmethod
    def send(cls) -> Decision:
        return cls("send", "ok")

    @classmethod
    def skip(cls, reason: SkipReason) -> Decision:
        return cls("skip", reason)

    @classmethod
    def defer(cls, until: datetime) -> Decision:
        return cls("defer", "quiet_hours", until.astimezone(UTC))


def decide(policy: MarketingPolicy, recipient: Recipient, now: datetime) -> Decision:
    """The gate. `now` is aware (any zone; the answer's instants are UTC). See the module docstring
    for the order of the checks and why."""
    moment = _utc(now, "now")
    if recipient.consent is None:
        return Decision.skip("consent_missing")
    if recipient.consent is not True:
        return Decision.skip("consent_withdrawn")
    if recipient.suppressed:
        return Decision.skip("suppressed")
    if recipient.open_inquiry:
        return Decision.skip("open_inquiry")
    until = quiet_until(policy, moment)
    if until is not None:
        return Decision.defer(until)
    last = recipient.last_marketing_sent_at
    if policy.cap_hours > 0 and last is not None and moment - last < timedelta(hours=policy.cap_hours):
        return Decision.skip("frequency_cap")
    return Decision.send()


def quiet_until(policy: MarketingPolicy, now: datetime) -> datetime | None:
    """None when `now` is outside the store's quiet hours, else the UTC instant they end (the first
    instant after `now` that is not quiet). Flows may use it to schedule, the gate to defer."""
    moment = _utc(now, "now")
    if policy.quiet_hours is None:
        return None
    zone = policy.zone
    until: datetime | None = None
    # Two windows only touch when one's end and the next one's start fall into the same skipped
    # stretch of a clock change; then the quiet time runs on into the next window. A few rounds at
    # most; the bound only guards against a broken zone database.
    for _ in range(8):
        containing = [
            finish
            for begin, finish in _quiet_intervals(policy.quiet_hours, zone, moment)
            if begin <= moment < finish
        ]
        if not containing:
            return until
        moment = until = containing[0]
    raise AssertionError("quiet hours never end")  # pragma: no cover


def validate_policy(config: Mapping[str, Any], time_zone: str = DEFAULT_TIME_ZONE) -> MarketingPolicy:
    """Read a policy document, as `omotenashi stores set-marketing` receives it:

        {"time_zone": "Asia/Tokyo", "quiet_hours": {"start": "21:00", "end": "08:00"} | null,
         "cap_hours": 16}

    Every key is optional: a missing one takes its default (DEFAULT_QUIET_HOURS, DEFAULT_CAP_HOURS;
    the time zone defaults to `time_zone`, which the caller sets to the store's), and quiet_hours
    null means none. Keys outside POLICY_KEYS are left to the caller. Raises InvalidMarketingPolicy
    naming the bad field."""
    if not isinstance(config, Mapping):
        raise InvalidMarketingPolicy("the marketing policy must be a JSON object")
    zone_name = config.get("time_zone", time_zone)
    if not isinstance(zone_name, str):
        raise InvalidMarketingPolicy("time_zone must be an IANA time zone name such as Asia/Tokyo")
    _zone(zone_name)

    quiet_hours: tuple[time, time] | None = DEFAULT_QUIET_HOURS
    if "quiet_hours" in config:
        quiet = config["quiet_hours"]
        if quiet is None:
            quiet_hours = None
        elif not isinstance(quiet, Mapping):
            raise InvalidMarketingPolicy(
                'quiet_hours must be {"start": "HH:MM", "end": "HH:MM"} or null for no quiet hours'
            )
        else:
            unknown = sorted(str(key) for key in quiet if key not in ("start", "end"))
            if unknown:
                raise InvalidMarketingPolicy(f"quiet_hours has unknown keys {unknown} (use start and end)")
            quiet_hours = (_parse_hhmm(quiet.get("start"), "start"), _parse_hhmm(quiet.get("end"), "end"))

    cap = config.get("cap_hours", DEFAULT_CAP_HOURS)
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0 <= cap <= MAX_CAP_HOURS:
        raise InvalidMarketingPolicy(f"cap_hours must be a number from 0 to {MAX_CAP_HOURS:g}")
    return MarketingPolicy(time_zone=zone_name, quiet_hours=quiet_hours, cap_hours=float(cap))


# -- helpers --------------------------------------------------------------------------------------
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")  # not \d: it matches other scripts' digits


def _parse_hhmm(value: Any, field: str) -> time:
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidMarketingPolicy(f"quiet_hours.{field} must be HH:MM (00:00 to 23:59), got {value!r}")
    return time(int(match[1]), int(match[2]))


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M") if not (moment.second or moment.microsecond) else moment.isoformat()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError, TypeError) as error:  # OSError: a folder, e.g. "Asia"
        raise InvalidMarketingPolicy(
            f"time_zone {name!r} is unknown (use an IANA name such as Asia/Tokyo)"
        ) from error


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def _quiet_intervals(
    window: tuple[time, time], zone: ZoneInfo, around: datetime
) -> list[tuple[datetime, datetime]]:
    """The quiet intervals (UTC, half-open) of the local days around `around`, in time order;
    wide enough that any interval containing `around` is among them."""
    start, end = window
    wraps = end < start
    today = around.astimezone(zone).date()
    intervals = []
    for offset in range(-2, 2):
        day = today + timedelta(days=offset)
        begin = _first_instant_at_or_after(day, start, zone)
        finish = _first_instant_at_or_after(day + timedelta(days=1) if wraps else day, end, zone)
        if begin < finish:  # empty when the whole window was skipped by a clock change
            intervals.append((begin, finish))
    return intervals


def _first_instant_at_or_after(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first UTC instant at which the zone's clock reads `day` `wall` or later: the instant
    itself when the wall time occurs once, its first occurrence when it occurs twice (fall-back),
    and the moment of the jump when the clock skips it (spring-forward, or a skipped day)."""
    naive = datetime.combine(day, wall)
    earlier_offset = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later_offset = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    occurrences = [u for u in (earlier_offset, later_offset) if _wall(u, zone) == naive]
    if occurrences:
        return min(occurrences)
    # Skipped: read with the offset after the jump it lies before the jump, read with the offset
    # before the jump it lies after it. Bisect to the jump, to the microsecond.
    low, high = sorted((earlier_offset, later_offset))
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if _wall(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return high


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)
