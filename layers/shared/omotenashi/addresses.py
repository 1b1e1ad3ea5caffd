"""Email address checks. Deliberately simple (no DNS): syntactic sanity and header safety."""

from __future__ import annotations

import hashlib
import re

# local@domain.tld with no whitespace, control characters, quotes or angle brackets; the domain has
# at least one dot. This refuses header-injection attempts and obvious typos without rejecting
# the unusual-but-valid addresses real customers have (plus signs, subdomains, IDN in punycode).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$"
)


def is_valid_email(address: str) -> bool:
    return len(address) <= 254 and _EMAIL.match(address) is not None and ".." not in address


def address_digest(address: str) -> str:
    """A stable pseudonym for an address, for keys and logs that must not hold the address."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:32]
