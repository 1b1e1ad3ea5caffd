"""A store's review settings (`omotenashi stores set-reviews STORE --file reviews.json`): when the
review request and its reminder go, where the review link points, and the rewards for a review and
for a survey answer. Every field has a default (the issue's rules), so a store without a document
runs the default programme; the emails themselves are marketing and need the store's marketing
settings (its postal address and contact) like every marketing email.

Pure: `validate` turns the document into `ReviewSettings` or raises `InvalidReviewSettings` naming
the bad field.

```json
{
  "enabled": true,
  "request_after": "delivered",
  "request_delay_days": 7,
  "reminder_delay_days": 5,
  "review_url": "https://shop.example/reviews/new?order={order_id}&sku={sku}&token={token}",
  "reward": {"points": 50},
  "reward_limit_days": 30,
  "survey_reward": {"points": 50}
}
```
`request_after` is `delivered` (default) or `fulfilled` (a store without delivery events: the
first of fulfilled and delivered). `reminder_delay_days` null: no reminder. `review_url` may use
`{order_id}`, `{sku}`, `{customer_id}` and `{token}`; without one each item links to its product
page. A reward is `{"points": N}` (loyalty bonus points, available at once), `{"coupon_code": "C"}`
(the same code for everybody) or `{"coupon_pool": "P"}` (one code per reward, taken once from the
pool loaded with `omotenashi stores add-discount-codes`), or null for none. `reward_limit_days`: at
most one review reward per customer within this many days (0: no limit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from omotenashi.domain import Store

DEFAULT_REQUEST_DELAY_DAYS = 7
MAX_REQUEST_DELAY_DAYS = 60
DEFAULT_REMINDER_DELAY_DAYS = 5
MAX_REMINDER_DELAY_DAYS = 30
DEFAULT_REWARD_POINTS = 50
DEFAULT_REWARD_LIMIT_DAYS = 30
MAX_REWARD_LIMIT_DAYS = 365
MAX_REWARD_POINTS = 100_000
# A request more than this overdue when its order's delivery becomes known (an import of old
# orders, a long outage) is not sent: a "how was it?" weeks later reads as spam.
OVERDUE_SKIP_DAYS = 7
PLACEHOLDERS = ("order_id", "sku", "customer_id", "token")
_KEYS = {
    "enabled",
    "request_after",
    "request_delay_days",
    "reminder_delay_days",
    "review_url",
    "reward",
    "reward_limit_days",
    "survey_reward",
}
_CODE = re.compile(r"[A-Za-z0-9_-]{1,50}")  # fullmatch: "$" would let a final newline through
_URL = re.compile(r"https?://[^\s]+")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

RequestAfter = Literal["delivered", "fulfilled"]


class InvalidReviewSettings(ValueError):
    """The message starts with the field it is about."""


@dataclass(frozen=True)
class Reward:
    """What a review (or a survey answer) earns: points, or a coupon code (fixed, or from a pool)."""

    points: int | None = None
    coupon_code: str | None = None
    coupon_pool: str | None = None

    @property
    def kind(self) -> Literal["points", "coupon"]:
        return "points" if self.points is not None else "coupon"

    def to_document(self) -> dict[str, Any]:
        if self.points is not None:
            return {"points": self.points}
        if self.coupon_code is not None:
            return {"coupon_code": self.coupon_code}
        return {"coupon_pool": self.coupon_pool}


DEFAULT_REWARD = Reward(points=DEFAULT_REWARD_POINTS)


@dataclass(frozen=True)
class ReviewSettings:
    enabled: bool = True
    request_after: RequestAfter = "delivered"
    request_delay_days: int = DEFAULT_REQUEST_DELAY_DAYS
    reminder_delay_days: int | None = DEFAULT_REMINDER_DELAY_DAYS
    review_url: str | None = None
    reward: Reward | None = DEFAULT_REWARD
    reward_limit_days: int = DEFAULT_REWARD_LIMIT_DAYS
    survey_reward: Reward | None = DEFAULT_REWARD

    def to_document(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "request_after": self.request_after,
            "request_delay_days": self.request_delay_days,
            "reminder_delay_days": self.reminder_delay_days,
            "review_url": self.review_url,
            "reward": self.reward.to_document() if self.reward else None,
            "reward_limit_days": self.reward_limit_days,
            "survey_reward": self.survey_reward.to_document() if self.survey_reward else None,
        }


def _days(
    document: Mapping[str, Any], field: str, default: int | None, high: int, *, nullable: bool
) -> int | None:
    if field not in document:
        return default
    value = document[field]
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidReviewSettings(
            f"{field} must be a whole number of days" + (" or null" if nullable else "")
        )
    low = 1 if nullable else 0
    if not low <= value <= high:
        raise InvalidReviewSettings(f"{field} must be from {low} to {high}")
    return value


def _reward(value: Any, field: str) -> Reward | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or len(value) != 1:
        raise InvalidReviewSettings(
            f'{field} must be {{"points": N}}, {{"coupon_code": "C"}}, {{"coupon_pool": "P"}} or null'
        )
    (key, inner), *_ = value.items()
    if key == "points":
        if isinstance(inner, bool) or not isinstance(inner, int) or not 1 <= inner <= MAX_REWARD_POINTS:
            raise InvalidReviewSettings(
                f"{field}.points must be a whole number from 1 to {MAX_REWARD_POINTS}"
            )
        return Reward(points=inner)
    if key in ("coupon_code", "coupon_pool"):
        if not isinstance(inner, str) or not _CODE.fullmatch(inner):
            raise InvalidReviewSettings(f"{field}.{key} must be 1-50 of A-Z a-z 0-9 _ -")
        return Reward(coupon_code=inner) if key == "coupon_code" else Reward(coupon_pool=inner)
    raise InvalidReviewSettings(f"{field}.{key} is not a setting (points, coupon_code or coupon_pool)")


def _review_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 2048 or not _URL.fullmatch(value):
        raise InvalidReviewSettings("review_url must be an http(s) URL of at most 2048 characters")
    unknown = sorted({name for name in _PLACEHOLDER.findall(value) if name not in PLACEHOLDERS})
    if unknown:
        raise InvalidReviewSettings(
            f"review_url has an unknown placeholder {{{unknown[0]}}} (use {', '.join(PLACEHOLDERS)})"
        )
    return value


def reward_from_document(document: Mapping[str, Any] | None) -> Reward | None:
    """A reward as `Reward.to_document` wrote it (e.g. the one a request promised); None for one
    that cannot be read (never written so: an order's events must not fail on it)."""
    try:
        return _reward(document, "reward") if document else None
    except InvalidReviewSettings:
        return None


def promised(offered: Mapping[str, Any] | None, settings: ReviewSettings) -> Reward | None:
    """The reward a review of an order earns: the one its request promised (kept as promised when
    the store changed or switched off its reward since), else the store's current one."""
    return reward_from_document(offered) or settings.reward


def validate(document: Mapping[str, Any]) -> ReviewSettings:
    if not isinstance(document, Mapping):
        raise InvalidReviewSettings("the review settings must be a JSON object")
    unknown = set(document) - _KEYS
    if unknown:
        raise InvalidReviewSettings(f"{sorted(unknown)[0]} is not a setting")
    enabled = document.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidReviewSettings("enabled must be true or false")
    after = document.get("request_after", "delivered")
    if after not in ("delivered", "fulfilled"):
        raise InvalidReviewSettings('request_after must be "delivered" or "fulfilled"')
    return ReviewSettings(
        enabled=enabled,
        request_after=after,
        request_delay_days=_days(
            document, "request_delay_days", DEFAULT_REQUEST_DELAY_DAYS, MAX_REQUEST_DELAY_DAYS, nullable=False
        )
        or 0,
        reminder_delay_days=_days(
            document,
            "reminder_delay_days",
            DEFAULT_REMINDER_DELAY_DAYS,
            MAX_REMINDER_DELAY_DAYS,
            nullable=True,
        ),
        review_url=_review_url(document.get("review_url")),
        reward=_reward(document["reward"], "reward") if "reward" in document else DEFAULT_REWARD,
        reward_limit_days=_days(
            document, "reward_limit_days", DEFAULT_REWARD_LIMIT_DAYS, MAX_REWARD_LIMIT_DAYS, nullable=False
        )
        or 0,
        survey_reward=(
            _reward(document["survey_reward"], "survey_reward")
            if "survey_reward" in document
            else DEFAULT_REWARD
        ),
    )


def from_store(store: Store) -> ReviewSettings:
    """The store's review settings; every default when it has none."""
    return validate(store.reviews) if store.reviews else ReviewSettings()
