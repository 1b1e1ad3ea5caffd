"""PynamoDB models of the DynamoDB tables declared in infra/template.yaml.

Table names come from settings at first use (`bind`), not at import, so tests and the local stack
can point the models at their own tables.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from omotenashi.dal import _pynamo
from omotenashi.settings import SettingsError, get_settings

_pynamo.share_session()  # PynamoDB's clients come from dal.aws's session (created on first use)


class SecretAttribute(MapAttribute[str, Any]):
    secret_id = UnicodeAttribute()
    value = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ReceivingDomainIndex(GlobalSecondaryIndex["StoreItem"]):
    """Sparse: only stores with a receiving domain of their own carry the key; inbound mail to
    that domain finds its store with one Query."""

    class Meta:
        index_name = "receiving-domain"
        projection = KeysOnlyProjection()

    receiving_domain = UnicodeAttribute(hash_key=True)


class StoreItem(Model):
    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    sender = UnicodeAttribute()
    staff_addresses = ListAttribute(of=UnicodeAttribute, default=list)
    default_locale = UnicodeAttribute(default="ja")
    time_zone = UnicodeAttribute(default="Asia/Tokyo")
    sla_hours = NumberAttribute(default=24)
    secrets = ListAttribute(of=SecretAttribute, default=list)
    created_at = UTCDateTimeAttribute(null=True)
    policy = JSONAttribute(null=True)
    # Standard base64 of each unsubscribe key, oldest first; absent on stores created before them.
    unsubscribe_keys = ListAttribute(of=UnicodeAttribute, null=True)
    marketing = JSONAttribute(null=True)  # the validated marketing.json (logic/marketing/settings)
    loyalty = JSONAttribute(null=True)  # the validated loyalty.json (logic/loyalty/settings)
    reviews = JSONAttribute(null=True)  # the validated reviews.json (logic/reviews/settings)
    email = JSONAttribute(null=True)  # the validated email.json (logic/inquiries/email_settings)
    # The store's own receiving domain (email.json), the receiving-domain index's key; absent for a
    # store that receives at <store_id>.<stack domain>, which needs no lookup.
    receiving_domain = UnicodeAttribute(null=True)
    version = VersionAttribute()

    receiving_domains = ReceivingDomainIndex()


class DueAlertsIndex(GlobalSecondaryIndex["InquiryItem"]):
    """Sparse: only inquiries with a pending staff alert carry alert_shard/next_alert_at, so the
    sweep's Query reads due alerts and nothing else (answered/closed inquiries leave the index)."""

    class Meta:
        index_name = "due-alerts"
        projection = IncludeProjection(["alert_index", "alert_plan", "sla_round"])

    alert_shard = UnicodeAttribute(hash_key=True)
    next_alert_at = UnicodeAttribute(range_key=True)


class OpenByCustomerIndex(GlobalSecondaryIndex["InquiryItem"]):
    """Sparse: an inquiry carries open_customer ("<store_id>#<lower-cased email>") exactly while its
    status is open (dal/inquiries._status_fields writes both together), so "does this customer have
    an open inquiry?" is one Query of at most one key (the marketing gate's hold)."""

    class Meta:
        index_name = "open-by-customer"
        projection = KeysOnlyProjection()

    open_customer = UnicodeAttribute(hash_key=True)
    inquiry_id = UnicodeAttribute(range_key=True)


class StoreReceivedIndex(GlobalSecondaryIndex["InquiryItem"]):
    """A store's inquiries newest first (GET /v1/inquiries): received_key is
    "<received_at as an instant>#<inquiry_id>", set when the inquiry is created. Projects every
    attribute: the list shows whole inquiries. Inquiries stored before the index existed have no
    key until dal/inquiries.backfill_index_keys gives them one."""

    class Meta:
        index_name = "store-received"
        projection = AllProjection()

    store_id = UnicodeAttribute(hash_key=True)
    received_key = UnicodeAttribute(range_key=True)


