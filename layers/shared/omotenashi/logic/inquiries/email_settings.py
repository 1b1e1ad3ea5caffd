"""A store's email-channel settings (`omotenashi stores set-email STORE --file email.json`): where
it receives mail, whether staff get a notice of each new inquiry, and the names staff replies are
shown with. Every field has a default, so a store without a document receives at
`support@<store_id>.<the stack's receiving domain>`.

Pure: `validate` turns the document into `EmailSettings` or raises `InvalidEmailSettings` naming
the bad field.

```json
{
  "receiving_domain": "shop.example",
  "support_addresses": ["support", "info"],
  "new_inquiry_notice": true,
  "staff_names": {"staff@shop.example": "山田 花子"}
}
```
`receiving_domain` null (default): `<store_id>.<ReceivingDomain>`. A domain of the store's own must
be verified for SES receiving in the stack's account and region (its MX record points at SES), and
no other store may use it. `support_addresses` are local parts at that domain (default
`["support"]`): mail to any of them opens an inquiry. A store may forward its own public address
(say `info@shop.example` at another provider) to one of them. `new_inquiry_notice` (default true):
staff get a `staff_new_inquiry` email for each new inquiry (held for the morning digest like the SLA
alerts when the store's policy uses it). `staff_names` maps each staff address (one of the store's
`staff_addresses`) to the name the customer sees on that member's replies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omotenashi.domain import Store

DEFAULT_SUPPORT_ADDRESSES = ("support",)
MAX_SUPPORT_ADDRESSES = 10
MAX_NAME_CHARS = 100
_KEYS = {"receiving_domain", "support_addresses", "new_inquiry_notice", "staff_names"}
# RFC 1035 labels, lower case (stored folded: DNS is case-insensitive), at least two of them.
_DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
# Dot-atom local parts without the reply+ prefix the reply addresses use.
_LOCAL_PART = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class InvalidEmailSettings(ValueError):
    """The message starts with the field it is about."""


@dataclass(frozen=True)
class EmailSettings:
    receiving_domain: str | None = None
    support_addresses: tuple[str, ...] = DEFAULT_SUPPORT_ADDRESSES
    new_inquiry_notice: bool = True
    staff_names: tuple[tuple[str, str], ...] = field(default=())

    def to_document(self) -> dict[str, Any]:
        return {
            "receiving_domain": self.receiving_domain,
            "support_addresses": list(self.support_addresses),
            "new_inquiry_notice": self.new_inquiry_notice,
            "staff_names": dict(self.staff_names),
        }

    def staff_name(self, address: str) -> str | None:
        return dict(self.staff_names).get(address.strip().lower())


def validate(document: Any, store: Store) -> EmailSettings:
    if not isinstance(document, Mapping):
        raise InvalidEmailSettings("email settings must be a JSON object")
    unknown = sorted(set(document) - _KEYS)
    if unknown:
        raise InvalidEmailSettings(f"{unknown[0]}: unknown field")
    domain = document.get("receiving_domain")
    if domain is not None:
        if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain.strip().lower().rstrip(".")):
            raise InvalidEmailSettings("receiving_domain must be a domain name such as shop.example, or null")
        domain = domain.strip().lower().rstrip(".")
    support = document.get("support_addresses", list(DEFAULT_SUPPORT_ADDRESSES))
    if not isinstance(support, list) or not 1 <= len(support) <= MAX_SUPPORT_ADDRESSES:
        raise InvalidEmailSettings(
            f"support_addresses must be a list of 1 to {MAX_SUPPORT_ADDRESSES} local parts"
        )
    parts: list[str] = []
    for value in support:
        part = value.strip().lower() if isinstance(value, str) else ""
        if not _LOCAL_PART.fullmatch(part) or part.startswith("reply+") or "+" in part:
            raise InvalidEmailSettings(
                "support_addresses must be local parts such as support (a-z 0-9 . _ -, no @ or +)"
            )
        if part not in parts:
            parts.append(part)
    notice = document.get("new_inquiry_notice", True)
    if not isinstance(notice, bool):
        raise InvalidEmailSettings("new_inquiry_notice must be true or false")
    names = document.get("staff_names", {})
    if not isinstance(names, Mapping):
        raise InvalidEmailSettings("staff_names must be an object of staff address -> name")
    staff = {address.lower() for address in store.staff_addresses}
    pairs: list[tuple[str, str]] = []
    for address, name in names.items():
        folded = str(address).strip().lower()
        if folded not in staff:
            raise InvalidEmailSettings(f"staff_names: {address} is not one of the store's staff addresses")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME_CHARS or "\n" in name:
            raise InvalidEmailSettings(
                f"staff_names: the name of {address} must be 1-{MAX_NAME_CHARS} characters"
            )
        pairs.append((folded, name.strip()))
    return EmailSettings(domain, tuple(parts), notice, tuple(sorted(pairs)))


def settings_of(store: Store) -> EmailSettings:
    """The store's settings; a stored document was validated when it was set."""
    document = store.email or {}
    return EmailSettings(
        receiving_domain=document.get("receiving_domain"),
        support_addresses=tuple(document.get("support_addresses") or DEFAULT_SUPPORT_ADDRESSES),
        new_inquiry_notice=bool(document.get("new_inquiry_notice", True)),
        staff_names=tuple(sorted((k, v) for k, v in (document.get("staff_names") or {}).items())),
    )


def default_domain(store_id: str, stack_domain: str) -> str | None:
    """`<store_id>.<stack domain>`, or None when the store id is not a DNS label (has `_`)."""
    return f"{store_id}.{stack_domain}" if _DNS_LABEL.fullmatch(store_id) else None


def receiving_domain(store: Store, stack_domain: str) -> str | None:
    return settings_of(store).receiving_domain or default_domain(store.store_id, stack_domain)


def store_id_from_default_domain(domain: str, stack_domain: str) -> str | None:
    """The store a `<store_id>.<stack domain>` names, or None for any other domain."""
    suffix = "." + stack_domain
    if not domain.endswith(suffix):
        return None
    label = domain[: -len(suffix)]
    return label if _DNS_LABEL.fullmatch(label) else None
