"""Request and response models of the commerce routes: cart and order events, carts and orders.

Money is a decimal string as Shopify sends it ("3240", "16.20") or a JSON number, never negative,
with no more decimals than its currency has (JPY 0, USD 2): it is held as Decimal, never float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from omotenashi.domain import CartStatus, Locale, OrderEventType
from omotenashi.messaging.money import minor_units
from omotenashi.schemas.common import (
    Birthday,
    Email,
    Identifier,
    ShortText,
    multi_line,
    not_blank,
    single_line,
)

MAX_ITEMS = 200
MAX_AMOUNT = Decimal("1e12")  # far beyond any order; keeps stored numbers small and exact


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('must be a decimal string such as "3240" or "16.20", or a number')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError('must be a decimal string such as "3240" or "16.20"') from error
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount >= MAX_AMOUNT:
        raise ValueError("is too large")
    return amount


Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "Decimal string or number, never negative, in the currency's minor units",
        }
    ),
]
# Event times are stored as fixed-width UTC text and moved by up to a month (reminder delays, the
# recovery window): a time near year 1 or 9999 (or one whose offset carries it past them) cannot be
# stored or moved, so it is refused here, naming the field, rather than failing in the worker.
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC)


def _event_time(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST_EVENT_TIME <= moment < LATEST_EVENT_TIME:
        raise ValueError("must be between 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z")
    return value


def _iso_text(value: Any) -> Any:
    """The contract's times are ISO 8601 text; a number (pydantic would read Unix seconds) is not."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 time with Z or an offset, e.g. 2026-11-22T01:02:03Z")
    return value


EventTime = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_event_time)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Url = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://[^\s]+$")]


def _in_currency(amount: Decimal | None, currency: str | None, field: str) -> Decimal | None:
    """The amount written with exactly the currency's minor units ("16.2" USD -> "16.20"); more
    decimals than the currency has are refused, never rounded."""
    if amount is None or currency is None:
        return amount
    digits = max(0, -int(amount.normalize().as_tuple().exponent))
    if digits > minor_units(currency):
        raise ValueError(f"{field} has more decimals than {currency} allows ({minor_units(currency)})")
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)))


class CustomerRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Identifier | None = Field(default=None, description="The storefront's customer id.")
    email: Email | None = None
    name: Annotated[ShortText, AfterValidator(not_blank)] | None = None
    locale: Locale | None = None
    birthday: Birthday | None = Field(default=None, description='"MM-DD"')

    @model_validator(mode="after")
    def _identified(self) -> CustomerRef:
        if self.id is None and self.email is None:
            raise ValueError("needs an id or an email")
        return self

    @property
    def identity(self) -> str:
        """customer.id, or for a guest the lower-cased email (the contract's {customer_id})."""
        return self.id if self.id is not None else str(self.email).lower()


class LineItemIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: Identifier
    name: Annotated[ShortText, AfterValidator(not_blank)]
    quantity: int = Field(ge=1, le=100_000)
    unit_price: Money
    product_url: Url | None = None
    image_url: Url | None = None


class CartEventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cart_id: Identifier
    customer: CustomerRef
    items: list[LineItemIn] = Field(max_length=MAX_ITEMS, description="Empty: the cart was emptied.")
    currency: Currency
    subtotal: Money
    cart_url: Url | None = None
    updated_at: EventTime = Field(description="Decides the order of a cart's updates, not arrival.")

    @model_validator(mode="after")
    def _amounts_in_currency(self) -> CartEventIn:
        self.subtotal = _in_currency(self.subtotal, self.currency, "subtotal") or Decimal(0)
        for item in self.items:
            item.unit_price = _in_currency(item.unit_price, self.currency, "unit_price") or Decimal(0)
        return self


class OrderEventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    order_id: Identifier
    type: OrderEventType
    customer: CustomerRef
    cart_id: Identifier | None = None
    items: list[LineItemIn] | None = Field(default=None, max_length=MAX_ITEMS)
    currency: Currency | None = None
    total: Money | None = Field(default=None, description="What the customer paid (placed events).")
    shipping: Money | None = Field(default=None, description="The part of total that earns no points.")
    refund_id: Identifier | None = None
    refund_amount: Money | None = None
    occurred_at: EventTime

    @model_validator(mode="after")
    def _type_needs(self) -> OrderEventIn:
        if self.type == "placed":
            missing = [name for name in ("items", "total", "currency") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"a placed event needs {', '.join(missing)}")
            if self.shipping is not None and self.total is not None and self.shipping > self.total:
                raise ValueError("shipping must not exceed total")
        if self.type == "refunded":
            missing = [name for name in ("refund_id", "refund_amount") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"a refunded event needs {', '.join(missing)}")
        elif self.refund_id is not None or self.refund_amount is not None:
            raise ValueError("refund_id and refund_amount belong to refunded events only")
        if self.refund_amount is not None and self.currency is None:
            raise ValueError("a refunded event needs its currency")
        self.total = _in_currency(self.total, self.currency, "total")
        self.shipping = _in_currency(self.shipping, self.currency, "shipping")
        self.refund_amount = _in_currency(self.refund_amount, self.currency, "refund_amount")
        for item in self.items or ():
            item.unit_price = _in_currency(item.unit_price, self.currency, "unit_price") or Decimal(0)
        return self


class CartEventAccepted(BaseModel):
    cart_id: str
    updated_at: str
    status: str = Field(description='"accepted": stored; the worker applies it')


class OrderEventAccepted(BaseModel):
    order_id: str
    type: OrderEventType
    refund_id: str | None = None
    status: str = Field(description='"accepted": stored; the worker applies it')


class LineItemOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: str
    product_url: str | None = None
    image_url: str | None = None


class CartOut(BaseModel):
    cart_id: str
    customer_id: str
    status: CartStatus
    items: list[LineItemOut]
    currency: str
    subtotal: str
    cart_url: str | None
    updated_at: str
    reminders_sent: int
    recovered_order_id: str | None
    ordered_by: str | None = Field(default=None, description="The order that ended the abandonment.")


class OrderHistoryEntry(BaseModel):
    type: OrderEventType
    occurred_at: str
    refund_id: str | None = None
    refund_amount: str | None = None


class ReviewEventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    review_id: Identifier
    order_id: Identifier
    sku: Identifier
    customer: CustomerRef
    rating: StrictInt = Field(ge=1, le=5, description="1-5; never changes the reward (景品表示法).")
    title: Annotated[str, StringConstraints(max_length=200), AfterValidator(single_line)] | None = None
    body: Annotated[str, StringConstraints(max_length=10_000), AfterValidator(multi_line)] | None = None
    submitted_at: EventTime


class SurveyEventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    survey_id: Identifier
    response_id: Identifier
    customer: CustomerRef
    submitted_at: EventTime


class ReviewEventAccepted(BaseModel):
    review_id: str
    order_id: str
    status: str = Field(description='"accepted": stored; the worker applies it')


class SurveyEventAccepted(BaseModel):
    survey_id: str
    response_id: str
    status: str = Field(description='"accepted": stored; the worker applies it')


class ReviewOut(BaseModel):
    review_id: str
    sku: str
    customer_id: str
    rating: int
    title: str | None
    body: str | None
    submitted_at: str
    incentivized: bool = Field(
        description="The store offered a reward for reviewing: label the review as incentivized "
        "(景品表示法, ステルスマーケティング告示)."
    )


class ReviewRewardOut(BaseModel):
    outcome: str = Field(description="granted, limited (another reward within the limit), off, pool_empty")
    review_id: str
    points: int | None
    coupon_code: str | None
    decided_at: str


class ReviewRequestOut(BaseModel):
    status: str = Field(
        description="none, scheduled, requested (the request went), reminded, reviewed or stopped"
    )
    due_at: str | None = Field(description="When the pending request or reminder is due.")
    requested_at: str | None
    reminded_at: str | None
    stopped: str | None = Field(description="Why the sequence ended early (order_cancelled, ...).")


class OrderOut(BaseModel):
    order_id: str
    customer_id: str
    status: OrderEventType = Field(description="The latest event by occurred_at.")
    total: str | None = Field(description="null until the placed event has arrived")
    shipping: str | None
    currency: str | None
    refunded_total: str
    cart_id: str | None
    placed_at: str | None
    items: list[LineItemOut]
    history: list[OrderHistoryEntry] = Field(description="Every event of the order, oldest first.")
    reviews: list[ReviewOut] = Field(default_factory=list, description="The order's reviews, oldest first.")
    review_request: ReviewRequestOut | None = None
    review_reward: ReviewRewardOut | None = None
