"""A store's marketing settings (`omotenashi stores set-marketing STORE --file marketing.json`):
what the law needs in every marketing email, the gate's policy, and the abandoned-cart sequence.

Pure: `validate` turns the document into `MarketingSettings` or raises `InvalidMarketingSettings`
naming the bad field; the defaults live here and in gate.py, once (docs/marketing.md lists them).

```json
{
  "postal_address": "〒100-0001\\n東京都千代田区千代田1-1 デモビル3F",
  "contact": "support@demo.example",
  "quiet_hours": {"start": "21:00", "end": "08:00"},
  "cap_hours": 16,
  "cart_reminders": {
    "enabled": true,
    "steps": [{"delay_hours": 1}, {"delay_hours": 24, "discount_code": "COMEBACK10"}]
  }
}
```
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omotenashi.domain import Store
from omotenashi.logic.marketing.gate import (
    POLICY_KEYS,
    InvalidMarketingPolicy,
    MarketingPolicy,
    validate_policy,
)

DEFAULT_CART_STEPS_HOURS: tuple[float, ...] = (1.0, 24.0)
MAX_CART_STEPS = 3
MAX_DELAY_HOURS = 720.0  # 30 days
OVERDUE_SKIP_HOURS = 6.0  # a step more than this overdue when its cart arrives is skipped, not sent
DEFAULT_TEMPLATE = "cart_reminder"
_TOP_KEYS = {"postal_address", "contact", "cart_reminders", *POLICY_KEYS}
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_TEMPLATE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class InvalidMarketingSettings(ValueError):
    """The message starts with the field it is about."""


@dataclass(frozen=True)
class CartStep:
    delay_hours: float  # after the cart's last update
    template: str = DEFAULT_TEMPLATE
    discount_code: str | None = None  # the same code for everybody
    discount_pool: str | None = None  # or one code per email, taken once from this pool


@dataclass(frozen=True)
class MarketingSettings:
    postal_address: str
    contact: str
    policy: MarketingPolicy
    cart_reminders_enabled: bool = True
    cart_steps: tuple[CartStep, ...] = tuple(CartStep(h) for h in DEFAULT_CART_STEPS_HOURS)

    def to_document(self) -> dict[str, Any]:
        return {
            "postal_address": self.postal_address,
            "contact": self.contact,
            **{k: v for k, v in self.policy.to_config().items() if k != "time_zone"},
            "cart_reminders": {
                "enabled": self.cart_reminders_enabled,
                "steps": [
                    {
                        "delay_hours": s.delay_hours,
                        **({"template": s.template} if s.template != DEFAULT_TEMPLATE else {}),
                        **({"discount_code": s.discount_code} if s.discount_code else {}),
                        **({"discount_pool": s.discount_pool} if s.discount_pool else {}),
                    }
                    for s in self.cart_steps
                ],
            },
        }


def _text(document: Mapping[str, Any], field: str, limit: int) -> str:
    value = document.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidMarketingSettings(
            f"{field} is required (特定電子メール法: every marketing email shows it)"
        )
    if len(value) > limit:
        raise InvalidMarketingSettings(f"{field} must be at most {limit} characters")
    if any(ord(c) < 0x20 and c not in "\n\r" for c in value):
        raise InvalidMarketingSettings(f"{field} must not contain control characters")
    return value.strip()


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidMarketingSettings(f"{field} must be a number")
    if not low <= value <= high:
        raise InvalidMarketingSettings(f"{field} must be from {low:g} to {high:g}")
    return float(value)


def _steps(config: Any) -> tuple[bool, tuple[CartStep, ...]]:
    if config is None:
        return True, tuple(CartStep(h) for h in DEFAULT_CART_STEPS_HOURS)
    if not isinstance(config, Mapping):
        raise InvalidMarketingSettings("cart_reminders must be an object")
    unknown = set(config) - {"enabled", "steps"}
    if unknown:
        raise InvalidMarketingSettings(f"cart_reminders.{sorted(unknown)[0]} is not a setting")
    enabled = config.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidMarketingSettings("cart_reminders.enabled must be true or false")
    raw_steps = config.get("steps")
    if raw_steps is None:
        return enabled, tuple(CartStep(h) for h in DEFAULT_CART_STEPS_HOURS)
    if not isinstance(raw_steps, list) or not 1 <= len(raw_steps) <= MAX_CART_STEPS:
        raise InvalidMarketingSettings(f"cart_reminders.steps must be a list of 1 to {MAX_CART_STEPS} steps")
    steps: list[CartStep] = []
    for index, raw in enumerate(raw_steps):
        field = f"cart_reminders.steps[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidMarketingSettings(f"{field} must be an object")
        unknown = set(raw) - {"delay_hours", "template", "discount_code", "discount_pool"}
        if unknown:
            raise InvalidMarketingSettings(f"{field}.{sorted(unknown)[0]} is not a setting")
        delay = _number(raw.get("delay_hours"), f"{field}.delay_hours", 0.25, MAX_DELAY_HOURS)
        if steps and delay <= steps[-1].delay_hours:
            raise InvalidMarketingSettings(f"{field}.delay_hours must be later than the step before")
        template = raw.get("template", DEFAULT_TEMPLATE)
        if not isinstance(template, str) or not _TEMPLATE.match(template):
            raise InvalidMarketingSettings(f"{field}.template must be a template kind such as cart_reminder")
        code = raw.get("discount_code")
        if code is not None and (not isinstance(code, str) or not _CODE.match(code)):
            raise InvalidMarketingSettings(f"{field}.discount_code must be 1-50 of A-Z a-z 0-9 _ -")
        pool = raw.get("discount_pool")
        if pool is not None and (not isinstance(pool, str) or not _CODE.match(pool)):
            raise InvalidMarketingSettings(f"{field}.discount_pool must be 1-50 of A-Z a-z 0-9 _ -")
        if code is not None and pool is not None:
            raise InvalidMarketingSettings(f"{field}: discount_code and discount_pool exclude each other")
        steps.append(CartStep(delay, template, code, pool))
    return enabled, tuple(steps)


def validate(document: Mapping[str, Any], time_zone: str) -> MarketingSettings:
    """The settings from a marketing.json document; the store's own time zone applies to quiet
    hours (a `time_zone` key is refused: the store has one zone for everything it sends)."""
    if not isinstance(document, Mapping):
        raise InvalidMarketingSettings("the marketing settings must be a JSON object")
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise InvalidMarketingSettings(f"{sorted(unknown)[0]} is not a setting")
    if "time_zone" in document:
        raise InvalidMarketingSettings("time_zone is the store's own (omotenashi stores create --time-zone)")
    try:
        policy = validate_policy(
            {k: document[k] for k in ("quiet_hours", "cap_hours") if k in document}, time_zone
        )
    except InvalidMarketingPolicy as error:
        raise InvalidMarketingSettings(str(error)) from error
    enabled, steps = _steps(document.get("cart_reminders"))
    return MarketingSettings(
        postal_address=_text(document, "postal_address", 300),
        contact=_text(document, "contact", 200),
        policy=policy,
        cart_reminders_enabled=enabled,
        cart_steps=steps,
    )


def from_store(store: Store) -> MarketingSettings | None:
    """The store's marketing settings; None when it has none (no marketing email at all)."""
    if not store.marketing:
        return None
    return validate(store.marketing, store.time_zone)
