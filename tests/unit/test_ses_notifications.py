"""SES bounce and complaint notifications -> which addresses of which store get suppressed (the
pure part of logic/marketing/bounces.py), in both shapes SES publishes; and the SNS handler's
record loop with the store stubbed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from omotenashi.dal.errors import StorageError
from omotenashi.logic.marketing import bounces
from omotenashi.logic.marketing.bounces import InvalidNotification, decide, parse
from tests import ses_samples as samples

FORMS = ["notificationType", "eventType"]


def plan(payload: dict[str, Any]) -> bounces.Plan:
    return decide(parse(payload))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("subtype", ["General", "NoEmail", "Suppressed", "OnAccountSuppressionList"])
def test_a_permanent_bounce_suppresses_each_bounced_recipient(form, subtype):
    payload = samples.bounce(["taro@example.jp", "Hanako <HANAKO@Example.jp>"], subtype=subtype, form=form)
    assert plan(payload) == bounces.Plan(
        "suppressed", "demo", "bounce", ("taro@example.jp", "hanako@example.jp")
    )


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("bounce_type", "subtype"),
    [
        ("Transient", "General"),
        ("Transient", "MailboxFull"),
        ("Transient", "MessageTooLarge"),
        ("Undetermined", "Undetermined"),
    ],
)
def test_a_transient_or_undetermined_bounce_suppresses_nothing(form, bounce_type, subtype):
    payload = samples.bounce(bounce_type=bounce_type, subtype=subtype, form=form)
    assert plan(payload) == bounces.Plan("transient_bounce", "demo")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("feedback", ["abuse", "fraud", "other", "virus", None])
def test_a_complaint_suppresses_each_complaining_recipient(form, feedback):
    payload = samples.complaint(["taro@example.jp"], feedback_type=feedback, form=form)
    assert plan(payload) == bounces.Plan("suppressed", "demo", "complaint", ("taro@example.jp",))


@pytest.mark.parametrize("form", FORMS)
def test_a_not_spam_complaint_suppresses_nothing(form):
    assert plan(samples.complaint(feedback_type="not-spam", form=form)) == bounces.Plan("not_spam", "demo")


@pytest.mark.parametrize("form", FORMS)
def test_a_delivery_changes_nothing(form):
    assert plan(samples.delivery(form=form)) == bounces.Plan("delivery", "demo")


def test_the_store_comes_from_the_tag_first_then_the_header():
    tagged = samples.bounce(form="eventType", store="tagged-store")
    for header in tagged["mail"]["headers"]:
        if header["name"] == "X-Omotenashi-Store":
            header["value"] = "header-store"
    assert parse(tagged).store_id == "tagged-store"
    headers_only = samples.bounce(form="notificationType", store="header-store")
    assert "tags" not in headers_only["mail"]
    assert parse(headers_only).store_id == "header-store"
    tags_only = samples.bounce(form="eventType", store="tagged-store", headers=False)
    assert "headers" not in tags_only["mail"]
    assert parse(tags_only).store_id == "tagged-store"


def test_the_header_name_is_matched_in_any_case():
    payload = samples.bounce(store="demo")
    for header in payload["mail"]["headers"]:
        if header["name"] == "X-Omotenashi-Store":
            header["name"] = "x-omotenashi-store"
    assert parse(payload).store_id == "demo"


@pytest.mark.parametrize("form", FORMS)
def test_a_notification_naming_no_store_suppresses_nothing(form):
    assert plan(samples.bounce(store=None, form=form)) == bounces.Plan("no_store")
    assert plan(samples.complaint(store=None, form=form)) == bounces.Plan("no_store")
    # Truncated headers and no tags (identity notifications of a large email): no store either.
    assert plan(samples.bounce(headers=False, tags=False)) == bounces.Plan("no_store")


@pytest.mark.parametrize("value", ["", "Demo Store", "../other", "a" * 64, "demo\nx"])
def test_a_tag_or_header_that_is_no_store_id_is_not_trusted(value):
    payload = samples.bounce(form="eventType", store=value or None)
    payload["mail"]["tags"]["omotenashi-store"] = [value]
    payload["mail"]["headers"].append({"name": "X-Omotenashi-Store", "value": value})
    assert plan(payload) == bounces.Plan("no_store")


def test_unknown_fields_are_ignored():
    payload = samples.bounce()
    payload["someFieldSesAddsLater"] = {"x": 1}
    payload["bounce"]["bouncedRecipients"][0]["extra"] = True
    assert plan(payload).outcome == "suppressed"


@pytest.mark.parametrize("kind", ["AmazonSnsSubscriptionSucceeded", "Send", "Open", "Click", "DeliveryDelay"])
def test_other_ses_notifications_are_acknowledged_and_ignored(kind):
    payload = dict(samples.SUBSCRIPTION_SUCCEEDED, notificationType=kind)
    assert plan(payload) == bounces.Plan("ignored")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([1, 2], "notification"),
        ("Bounce", "notification"),
        (None, "notification"),
        ({"mail": {}}, "notificationType"),
        ({"notificationType": "Bounced"}, "notificationType"),
        ({"eventType": ""}, "eventType"),
        ({"notificationType": 3}, "notificationType"),
        (samples.without(samples.bounce(), "mail"), "mail"),
        (samples.without(samples.bounce(), "bounce"), "bounce"),
        (samples.without(samples.bounce(), "bounce", "bounceType"), "bounce.bounceType"),
        (samples.without(samples.bounce(), "bounce", "bouncedRecipients"), "bounce.bouncedRecipients"),
        (
            samples.without(samples.bounce(), "bounce", "bouncedRecipients", 0, "emailAddress"),
            "bounce.bouncedRecipients[0].emailAddress",
        ),
        (samples.without(samples.complaint(), "complaint"), "complaint"),
        (
            samples.without(samples.complaint(), "complaint", "complainedRecipients"),
            "complaint.complainedRecipients",
        ),
        (samples.without(samples.delivery(), "mail"), "mail"),
    ],
)
def test_what_is_not_a_notification_names_the_field(payload, field):
    with pytest.raises(InvalidNotification) as raised:
        parse(payload)
    assert raised.value.field == field


def test_a_recipient_that_is_no_address_is_refused():
    payload = samples.complaint()
    payload["complaint"]["complainedRecipients"] = [{"emailAddress": "not an address"}]
    with pytest.raises(InvalidNotification) as raised:
        parse(payload)
    assert raised.value.field == "complaint.complainedRecipients[0].emailAddress"


# --- the SNS record loop (suppression stubbed) -------------------------------------------------


def sns_event(*messages: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "MessageId": f"sns-{index}",
                    "Message": message if isinstance(message, str) else json.dumps(message),
                },
            }
            for index, message in enumerate(messages)
        ]
    }


@pytest.fixture
def suppressions(monkeypatch):
    stored: dict[tuple[str, str], tuple[str, datetime]] = {}

    def suppress(store_id: str, email: str, *, reason: str, at: datetime) -> bool:
        if (store_id, email) in stored:
            return False
        stored[(store_id, email)] = (reason, at)
        return True

    monkeypatch.setattr(bounces.marketing_data, "suppress", suppress)
    monkeypatch.setattr(bounces.clock, "now", lambda: datetime(2026, 11, 22, 1, tzinfo=UTC))
    return stored


def test_one_bad_record_does_not_stop_the_others(suppressions):
    result = bounces.handle_sns_event(
        sns_event("{not json", samples.bounce(["a@example.jp"]), {"notificationType": "Nope"})
    )
    outcomes = [r["outcome"] for r in result["notifications"]]
    assert outcomes == ["invalid", "suppressed", "invalid"]
    assert result["notifications"][0]["field"] == "Sns.Message"
    assert result["notifications"][2]["field"] == "notificationType"
    assert set(suppressions) == {("demo", "a@example.jp")}


def test_the_same_notification_twice_suppresses_once(suppressions):
    first = bounces.handle_sns_event(sns_event(samples.complaint(["a@example.jp"])))
    again = bounces.handle_sns_event(sns_event(samples.complaint(["a@example.jp"])))
    assert first["notifications"][0]["suppressed"] == ["a@example.jp"]
    assert again["notifications"][0]["suppressed"] == []
    assert again["notifications"][0]["already_suppressed"] == ["a@example.jp"]
    assert suppressions[("demo", "a@example.jp")][0] == "complaint"


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, [], None])
def test_an_event_that_is_not_sns_is_counted_not_raised(event, suppressions):
    assert bounces.handle_sns_event(event)["notifications"][0]["outcome"] == "invalid"


def test_a_storage_failure_is_raised_after_the_other_records_ran(monkeypatch, suppressions):
    real = bounces.marketing_data.suppress

    def failing(store_id: str, email: str, **kwargs: Any) -> bool:
        if email == "down@example.jp":
            raise StorageError("recording a suppressed address failed")
        return real(store_id, email, **kwargs)

    monkeypatch.setattr(bounces.marketing_data, "suppress", failing)
    with pytest.raises(StorageError):
        bounces.handle_sns_event(
            sns_event(samples.bounce(["down@example.jp"]), samples.bounce(["up@example.jp"]))
        )
    assert set(suppressions) == {("demo", "up@example.jp")}  # Lambda retries; up@ is suppressed once


def test_an_address_too_long_for_any_key_is_refused_naming_it():
    with pytest.raises(InvalidNotification) as raised:
        parse(samples.bounce(["x" * 1100 + "@example.jp"]))

    assert "emailAddress" in str(raised.value.args)
