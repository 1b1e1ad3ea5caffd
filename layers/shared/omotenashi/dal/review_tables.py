"""PynamoDB models of ReviewsTable (dal/reviews.py), in their own module and registered with
dal/tables.bind: only review code pays for building them at a cold start.

One partition per store (`store_id`), items by `key`:
- `order#<order_id>`: an order's review request sequence (its pending step in the due-reminders
  index, dal/due_reminders) and whether it has been reviewed;
- `review#<order_id>#<review_id>`: one review, as the storefront sent it;
- `reward#review#<order_id>` / `reward#survey#<survey_id>#<customer_id>`: a reward decided, once;
- `rewards#<customer_id>`: when the customer's review rewards were granted (the limit per days).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from omotenashi.dal.tables import register


class ReviewDueIndex(GlobalSecondaryIndex["ReviewOrderItem"]):
    """Sparse: only orders with a pending request or reminder carry reminder_shard/next_reminder_at
    (the same index shape as the carts' due reminders: one scheduling mechanism)."""

    class Meta:
        index_name = "due-reminders"
        projection = IncludeProjection(["reminder_step", "reminder_plan", "planned_basis", "order_id"])

    reminder_shard = UnicodeAttribute(hash_key=True)
    next_reminder_at = UnicodeAttribute(range_key=True)


class ReviewOrderItem(Model):
    class Meta:
        table_name: str = ""  # set by bind()

    due_reminders = ReviewDueIndex()

    store_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # order#<order_id>
    order_id = UnicodeAttribute()
    # The instant the request is timed from (delivered, or fulfilled): the sequence's version.
    planned_basis = UnicodeAttribute(null=True)
    reminder_step = NumberAttribute(null=True)  # 1 the request, 2 the reminder
    reminder_plan = UnicodeAttribute(null=True)  # JSON [[step, instant], ...]
    reminder_shard = UnicodeAttribute(null=True)
    next_reminder_at = UnicodeAttribute(null=True)
    request_sent_at = UnicodeAttribute(null=True)  # instants
    reminder_sent_at = UnicodeAttribute(null=True)
    reviewed_at = UnicodeAttribute(null=True)  # the earliest review's submitted_at
    stopped = UnicodeAttribute(null=True)  # why the sequence ended early (cancelled, reviewed, ...)
    offered_reward = JSONAttribute(null=True)  # the reward the request promised, kept as promised


class ReviewItem(Model):
    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # review#<order_id>#<review_id>
    review_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    sku = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    rating = NumberAttribute()
    title = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    submitted_at = UnicodeAttribute()  # an instant
    incentivized = BooleanAttribute()
    stored_at = UnicodeAttribute()
    email = UnicodeAttribute(null=True)


class ReviewIdItem(Model):
    """`review_id#<review_id>`: the order a review id was first stored for (its natural id is the
    review id alone: the same id for another order is not a second review)."""

    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    order_id = UnicodeAttribute()


class RewardItem(Model):
    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # reward#review#<order_id>, reward#survey#<survey>#<customer>
    source = UnicodeAttribute()  # review | survey
    customer_id = UnicodeAttribute()
    outcome = UnicodeAttribute()  # granted | limited | off | pool_empty
    points = NumberAttribute(null=True)
    coupon_code = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    survey_id = UnicodeAttribute(null=True)
    earned_by = UnicodeAttribute()  # the review id or survey response id
    at = UnicodeAttribute()  # the review's or answer's own time
    decided_at = UnicodeAttribute()
    given_at = UnicodeAttribute(null=True)  # set once the reward was given (points, email queued)
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)


class CustomerRewardsItem(Model):
    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # rewards#<customer_id>
    granted = JSONAttribute(default=dict)  # reward key -> the instant it was earned at
    pruned_through = UnicodeAttribute(null=True)  # rewards dropped from `granted` were at or before
    version = VersionAttribute()


register(
    (
        (ReviewOrderItem, "reviews_table"),
        (ReviewItem, "reviews_table"),
        (ReviewIdItem, "reviews_table"),
        (RewardItem, "reviews_table"),
        (CustomerRewardsItem, "reviews_table"),
    )
)
