"""The one email skeleton: every email, whatever its kind, is composed here.

A `Draft` says what to send (kind, store, recipient, the template's context, the reference its
Message-ID derives from); `compose` renders the kind's templates in the recipient's locale with the
store in the context and builds the MIME message (multipart text + HTML, the kind header, RFC 3834
headers for automated mail). What every email of a class carries is added here, once: marketing's
legal footer and RFC 8058 List-Unsubscribe headers belong in this function, not in each template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omotenashi.domain import OutboundEmail, Store
from omotenashi.messaging.footer import render_footer, with_footer
from omotenashi.messaging.mime import OutgoingFile, build_email
from omotenashi.messaging.templates import RenderedMessage, render


@dataclass(frozen=True)
class MarketingFooter:
    """What makes an email lawful marketing under 特定電子メール法 and RFC 8058: the sender's postal
    address and contact, and the customer's own unsubscribe link (https, one-click)."""

    postal_address: str
    contact: str
    unsubscribe_url: str


@dataclass(frozen=True)
class Draft:
    kind: str
    store: Store
    locale: str
    to: str
    to_name: str | None
    context: Mapping[str, Any]
    reference: str  # unique per email of the kind: the Message-ID derives from it
    automated: bool = True  # False for a person's words (a staff reply): no Auto-Submitted
    headers: Mapping[str, str] = field(default_factory=dict)  # threading (In-Reply-To, References)
    marketing: MarketingFooter | None = None  # set for every marketing email, never for others
    attachments: tuple[OutgoingFile, ...] = ()  # files a staff member attached to their reply


def render_draft(draft: Draft) -> RenderedMessage:
    """The subject, text and HTML the email of `draft` carries (the store's overrides, the store in
    the context, marketing's legal footer): what `compose` sends, and what `templates preview` shows."""
    store = draft.store
    context = {"store": {"name": store.name, "sender": store.sender}, **draft.context}
    rendered = render(draft.kind, draft.locale, context, store_id=store.store_id)
    if draft.marketing is not None:
        # Added here, for every marketing email of every flow, never by a template: the legal footer
        # in both parts (and, in compose, the RFC 8058 one-click unsubscribe headers).
        footer = draft.marketing
        rendered = with_footer(
            rendered,
            render_footer(
                draft.locale, store.name, footer.postal_address, footer.contact, footer.unsubscribe_url
            ),
        )
    return rendered


def compose(draft: Draft, sent_at: datetime) -> OutboundEmail:
    store = draft.store
    rendered = render_draft(draft)
    headers = dict(draft.headers)
    if draft.marketing is not None:
        footer = draft.marketing
        headers["List-Unsubscribe"] = f"<{footer.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return build_email(
        kind=draft.kind,
        sender=store.sender,
        sender_name=store.name,
        recipient=draft.to,
        recipient_name=draft.to_name,
        rendered=rendered,
        reference=draft.reference,
        sent_at=sent_at,
        automated=draft.automated,
        extra_headers=headers,
        store_id=store.store_id,
        attachments=draft.attachments,
    )
