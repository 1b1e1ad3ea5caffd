"""Request and response models of the loyalty routes (balance, ledger, redemptions, adjustments).
Points are integers; spend is a decimal string in the store's points value (yen by default)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from omotenashi.domain import Bucket, EntryKind
from omotenashi.schemas.common import Identifier, ShortText, not_blank

MAX_POINTS = 10_000_000


def _not_zero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be 0")
    return value


class RedemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redemption_id: Identifier = Field(description="Your id of the redemption: a repeat changes nothing.")
    points: int = Field(ge=1, le=MAX_POINTS)
    order_id: Identifier | None = Field(
        default=None,
        description="The order the points pay for: a refund of it gives them back in proportion, "
        "a cancellation wholly.",
    )


class RedemptionOut(BaseModel):
    redemption_id: str
    points: int
    available: int = Field(description="Available points after the redemption.")
    order_id: str | None = None


class RedemptionCancelOut(BaseModel):
    redemption_id: str
    status: Literal["cancelled"] = "cancelled"
    points_returned: int = Field(
        description="Points given back by this cancellation (less any already given back by a "
        "refund or cancellation of the order)."
    )
    available: int = Field(description="Available points right after the cancellation.")


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    adjustment_id: Identifier
    points: Annotated[int, Field(ge=-MAX_POINTS, le=MAX_POINTS), AfterValidator(_not_zero)] = Field(
        description="Signed; a negative adjustment obeys the same rule as a redemption."
    )
    reason: Annotated[ShortText, AfterValidator(not_blank)]
    author: Annotated[ShortText, AfterValidator(not_blank)]


class AdjustmentOut(BaseModel):
    adjustment_id: str
    points: int
    available: int


class ExpiringOut(BaseModel):
    points: int
    expires_at: str


class LoyaltyOut(BaseModel):
    customer_id: str
    available: int = Field(description="May be below zero after a refund took back spent points.")
    pending: int = Field(description="Points of orders still in their return window.")
    redeemable: int = Field(description="Points a redemption may take now (never below zero).")
    tier: str | None = Field(description="null until the first placed order.")
    tier_label: str | None = Field(default=None, description="The tier's name in the customer's locale.")
    rate_percent: str | None = Field(default=None, description="Points per 100 of spend at this tier.")
    tier_spend_12m: str = Field(description="Confirmed spend in the tier window (12 months by default).")
    next_tier: str | None
    spend_to_next_tier: str | None
    expiring: list[ExpiringOut]


class LedgerEntryOut(BaseModel):
    entry_id: str
    kind: EntryKind
    points: int = Field(description="Signed.")
    bucket: Bucket
    order_id: str | None
    reason: str | None
    author: str | None = None
    at: str
    expires_at: str | None = None


class LedgerOut(BaseModel):
    entries: list[LedgerEntryOut] = Field(description="Newest first.")
    next_cursor: str | None
