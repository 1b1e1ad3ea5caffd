"""Email address checks. Deliberately simple (no DNS): syntactic sanity and header safety.

What is accepted, and why:

- The local part is an RFC 5322 dot-atom: one or more runs of atext (letters, digits and
  ``!#$%&'*+/=?^_`{|}~-``) joined by single dots, at most 64 characters. So plus addressing
  (``taro+shop@``), dots inside (``taro.yamada@``) and apostrophes (``o'brien@``) pass, while a
  leading, trailing or doubled dot (``.a@``, ``a.@``, ``a..b@``) is refused: mail servers reject
  those, and Amazon SES refuses to send to them.
- Quoted local parts (``"a b"@example.jp``) and non-ASCII local parts (SMTPUTF8) are refused:
  SES does not send to them, and shops do not see them in practice.
- The domain is ASCII: labels of letters, digits and inner hyphens, at least two of them, the last
  (the TLD) two characters or more. Subdomains pass; an internationalised domain passes in its
  punycode form (``xn--eckwd4c7c.xn--zckzah``), which is what storefronts and browsers send; the
  Unicode form (``例え.jp``) is refused rather than silently rewritten.
- At most 254 characters in all (RFC 5321's path limit minus the angle brackets).

No whitespace, control characters, quotes or angle brackets can pass, so an accepted address is
safe in a header.
"""

from __future__ import annotations

import hashlib
import re

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_EMAIL = re.compile(
    rf"(?=[^@]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@(?=.{{1,253}}\Z)"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]"
)


def is_valid_email(address: str) -> bool:
    return len(address) <= 254 and _EMAIL.fullmatch(address) is not None


def address_digest(address: str) -> str:
    """A stable pseudonym for an address, for keys and logs that must not hold the address."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:32]
