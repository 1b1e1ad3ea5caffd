"""Public HTML pages (the unsubscribe link's), rendered like the emails' HTML.

A page is `templates/<kind>_page/<locale>/<page>.html`, named `"<kind>_page/<page>"`, from the
same folder and Jinja2 environment as the emails (messaging/templates.py): HTML is autoescaped and
an undefined variable is an error. A folder whose name ends in `_page` holds pages, not an email
kind. The pages extend `_partials/page/layout.html` (viewport, system fonts, no external
resources, no JavaScript).

`templates/unsubscribe_page/<locale>/`:
- `confirm.html` (GET with a valid token): `store.name`; `customer.name` and
  `customer.masked_email` (either may be None: the name is shown if given, else the masked
  address, see `mask_address`); `action_url`, the link as requested, `?token=` included: the
  form POSTs there with `List-Unsubscribe=One-Click`, the body of an RFC 8058 one-click POST.
- `done.html` (after the POST): `store.name`.
- `invalid.html` (400: forged, altered or unknown token): no variables, and nothing about why;
  written in both languages since the token, and so the customer's locale, is unknown.

Serve them with `Content-Type: text/html; charset=utf-8`, `Cache-Control: no-store` and
`Referrer-Policy: no-referrer` (the address holds the token); the layout also says so in meta tags.
"""

from __future__ import annotations

import re
from typing import Any

LOCALES = ("ja", "en")
_NAME = re.compile(r"^([a-z][a-z0-9_]*_page)/([a-z][a-z0-9_]*)$")


def render_page(name: str, locale: str, context: dict[str, Any]) -> str:
    """The page `name` ("unsubscribe_page/confirm") in `locale` ("ja" or "en")."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"not a page name: {name!r}")
    if locale not in LOCALES:
        raise ValueError(f"no pages in locale {locale!r}")
    # Imported here, not at the top: the API serves these pages, and its cold start loads neither
    # the template engine nor the email modules (tests/unit/test_architecture.py).
    from omotenashi.messaging.templates import environment

    kind, page = match.groups()
    rendered: str = environment().get_template(f"{kind}/{locale}/{page}.html").render(context)
    return rendered


def mask_address(address: str) -> str:
    """An address as an unsubscribe page may show it to whoever holds the link: the first
    character of the local part and the domain ("t***@example.com"); the length is not shown."""
    local, at, domain = address.strip().rpartition("@")
    if not at:  # not an address: keep the first character only
        return f"{domain[:1]}***" if domain else ""
    return f"{local[:1]}***@{domain}"
