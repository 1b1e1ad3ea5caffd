"""Request and response models of the customer routes (consent now; loyalty later)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from omotenashi import clock
from omotenashi.domain import Locale
from omotenashi.schemas.common import Birthday, Email, ShortText, multi_line, not_blank, single_line

# A storefront's clock may run a little ahead of ours; more than this is a mistake, and a consent
# dated in the future would outrank every withdrawal (an unsubscribe included) until that time.
MAX_CLOCK_SKEW = timedelta(minutes=5)
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _instant(value: Any) -> datetime:
    """ISO 8601 with Z or an offset, to the microsecond; a time without a zone is refused rather
    than guessed (UTC? the store's zone?), as is one more than MAX_CLOCK_SKEW ahead of now."""
    if isinstance(value, str) and _NAIVE.match(value):
        raise ValueError("must carry a time zone: Z or an offset such as +09:00")
    if not isinstance(value, str) or not _INSTANT.match(value):
        raise ValueError("must be an ISO 8601 date and time with Z or an offset, e.g. 2026-11-22T01:00:00Z")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("is not a valid date and time") from None
    if moment > clock.now() + MAX_CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return moment


Instant = Annotated[
    datetime,
    BeforeValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-11-22T01:00:00Z"}),
]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: Email = Field(description="The address the consent is for.")
    marketing_email: StrictBool = Field(description="true: consent given; false: withdrawn or refused.")
    source: Annotated[
        str,
        StringConstraints(min_length=1, max_length=100),
        AfterValidator(single_line),
        AfterValidator(not_blank),
    ] = Field(description="How it was given, e.g. checkout_checkbox, account_settings, shopify.")
    wording: Annotated[
        str,
        StringConstraints(min_length=1, max_length=1000),
        AfterValidator(multi_line),
        AfterValidator(not_blank),
    ] = Field(description="The text the customer saw and agreed to (or declined), exactly.")
    consented_at: Instant | None = Field(
        default=None,
        description="When it was given or withdrawn (Z or an offset; default: now). The newest "
        "consented_at decides the current state; at equal times a withdrawal wins.",
    )
    name: Annotated[ShortText, AfterValidator(not_blank)] | None = None
    locale: Locale | None = None
    birthday: Birthday | None = Field(
        default=None, description='"MM-DD": the loyalty birthday bonus (not part of the consent proof)'
    )


class ConsentEntryOut(BaseModel):
    marketing_email: bool
    source: str
    wording: str
    at: str
    email: str | None = Field(
        default=None, description="The address of the entry (none for an opt-out by link)."
    )
    recorded_at: str | None = Field(default=None, description="When the entry first reached Omotenashi.")


class ConsentOut(BaseModel):
    customer_id: str
    email: str | None = Field(
        description="The newest address on record; null only for a customer known from an opt-out link alone."
    )
    marketing_email: bool = Field(
        description="The current state: marketing email may be sent only when true."
    )
    source: str
    wording: str
    consented_at: str = Field(description="The time of the entry that decides the current state.")
    history: list[ConsentEntryOut] = Field(description="Every entry, oldest first (see history_count).")
    history_count: int = Field(
        description="How many entries are stored. history shows the newest 1,000 when there are more "
        "(all stay stored), so that an answer stays within Lambda's 6 MB response limit."
    )


class MarketingDecisionOut(BaseModel):
    flow: str | None = Field(description="cart_reminder, later review_request ...")
    reference: str | None = Field(description="Which email: for a cart reminder <cart_id>#<update>#<step>")
    outcome: str | None = Field(description="send, skip or defer")
    reason: str | None = Field(
        description="ok, consent_missing, consent_withdrawn, suppressed, open_inquiry, quiet_hours, "
        "frequency_cap, cart_ordered, cart_emptied, not_configured, ..."
    )
    at: str | None
    defer_until: str | None = None


class MarketingDecisionsOut(BaseModel):
    customer_id: str
    decisions: list[MarketingDecisionOut] = Field(description="Oldest first")
