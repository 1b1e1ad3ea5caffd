"""A store's loyalty settings (`omotenashi stores set-loyalty STORE --file loyalty.json`): how points
are earned, the tiers, the return window, expiry and the bonuses. Every field has a default (the
issue's rules), so a store without a document runs the default programme.

Pure: `validate` turns the document into `LoyaltySettings` or raises `InvalidLoyaltySettings`
naming the bad field.

```json
{
  "enabled": true,
  "unit_points": {"JPY": "1", "USD": "150"},
  "tiers": [
    {"name": "silver", "threshold": "0", "rate_percent": "1"},
    {"name": "gold", "threshold": "50000", "rate_percent": "2"},
    {"name": "platinum", "threshold": "150000", "rate_percent": "3"}
  ],
  "tier_window_months": 12,
  "return_window_days": 14,
  "expiry": {"months": 12, "warning_days": 30},
  "points_earned_email": true,
  "birthday_points": 100
}
```
`unit_points` says what one unit of a currency is worth in "points value" (JPY 1: a yen is a yen):
an order earns `floor((total - shipping) x unit_points x rate_percent / 100)` points, and counts
`(total - shipping - refunded) x unit_points` towards the tier thresholds. An order in a currency
without a value earns nothing. `expiry` null: points never expire; `warning_days` null: no warning
email. `birthday_points` null or 0: no birthday bonus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from omotenashi.domain import Store

DEFAULT_TIER_LABELS: dict[str, dict[str, str]] = {
    "silver": {"ja": "シルバー", "en": "Silver"},
    "gold": {"ja": "ゴールド", "en": "Gold"},
    "platinum": {"ja": "プラチナ", "en": "Platinum"},
}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_KEYS = {
    "enabled",
    "unit_points",
    "tiers",
    "tier_window_months",
    "return_window_days",
    "expiry",
    "points_earned_email",
    "birthday_points",
}
MAX_POINTS = 1_000_000


class InvalidLoyaltySettings(ValueError):
    """The message starts with the field it is about."""


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: Decimal  # rolling confirmed spend (points value) from which the tier applies
    rate_percent: Decimal  # points per 100 of points value
    labels: Mapping[str, str] = field(default_factory=dict)  # display name per locale

    def label(self, locale: str) -> str:
        return self.labels.get(locale) or DEFAULT_TIER_LABELS.get(self.name, {}).get(locale) or self.name


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("silver", Decimal(0), Decimal(1)),
    Tier("gold", Decimal(50000), Decimal(2)),
    Tier("platinum", Decimal(150000), Decimal(3)),
)


@dataclass(frozen=True)
class LoyaltySettings:
    enabled: bool = True
    unit_points: Mapping[str, Decimal] = field(default_factory=lambda: {"JPY": Decimal(1)})
    tiers: tuple[Tier, ...] = DEFAULT_TIERS  # ascending thresholds; the first starts at 0
    tier_window_months: int = 12
    return_window_days: int = 14
    expiry_months: int | None = 12  # None: points never expire
    expiry_warning_days: int | None = 30  # None: no points_expiring email
    points_earned_email: bool = True
    birthday_points: int = 100  # 0: no birthday bonus

    def tier(self, name: str | None) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)

    def rank(self, name: str | None) -> int:
        """-1 for no tier; a tier no longer configured ranks as the lowest."""
        if name is None:
            return -1
        return next((i for i, t in enumerate(self.tiers) if t.name == name), 0)

    def to_document(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "unit_points": {c: str(v) for c, v in self.unit_points.items()},
            "tiers": [
                {
                    "name": t.name,
                    "threshold": str(t.threshold),
                    "rate_percent": str(t.rate_percent),
                    **({"labels": dict(t.labels)} if t.labels else {}),
                }
                for t in self.tiers
            ],
            "tier_window_months": self.tier_window_months,
            "return_window_days": self.return_window_days,
            "expiry": None
            if self.expiry_months is None
            else {"months": self.expiry_months, "warning_days": self.expiry_warning_days},
            "points_earned_email": self.points_earned_email,
            "birthday_points": self.birthday_points,
        }


DEFAULTS = LoyaltySettings()


def _decimal(value: Any, field_name: str, low: Decimal, high: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidLoyaltySettings(f'{field_name} must be a decimal string such as "1.5" or an integer')
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise InvalidLoyaltySettings(f"{field_name} must be a decimal number") from error
    if not number.is_finite() or not low <= number <= high:
        raise InvalidLoyaltySettings(f"{field_name} must be from {low} to {high}")
    return number


def _integer(value: Any, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidLoyaltySettings(f"{field_name} must be a whole number from {low} to {high}")
    return value


def _bool(value: Any, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidLoyaltySettings(f"{field_name} must be true or false")
    return value


def _tiers(raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= 10:
        raise InvalidLoyaltySettings("tiers must be a list of 1 to 10 tiers")
    tiers: list[Tier] = []
    for index, entry in enumerate(raw):
        where = f"tiers[{index}]"
        if not isinstance(entry, Mapping):
            raise InvalidLoyaltySettings(f"{where} must be an object")
        unknown = set(entry) - {"name", "threshold", "rate_percent", "labels"}
        if unknown:
            raise InvalidLoyaltySettings(f"{where}.{sorted(unknown)[0]} is not a setting")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidLoyaltySettings(f"{where}.name must be lower-case letters, digits and _")
        threshold = _decimal(entry.get("threshold"), f"{where}.threshold", Decimal(0), Decimal("1e12"))
        rate = _decimal(entry.get("rate_percent"), f"{where}.rate_percent", Decimal(0), Decimal(100))
        labels = entry.get("labels", {})
        if not isinstance(labels, Mapping) or not all(
            k in ("ja", "en") and isinstance(v, str) and 0 < len(v) <= 40 for k, v in labels.items()
        ):
            raise InvalidLoyaltySettings(f'{where}.labels must map "ja"/"en" to names of 1-40 characters')
        if index == 0 and threshold != 0:
            raise InvalidLoyaltySettings(
                f"{where}.threshold must be 0 (the first tier comes with the first order)"
            )
        if tiers and threshold <= tiers[-1].threshold:
            raise InvalidLoyaltySettings(f"{where}.threshold must be above the tier before")
        if any(t.name == name for t in tiers):
            raise InvalidLoyaltySettings(f"{where}.name is used twice")
        tiers.append(Tier(name, threshold, rate, dict(labels)))
    return tuple(tiers)


def _unit_points(raw: Any) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping) or not raw:
        raise InvalidLoyaltySettings('unit_points must map currencies to values, such as {"JPY": "1"}')
    values: dict[str, Decimal] = {}
    for currency, value in raw.items():
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            raise InvalidLoyaltySettings("unit_points keys must be ISO 4217 currency codes such as JPY")
        values[currency] = _decimal(value, f"unit_points.{currency}", Decimal("0.0001"), Decimal(100000))
    return values


def validate(document: Mapping[str, Any]) -> LoyaltySettings:
    if not isinstance(document, Mapping):
        raise InvalidLoyaltySettings("the loyalty settings must be a JSON object")
    unknown = set(document) - _KEYS
    if unknown:
        raise InvalidLoyaltySettings(f"{sorted(unknown)[0]} is not a setting")
    values: dict[str, Any] = {}
    if "enabled" in document:
        values["enabled"] = _bool(document["enabled"], "enabled")
    if "unit_points" in document:
        values["unit_points"] = _unit_points(document["unit_points"])
    if "tiers" in document:
        values["tiers"] = _tiers(document["tiers"])
    if "tier_window_months" in document:
        values["tier_window_months"] = _integer(document["tier_window_months"], "tier_window_months", 1, 36)
    if "return_window_days" in document:
        values["return_window_days"] = _integer(document["return_window_days"], "return_window_days", 0, 365)
    if "expiry" in document:
        expiry = document["expiry"]
        if expiry is None:
            values["expiry_months"] = None
            values["expiry_warning_days"] = None
        else:
            if not isinstance(expiry, Mapping) or set(expiry) - {"months", "warning_days"}:
                raise InvalidLoyaltySettings('expiry must be null or {"months": N, "warning_days": N|null}')
            values["expiry_months"] = _integer(expiry.get("months", 12), "expiry.months", 1, 120)
            warning = expiry.get("warning_days", 30)
            values["expiry_warning_days"] = (
                None if warning is None else _integer(warning, "expiry.warning_days", 1, 180)
            )
    if "points_earned_email" in document:
        values["points_earned_email"] = _bool(document["points_earned_email"], "points_earned_email")
    if "birthday_points" in document:
        raw = document["birthday_points"]
        values["birthday_points"] = 0 if raw is None else _integer(raw, "birthday_points", 0, MAX_POINTS)
    return LoyaltySettings(**values)


def from_store(store: Store) -> LoyaltySettings:
    """The store's loyalty settings: its document, or every default."""
    if not store.loyalty:
        return DEFAULTS
    return validate(store.loyalty)
