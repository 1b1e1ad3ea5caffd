"""Domain records shared by logic and data access. Plain dataclasses: no AWS types leak upward."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

# The literals of the domain, once: schemas, logic and data access all use these.
Locale = Literal["ja", "en"]
LOCALES: tuple[Locale, ...] = get_args(Locale)
Channel = Literal["web_form", "email", "chat", "line", "sms", "social", "phone"]
Priority = Literal["urgent", "high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
InquiryStatus = Literal["open", "answered", "closed"]
# Auto-reply life cycle: pending -> sent, or pending -> suppressed (loop protection, rate limit).
AutoReplyState = Literal["pending", "sent", "suppressed"]
# Commerce: what a storefront event is about, and the life of an order.
EventKind = Literal["cart", "order", "review", "survey"]
OrderEventType = Literal["placed", "fulfilled", "delivered", "cancelled", "refunded"]
ORDER_EVENT_TYPES: tuple[OrderEventType, ...] = get_args(OrderEventType)
CartStatus = Literal["active", "emptied", "ordered", "recovered"]
# Staff alerts of the first-response SLA, and the morning digest that gathers them.
AlertKind = Literal["sla_reminder", "sla_breach", "sla_escalation", "sla_digest"]


@dataclass(frozen=True)
class SigningSecret:
    secret_id: str
    value: str
    created_at: datetime

    def __repr__(self) -> str:  # never print the value, even in a traceback
        return f"SigningSecret(secret_id={self.secret_id!r}, created_at={self.created_at.isoformat()})"


# The SLA policy's defaults, once (SlaPolicy below; stored policies and policy documents fall back
# to these fields).
DEFAULT_SLA_HOURS: dict[str, float] = {"urgent": 4, "high": 8, "normal": 24, "low": 48}


@dataclass(frozen=True)
class SlaPolicy:
    """First-response promise and staff alerting of one store (see logic/inquiries/sla.py)."""

    hours: tuple[tuple[str, float], ...] = tuple(DEFAULT_SLA_HOURS.items())
    reminder_hours_before: tuple[float, ...] = (4.0,)
    escalate_after_hours: float = 4.0
    escalate_every_hours: float = 24.0
    escalate_max: int = 3
    escalation_addresses: tuple[str, ...] = ()
    morning_digest: bool = False  # hold alerts that fall outside business hours for one email
    calendar: tuple[tuple[str, object], ...] = (("type", "24x7"),)

    def hours_for(self, priority: str) -> float:
        return dict(self.hours).get(priority, dict(self.hours)["normal"])


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    sender: str
    staff_addresses: tuple[str, ...]
    default_locale: Locale
    time_zone: str
    sla_hours: float  # the promise for normal inquiries (policy hours.normal)
    secrets: tuple[SigningSecret, ...] = field(default=(), repr=False)
    created_at: datetime | None = None
    policy: SlaPolicy = field(default_factory=SlaPolicy)
    # Keys of the unsubscribe links' tokens (logic/core/unsubscribe_tokens.py), oldest first: new
    # tokens use the last, every one verifies (tokens never expire). Not the API signing secrets.
    # Empty for a store created before these keys existed, until its first link is made.
    unsubscribe_keys: tuple[bytes, ...] = field(default=(), repr=False)
    # The validated marketing.json (logic/marketing/settings.py reads it); None: no marketing email.
    marketing: Mapping[str, Any] | None = None
    # The validated loyalty.json (logic/loyalty/settings.py reads it); None: every default.
    loyalty: Mapping[str, Any] | None = None
    # The validated reviews.json (logic/reviews/settings.py reads it); None: every default.
    reviews: Mapping[str, Any] | None = None
    # The validated email.json (logic/inquiries/email_settings.py reads it); None: every default.
    email: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Customer:
    email: str
    name: str | None = None
    customer_id: str | None = None
    locale: Locale | None = None


@dataclass(frozen=True)
class Attachment:
    """A file that came with an email, stored in the inbound bucket under `key`; never sent on
    to anyone unless staff attach it themselves."""

    name: str
    content_type: str
    size: int
    key: str


@dataclass(frozen=True)
class EmailOrigin:
    """What an inquiry or a follow-up that came by email keeps besides its text."""

    source_key: str  # the raw email in the inbound bucket, for audit
    message_id: str | None = None  # its Message-ID: our answers thread under it
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Inquiry:
    store_id: str
    inquiry_id: str
    customer: Customer
    locale: Locale
    channel: str
    subject: str
    message: str
    priority: str
    status: str
    received_at: datetime
    reply_due_at: datetime
    request_hash: str
    accepted_response: str
    order_id: str | None = None
    external_id: str | None = None
    priority_reason: str | None = None
    source_headers: dict[str, str] = field(default_factory=dict)
    first_response_at: datetime | None = None
    auto_reply_state: str = "pending"
    auto_reply_reason: str | None = None
    auto_reply_message_id: str | None = None
    auto_reply_sent_at: datetime | None = None
    sla_round: int = 0
    alert_plan: tuple[tuple[str, datetime], ...] = ()  # (kind, at), time order
    alert_index: int | None = None  # next alert to send; None = no alert pending
    closed_at: datetime | None = None
    # The customer's newest words: the first message, or a follow-up (staff alerts quote it).
    latest_message: str | None = None
    latest_message_at: datetime | None = None
    # Email channel: files the first email carried, the raw email kept for audit (inbound bucket
    # key), and its Message-ID (our answers are sent In-Reply-To it).
    attachments: tuple[Attachment, ...] = ()
    source_key: str | None = None
    email_message_id: str | None = None

    @property
    def newest_customer_message(self) -> str:
        return self.latest_message or self.message


@dataclass(frozen=True)
class Reply:
    store_id: str
    inquiry_id: str
    reply_id: str
    author: str
    message: str
    created_at: datetime
    request_hash: str
    email_state: str = "pending"
    sla_round: int = 0  # the SLA round this reply answered
    author_email: str | None = None  # a staff member's address (replies by email)
    channel: str = "api"  # "api" or "email"
    source_key: str | None = None  # a reply by email: the raw email in the inbound bucket
    attachments: tuple[Attachment, ...] = ()  # files staff attached (sent on with the reply)


@dataclass(frozen=True)
class CustomerMessage:
    """A customer follow-up on an inquiry. It either joins the running SLA round or, on an answered
    or closed inquiry, starts round `sla_round` with the next-response deadline `reply_due_at`."""

    store_id: str
    inquiry_id: str
    message_id: str
    message: str
    created_at: datetime
    request_hash: str
    sla_round: int
    reply_due_at: datetime
    channel: str = "api"  # "api" or "email"
    attachments: tuple[Attachment, ...] = ()
    source_key: str | None = None  # by email: the raw email in the inbound bucket


@dataclass(frozen=True)
class ConversationEntry:
    """One entry of an inquiry's conversation as stored (dal/replies.conversation): a staff reply
    or a customer follow-up (`from_customer`). The inquiry's first message is on the inquiry."""

    entry_id: str
    from_customer: bool
    author: str  # a staff reply: who answered (an address by API); a follow-up: "customer"
    message: str
    created_at: datetime
    channel: str = "api"  # "api" or "email"
    author_email: str | None = None  # a staff reply by email: the member's address
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class OutboundEmail:
    """A rendered email, ready for the mailer."""

    kind: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    raw_mime: bytes
    message_id: str
    # The store the email is sent for: SES tags the message with it, so that its bounce and
    # complaint notifications reach that store's suppression list (logic/marketing/bounces.py).
    store_id: str | None = None


