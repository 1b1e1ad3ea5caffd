"""Store lookup with a short in-memory cache, and store administration used by the ops CLI.

The API checks a signature on every request; caching the store keeps the warm path at zero
DynamoDB reads for it. A digest that matches no cached secret triggers one early refresh, so a
freshly rotated secret works at once rather than after the cache expires.
"""

from __future__ import annotations

import re
import secrets as secrets_module
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omotenashi.dal import stores as store_data
from omotenashi.domain import DEFAULT_SLA_HOURS, LOCALES, Locale, SigningSecret, SlaPolicy, Store
from omotenashi.settings import get_settings

STORE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_ACTIVE_SECRETS = 2
REFRESH_AFTER_MISMATCH_SECONDS = 5.0
NEGATIVE_CACHE_SECONDS = 30.0
MAX_CACHED_STORES = 1024
MAX_CACHED_MISSES = 1024


@dataclass
class _Entry:
    store: Store
    fetched_at: float


class StoreDirectory:
    """Stores by id, cached per warm instance with bounded memory.

    - Known stores: an LRU of at most `max_stores` entries, each trusted for
      `settings.store_cache_seconds`; a signature mismatch may re-read one early
      (`refresh_if_stale`, at most once per REFRESH_AFTER_MISMATCH_SECONDS), which is how a
      rotated secret works at once.
    - Unknown ids: a separate LRU of at most `max_misses` entries, each trusted for
      NEGATIVE_CACHE_SECONDS (the mismatch refresh does not bypass it). A flood of random store ids
      (each with a well-formed signature) therefore costs one read per new id and bounded memory,
      evicts only other misses, never a known store, and a repeated unknown id costs no read
      within the window.

    A store created while its id is negatively cached: `create_store` forgets the id in this
    process at once (the local stack, tests); other warm API instances answer 401 for that id
    until their miss expires, at most NEGATIVE_CACHE_SECONDS after it was recorded. Stores are
    created by the ops CLI before the storefront is configured to call, so that window is
    accepted rather than reading DynamoDB for every unknown id.
    """

    def __init__(self, max_stores: int = MAX_CACHED_STORES, max_misses: int = MAX_CACHED_MISSES) -> None:
        self.max_stores = max_stores
        self.max_misses = max_misses
        self._stores: OrderedDict[str, _Entry] = OrderedDict()
        self._misses: OrderedDict[str, float] = OrderedDict()  # store id -> when it was not found
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._stores) + len(self._misses)

    def _fetch(self, store_id: str) -> Store | None:
        store = store_data.get_store(store_id)
        now = time.monotonic()
        with self._lock:
            if store is None:
                self._stores.pop(store_id, None)
                self._misses[store_id] = now
                self._misses.move_to_end(store_id)
                while len(self._misses) > self.max_misses:
                    self._misses.popitem(last=False)
            else:
                self._misses.pop(store_id, None)
                self._stores[store_id] = _Entry(store, now)
                self._stores.move_to_end(store_id)
                while len(self._stores) > self.max_stores:
                    self._stores.popitem(last=False)
        return store

    def _recent_miss(self, store_id: str, now: float) -> bool:
        missed_at = self._misses.get(store_id)
        return missed_at is not None and now - missed_at < NEGATIVE_CACHE_SECONDS

    def get(self, store_id: str) -> Store | None:
        now = time.monotonic()
        with self._lock:
            entry = self._stores.get(store_id)
            if entry is not None and now - entry.fetched_at < get_settings().store_cache_seconds:
                self._stores.move_to_end(store_id)
                return entry.store
            if self._recent_miss(store_id, now):
                return None
        return self._fetch(store_id)

    def refresh_if_stale(self, store_id: str) -> Store | None:
        """Re-read after a signature mismatch, at most once per few seconds per store; None when
        not re-read (recently read, or an id recently found unknown) or when the store is unknown."""
        now = time.monotonic()
        with self._lock:
            entry = self._stores.get(store_id)
            if entry is not None and now - entry.fetched_at < REFRESH_AFTER_MISMATCH_SECONDS:
                return None
            if self._recent_miss(store_id, now):
                return None
        return self._fetch(store_id)

    def forget(self, store_id: str) -> None:
        with self._lock:
            self._stores.pop(store_id, None)
            self._misses.pop(store_id, None)

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()
            self._misses.clear()


directory = StoreDirectory()


# --- administration (ops CLI, local stack seeding) -------------------------------------------


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
    from omotenashi.schemas import forbidden_character  # lazily: pydantic is not needed to authenticate

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
    from omotenashi.logic.addresses import is_valid_email

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
    )
    validate_store(store)
    store_data.create_store(store)
    directory.forget(store_id)  # it may have been looked up (and found unknown) in this process
    return store


def set_policy(store_id: str, config: dict[str, Any]) -> Store:
    """Validate and store the SLA policy (hours per priority, reminders, escalation, calendar)."""
    from omotenashi.logic.sla import InvalidPolicy, policy_from_config

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
