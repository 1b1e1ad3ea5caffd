"""Store administration (the ops CLI, the local stack's seeding): create, update, SLA policy, secret
rotation, unsubscribe key rotation. The hot-path lookup is directory.py."""

from __future__ import annotations

import os
import re
import secrets as secrets_module
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omotenashi.dal import stores as store_data
from omotenashi.domain import DEFAULT_SLA_HOURS, LOCALES, Locale, SigningSecret, SlaPolicy, Store
from omotenashi.logic.core.directory import STORE_ID_PATTERN, directory
from omotenashi.logic.core.unsubscribe_tokens import new_key

MAX_ACTIVE_SECRETS = 2


class InvalidStore(ValueError):
    pass


def new_secret(now: datetime) -> SigningSecret:
    return SigningSecret(
        secret_id="sec_" + secrets_module.token_hex(6),
        value="whsec_" + secrets_module.token_urlsafe(32),
        created_at=now,
    )


def validate_store(store: Store) -> None:
    if not STORE_ID_PATTERN.match(store.store_id):
        raise InvalidStore("store_id must be 1-63 of a-z, 0-9, '-', '_' and start with a letter or digit")
    from omotenashi.schemas.common import (
        forbidden_character,  # lazily: pydantic is not needed to authenticate
    )

    if not 1 <= len(store.name.strip()) <= 100 or forbidden_character(store.name):
        raise InvalidStore("name must be 1-100 characters on one line, without control characters")
    if store.default_locale not in LOCALES:
        raise InvalidStore("default_locale must be ja or en")
    try:
        ZoneInfo(store.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidStore(f"unknown time zone {store.time_zone!r}") from error
    if not 0.25 <= store.sla_hours <= 24 * 30:
        raise InvalidStore("sla_hours must be between 0.25 and 720")
    from omotenashi.addresses import is_valid_email

    if not is_valid_email(store.sender):
        raise InvalidStore("sender must be an email address")
    for address in store.staff_addresses:
        if not is_valid_email(address):
            raise InvalidStore("staff addresses must be email addresses")
    if not 1 <= len(store.secrets) <= MAX_ACTIVE_SECRETS:
        raise InvalidStore("a store has one or two signing secrets")


def create_store(
    *,
    store_id: str,
    name: str,
    sender: str,
    staff_addresses: tuple[str, ...],
    default_locale: Locale,
    time_zone: str,
    sla_hours: float,
    now: datetime,
    secret_value: str | None = None,
) -> Store:
    secret = new_secret(now)
    if secret_value is not None:
        secret = replace(secret, value=secret_value)
    store = Store(
        store_id=store_id,
        name=name,
        sender=sender,
        staff_addresses=staff_addresses,
        default_locale=default_locale,
        time_zone=time_zone,
        sla_hours=sla_hours,
        secrets=(secret,),
        created_at=now,
        policy=SlaPolicy(hours=tuple({**DEFAULT_SLA_HOURS, "normal": float(sla_hours)}.items())),
        unsubscribe_keys=(new_key(),),
    )
    validate_store(store)
    store_data.create_store(store)
    directory.forget(store_id)  # it may have been looked up (and found unknown) in this process
    return store


class InvalidStoreField(InvalidStore):
    """A changed field's value is refused; `field` names it (the CLI names its option)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def update_store(store_id: str, **changes: Any) -> Store:
    """Change the store's name, sender, staff addresses, default locale or time zone, validated as
    `create_store` validates a new store, one field after another so a refusal names its field;
    nothing is written unless every change is valid. Staff names of the email settings must stay
    staff addresses."""
    unknown = sorted(set(changes) - set(store_data.UPDATABLE))
    if unknown:
        raise InvalidStoreField(unknown[0], f"{unknown[0]} cannot be changed here")
    store = store_data.get_store(store_id)
    if store is None:
        raise KeyError(store_id)
    if "staff_addresses" in changes:
        changes["staff_addresses"] = tuple(changes["staff_addresses"])
    updated = store
    for field_name, value in changes.items():
        updated = replace(updated, **{field_name: value})
        try:
            validate_store(updated)
        except InvalidStore as error:
            raise InvalidStoreField(field_name, str(error)) from error
    if "staff_addresses" in changes and store.email:
        from omotenashi.logic.inquiries.email_settings import InvalidEmailSettings
        from omotenashi.logic.inquiries.email_settings import validate as validate_email

        try:
            validate_email(dict(store.email), updated)
        except InvalidEmailSettings as error:
            raise InvalidStoreField(
                "staff_addresses", f"{error} (email settings: stores set-email)"
            ) from error
    if changes:
        store_data.update_store(store_id, changes)
        directory.clear()
    return updated


def set_policy(store_id: str, config: dict[str, Any]) -> Store:
    """Validate and store the SLA policy (hours per priority, reminders, escalation, calendar)."""
    from omotenashi.logic.inquiries.sla import InvalidPolicy, policy_from_config

    store = store_data.get_store(store_id)
    if store is None:
        raise KeyError(store_id)
    try:
        policy = policy_from_config(config, store.time_zone, normal_hours=store.sla_hours)
    except InvalidPolicy as error:
        raise InvalidStore(str(error)) from error
    store_data.replace_policy(store_id, policy)
    directory.clear()
    return replace(store, policy=policy, sla_hours=policy.hours_for("normal"))


def _set_document(
    store_id: str, attribute: str, validate: Callable[[Store], Any], invalid: type[ValueError]
) -> Store:
    """Validate a settings document (`validate(store)`: settings or `invalid` naming the field),
    store its normal form as the store's `attribute`, and answer the store as it now is."""
    store = store_data.get_store(store_id)
    if store is None:
        raise KeyError(store_id)
    try:
        stored = validate(store).to_document()
    except invalid as error:
        raise InvalidStore(str(error)) from error
    store_data.replace_document(store_id, attribute, stored)
    directory.clear()
    return replace(store, **{attribute: stored})


def set_marketing(store_id: str, document: dict[str, Any]) -> Store:
    """Validate and store the marketing settings (marketing.json; logic/marketing/settings.py)."""
    from omotenashi.logic.marketing.settings import InvalidMarketingSettings, validate

    return _set_document(
        store_id, "marketing", lambda store: validate(document, store.time_zone), InvalidMarketingSettings
    )


def set_loyalty(store_id: str, document: dict[str, Any]) -> Store:
    """Validate and store the loyalty settings (loyalty.json; logic/loyalty/settings.py)."""
    from omotenashi.logic.loyalty.settings import InvalidLoyaltySettings, validate

    return _set_document(store_id, "loyalty", lambda _: validate(document), InvalidLoyaltySettings)


def set_reviews(store_id: str, document: dict[str, Any]) -> Store:
    """Validate and store the review settings (reviews.json; logic/reviews/settings.py)."""
    from omotenashi.logic.reviews.settings import InvalidReviewSettings, validate

    return _set_document(store_id, "reviews", lambda _: validate(document), InvalidReviewSettings)


def set_email(store_id: str, document: dict[str, Any]) -> Store:
    """Validate and store the email-channel settings (email.json; logic/inquiries/email_settings.py).
    A receiving domain of the store's own must not be another store's."""
    from omotenashi.logic.inquiries.email_settings import (
        InvalidEmailSettings,
        store_id_from_default_domain,
        validate,
    )

    def checked(store: Store) -> Any:
        settings = validate(document, store)
        domain = settings.receiving_domain
        if domain and any(other != store_id for other in store_data.stores_receiving_at(domain)):
            raise InvalidEmailSettings(f"receiving_domain: {domain} is another store's")
        # The stack's own domain and other stores' <store_id>.<stack domain> are taken (known
        # where the stack's receiving domain is: the functions and the local stack).
        stack_domain = os.environ.get("RECEIVING_DOMAIN", "").strip().lower().rstrip(".")
        if domain and stack_domain:
            owner = store_id_from_default_domain(domain, stack_domain)
            if domain == stack_domain or owner not in (None, store_id):
                raise InvalidEmailSettings(f"receiving_domain: {domain} is the stack's or another store's")
        return settings

    return _set_document(store_id, "email", checked, InvalidEmailSettings)


def add_discount_codes(store_id: str, pool: str, codes: list[str]) -> int:
    """Load one-time discount codes into a store's pool (a cart-reminder step's `discount_pool`)."""
    from omotenashi.dal import marketing as marketing_data

    pattern = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
    if not pattern.match(pool):
        raise InvalidStore("pool must be 1-50 of A-Z a-z 0-9 _ -")
    bad = [code for code in codes if not pattern.match(code)]
    if bad or not codes:
        raise InvalidStore(
            "codes must be 1-50 of A-Z a-z 0-9 _ -, one per line" + (f" (line: {bad[0]!r})" if bad else "")
        )
    if store_data.get_store(store_id) is None:
        raise KeyError(store_id)
    return marketing_data.add_codes(store_id, pool, codes)


def rotate_secret(
    store_id: str, now: datetime, *, retire_previous: bool = False
) -> tuple[Store, SigningSecret]:
    """Add a new secret. The newest previous one stays valid (two active) unless retired."""
    store = store_data.get_store(store_id)
    if store is None:
        raise KeyError(store_id)
    secret = new_secret(now)
    kept = () if retire_previous else tuple(sorted(store.secrets, key=lambda s: s.created_at))[-1:]
    secrets = (*kept, secret)
    store_data.replace_secrets(store_id, secrets, now)
    directory.clear()
    return replace(store, secrets=secrets), secret


def rotate_unsubscribe_key(store_id: str) -> Store:
    """Add a new unsubscribe key: links made from now on use it; every older key stays valid, since
    the links already sent must work for as long as the store exists (CONTRACT.md)."""
    store = store_data.get_store(store_id)
    if store is None:
        raise KeyError(store_id)
    keys = store_data.add_unsubscribe_key(store_id, new_key())
    directory.clear()
    return replace(store, unsubscribe_keys=keys)
