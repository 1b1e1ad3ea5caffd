"""Unsubscribe links (CONTRACT.md, "Unsubscribe (public)"): make them, and answer them.

- `link_for(store, customer_id, base_url)`: the link a marketing email carries, in its
  `List-Unsubscribe` header and its visible footer. The marketing worker passes `base_url`, the
  API's public URL (`https://api.example.com`, or with a stage `https://x.execute-api...../Prod`);
  this module reads no setting for it.
- `confirm_page(token, locale_hint)`: the `GET` page with its confirm button.
- `unsubscribe(token, locale_hint)`: the `POST` (one-click, RFC 8058, or the page's button):
  records the withdrawal (consent history source `unsubscribe_link`) and answers the done page.

Both answers are `(status, html)`. A token is checked as unsubscribe_tokens.py says: the store it
claims (unauthenticated) only says whose keys to verify it with; a forged, altered, truncated,
other store's or unknown store's token answers 400 with the invalid page, and writes nothing.

The page's language: the customer's (the newest locale of their consent history), else
`locale_hint` (the browser's Accept-Language, see `preferred_locale`), else the store's default.

Keys: a store gets one at creation (store_admin.create_store); a store created before keys
existed gets one when its first link is made (`keys_for_links`), never when a token is checked
(a store without keys has issued no token, so every token for it is invalid).
"""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import urlsplit

from omotenashi import clock
from omotenashi.addresses import is_valid_email
from omotenashi.dal import stores as store_data
from omotenashi.domain import LOCALES, Locale, Store
from omotenashi.logic.core import unsubscribe_tokens
from omotenashi.logic.core.directory import STORE_ID_PATTERN, directory
from omotenashi.logic.core.errors import NotFound
from omotenashi.logic.marketing import consent
from omotenashi.logic.marketing.consent_history import ConsentState
from omotenashi.messaging.pages import mask_address, render_page
from omotenashi.observability import logger

PATH = "/v1/unsubscribe"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")  # the local stack serves plain http
_URL_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")  # RFC 3986's, no others
_LANGUAGE_RANGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*$")
_MAX_ACCEPT_LANGUAGE_ITEMS = 32


def link_for(store: Store, customer_id: str, base_url: str) -> str:
    """`{base_url}/v1/unsubscribe?token=...` for one customer of `store` (a guest's id, their
    address, is lower-cased as consent keys it), signed with the store's newest unsubscribe key.

    `base_url` is the API's public URL (https; plain http only for a loopback host, the local
    stack), without query or fragment; a trailing slash is dropped. ValueError for a bad
    `base_url` or an id that no customer can have."""
    base = _base_url(base_url)
    try:
        key = consent.customer_key(customer_id)
    except NotFound as error:
        raise ValueError("customer_id cannot name a customer") from error
    token = unsubscribe_tokens.issue(keys_for_links(store)[-1], store.store_id, key, clock.now())
    return f"{base}{PATH}?token={token}"


def keys_for_links(store: Store) -> tuple[bytes, ...]:
    """The store's unsubscribe keys, oldest first. A store created before keys existed gets its
    first one now (once: of two first uses at once, both answer the key that was written)."""
    if store.unsubscribe_keys:
        return store.unsubscribe_keys
    keys = store_data.add_first_unsubscribe_key(store.store_id, unsubscribe_tokens.new_key())
    directory.forget(store.store_id)  # the cached copy has no key
    logger.info("unsubscribe key created on first use", extra={"store_id": store.store_id})
    return keys


def confirm_page(token: str | None, locale_hint: str | None = None) -> tuple[int, str]:
    """GET: 200 and the confirm page (its form POSTs to this same link), or 400 and the invalid page."""
    found = _verified(token)
    if found is None:
        return 400, invalid_page(locale_hint)
    store, customer_id = found
    state = consent.state(store.store_id, customer_id)
    email = (state.email if state else None) or (customer_id if is_valid_email(customer_id) else None)
    context: dict[str, Any] = {
        "store": {"name": store.name},
        "customer": {
            "name": state.name if state else None,
            "masked_email": mask_address(email) if email else None,
        },
        # Relative, so it also holds behind a stage prefix; the token is base64url (no escaping).
        "action_url": f"?token={token}",
    }
    return 200, render_page("unsubscribe_page/confirm", _locale(state, locale_hint, store), context)


