"""Queue jobs: one model per job, a discriminated union per queue.

Producers build a model and enqueue it (`model_dump_json()`); consumers parse the union and `match`
on it. Every job carries the `correlation_id` of what caused it (the API request, or the sweep's
invocation), so one id follows a request through every queue to the email's log line.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from omotenashi.domain import AlertKind

StoreId = Annotated[str, StringConstraints(min_length=1, max_length=63)]
InquiryId = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class _Job(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    correlation_id: str | None = Field(default=None, max_length=200)


class AutoReplyJob(_Job):
    """Inquiry queue: acknowledge a new inquiry."""

    type: Literal["auto_reply"] = "auto_reply"
    store_id: StoreId
    inquiry_id: InquiryId


class SlaAlertJob(_Job):
    """Message queue: one staff alert (or, with kind sla_digest, a morning digest) of one SLA round."""

    type: Literal["sla_alert"] = "sla_alert"
    store_id: StoreId
    inquiry_id: InquiryId  # for a digest: the digest's id
    sla_round: int = 0
    alert_index: int = 0
    kind: AlertKind
    due_at: str | None = None


class ReplyEmailJob(_Job):
    """Message queue: email a staff reply to the customer."""

    type: Literal["inquiry_reply"] = "inquiry_reply"
    store_id: StoreId
    inquiry_id: InquiryId
    reply_id: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class CartReminderJob(_Job):
    """Marketing queue: one step of a cart's abandoned-cart sequence is due."""

    type: Literal["cart_reminder"] = "cart_reminder"
    store_id: StoreId
    cart_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    step: int
    updated_at: str  # the cart update the sequence belongs to (an instant)
    plan: list[tuple[int, str]]  # the sequence's steps and their due times
    due_at: str


CustomerKey = Annotated[str, StringConstraints(min_length=1, max_length=320)]


class LoyaltyTimerJob(_Job):
    """Loyalty queue: a customer's loyalty timer is due (an order's confirmation, the expiry warning
    or expiry, the birthday, the daily tier check, a deferred birthday email)."""

    type: Literal["loyalty_timer"] = "loyalty_timer"
    store_id: StoreId
    customer_id: CustomerKey
    item_key: Annotated[str, StringConstraints(min_length=1, max_length=400)]  # "order#<id>", "timer#<name>"
    due_kind: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    due_at: str


class LoyaltyNoticeJob(_Job):
    """Message queue: a transactional loyalty email (points_earned, tier_changed, points_expiring),
    sent once per `reference`."""

    type: Literal["loyalty_notice"] = "loyalty_notice"
    store_id: StoreId
    customer_id: CustomerKey
    kind: Literal["points_earned", "tier_changed", "points_expiring"]
    reference: Annotated[str, StringConstraints(min_length=1, max_length=400)]
    points: int | None = None
    order_id: str | None = None
    tier: str | None = None
    previous_tier: str | None = None
    expires_at: str | None = None  # an instant


class BirthdayBonusJob(_Job):
    """Marketing queue: the birthday bonus email (marketing: it passes the gate)."""

    type: Literal["birthday_bonus"] = "birthday_bonus"
    store_id: StoreId
    customer_id: CustomerKey
    year: int
    points: int


OrderId = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class ReviewRequestJob(_Job):
    """Marketing queue: an order's review request (step 1) or its reminder (step 2) is due."""

    type: Literal["review_request"] = "review_request"
    store_id: StoreId
    order_id: OrderId
    step: int
    basis: str  # the instant the sequence is timed from (its version)
    plan: list[tuple[int, str]]
    due_at: str


class ReviewRewardJob(_Job):
    """Message queue: the review_reward email (transactional) for a reward granted once."""

    type: Literal["review_reward"] = "review_reward"
    store_id: StoreId
    reward_key: Annotated[str, StringConstraints(min_length=1, max_length=700)]


class StaffReplyRefusedJob(_Job):
    """Message queue: tell a staff member their reply by email was not sent (and why). Only for
    refusals of a verified member (right address, token, authentication), never for forgeries."""

    type: Literal["staff_reply_refused"] = "staff_reply_refused"
    store_id: StoreId
    inquiry_id: InquiryId
    staff: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    reason: Literal[
        "empty_reply",
        "quotes_a_staff_email",
        "reply_too_long",
        "attachments_too_large",
        "too_large_reply",
        "unreadable_reply",
    ]
    email_ref: Annotated[str, StringConstraints(min_length=1, max_length=200)]  # the SES message id


# The inquiry queue has one kind of job; messages queued before jobs had a type lack the tag, so it
# is parsed as that model (its `type` defaults) rather than as a tagged union.
InquiryQueueJob = AutoReplyJob
MessageQueueJob = Annotated[
    SlaAlertJob | ReplyEmailJob | LoyaltyNoticeJob | ReviewRewardJob | StaffReplyRefusedJob,
    Field(discriminator="type"),
]
MarketingQueueJob = Annotated[
    CartReminderJob | BirthdayBonusJob | ReviewRequestJob, Field(discriminator="type")
]
LoyaltyQueueJob = LoyaltyTimerJob
Job = (
    AutoReplyJob
    | SlaAlertJob
    | ReplyEmailJob
    | CartReminderJob
    | LoyaltyTimerJob
    | LoyaltyNoticeJob
    | BirthdayBonusJob
    | ReviewRequestJob
    | ReviewRewardJob
    | StaffReplyRefusedJob
)
