"""loyalty.json: the defaults (the issue's programme), every bad field named, and round trips."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from omotenashi.logic.loyalty.settings import (
    DEFAULTS,
    InvalidLoyaltySettings,
    LoyaltySettings,
    Tier,
    validate,
)

SILVER = {"name": "silver", "threshold": "0", "rate_percent": "1"}
GOLD = {"name": "gold", "threshold": "50000", "rate_percent": "2"}
CUSTOM: dict[str, Any] = {
    "enabled": False,
    "unit_points": {"JPY": "1", "USD": "150", "EUR": "162.5"},
    "tiers": [
        {
            "name": "bronze",
            "threshold": 0,
            "rate_percent": "0.5",
            "labels": {"ja": "ブロンズ", "en": "Bronze"},
        },
        {"name": "silver", "threshold": "30000", "rate_percent": "1.5"},
        {"name": "vip_2", "threshold": "1e6", "rate_percent": 5, "labels": {"en": "VIP"}},
    ],
    "tier_window_months": 6,
    "return_window_days": 30,
    "expiry": {"months": 24, "warning_days": None},
    "points_earned_email": False,
    "birthday_points": 0,
}


def test_defaults():
    assert validate({}) == DEFAULTS == LoyaltySettings()
    assert DEFAULTS.enabled is True
    assert DEFAULTS.unit_points == {"JPY": Decimal(1)}
    assert [(t.name, t.threshold, t.rate_percent) for t in DEFAULTS.tiers] == [
        ("silver", Decimal(0), Decimal(1)),
        ("gold", Decimal(50000), Decimal(2)),
        ("platinum", Decimal(150000), Decimal(3)),
    ]
    assert DEFAULTS.tier_window_months == 12
    assert DEFAULTS.return_window_days == 14
    assert DEFAULTS.expiry_months == 12 and DEFAULTS.expiry_warning_days == 30
    assert DEFAULTS.points_earned_email is True
    assert DEFAULTS.birthday_points == 100


def test_a_custom_document():
    settings = validate(CUSTOM)
    assert settings.enabled is False
    assert settings.unit_points == {"JPY": Decimal(1), "USD": Decimal(150), "EUR": Decimal("162.5")}
    assert [(t.name, t.threshold, t.rate_percent) for t in settings.tiers] == [
        ("bronze", Decimal(0), Decimal("0.5")),
        ("silver", Decimal(30000), Decimal("1.5")),
        ("vip_2", Decimal(1000000), Decimal(5)),
    ]
    assert (settings.tier_window_months, settings.return_window_days) == (6, 30)
    assert (settings.expiry_months, settings.expiry_warning_days) == (24, None)
    assert settings.points_earned_email is False and settings.birthday_points == 0


@pytest.mark.parametrize(
    "settings",
    [
        DEFAULTS,
        validate(CUSTOM),
        validate({"expiry": None, "birthday_points": None}),
        validate({"expiry": {}}),
        validate({"tiers": [SILVER]}),
        validate({"unit_points": {"USD": "0.0001"}, "tiers": [{**SILVER, "rate_percent": "100"}]}),
    ],
    ids=["defaults", "custom", "no expiry", "expiry defaults", "one tier", "extremes"],
)
def test_round_trip(settings):
    assert validate(settings.to_document()) == settings


def test_expiry_and_birthday_switches():
    never = validate({"expiry": None, "birthday_points": None})
    assert never.expiry_months is None and never.expiry_warning_days is None
    assert never.birthday_points == 0
    assert never.to_document()["expiry"] is None
    defaults_inside = validate({"expiry": {}})
    assert (defaults_inside.expiry_months, defaults_inside.expiry_warning_days) == (12, 30)
    assert validate({"expiry": {"months": 3}}).expiry_warning_days == 30


def test_values_are_read_as_written():
    settings = validate(
        {"unit_points": {"JPY": " 1 ", "USD": 150}, "tiers": [{**SILVER, "rate_percent": "1.25"}]}
    )
    assert settings.unit_points == {"JPY": Decimal(1), "USD": Decimal(150)}
    assert settings.tiers[0].rate_percent == Decimal("1.25")


def test_tier_labels():
    settings = validate(CUSTOM)
    bronze, silver, vip = settings.tiers
    assert bronze.label("ja") == "ブロンズ" and bronze.label("en") == "Bronze"
    assert silver.label("ja") == "シルバー" and silver.label("en") == "Silver"  # the default names
    assert vip.label("en") == "VIP" and vip.label("ja") == "vip_2"
    assert Tier("gold", Decimal(1), Decimal(1)).label("en") == "Gold"


def test_rank():
    assert DEFAULTS.rank(None) == -1
    assert [DEFAULTS.rank(name) for name in ("silver", "gold", "platinum")] == [0, 1, 2]
    assert DEFAULTS.rank("diamond") == 0  # a tier no longer configured ranks as the lowest
    assert DEFAULTS.tier("gold") == DEFAULTS.tiers[1] and DEFAULTS.tier("diamond") is None


def _tiers(*tiers: Any) -> dict[str, Any]:
    return {"tiers": list(tiers)}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": 1}, "enabled"),
        ({"enabled": None}, "enabled"),
        ({"unit_points": {}}, "unit_points"),
        ({"unit_points": ["JPY"]}, "unit_points"),
        ({"unit_points": "JPY"}, "unit_points"),
        ({"unit_points": {"jpy": "1"}}, "unit_points"),
        ({"unit_points": {"YEN!": "1"}}, "unit_points"),
        ({"unit_points": {"JPY": "0"}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": "-1"}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": "100001"}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": 1.5}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": True}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": None}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": "one"}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": ""}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": "NaN"}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": "Infinity"}}, "unit_points.JPY"),
        ({"unit_points": {"JPY": "1", "USD": "abc"}}, "unit_points.USD"),
        ({"tiers": []}, "tiers"),
        ({"tiers": "silver"}, "tiers"),
        ({"tiers": None}, "tiers"),
        (
            _tiers(
                *[SILVER]
                + [{"name": f"t{i}", "threshold": str(i), "rate_percent": "1"} for i in range(1, 11)]
            ),
            "tiers",
        ),
        (_tiers("silver"), "tiers[0]"),
        (_tiers(SILVER, ["gold"]), "tiers[1]"),
        (_tiers({**SILVER, "colour": "grey"}), "tiers[0].colour"),
        (_tiers({**SILVER, "name": "Silver"}), "tiers[0].name"),
        (_tiers({**SILVER, "name": ""}), "tiers[0].name"),
        (_tiers({**SILVER, "name": "1st"}), "tiers[0].name"),
        (_tiers({**SILVER, "name": "a" * 32}), "tiers[0].name"),
        (_tiers({**SILVER, "name": None}), "tiers[0].name"),
        (_tiers({"threshold": "0", "rate_percent": "1"}), "tiers[0].name"),
        (_tiers({**SILVER, "threshold": "100"}), "tiers[0].threshold"),
        (_tiers({**SILVER, "threshold": "-1"}), "tiers[0].threshold"),
        (_tiers({"name": "silver", "rate_percent": "1"}), "tiers[0].threshold"),
        (_tiers({**SILVER, "rate_percent": "101"}), "tiers[0].rate_percent"),
        (_tiers({**SILVER, "rate_percent": "-0.5"}), "tiers[0].rate_percent"),
        (_tiers({**SILVER, "rate_percent": 1.0}), "tiers[0].rate_percent"),
        (_tiers({"name": "silver", "threshold": "0"}), "tiers[0].rate_percent"),
        (_tiers({**SILVER, "labels": {"fr": "Argent"}}), "tiers[0].labels"),
        (_tiers({**SILVER, "labels": {"ja": ""}}), "tiers[0].labels"),
        (_tiers({**SILVER, "labels": {"en": "x" * 41}}), "tiers[0].labels"),
        (_tiers({**SILVER, "labels": {"en": 1}}), "tiers[0].labels"),
        (_tiers({**SILVER, "labels": ["Silver"]}), "tiers[0].labels"),
        (_tiers(SILVER, {**GOLD, "threshold": "0"}), "tiers[1].threshold"),
        (
            _tiers(SILVER, GOLD, {"name": "platinum", "threshold": "40000", "rate_percent": "3"}),
            "tiers[2].threshold",
        ),
        (_tiers(SILVER, {**GOLD, "threshold": "1e13"}), "tiers[1].threshold"),
        (_tiers(SILVER, {**GOLD, "name": "silver"}), "tiers[1].name"),
        ({"tier_window_months": 0}, "tier_window_months"),
        ({"tier_window_months": 37}, "tier_window_months"),
        ({"tier_window_months": "12"}, "tier_window_months"),
        ({"tier_window_months": 1.5}, "tier_window_months"),
        ({"tier_window_months": True}, "tier_window_months"),
        ({"return_window_days": -1}, "return_window_days"),
        ({"return_window_days": 366}, "return_window_days"),
        ({"return_window_days": None}, "return_window_days"),
        ({"expiry": 12}, "expiry"),
        ({"expiry": "12 months"}, "expiry"),
        ({"expiry": []}, "expiry"),
        ({"expiry": {"days": 30}}, "expiry"),
        ({"expiry": {"months": 0}}, "expiry.months"),
        ({"expiry": {"months": 121}}, "expiry.months"),
        ({"expiry": {"months": None}}, "expiry.months"),
        ({"expiry": {"months": "12"}}, "expiry.months"),
        ({"expiry": {"months": 12, "warning_days": 0}}, "expiry.warning_days"),
        ({"expiry": {"months": 12, "warning_days": 181}}, "expiry.warning_days"),
        ({"expiry": {"months": 12, "warning_days": False}}, "expiry.warning_days"),
        ({"points_earned_email": "true"}, "points_earned_email"),
        ({"points_earned_email": None}, "points_earned_email"),
        ({"birthday_points": -1}, "birthday_points"),
        ({"birthday_points": 1_000_001}, "birthday_points"),
        ({"birthday_points": "100"}, "birthday_points"),
        ({"birthday_points": 100.0}, "birthday_points"),
        ({"birthday_points": True}, "birthday_points"),
        ({**CUSTOM, "birthday_points": -5}, "birthday_points"),
    ],
)
def test_every_bad_field_is_named(document, field):
    with pytest.raises(InvalidLoyaltySettings) as error:
        validate(document)
    assert isinstance(error.value, ValueError)
    assert str(error.value).split(" ")[0] == field, str(error.value)


@pytest.mark.parametrize("document", [[], "{}", None, 42])
def test_a_document_that_is_no_object_is_refused(document):
    with pytest.raises(InvalidLoyaltySettings):
        validate(document)
