"""The marketing gate's properties, over every time zone, windows that wrap midnight or not, and
instants drawn both at random and right around each zone's clock changes (2000-2037)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.logic.marketing.gate import (
    OUTCOMES,
    REASONS,
    SKIP_REASONS,
    Decision,
    MarketingPolicy,
    Recipient,
    decide,
    quiet_until,
)

BOUNDED = settings(max_examples=200, deadline=None)
DAY = timedelta(days=1)
# The largest backward clock change of any zone in 2000-2037 is 3 hours (Antarctica/Casey, +11 ->
# +08); a quiet window of at most 21 hours therefore lasts at most 24 hours of real time.
LONGEST_BACKWARD_CHANGE = timedelta(hours=3)

ZONES = sorted(available_timezones())
CLOCK_CHANGING = [
    "America/New_York",
    "Europe/London",
    "Europe/Dublin",  # negative DST in the zone database: winter is the "daylight" time
    "Australia/Lord_Howe",  # moves by 30 minutes
    "Antarctica/Troll",  # moves by 2 hours
    "Antarctica/Casey",  # moved by 3 hours
    "Pacific/Apia",  # skipped 2011-12-30
    "America/Santiago",
    "Africa/Casablanca",  # goes back an hour for Ramadan
    "America/St_Johns",  # -03:30 / -02:30
    "Pacific/Chatham",  # +12:45 / +13:45
]


@functools.lru_cache(maxsize=4096)
def _clock_changes(zone_name: str, year: int) -> tuple[datetime, ...]:
    """The instants (UTC) at which the zone's offset changes during `year`, to the second."""
    zone = ZoneInfo(zone_name)
    changes = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    while moment.year == year:
        low, high = moment, moment + DAY
        if low.astimezone(zone).utcoffset() != high.astimezone(zone).utcoffset():
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            changes.append(high)
        moment += DAY
    return tuple(changes)


@st.composite
def zone_and_moment(draw: st.DrawFn) -> tuple[str, datetime]:
    """Half the time any instant, half the time within 30 hours of one of the zone's clock changes."""
    zone = draw(st.one_of(st.sampled_from(CLOCK_CHANGING), st.sampled_from(ZONES)))
    if draw(st.booleans()):
        changes = _clock_changes(zone, draw(st.integers(2000, 2037)))
        if changes:
            change = draw(st.sampled_from(changes))
            offset = draw(st.integers(-30 * 3600 * 10**6, 30 * 3600 * 10**6))
            return zone, change + timedelta(microseconds=offset)
    moment = draw(
        st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2037, 12, 30), timezones=st.just(UTC))
    )
    return zone, moment


# Wall-clock times, with the night hours where clocks change drawn more often.
wall_times = st.one_of(
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    st.builds(time, st.integers(0, 3), st.sampled_from([0, 30, 59])),
    st.sampled_from([time(21, 0), time(8, 0), time(0, 0)]),
)
windows = st.tuples(wall_times, wall_times).filter(lambda window: window[0] != window[1])
cap_hours = st.one_of(st.just(16.0), st.just(0.0), st.floats(0, 168, allow_nan=False))


@st.composite
def situations(draw: st.DrawFn) -> tuple[MarketingPolicy, Recipient, datetime]:
    zone, now = draw(zone_and_moment())
    policy = MarketingPolicy(
        time_zone=zone, quiet_hours=draw(st.one_of(st.none(), windows)), cap_hours=draw(cap_hours)
    )
    last = draw(
        st.one_of(
            st.none(),
            st.integers(-3600, 200 * 3600).map(lambda seconds: now - timedelta(seconds=seconds)),
            st.just(now - timedelta(hours=policy.cap_hours)),  # the boundary
        )
    )
    recipient = Recipient(
        consent=draw(st.sampled_from([True, False, None])),
        suppressed=draw(st.booleans()),
        open_inquiry=draw(st.booleans()),
        last_marketing_sent_at=last,
    )
    return policy, recipient, now


@st.composite
def quiet_situations(draw: st.DrawFn) -> tuple[MarketingPolicy, datetime]:
    zone, now = draw(zone_and_moment())
    return MarketingPolicy(time_zone=zone, quiet_hours=draw(windows)), now


def _window_length(window: tuple[time, time]) -> timedelta:
    start, end = (datetime.combine(datetime(2000, 1, 1), moment) for moment in window)
    return (end - start) % DAY


def _constant_offset_around(zone: ZoneInfo, now: datetime) -> bool:
    offsets = {(now + timedelta(hours=hours)).astimezone(zone).utcoffset() for hours in range(-50, 51)}
    return len(offsets) == 1


def _in_window(wall: time, window: tuple[time, time]) -> bool:
    start, end = window
    return start <= wall < end if start < end else wall >= start or wall < end


