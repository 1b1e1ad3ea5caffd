"""Pydantic models of the HTTP API (request bodies, responses, queue messages).

They drive request validation (422 naming each bad field) and the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from omotenashi.logic.addresses import is_valid_email


def _email(value: str) -> str:
    value = value.strip()
    if not is_valid_email(value):
        raise ValueError("must be a valid email address")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# Text rules. Every C0 and C1 control (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) and lone
# surrogates are refused everywhere text is stored, except TAB, LF and CR in multi-line bodies
# (browsers submit textarea line breaks as CRLF). Single-line fields (names, subjects) also refuse
# TAB, the line and paragraph separators U+2028/U+2029 (which str.splitlines() and Python's email
# headers treat as line breaks) and the bidi embeddings, overrides and isolates U+202A-U+202E and
# U+2066-U+2069 (they make a name or subject read differently from what it is). LRM/RLM, ZWJ and
# other format characters stay: real names and emoji use them.
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Header field values (RFC 7230 field-value): visible characters, space and TAB, no line breaks.
_HEADER_VALUE_FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
# Header field names: an RFC 7230 token. Anything else (an empty name above all, which DynamoDB
# refuses as an attribute name) could be stored and never read back.
HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$"
_HEADER_NAME = re.compile(HEADER_NAME_PATTERN)
MAX_HEADER_VALUE = 2000


def _describe(character: str) -> str:
    return f"U+{ord(character):04X}"


def forbidden_character(value: str, *, multi_line: bool = False) -> str | None:
    """The first character the text rules above refuse, as U+XXXX, or None."""
    found = (_MULTI_LINE_FORBIDDEN if multi_line else _SINGLE_LINE_FORBIDDEN).search(value)
    return _describe(found.group()) if found else None


def _single_line(value: str) -> str:
    found = forbidden_character(value)
    if found:
        raise ValueError(f"must be a single line without control characters (found {found})")
    return value


def _multi_line(value: str) -> str:
    found = forbidden_character(value, multi_line=True)
    if found:
        raise ValueError(
            f"must not contain control characters other than line breaks and tabs (found {found})"
        )
    return value


def _source_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """Header names must be tokens and values single lines: both are stored as a DynamoDB map and
    read back by loop protection, so what would not survive the round trip is refused here."""
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.fullmatch(name):
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise ValueError(
                f"header name {shown!r} must be 1-200 token characters "
                "(A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~)"
            )
        found = _HEADER_VALUE_FORBIDDEN.search(value)
        if found:
            raise ValueError(
                f"header {name} must be one line without control characters "
                f"(found {_describe(found.group())})"
            )
    return headers


Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_single_line)]
MAX_HEADERS = 100
# Documented as validated: names are tokens (propertyNames), values strings of at most 2000.
SourceHeaders = Annotated[
    dict[str, Annotated[str, StringConstraints(max_length=MAX_HEADER_VALUE)]],
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_HEADERS,
            "propertyNames": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "pattern": HEADER_NAME_PATTERN,
            },
            "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE},
        }
    ),
]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]

ChannelName = Literal["web_form", "email", "chat", "line", "sms", "social", "phone"]
LocaleName = Literal["ja", "en"]
PriorityName = Literal["urgent", "high", "normal", "low"]


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: Email = Field(description="Where the auto-reply and staff replies go.")
    name: Annotated[ShortText, AfterValidator(_not_blank)] | None = None
    id: Identifier | None = Field(default=None, description="The storefront's customer id.")
    locale: LocaleName | None = Field(default=None, description="Defaults to the store's locale.")


class InquiryIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer: CustomerIn
    channel: ChannelName
    subject: Annotated[ShortText, AfterValidator(_not_blank)]
    message: Annotated[
        str,
        StringConstraints(min_length=1, max_length=10_000),
        AfterValidator(_multi_line),
        AfterValidator(_not_blank),
    ]
    order_id: Identifier | None = None
    external_id: Identifier | None = Field(
        default=None, description="The storefront's own id; deduplicates when no Idempotency-Key is sent."
    )
    priority: PriorityName | None = Field(default=None, description="Defaults to normal.")
    headers: Annotated[SourceHeaders | None, AfterValidator(_source_headers)] = Field(
        default=None,
        max_length=MAX_HEADERS,
        description="For channel email: the original message's headers (loop protection reads them).",
    )


class InquiryAccepted(BaseModel):
    inquiry_id: str
    status: Literal["open", "answered", "closed"]
    received_at: str
    reply_due_at: str


class CustomerOut(BaseModel):
    email: str
    name: str | None = None
    id: str | None = None
    locale: LocaleName | None = None


class InquiryOut(BaseModel):
    inquiry_id: str
    status: Literal["open", "answered", "closed"]
    channel: str
    subject: str
    message: str
    customer: CustomerOut
    locale: LocaleName
    priority: PriorityName
    priority_reason: str | None = Field(
        default=None, description="Why: set_by_storefront, or the classifier's rule (e.g. damaged_item)."
    )
    received_at: str
    reply_due_at: str
    first_response_at: str | None
    closed_at: str | None = None
    order_id: str | None = None
    external_id: str | None = None
    auto_reply: Literal["pending", "sent", "suppressed"]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    type: str
    message: str
    fields: list[FieldError] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class InquiryJob(BaseModel):
    """The message on the inquiry queue."""

    store_id: Annotated[str, StringConstraints(min_length=1, max_length=63)]
    inquiry_id: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    author: Email = Field(description="The staff member answering (recorded, not shown to the customer).")
    message: Annotated[
        str,
        StringConstraints(min_length=1, max_length=20_000),
        AfterValidator(_multi_line),
        AfterValidator(_not_blank),
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
        AfterValidator(_multi_line),
        AfterValidator(_not_blank),
    ]


class MessageJob(BaseModel):
    """A job on the message queue: a staff alert or a staff reply to email."""

    type: Literal["sla_alert", "inquiry_reply"]
    store_id: Annotated[str, StringConstraints(min_length=1, max_length=63)]
    inquiry_id: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    reply_id: str | None = None
    sla_round: int | None = None
    alert_index: int | None = None
    kind: Literal["sla_reminder", "sla_breach", "sla_escalation", "sla_digest"] | None = None
    due_at: str | None = None
