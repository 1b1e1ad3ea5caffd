"""Deadlines through the API: per-priority hours on the store's business calendar, the classifier,
and the auto-reply stating the same deadline."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from omotenashi import cli, clock
from tests.integration.helpers import auto_replies
from tests.support import call, inquiry_body

BUSINESS_HOURS = {
    "hours": {"urgent": 4, "high": 8, "low": 48},
    "calendar": {
        "type": "business_hours",
        "hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": "JP",
        "closures": ["2026-12-29", "2026-12-30", "2026-12-31"],
    },
}


@pytest.fixture
def business_hours_store(stack, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(BUSINESS_HOURS))
    table = stack.resources.tables["StoresTable"]
    assert cli.main(["stores", "set-policy", "demo", "--file", str(path), "--stores-table", table]) == 0
    return stack


def at(moment: datetime):
    clock.set_source(lambda: moment)


def test_friday_evening_high_priority_due_tuesday_after_holiday(business_hours_store):
    stack = business_hours_store
    at(datetime(2026, 11, 20, 8, 30, tzinfo=UTC))  # Friday 17:30 JST; Monday 11/23 is a holiday
    created = call(stack, "POST", "/v1/inquiries", inquiry_body(priority="high")).json
    assert created["reply_due_at"] == "2026-11-24T07:30:00Z"  # Tuesday 16:30 JST
    stack.drain()
    [mail] = auto_replies(stack)
    assert "2026年11月24日(火) 16:30（日本時間）" in mail["text"]


def test_classifier_sets_high_priority_with_reason(business_hours_store):
    stack = business_hours_store
    at(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))  # Monday 09:00 JST
    body = inquiry_body(subject="破損していました", message="届いた花瓶が割れていました。")
    created = call(stack, "POST", "/v1/inquiries", body).json
    assert created["reply_due_at"] == "2026-11-16T08:00:00Z"  # 8 open hours: 17:00 JST
    view = call(stack, "GET", f"/v1/inquiries/{created['inquiry_id']}").json
    assert (view["priority"], view["priority_reason"]) == ("high", "damaged_item")


def test_storefront_priority_wins(business_hours_store):
    stack = business_hours_store
    at(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))
    body = inquiry_body(subject="返品について", priority="low")
    created = call(stack, "POST", "/v1/inquiries", body).json
    view = call(stack, "GET", f"/v1/inquiries/{created['inquiry_id']}").json
    assert (view["priority"], view["priority_reason"]) == ("low", "set_by_storefront")


def test_closure_dates_are_skipped(business_hours_store):
    stack = business_hours_store
    at(datetime(2026, 12, 28, 8, 0, tzinfo=UTC))  # Monday 17:00 JST, closed 29-31, Jan 1 holiday
    created = call(stack, "POST", "/v1/inquiries", inquiry_body(priority="urgent")).json
    # 1 h on Monday, then Friday 2027-01-01 is a holiday: 3 h on Monday 2027-01-04 (Jan 2-3 weekend).
    assert created["reply_due_at"] == "2027-01-04T03:00:00Z"  # 12:00 JST


def test_invalid_policy_is_refused(stack, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"calendar": {"type": "business_hours", "hours": {"mon": ["18:00-09:00"]}}}))
    table = stack.resources.tables["StoresTable"]
    assert cli.main(["stores", "set-policy", "demo", "--file", str(path), "--stores-table", table]) == 2
    assert "calendar" in capsys.readouterr().err
