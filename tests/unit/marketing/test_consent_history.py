"""Consent history (pure): the state depends on the set of entries only, and the newest entry
decides, a withdrawal winning a tie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.logic.marketing.consent_history import derive, entry_id, new_entry, order_key

BOUNDED = settings(max_examples=50, deadline=None)
BASE = datetime(2026, 11, 22, tzinfo=UTC)

# Few distinct values, so that equal times, equal wordings and repeats are common.
entries = st.builds(
    lambda minutes, micro, marketing_email, source, wording, email: new_entry(
        "c-123",
        marketing_email=marketing_email,
        source=source,
        wording=wording,
        at=BASE + timedelta(minutes=minutes, microseconds=micro),
        email=email,
    ),
    minutes=st.integers(0, 5),
    micro=st.sampled_from([0, 1]),
    marketing_email=st.booleans(),
    source=st.sampled_from(["checkout_checkbox", "account_settings", "unsubscribe_link"]),
    wording=st.sampled_from(["ショップからのお知らせメールを受け取る", "Send me news"]),
    email=st.sampled_from([None, "taro@example.jp", "Taro@Example.jp"]),
)


@BOUNDED
@given(st.lists(entries, min_size=1, max_size=12), st.data())
def test_any_permutation_and_duplication_gives_the_same_state(history, data):
    repeats = data.draw(st.lists(st.sampled_from(history), max_size=12))
    arrival = data.draw(st.permutations([*history, *repeats]))
    assert derive(arrival) == derive(history)
    assert derive(arrival) == derive(sorted(set(history), key=order_key))


@BOUNDED
@given(st.lists(entries, min_size=1, max_size=12))
def test_the_newest_decides_and_a_withdrawal_wins_a_tie(history):
    state = derive(history)
    assert state is not None
    newest = max(e.at for e in history)
    at_newest = {e.marketing_email for e in history if e.at == newest}
    assert state.consented_at == newest
    assert state.marketing_email is (at_newest == {True})
    assert len(state.history) == len({e.entry_id for e in history})
    assert [e.at for e in state.history] == sorted(e.at for e in state.history)  # oldest first
    assert state.history[-1].source == state.source and state.history[-1].wording == state.wording


def test_no_entries_no_state():
    assert derive([]) is None


def test_the_same_statement_is_the_same_entry_whatever_the_offset():
    statement = {"marketing_email": True, "source": "s", "wording": "w", "email": "a@b.jp", "name": None}
    jst = datetime(2026, 11, 22, 10, 0, tzinfo=timezone(timedelta(hours=9)))
    utc = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    assert entry_id(**statement, at=jst, locale="ja") == entry_id(**statement, at=utc, locale="ja")


def test_any_difference_is_another_entry():
    base = {
        "marketing_email": True,
        "source": "s",
        "wording": "w",
        "at": BASE,
        "email": "a@b.jp",
        "name": "n",
        "locale": "ja",
    }
    changed = [
        {"marketing_email": False},
        {"source": "t"},
        {"wording": "w "},
        {"at": BASE + timedelta(microseconds=1)},
        {"email": "A@b.jp"},
        {"email": None},
        {"name": None},
        {"locale": "en"},
    ]
    ids = {entry_id(**base)} | {entry_id(**{**base, **change}) for change in changed}
    assert len(ids) == len(changed) + 1


def test_the_newest_address_name_and_locale_are_kept_past_an_unsubscribe():
    given_consent = new_entry(
        "c-1", marketing_email=True, source="s", wording="w", at=BASE, email="a@b.jp", name="n", locale="en"
    )
    unsubscribed = new_entry(
        "c-1", marketing_email=False, source="unsubscribe_link", wording="u", at=BASE + timedelta(days=1)
    )
    state = derive([unsubscribed, given_consent])
    assert state is not None
    assert (state.marketing_email, state.source) == (False, "unsubscribe_link")
    assert (state.email, state.name, state.locale) == ("a@b.jp", "n", "en")
