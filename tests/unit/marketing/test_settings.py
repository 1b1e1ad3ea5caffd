"""marketing.json: defaults, and every bad field named."""

from __future__ import annotations

from datetime import time

import pytest

from omotenashi.logic.marketing.settings import (
    DEFAULT_CART_STEPS_HOURS,
    InvalidMarketingSettings,
    validate,
)

BASE = {"postal_address": "〒100-0001\n東京都千代田区千代田1-1", "contact": "support@demo.example"}


def test_defaults():
    settings = validate(BASE, "Asia/Tokyo")
    assert [s.delay_hours for s in settings.cart_steps] == list(DEFAULT_CART_STEPS_HOURS) == [1.0, 24.0]
    assert settings.cart_reminders_enabled is True
    assert settings.policy.quiet_hours == (time(21), time(8)) and settings.policy.cap_hours == 16
    assert settings.policy.time_zone == "Asia/Tokyo"


def test_a_full_document_round_trips():
    document = {
        **BASE,
        "quiet_hours": {"start": "22:00", "end": "07:30"},
        "cap_hours": 24,
        "cart_reminders": {
            "enabled": True,
            "steps": [
                {"delay_hours": 0.5},
                {"delay_hours": 24, "discount_code": "COMEBACK10"},
                {"delay_hours": 72, "template": "cart_reminder_last", "discount_pool": "LAST-CHANCE"},
            ],
        },
    }
    settings = validate(document, "Asia/Tokyo")
    assert settings.cart_steps[1].discount_code == "COMEBACK10"
    assert validate(settings.to_document(), "Asia/Tokyo") == settings


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postal_address": ""}, "postal_address"),
        ({"contact": None}, "contact"),
        ({"cap_hours": -1}, "cap_hours"),
        ({"quiet_hours": {"start": "9pm", "end": "08:00"}}, "quiet_hours.start"),
        ({"time_zone": "UTC"}, "time_zone"),
        ({"colour": "red"}, "colour"),
        ({"cart_reminders": {"steps": []}}, "cart_reminders.steps"),
        ({"cart_reminders": {"steps": [{"delay_hours": 1}] * 4}}, "cart_reminders.steps"),
        ({"cart_reminders": {"steps": [{"delay_hours": 24}, {"delay_hours": 1}]}}, "cart_reminders.steps[1]"),
        ({"cart_reminders": {"steps": [{"delay_hours": 0}]}}, "cart_reminders.steps[0].delay_hours"),
        ({"cart_reminders": {"steps": [{"delay_hours": "1"}]}}, "cart_reminders.steps[0].delay_hours"),
        (
            {"cart_reminders": {"steps": [{"delay_hours": 1, "discount_code": "a b"}]}},
            "cart_reminders.steps[0]",
        ),
        ({"cart_reminders": {"enabled": "yes"}}, "cart_reminders.enabled"),
        (
            {"cart_reminders": {"steps": [{"delay_hours": 1, "discount_code": "A", "discount_pool": "P"}]}},
            "cart_reminders.steps[0]",
        ),
        (
            {"cart_reminders": {"steps": [{"delay_hours": 1, "discount_pool": "a b"}]}},
            "cart_reminders.steps[0]",
        ),
    ],
)
def test_a_bad_field_is_named(change, field):
    with pytest.raises(InvalidMarketingSettings) as error:
        validate({**BASE, **change}, "Asia/Tokyo")
    assert str(error.value).startswith(field), str(error.value)