# --- commerce -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedEvent:
    """A storefront event as the API stored it: the durable inbox entry whose stream hands it to
    the event worker. `body` is the validated event as canonical JSON (money as decimal strings)."""

    store_id: str
    event_id: str
    kind: EventKind
    natural_id: str
    body: str
    request_hash: str
    accepted_response: str
    received_at: datetime


@dataclass(frozen=True)
class LineItem:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    product_url: str | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class Cart:
    store_id: str
    cart_id: str
    customer_id: str
    email: str | None
    name: str | None
    locale: Locale | None
    items: tuple[LineItem, ...]
    currency: str
    subtotal: Decimal
    cart_url: str | None
    updated_at: datetime
    ordered_by: str | None = None  # the order that ended this cart's abandonment, if any
    reminders_sent: int = 0
    recovered_order_id: str | None = None
    reminded: frozenset[str] = frozenset()  # "<updated_at>#<step>" of each reminder sent

    @property
    def status(self) -> CartStatus:
        if self.recovered_order_id:
            return "recovered"
        if self.ordered_by:
            return "ordered"
        return "active" if self.items else "emptied"


@dataclass(frozen=True)
class OrderEvent:
    """One event in an order's life. The order's state is derived from all of them, so events
    that arrive late, twice or out of order end in the same state."""

    store_id: str
    order_id: str
    type: OrderEventType
    occurred_at: datetime
    customer_id: str
    email: str | None = None
    cart_id: str | None = None
    items: tuple[LineItem, ...] = ()  # placed: the order's; refunded: the items returned, if given
    name: str | None = None
    locale: Locale | None = None
    currency: str | None = None
    total: Decimal | None = None
    shipping: Decimal | None = None
    refund_id: str | None = None
    refund_amount: Decimal | None = None

    @property
    def event_key(self) -> str:
        """Its natural id within the order: the type, and for a refund its refund id."""
        return f"{self.type}#{self.refund_id or ''}"


@dataclass(frozen=True)
class ConsentEntry:
    """One statement of marketing consent (`marketing_email` true) or its withdrawal (false), with
    its proof: how it was given (`source`), the `wording` the customer saw, and when (`at`). Its
    `entry_id` is a digest of all of that (logic/marketing/consent_history.entry_id), so the same
    statement received twice is one entry. `recorded_at` is when it first reached us."""

    customer_id: str
    entry_id: str
    marketing_email: bool
    source: str
    wording: str
    at: datetime
    email: str | None = None
    name: str | None = None
    locale: Locale | None = None
    recorded_at: datetime | None = None