class StoreStatusIndex(GlobalSecondaryIndex["InquiryItem"]):
    """A store's inquiries of one status, newest first (GET /v1/inquiries?status=): status_key is
    "<store_id>#<status>", written with every status write (dal/inquiries._status_fields)."""

    class Meta:
        index_name = "store-status"
        projection = AllProjection()

    status_key = UnicodeAttribute(hash_key=True)
    received_key = UnicodeAttribute(range_key=True)


class InquiryItem(Model):
    class Meta:
        table_name: str = ""  # set by bind()

    due_alerts = DueAlertsIndex()
    open_by_customer = OpenByCustomerIndex()
    store_received = StoreReceivedIndex()
    store_status = StoreStatusIndex()

    store_id = UnicodeAttribute(hash_key=True)
    inquiry_id = UnicodeAttribute(range_key=True)
    customer_email = UnicodeAttribute()
    customer_name = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    customer_locale = UnicodeAttribute(null=True)
    locale = UnicodeAttribute()
    channel = UnicodeAttribute()
    subject = UnicodeAttribute()
    message = UnicodeAttribute()
    priority = UnicodeAttribute()
    priority_reason = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    open_customer = UnicodeAttribute(null=True)  # the open-by-customer key: only while status is open
    status_key = UnicodeAttribute(null=True)  # the store-status key "<store_id>#<status>"
    received_key = UnicodeAttribute(null=True)  # both list indexes' range key "<instant>#<inquiry_id>"
    received_at = UTCDateTimeAttribute()
    reply_due_at = UTCDateTimeAttribute()
    first_response_at = UTCDateTimeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    external_id = UnicodeAttribute(null=True)
    source_headers = MapAttribute[str, Any](null=True)
    request_hash = UnicodeAttribute()
    accepted_response = UnicodeAttribute()
    auto_reply_state = UnicodeAttribute(default="pending")
    auto_reply_reason = UnicodeAttribute(null=True)
    auto_reply_message_id = UnicodeAttribute(null=True)
    auto_reply_sent_at = UTCDateTimeAttribute(null=True)
    # SLA clock: the alert plan (JSON list of {kind, at}), the position of the next alert, and the
    # sparse-index keys present only while an alert is pending.
    sla_started_at = UTCDateTimeAttribute(null=True)
    sla_round = NumberAttribute(default=0)
    alert_plan = UnicodeAttribute(null=True)
    alert_index = NumberAttribute(null=True)
    alert_shard = UnicodeAttribute(null=True)
    next_alert_at = UnicodeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    latest_message = UnicodeAttribute(null=True)  # the newest customer follow-up
    latest_message_at = UTCDateTimeAttribute(null=True)
    attachments = JSONAttribute(null=True)  # [{name, content_type, size, key}] of the first email
    source_key = UnicodeAttribute(null=True)  # the raw email (inbound bucket), email channel
    email_message_id = UnicodeAttribute(null=True)


class DigestItem(Model):
    """Alerts held for a store's morning digest, due at the next opening. Lives in the inquiries
    table (inquiry_id "digest#<opening>") so the same sparse index and sweep bring it up on time."""

    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    inquiry_id = UnicodeAttribute(range_key=True)
    held = UnicodeSetAttribute(null=True)  # "<inquiry_id>|<kind>|<sla_round>"
    closed_at = UTCDateTimeAttribute(null=True)  # set when the digest is read for sending
    sla_round = NumberAttribute(default=0)
    alert_plan = UnicodeAttribute(null=True)
    alert_index = NumberAttribute(null=True)
    alert_shard = UnicodeAttribute(null=True)
    next_alert_at = UnicodeAttribute(null=True)


