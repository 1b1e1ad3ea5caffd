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


def _set_policy(stack, tmp_path, policy) -> int:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    table = stack.resources.tables["StoresTable"]
    return cli.main(["stores", "set-policy", "demo", "--file", str(path), "--stores-table", table])


def _shown(stack, capsys) -> dict:
    capsys.readouterr()
    assert cli.main(["stores", "show", "demo", "--stores-table", stack.resources.tables["StoresTable"]]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("policy", "named"),
    [
        ({"calendar": {"type": "business_hours", "hours": {"mon": ["18:00-09:00"]}}}, "calendar"),
        # 30 open minutes a week cannot hold a 720-hour SLA within the three years looked ahead.
        (
            {
                "hours": {"low": 720},
                "calendar": {"type": "business_hours", "hours": {"mon": ["09:00-09:30"]}},
            },
            "calendar",
        ),
        ({"morning_digest": True}, "morning_digest"),
        ({"escalation": {"max": True}}, "escalation.max"),
        ({"hours": {"high": "8"}}, "hours.high"),
        ({"hours": [8]}, "hours"),
        ({"reminder_hours_before": [True]}, "reminder_hours_before"),
        (
            {"calendar": {"type": "business_hours", "hours": {"mon": ["09:00-18:00"]}, "closures": 5}},
            "closures",
        ),
    ],
)
def test_invalid_policy_is_refused_and_changes_nothing(stack, tmp_path, capsys, policy, named):
    at(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))
    stored_before = _shown(stack, capsys)
    before = call(stack, "POST", "/v1/inquiries", inquiry_body(priority="low")).json
    assert _set_policy(stack, tmp_path, policy) == 2
    assert named in capsys.readouterr().err
    assert _shown(stack, capsys) == stored_before
    after = call(stack, "POST", "/v1/inquiries", inquiry_body(priority="low")).json
    assert after["reply_due_at"] == before["reply_due_at"]  # 48 h, the default, still


def test_closures_null_means_none(stack, tmp_path):
    policy = {"calendar": {"type": "business_hours", "hours": {"mon": ["09:00-18:00"]}, "closures": None}}
    assert _set_policy(stack, tmp_path, policy) == 0


def test_normal_hours_in_the_policy_are_the_stores_promise(stack, tmp_path, capsys):
    at(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))
    assert _set_policy(stack, tmp_path, {"hours": {"normal": 2}}) == 0
    created = call(stack, "POST", "/v1/inquiries", inquiry_body()).json
    assert created["reply_due_at"] == "2026-11-16T02:00:00Z"
    capsys.readouterr()
    table = stack.resources.tables["StoresTable"]
    assert cli.main(["stores", "show", "demo", "--stores-table", table]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["sla_hours"] == 2 and shown["policy"]["hours"]["normal"] == 2
    # A later policy without hours.normal keeps the store's promise.
    assert _set_policy(stack, tmp_path, {"hours": {"high": 6}}) == 0
    created = call(stack, "POST", "/v1/inquiries", inquiry_body()).json
    assert created["reply_due_at"] == "2026-11-16T02:00:00Z"
