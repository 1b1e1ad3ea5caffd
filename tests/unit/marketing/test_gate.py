"""The marketing gate by example: each check, their order, quiet hours in JST and in DST zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from omotenashi.logic.marketing.gate import (
    Decision,
    MarketingPolicy,
    Recipient,
    decide,
    quiet_until,
)

JST = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
DEFAULT = MarketingPolicy()  # Asia/Tokyo, 21:00-08:00, 16 hours
NO_QUIET_HOURS = MarketingPolicy(quiet_hours=None)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)


def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK, fold=fold)


def recipient(
    consent: bool | None = True,
    suppressed: bool = False,
    open_inquiry: bool = False,
    last_marketing_sent_at: datetime | None = None,
) -> Recipient:
    return Recipient(
        consent=consent,
        suppressed=suppressed,
        open_inquiry=open_inquiry,
        last_marketing_sent_at=last_marketing_sent_at,
    )


# -- each check ---------------------------------------------------------------------------------
def test_everything_allowed_sends():
    assert decide(DEFAULT, recipient(), jst(2026, 11, 22, 11, 0)) == Decision("send", "ok", None)


def test_consent_never_recorded_is_skipped():
    assert decide(DEFAULT, recipient(consent=None), jst(2026, 11, 22, 11, 0)) == Decision.skip(
        "consent_missing"
    )


def test_consent_withdrawn_is_skipped():
    assert decide(DEFAULT, recipient(consent=False), jst(2026, 11, 22, 11, 0)) == Decision.skip(
        "consent_withdrawn"
    )


def test_suppressed_address_is_skipped():
    assert decide(DEFAULT, recipient(suppressed=True), jst(2026, 11, 22, 11, 0)) == Decision.skip(
        "suppressed"
    )


def test_open_inquiry_is_skipped():
    assert decide(DEFAULT, recipient(open_inquiry=True), jst(2026, 11, 22, 11, 0)) == Decision.skip(
        "open_inquiry"
    )


# -- the order of the checks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"consent": None, "suppressed": True, "open_inquiry": True}, "consent_missing"),
        ({"consent": False, "suppressed": True, "open_inquiry": True}, "consent_withdrawn"),
        ({"suppressed": True, "open_inquiry": True}, "suppressed"),
        ({"open_inquiry": True}, "open_inquiry"),
    ],
)
def test_the_first_failing_check_decides_even_in_quiet_hours_under_the_cap(facts, reason):
    at = jst(2026, 11, 22, 23, 0)  # quiet, and the last email went 1 hour ago
    facts = {**facts, "last_marketing_sent_at": at - timedelta(hours=1)}
    assert decide(DEFAULT, recipient(**facts), at) == Decision.skip(reason)


def test_quiet_hours_come_before_the_cap_which_may_run_out_by_the_end_of_the_window():
    # Cart updated at 20:30, its 1-hour reminder due at 21:30; another email went at 17:00.
    facts = recipient(last_marketing_sent_at=jst(2026, 11, 22, 17, 0))
    due = decide(DEFAULT, facts, jst(2026, 11, 22, 21, 30))
    assert due == Decision.defer(jst(2026, 11, 23, 8, 0))
    assert due.defer_until is not None
    # Decided again at 08:00: 15 hours after 17:00, still capped, so skipped, not deferred again.
    assert decide(DEFAULT, facts, due.defer_until) == Decision.skip("frequency_cap")
    # With an email sent at 16:00 instead, 16 hours have passed at 08:00: sent.
    earlier = recipient(last_marketing_sent_at=jst(2026, 11, 22, 16, 0))
    assert decide(DEFAULT, earlier, due.defer_until) == Decision.send()


# -- quiet hours in Japan (21:00-08:00 by default) ---------------------------------------------------
def test_due_at_2030_jst_is_sent_now():
    assert decide(DEFAULT, recipient(), jst(2026, 11, 22, 20, 30)) == Decision.send()


def test_due_at_2130_jst_waits_until_0800_next_day():
    decision = decide(DEFAULT, recipient(), jst(2026, 11, 22, 21, 30))
    assert decision == Decision("defer", "quiet_hours", datetime(2026, 11, 22, 23, 0, tzinfo=UTC))
    assert decision.defer_until == jst(2026, 11, 23, 8, 0)


def test_due_at_0759_jst_waits_until_0800_same_day():
    assert decide(DEFAULT, recipient(), jst(2026, 11, 23, 7, 59)) == Decision.defer(jst(2026, 11, 23, 8, 0))


@pytest.mark.parametrize(
    ("moment", "until"),
    [
        (jst(2026, 11, 22, 20, 59, 59), None),
        (jst(2026, 11, 22, 21, 0), jst(2026, 11, 23, 8, 0)),  # the start is quiet
        (jst(2026, 11, 23, 0, 0), jst(2026, 11, 23, 8, 0)),
        (jst(2026, 11, 23, 7, 59, 59), jst(2026, 11, 23, 8, 0)),
        (jst(2026, 11, 23, 8, 0), None),  # the end is not
        (jst(2026, 12, 31, 23, 0), jst(2027, 1, 1, 8, 0)),  # across a year
    ],
)
def test_jst_window_edges(moment, until):
    assert quiet_until(DEFAULT, moment) == until


def test_defer_until_is_utc_whatever_zone_now_is_given_in():
    decision = decide(DEFAULT, recipient(), jst(2026, 11, 22, 21, 30).astimezone(NEW_YORK))
    assert decision.defer_until is not None
    assert decision.defer_until.tzinfo is UTC


def test_no_quiet_hours_sends_at_night():
    assert decide(NO_QUIET_HOURS, recipient(), jst(2026, 11, 23, 3, 0)) == Decision.send()
    assert quiet_until(NO_QUIET_HOURS, jst(2026, 11, 23, 3, 0)) is None


# -- a window that does not wrap midnight ---------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "until"),
    [
        (jst(2026, 11, 22, 12, 59), None),
        (jst(2026, 11, 22, 13, 0), jst(2026, 11, 22, 14, 0)),
        (jst(2026, 11, 22, 13, 59, 59, 999999), jst(2026, 11, 22, 14, 0)),
        (jst(2026, 11, 22, 14, 0), None),
        (jst(2026, 11, 22, 23, 30), None),
        (jst(2026, 11, 23, 0, 30), None),
    ],
)
def test_lunch_window_13_to_14(moment, until):
    policy = MarketingPolicy(quiet_hours=(time(13, 0), time(14, 0)))
    assert quiet_until(policy, moment) == until
    assert decide(policy, recipient(), moment) == (
        Decision.send() if until is None else Decision.defer(until)
    )


def test_window_ending_at_midnight():
    policy = MarketingPolicy(quiet_hours=(time(22, 0), time(0, 0)))
    assert quiet_until(policy, jst(2026, 11, 22, 23, 0)) == jst(2026, 11, 23, 0, 0)
    assert quiet_until(policy, jst(2026, 11, 23, 0, 0)) is None


def test_window_starting_at_midnight():
    policy = MarketingPolicy(quiet_hours=(time(0, 0), time(6, 0)))
    assert quiet_until(policy, jst(2026, 11, 22, 23, 59)) is None
    assert quiet_until(policy, jst(2026, 11, 23, 0, 0)) == jst(2026, 11, 23, 6, 0)


# -- zones that change their clocks ----------------------------------------------------------------
NEW_YORK_POLICY = MarketingPolicy(time_zone="America/New_York")


def test_new_york_quiet_hours_end_at_0800_local_in_winter_and_summer():
    assert quiet_until(NEW_YORK_POLICY, ny(2026, 1, 15, 22, 0)) == datetime(2026, 1, 16, 13, 0, tzinfo=UTC)
    assert quiet_until(NEW_YORK_POLICY, ny(2026, 7, 15, 22, 0)) == datetime(2026, 7, 16, 12, 0, tzinfo=UTC)


def test_spring_forward_night_is_an_hour_shorter_and_ends_at_0800_edt():
    # 2026-03-08 02:00 EST -> 03:00 EDT. 21:00 EST on the 7th to 08:00 EDT on the 8th is 10 hours.
    until = quiet_until(NEW_YORK_POLICY, ny(2026, 3, 7, 21, 0))
    assert until == ny(2026, 3, 8, 8, 0) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert until - ny(2026, 3, 7, 21, 0) == timedelta(hours=10)


def test_fall_back_night_is_an_hour_longer_and_ends_at_0800_est():
    # 2026-11-01 02:00 EDT -> 01:00 EST.
    until = quiet_until(NEW_YORK_POLICY, ny(2026, 10, 31, 21, 0))
    assert until == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert until - ny(2026, 10, 31, 21, 0) == timedelta(hours=12)


def test_an_end_skipped_by_spring_forward_resolves_to_the_jump():
    # Quiet until 02:30, which does not exist on 2026-03-08: quiet ends at the jump, 03:00 EDT.
    policy = MarketingPolicy(time_zone="America/New_York", quiet_hours=(time(21, 0), time(2, 30)))
    jump = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert quiet_until(policy, ny(2026, 3, 8, 1, 59)) == jump
    assert quiet_until(policy, jump - timedelta(microseconds=1)) == jump
    assert quiet_until(policy, jump) is None
    assert decide(policy, recipient(), jump) == Decision.send()


def test_a_start_skipped_by_spring_forward_starts_quiet_at_the_jump():
    policy = MarketingPolicy(time_zone="America/New_York", quiet_hours=(time(2, 30), time(6, 0)))
    jump = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert quiet_until(policy, jump - timedelta(seconds=1)) is None
    assert quiet_until(policy, jump) == ny(2026, 3, 8, 6, 0)


def test_an_end_that_occurs_twice_resolves_to_its_first_occurrence():
    # Quiet until 01:30, which happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    policy = MarketingPolicy(time_zone="America/New_York", quiet_hours=(time(21, 0), time(1, 30)))
    # (An ambiguous local time never equals a time of another zone, PEP 495: compare in UTC.)
    first = ny(2026, 11, 1, 1, 30, fold=0).astimezone(UTC)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert quiet_until(policy, ny(2026, 10, 31, 23, 0)) == first
    # The repeated hour after the first 01:30 is not a second quiet time: the night was quiet once.
    assert quiet_until(policy, ny(2026, 11, 1, 1, 10, fold=1)) is None


def test_a_night_window_stays_one_interval_through_the_repeated_hour():
    # Quiet 01:30-06:00: from 01:30 EDT (05:30 UTC) to 06:00 EST (11:00 UTC), without the gap a
    # wall-clock reading would open when the clock goes back from 02:00 EDT to 01:00 EST.
    policy = MarketingPolicy(time_zone="America/New_York", quiet_hours=(time(1, 30), time(6, 0)))
    end = datetime(2026, 11, 1, 11, 0, tzinfo=UTC)
    assert quiet_until(policy, ny(2026, 11, 1, 1, 29, fold=0)) is None
    assert quiet_until(policy, ny(2026, 11, 1, 1, 45, fold=0)) == end
    assert quiet_until(policy, ny(2026, 11, 1, 1, 10, fold=1)) == end


def test_a_zone_whose_dst_moves_by_30_minutes():
    # Lord Howe Island: 2026-04-05 02:00 +11 -> 01:30 +10:30; default window ends 08:00 +10:30.
    policy = MarketingPolicy(time_zone="Australia/Lord_Howe")
    zone = ZoneInfo("Australia/Lord_Howe")
    until = quiet_until(policy, datetime(2026, 4, 4, 22, 0, tzinfo=zone))
    assert until == datetime(2026, 4, 5, 8, 0, tzinfo=zone)
    assert until is not None and until - datetime(2026, 4, 4, 22, 0, tzinfo=zone) == timedelta(
        hours=10, minutes=30
    )


def test_a_day_skipped_by_the_date_line():
    # Samoa skipped 2011-12-30; the night of the 29th ended at 08:00 on the 31st (+14).
    apia = ZoneInfo("Pacific/Apia")
    policy = MarketingPolicy(time_zone="Pacific/Apia")
    until = quiet_until(policy, datetime(2011, 12, 29, 22, 0, tzinfo=apia))
    assert until == datetime(2011, 12, 31, 8, 0, tzinfo=apia) == datetime(2011, 12, 30, 18, 0, tzinfo=UTC)


def test_windows_touching_inside_a_skipped_hour_merge():
    # Sending allowed only 02:10-02:40, which does not exist on 2026-03-08 in New York: that night's
    # end and the next window's start both resolve to the jump, so quiet time runs on to 02:10 on
    # the 9th rather than deferring to an instant that is itself quiet.
    policy = MarketingPolicy(time_zone="America/New_York", quiet_hours=(time(2, 40), time(2, 10)))
    until = quiet_until(policy, ny(2026, 3, 7, 12, 0))
    assert until == ny(2026, 3, 9, 2, 10)
    assert quiet_until(policy, until) is None


# -- the frequency cap ----------------------------------------------------------------------------------
def test_cap_exactly_16_hours_ago_sends():
    at = jst(2026, 11, 22, 12, 0)
    assert decide(DEFAULT, recipient(last_marketing_sent_at=at - timedelta(hours=16)), at) == Decision.send()


def test_cap_one_microsecond_short_of_16_hours_skips():
    at = jst(2026, 11, 22, 12, 0)
    last = at - timedelta(hours=16) + timedelta(microseconds=1)
    assert decide(DEFAULT, recipient(last_marketing_sent_at=last), at) == Decision.skip("frequency_cap")


def test_cap_counts_real_time_across_zones():
    at = jst(2026, 11, 22, 12, 0)
    last = (at - timedelta(hours=15)).astimezone(NEW_YORK)
    assert decide(DEFAULT, recipient(last_marketing_sent_at=last), at) == Decision.skip("frequency_cap")


def test_zero_cap_means_no_cap():
    policy = MarketingPolicy(cap_hours=0)
    at = jst(2026, 11, 22, 12, 0)
    assert decide(policy, recipient(last_marketing_sent_at=at), at) == Decision.send()


def test_fractional_cap():
    policy = MarketingPolicy(cap_hours=0.5)
    at = jst(2026, 11, 22, 12, 0)
    assert (
        decide(policy, recipient(last_marketing_sent_at=at - timedelta(minutes=29)), at).reason
        == "frequency_cap"
    )
    assert decide(policy, recipient(last_marketing_sent_at=at - timedelta(minutes=30)), at) == Decision.send()


def test_a_last_send_in_the_future_counts_as_recent():
    # A clock skew between writers must not let two emails through: conservative.
    at = jst(2026, 11, 22, 12, 0)
    assert (
        decide(DEFAULT, recipient(last_marketing_sent_at=at + timedelta(minutes=5)), at).reason
        == "frequency_cap"
    )


# -- inputs the gate refuses ---------------------------------------------------------------------------------
def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        decide(DEFAULT, recipient(), datetime(2026, 11, 22, 12, 0))
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        quiet_until(DEFAULT, datetime(2026, 11, 22, 12, 0))


def test_naive_last_send_is_refused():
    with pytest.raises(ValueError, match="last_marketing_sent_at must be timezone-aware"):
        recipient(last_marketing_sent_at=datetime(2026, 11, 22, 12, 0))


def test_recipient_facts_must_all_be_stated():
    with pytest.raises(TypeError):
        Recipient(consent=True)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "decision",
    [
        lambda: Decision("send", "frequency_cap"),
        lambda: Decision("send", "ok", datetime(2026, 1, 1, tzinfo=UTC)),
        lambda: Decision("skip", "ok"),
        lambda: Decision("skip", "quiet_hours"),
        lambda: Decision("defer", "quiet_hours", None),
        lambda: Decision("defer", "quiet_hours", datetime(2026, 1, 1, 9, tzinfo=JST)),
        lambda: Decision("defer", "open_inquiry", datetime(2026, 1, 1, tzinfo=UTC)),
        lambda: Decision("maybe", "ok"),  # type: ignore[arg-type]
    ],
)
def test_inconsistent_decisions_cannot_be_built(decision):
    with pytest.raises(ValueError, match="inconsistent decision"):
        decision()