def unsubscribe(token: str | None, locale_hint: str | None = None) -> tuple[int, str]:
    """POST: record the withdrawal, effective at once, and answer 200 and the done page; again for
    a repeated POST (each is kept in the history as proof). 400 and the invalid page, writing
    nothing, for a token that is not valid."""
    found = _verified(token)
    if found is None:
        return 400, invalid_page(locale_hint)
    store, customer_id = found
    state = consent.record_unsubscribe(store.store_id, customer_id, clock.now())
    logger.info("unsubscribed through a link", extra={"store_id": store.store_id})
    context = {"store": {"name": store.name}}
    return 200, render_page("unsubscribe_page/done", _locale(state, locale_hint, store), context)


def invalid_page(locale_hint: str | None = None) -> str:
    """The 400 page (written in both languages; `locale_hint` picks the first)."""
    return render_page("unsubscribe_page/invalid", preferred_locale(locale_hint) or "ja", {})


def preferred_locale(accept_language: str | None) -> Locale | None:
    """The supported locale an Accept-Language header prefers most ("en-US,en;q=0.9,ja;q=0.8" →
    "en"), or None (absent, unparsable, or naming neither ja nor en)."""
    if not accept_language:
        return None
    best: Locale | None = None
    best_quality = 0.0
    for item in accept_language.split(",")[:_MAX_ACCEPT_LANGUAGE_ITEMS]:
        language, *parameters = item.split(";")
        match = _LANGUAGE_RANGE.match(language)
        if match is None:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # also NaN
                    quality = 0.0
        primary = match.group(1).lower()
        if primary in LOCALES and quality > best_quality:  # ties: the first listed
            best, best_quality = cast(Locale, primary), quality
    return best


def _verified(token: str | None) -> tuple[Store, str] | None:
    """(store, customer key) of a valid token; None for anything else."""
    if not token:
        return None
    try:
        store_id = unsubscribe_tokens.peek_store_id(token)
    except unsubscribe_tokens.InvalidToken:
        return _refused("malformed")
    if not STORE_ID_PATTERN.match(store_id):
        return _refused("no such store")
    store = directory.get(store_id)
    for attempt in range(2):
        if store is None:
            return _refused("no such store")
        try:
            claim = unsubscribe_tokens.verify(store.unsubscribe_keys, token, store.store_id)
            return store, consent.customer_key(claim.customer_id)
        except unsubscribe_tokens.InvalidToken:
            if attempt:
                break
            # The cached store may predate a key (added on first use or rotated elsewhere).
            store = directory.refresh_if_stale(store_id)
        except NotFound:  # signed, but names no possible customer
            break
    return _refused("not signed by the store")


def _refused(reason: str) -> tuple[Store, str] | None:
    logger.info("unsubscribe token refused", extra={"reason": reason})  # never the token
    return None


def _locale(state: ConsentState | None, locale_hint: str | None, store: Store) -> Locale:
    if state is not None and state.locale in LOCALES:
        return state.locale
    return preferred_locale(locale_hint) or store.default_locale


def _base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not _URL_CHARACTERS.match(base_url):
        raise ValueError("base_url must be an http(s) URL (RFC 3986 characters only)")
    parts = urlsplit(base_url)
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        raise ValueError("base_url must have no query or fragment")
    if not parts.hostname or "@" in parts.netloc:
        raise ValueError("base_url must name a host (and no user)")
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if parts.scheme != "https" and not loopback:
        raise ValueError("base_url must be https (plain http only for a loopback host)")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
