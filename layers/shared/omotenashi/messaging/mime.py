"""Building the raw MIME message: multipart/alternative (text + HTML), UTF-8, our headers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from omotenashi.domain import OutboundEmail
from omotenashi.messaging.templates import RenderedMessage

# Controls, lone surrogates, line separators and bidi overrides: never part of a display name.
_DISPLAY_NAME_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def display_name(name: str | None) -> str:
    """A name safe for a From or To header. The API refuses such characters in names already; this
    is defence in depth for data stored before it did (or written by other paths): Python's email
    package raises on a name holding VT, FF, NEL or U+2028, which would dead-letter the email."""
    if not name:
        return ""
    return " ".join(_DISPLAY_NAME_UNSAFE.sub(" ", name).split())


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1]


def message_id_for(kind: str, reference: str, sender: str) -> str:
    """Deterministic, so a retried send carries the same Message-ID. SES replaces it with its own
    (see dal.mailer.delivered_message_id); other transports keep it."""
    return f"<{kind}.{reference}@{domain_of(sender)}>"


@dataclass(frozen=True)
class OutgoingFile:
    """A file sent with an email (staff attached it to their reply)."""

    name: str
    content_type: str
    content: bytes = field(repr=False)


def build_email(
    *,
    kind: str,
    sender: str,
    sender_name: str | None,
    recipient: str,
    recipient_name: str | None,
    rendered: RenderedMessage,
    reference: str,
    sent_at: datetime,
    automated: bool = True,
    extra_headers: dict[str, str] | None = None,
    store_id: str | None = None,
    attachments: Sequence[OutgoingFile] = (),
) -> OutboundEmail:
    message = EmailMessage(policy=SMTP)
    local, _, domain = sender.partition("@")
    message["From"] = Address(display_name=display_name(sender_name), username=local, domain=domain)
    to_local, _, to_domain = recipient.partition("@")
    message["To"] = Address(display_name=display_name(recipient_name), username=to_local, domain=to_domain)
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(sent_at)
    message_id = message_id_for(kind, reference, sender)
    message["Message-ID"] = message_id
    message["X-Omotenashi-Kind"] = kind
    if store_id:
        # Read back from SES's bounce and complaint notifications (mail.headers) when they come
        # without the message's tags (identity notifications rather than event publishing).
        message["X-Omotenashi-Store"] = store_id
    if automated:
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834
        message["X-Auto-Response-Suppress"] = "All"  # stop Exchange out-of-office loops
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for file in attachments:  # the body becomes multipart/mixed: alternative, then the files
        maintype, _, subtype = file.content_type.partition("/")
        if not maintype or not subtype or "/" in subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.name)
    return OutboundEmail(
        kind=kind,
        sender=sender,
        recipients=(recipient,),
        subject=rendered.subject,
        raw_mime=message.as_bytes(),
        message_id=message_id,
        store_id=store_id,
    )