class ReplyItem(Model):
    """One entry of an inquiry's conversation: a staff reply ("rep_...") or a customer follow-up
    ("msg_...", author "customer")."""

    class Meta:
        table_name: str = ""  # set by bind()

    inquiry_key = UnicodeAttribute(hash_key=True)  # "<store_id>#<inquiry_id>"
    reply_id = UnicodeAttribute(range_key=True)
    author = UnicodeAttribute()
    message = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    request_hash = UnicodeAttribute()
    email_state = UnicodeAttribute(default="pending")
    sla_round = NumberAttribute(null=True)
    reply_due_at = UTCDateTimeAttribute(null=True)  # customer follow-ups: the deadline they set
    author_email = UnicodeAttribute(null=True)  # staff replies by email: the member's address
    channel = UnicodeAttribute(null=True)  # "email" for entries that came by email; absent: API
    attachments = JSONAttribute(null=True)  # customer follow-ups by email: their files
    source_key = UnicodeAttribute(null=True)  # the raw email (inbound bucket)


class DeliveryItem(Model):
    """Exactly-once record of one outbound email (claim with lease, then sent)."""

    class Meta:
        table_name: str = ""  # set by bind()

    delivery_id = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()  # sending | sent
    lease_until = UTCDateTimeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class RateWindowItem(Model):
    """Recent auto-replies to one (store, hashed address): inquiry id -> epoch seconds sent."""

    class Meta:
        table_name: str = ""  # set by bind()

    key = UnicodeAttribute(hash_key=True)
    hits = MapAttribute[str, Any](default=dict)
    version = VersionAttribute()
    expires_at = TTLAttribute(null=True)


class EventItem(Model):
    """The inbox: one storefront event as accepted (its stream feeds the event worker)."""

    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # cart | order
    natural_id = UnicodeAttribute()
    body = UnicodeAttribute()  # the validated event, canonical JSON
    request_hash = UnicodeAttribute()
    accepted_response = UnicodeAttribute()
    received_at = UnicodeAttribute()  # an instant (dal._pynamo.instant): also read from the stream
    expires_at = TTLAttribute()


class DueRemindersIndex(GlobalSecondaryIndex["CartItem"]):
    """Sparse: only carts with a pending reminder carry reminder_shard/next_reminder_at, so the
    sweep's Query reads due reminders and nothing else (ordered, emptied and finished carts leave
    the index)."""

    class Meta:
        index_name = "due-reminders"
        projection = IncludeProjection(["reminder_step", "reminder_plan", "updated_at"])

    reminder_shard = UnicodeAttribute(hash_key=True)
    next_reminder_at = UnicodeAttribute(range_key=True)


class CartItem(Model):
    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    cart_id = UnicodeAttribute(range_key=True)
    customer_id = UnicodeAttribute(null=True)  # null on a stub an order made before the cart came
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    items = UnicodeAttribute(null=True)  # JSON list; prices as decimal strings
    currency = UnicodeAttribute(null=True)
    subtotal = UnicodeAttribute(null=True)  # decimal string: exact
    cart_url = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)  # an instant (dal._pynamo.instant): compares as text
    ordered_by = UnicodeAttribute(null=True)  # stop key of an order of the customer after the update
    named_by_order = UnicodeAttribute(null=True)  # stop key of an order naming the cart: for good
    reminders_sent = NumberAttribute(null=True)  # unused; `reminded` counts (kept for old items)
    reminded = UnicodeSetAttribute(null=True)  # "<updated_at>#<step>" of each reminder sent
    last_reminder_at = UnicodeAttribute(null=True)  # an instant
    recovered_order_id = UnicodeAttribute(null=True)
    recovered_amount = UnicodeAttribute(null=True)  # decimal string, in the order's currency
    recovered_currency = UnicodeAttribute(null=True)
    # The pending reminder (sparse index): its step, when, and the sequence's plan for this update.
    reminder_step = NumberAttribute(null=True)
    reminder_plan = UnicodeAttribute(null=True)  # JSON [[step, instant], ...]
    reminder_shard = UnicodeAttribute(null=True)
    next_reminder_at = UnicodeAttribute(null=True)
    # The update whose reminders were planned: the last step of applying it (a retried update that
    # failed before this is applied again; see dal/carts.unfinished).
    planned_update = UnicodeAttribute(null=True)
    due_reminders = DueRemindersIndex()


