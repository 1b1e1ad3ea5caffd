"""The reply-by-email addresses an email carries as its `Reply-To` (issue 11): the customer's on
what the customer gets (the auto-reply, staff replies), each staff member's own on what staff get
(new-inquiry notices, SLA reminders and alerts). Mail to them comes back through SES receiving to
logic/inquiries/inbound_mail.py, which reads them with the same keys.

None when the store cannot receive mail (its id is not a DNS label and it has no receiving domain
of its own): such emails go without a Reply-To, as before.
"""

from __future__ import annotations

from omotenashi.domain import Inquiry, Store
from omotenashi.logic.inquiries import email_settings, reply_addresses
from omotenashi.settings import get_settings


def receiving_domain(store: Store) -> str | None:
    return email_settings.receiving_domain(store, get_settings().receiving_domain)


def _keys(store: Store) -> tuple[bytes, ...]:
    from omotenashi.logic.marketing.unsubscribe import keys_for_links

    return keys_for_links(store)  # a store made before unsubscribe keys gets its first one


def customer_reply_to(store: Store, inquiry_id: str) -> str | None:
    domain = receiving_domain(store)
    if domain is None:
        return None
    return reply_addresses.customer_address(
        _keys(store), store_id=store.store_id, inquiry_id=inquiry_id, domain=domain
    )


def staff_reply_to(store: Store, inquiry_id: str, staff: str) -> str | None:
    domain = receiving_domain(store)
    if domain is None:
        return None
    return reply_addresses.staff_address(
        _keys(store), store_id=store.store_id, inquiry_id=inquiry_id, staff=staff, domain=domain
    )


def customers_message_id(inquiry: Inquiry) -> str | None:
    """`<id>` of the customer's own email (an inquiry that came by email), for In-Reply-To and
    References; None when there is none or it would not survive as a header (non-ASCII, spaces,
    too long: a forged or broken Message-ID must not break our headers)."""
    bare = (inquiry.email_message_id or "").strip().strip("<>").strip()
    if bare and bare.isascii() and bare.isprintable() and " " not in bare and len(bare) <= 900:
        return f"<{bare}>"
    return None


def support_address(store: Store) -> str | None:
    """The first support address (where a customer writes to open an inquiry)."""
    domain = receiving_domain(store)
    if domain is None:
        return None
    return f"{email_settings.settings_of(store).support_addresses[0]}@{domain}"