# -- what the gate answers --------------------------------------------------------------------------
@BOUNDED
@given(situations())
def test_every_decision_is_well_formed(situation):
    policy, recipient, now = situation
    decision = decide(policy, recipient, now)
    assert decision.outcome in OUTCOMES and decision.reason in REASONS
    assert (decision.outcome == "send") == (decision.reason == "ok")
    assert (decision.outcome == "skip") == (decision.reason in SKIP_REASONS)
    assert (
        (decision.outcome == "defer")
        == (decision.reason == "quiet_hours")
        == (decision.defer_until is not None)
    )


@BOUNDED
@given(situations())
def test_never_sends_without_consent(situation):
    policy, recipient, now = situation
    if recipient.consent is not True:
        expected = "consent_missing" if recipient.consent is None else "consent_withdrawn"
        assert decide(policy, recipient, now) == Decision.skip(expected)


@BOUNDED
@given(situations())
def test_the_first_failing_condition_decides_and_only_all_of_them_send(situation):
    policy, recipient, now = situation
    last = recipient.last_marketing_sent_at
    conditions = [  # the specification, in its order
        ("consent_missing", recipient.consent is not None),
        ("consent_withdrawn", recipient.consent is True),
        ("suppressed", not recipient.suppressed),
        ("open_inquiry", not recipient.open_inquiry),
        ("quiet_hours", quiet_until(policy, now) is None),
        (
            "frequency_cap",
            policy.cap_hours == 0 or last is None or now - last >= timedelta(hours=policy.cap_hours),
        ),
    ]
    failing = [reason for reason, holds in conditions if not holds]
    decision = decide(policy, recipient, now)
    assert decision.reason == (failing[0] if failing else "ok")
    assert (decision.outcome == "send") == (not failing)


@BOUNDED
@given(situations())
def test_the_gate_is_a_function_of_its_inputs(situation):
    policy, recipient, now = situation
    assert decide(policy, recipient, now) == decide(
        policy, recipient, now.astimezone(ZoneInfo(policy.time_zone))
    )


# -- quiet hours -------------------------------------------------------------------------------------------
@BOUNDED
@given(quiet_situations(), st.floats(0, 1))
def test_a_deferral_ends_after_now_outside_the_window_and_not_later_than_needed(situation, fraction):
    policy, now = situation
    until = quiet_until(policy, now)
    if until is None:
        return
    assert until.tzinfo is UTC
    assert until > now
    assert quiet_until(policy, until) is None  # outside the window
    between = now + (until - now) * fraction
    if between < until:  # every instant before it is quiet: deferred to the end, not past it
        assert quiet_until(policy, between) == until
    assert until - now <= 2 * DAY
    assert policy.quiet_hours is not None
    if _window_length(policy.quiet_hours) + LONGEST_BACKWARD_CHANGE <= DAY:
        assert until - now <= DAY


@BOUNDED
@given(quiet_situations(), st.booleans())
def test_decided_again_when_due_a_deferred_email_is_never_deferred_again(situation, capped):
    policy, now = situation
    recipient = Recipient(
        consent=True,
        suppressed=False,
        open_inquiry=False,
        last_marketing_sent_at=now - timedelta(hours=1) if capped else None,
    )
    decision = decide(policy, recipient, now)
    if decision.outcome != "defer":
        return
    assert decision.defer_until is not None
    again = decide(policy, recipient, decision.defer_until)
    assert again.outcome != "defer"
    still_capped = capped and decision.defer_until - now + timedelta(hours=1) < timedelta(
        hours=policy.cap_hours
    )
    assert again == (Decision.skip("frequency_cap") if still_capped else Decision.send())


@BOUNDED
@given(quiet_situations())
def test_where_the_clock_does_not_change_quiet_hours_are_the_wall_clock_window(situation):
    policy, now = situation
    zone = policy.zone
    if not _constant_offset_around(zone, now):
        return
    assert policy.quiet_hours is not None
    wall = now.astimezone(zone)
    until = quiet_until(policy, now)
    assert (until is not None) == _in_window(wall.time(), policy.quiet_hours)
    if until is not None:
        end = datetime.combine(wall.date(), policy.quiet_hours[1], zone)
        expected = end if end > wall else end + DAY
        assert until == expected.astimezone(UTC)


@BOUNDED
@given(zone_and_moment(), windows)
def test_quiet_hours_do_not_depend_on_the_recipient_or_the_cap(zone_moment, window):
    zone, now = zone_moment
    recipient = Recipient(consent=True, suppressed=False, open_inquiry=False, last_marketing_sent_at=now)
    until = quiet_until(MarketingPolicy(time_zone=zone, quiet_hours=window), now)
    for cap in (0.0, 16.0, 168.0):
        decision = decide(MarketingPolicy(time_zone=zone, quiet_hours=window, cap_hours=cap), recipient, now)
        if until is not None:
            assert decision == Decision.defer(until)
        else:
            assert decision.outcome != "defer"


def test_clock_change_helper_finds_new_yorks_changes():
    assert _clock_changes("America/New_York", 2026) == (
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
    )
    assert _clock_changes("Asia/Tokyo", 2026) == ()
