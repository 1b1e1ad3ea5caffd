"""The store directory: store lookup on the hot path, with a bounded in-memory cache.

The API checks a signature on every request; caching the store keeps the warm path at zero
DynamoDB reads for it. A digest that matches no cached secret triggers one early refresh, so a
freshly rotated secret works at once rather than after the cache expires. Administration (create,
policies, rotation) is store_admin.py.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from omotenashi.dal import stores as store_data
from omotenashi.domain import Store
from omotenashi.settings import get_settings

STORE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
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


class StoreMissing(LookupError):
    """A queued job names a store that no longer exists: the job is kept (retries, then the DLQ)
    for a person to see, never dropped silently."""


def require(store_id: str) -> Store:
    """The store a worker's job belongs to."""
    store = directory.get(store_id)
    if store is None:
        raise StoreMissing(f"store {store_id} not found")
    return store
