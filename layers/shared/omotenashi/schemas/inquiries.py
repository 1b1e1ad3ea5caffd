"""Request and response models of the inquiry routes. They drive request validation (422 naming
each bad field) and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from omotenashi.domain import AutoReplyState, Channel, InquiryStatus, Locale, Priority
from omotenashi.schemas.common import (
    MAX_HEADERS,
    Email,
    Identifier,
    ShortText,
    SourceHeaders,
    multi_line,
    not_blank,
    source_headers,
)


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: Email = Field(description="Where the auto-reply and staff replies go.")
    name: Annotated[ShortText, AfterValidator(not_blank)] | None = None
    id: Identifier | None = Field(default=None, description="The storefront's customer id.")
    locale: Locale | None = Field(default=None, description="Defaults to the store's locale.")


class InquiryIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer: CustomerIn
    channel: Channel
    subject: Annotated[ShortText, AfterValidator(not_blank)]
    message: Annotated[
        str,
        StringConstraints(min_length=1, max_length=10_000),
        AfterValidator(multi_line),
        AfterValidator(not_blank),
    ]
    order_id: Identifier | None = None
    external_id: Identifier | None = Field(
        default=None, description="The storefront's own id; deduplicates when no Idempotency-Key is sent."
    )
    priority: Priority | None = Field(default=None, description="Defaults to normal.")
    headers: Annotated[SourceHeaders | None, AfterValidator(source_headers)] = Field(
        default=None,
        max_length=MAX_HEADERS,
        description="For channel email: the original message's headers (loop protection reads them).",
    )


class InquiryAccepted(BaseModel):
    inquiry_id: str
    status: InquiryStatus
    received_at: str
    reply_due_at: str


class CustomerOut(BaseModel):
    email: str
    name: str | None = None
    id: str | None = None
    locale: Locale | None = None


class InquiryOut(BaseModel):
    inquiry_id: str
    status: InquiryStatus
    channel: str
    subject: str
    message: str
    customer: CustomerOut
    locale: Locale
    priority: Priority
    priority_reason: str | None = Field(
        default=None, description="Why: set_by_storefront, or the classifier's rule (e.g. damaged_item)."
    )
    received_at: str
    reply_due_at: str
    first_response_at: str | None
    closed_at: str | None = None
    order_id: str | None = None
    external_id: str | None = None
    auto_reply: AutoReplyState


MessageType = Literal["customer", "staff"]


class AttachmentOut(BaseModel):
    name: str = Field(description="The file name the sender gave it.", examples=["receipt.pdf"])
    content_type: str = Field(examples=["application/pdf"])
    size: int = Field(description="Bytes.", examples=[48213])
    url: str = Field(
        description="A pre-signed download link, valid for 15 minutes from this response; read the "
        "thread again for a fresh one."
    )


class MessageOut(BaseModel):
    id: str = Field(
        description="The entry's id (the first message has the inquiry's id).", examples=["rep_3k9x2m"]
    )
    type: MessageType = Field(description="customer: the customer's words; staff: a staff reply.")
    author: str = Field(
        description="customer: the customer's name, else their email address; staff: the member's "
        "display name from the store's email settings, else the author as recorded.",
        examples=["山田太郎", "佐藤 花子"],
    )
    at: str = Field(description="When it was received or written (UTC).", examples=["2026-11-22T01:02:03Z"])
    message: str
    channel: str = Field(
        description="The first message: the inquiry's channel. Later entries: api, or email when they "
        "came by email.",
        examples=["web_form", "api", "email"],
    )
    attachments: list[AttachmentOut] = Field(description="Files the message came with (email only).")


class InquiryThreadOut(InquiryOut):
    messages: list[MessageOut] = Field(
        description="The conversation, oldest first: the customer's first message, then every "
        "follow-up and staff reply."
    )


class InquiryListOut(BaseModel):
    inquiries: list[InquiryOut] = Field(
        description="Newest first (received_at, then inquiry_id); each as GET /v1/inquiries/{id} "
        "answers, without messages."
    )
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null when there is nothing more. A page may "
        "hold fewer than limit inquiries (even none) and still have a next_cursor."
    )


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    author: Email = Field(description="The staff member answering (recorded, not shown to the customer).")
    message: Annotated[
        str,
        StringConstraints(min_length=1, max_length=20_000),
        AfterValidator(multi_line),
        AfterValidator(not_blank),
    ]


class ReplyCreated(BaseModel):
    reply_id: str
    inquiry_id: str


class MessageCreated(BaseModel):
    message_id: str
    inquiry_id: str
    status: Literal["open"]
    reply_due_at: str = Field(description="When staff must answer (the new deadline if this reopened it).")


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: Annotated[
        str,
        StringConstraints(min_length=1, max_length=10_000),
        AfterValidator(multi_line),
        AfterValidator(not_blank),
    ]