class MarketingItem(Model):
    """MarketingTable: per customer, the last marketing email (the frequency cap across flows,
    sk "last#<customer>"), and each decision of the gate (sk "decision#<customer>#<at>#<ref>"):
    why a customer got, or did not get, an email."""

    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    customer_id = UnicodeAttribute(null=True)
    last_sent_at = UnicodeAttribute(null=True)  # an instant
    flow = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    at = UnicodeAttribute(null=True)
    defer_until = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class CustomerCartLink(Model):
    """In CartsTable under "<store>#customer#<customer>": one item per cart of that customer."""

    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    cart_id = UnicodeAttribute(range_key=True)


class OrderEventItem(Model):
    """One event of an order (its history); `placed` events also carry the index attributes."""

    class Meta:
        table_name: str = ""  # set by bind()

    order_key = UnicodeAttribute(hash_key=True)  # store_id#order_id
    event_key = UnicodeAttribute(range_key=True)  # type#refund_id
    store_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    type = UnicodeAttribute()
    occurred_at = UnicodeAttribute()  # ISO 8601 UTC
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    cart_id = UnicodeAttribute(null=True)
    items = UnicodeAttribute(null=True)  # JSON list (placed; refunded: the items returned, if given)
    currency = UnicodeAttribute(null=True)
    total = UnicodeAttribute(null=True)
    shipping = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    refund_amount = UnicodeAttribute(null=True)


class CustomerOrderLink(Model):
    """In OrdersTable under "<store>!<customer>": one item per placed order, keyed
    "<placed_at>#<order_id>" (a strongly consistent Query finds orders placed since a time)."""

    class Meta:
        table_name: str = ""  # set by bind()

    order_key = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)


class ConsentItem(Model):
    """One entry of a customer's consent history (dal/consent.py). `entry_key` is
    "<customer_id>#<entry_id>": a customer's entries share one prefix of the store's partition, and
    the same statement always lands on the same item."""

    class Meta:
        table_name: str = ""  # set by bind()

    store_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    customer_id = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    marketing_email = BooleanAttribute()
    source = UnicodeAttribute()
    wording = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute()


_MODELS: list[tuple[type[Model], str]] = [
    (StoreItem, "stores_table"),
    (InquiryItem, "inquiries_table"),
    (DigestItem, "inquiries_table"),
    (RateWindowItem, "rate_limits_table"),
    (ReplyItem, "replies_table"),
    (DeliveryItem, "deliveries_table"),
    (EventItem, "events_table"),
    (CartItem, "carts_table"),
    (CustomerCartLink, "carts_table"),
    (MarketingItem, "marketing_table"),
    (OrderEventItem, "orders_table"),
    (CustomerOrderLink, "orders_table"),
    (ConsentItem, "consent_table"),
]
_bound = False


def register(models: tuple[tuple[type[Model], str], ...]) -> None:
    """Models defined in their own module (imported only by the code that uses them, so a cold
    start builds only the models it needs): bound like the ones here."""
    _MODELS.extend(models)
    if _bound:
        _bind(models)


def _bind(models: list[tuple[type[Model], str]] | tuple[tuple[type[Model], str], ...]) -> None:
    settings = get_settings()
    for model, attribute in models:
        try:
            model.Meta.table_name = getattr(settings, attribute)
        except SettingsError:
            model.Meta.table_name = ""  # only an error if that table is used (the CLI needs one)


def bind() -> None:
    global _bound
    if _bound:
        return
    _bind(_MODELS)
    _bound = True


def unbind() -> None:
    global _bound
    for model, _ in _MODELS:
        model._connection = None
        model.Meta.table_name = ""
    _bound = False
