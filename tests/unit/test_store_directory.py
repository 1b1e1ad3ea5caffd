"""The store directory cache: bounded memory, a negative cache for unknown ids, early refresh on a
signature mismatch (secret rotation). Reads are counted through a fake data layer and time is a
fake monotonic clock."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from omotenashi.domain import SigningSecret, Store
from omotenashi.logic.core import directory as stores_module
from omotenashi.logic.core.directory import (
    MAX_CACHED_MISSES,
    MAX_CACHED_STORES,
    NEGATIVE_CACHE_SECONDS,
    REFRESH_AFTER_MISMATCH_SECONDS,
    StoreDirectory,
)


def _store(store_id: str, *secret_values: str) -> Store:
    return Store(
        store_id=store_id,
        name="Shop",
        sender="shop@shop.example",
        staff_addresses=("staff@shop.example",),
        default_locale="ja",
        time_zone="Asia/Tokyo",
        sla_hours=24,
        secrets=tuple(SigningSecret(f"sec_{v}", v, datetime(2026, 1, 1, tzinfo=UTC)) for v in secret_values),
    )


class FakeStores:
    def __init__(self) -> None:
        self.rows: dict[str, Store] = {}
        self.reads: list[str] = []

    def get_store(self, store_id: str) -> Store | None:
        self.reads.append(store_id)
        return self.rows.get(store_id)


@pytest.fixture
def data(monkeypatch) -> FakeStores:
    fake = FakeStores()
    monkeypatch.setattr(stores_module, "store_data", fake)
    return fake


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(stores_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_random_store_ids_cost_bounded_memory(data, clock):
    directory = StoreDirectory()
    data.rows["demo"] = _store("demo", "s1")
    assert directory.get("demo") is not None
    for _ in range(5000):
        assert directory.get("x" + secrets.token_hex(8)) is None
        clock[0] += 0.001
    assert len(directory) <= MAX_CACHED_MISSES + 1
    reads = len(data.reads)
    assert directory.get("demo") is not None  # the flood evicted misses only, never a known store
    assert len(data.reads) == reads


def test_known_stores_are_bounded_least_recently_used_first(data, clock):
    directory = StoreDirectory(max_stores=10)
    for i in range(30):
        data.rows[f"s{i}"] = _store(f"s{i}", "k")
    directory.get("s0")
    for i in range(1, 30):
        directory.get(f"s{i}")
        directory.get("s0")  # kept in use
    assert len(directory) == 10
    reads = len(data.reads)
    directory.get("s0")
    directory.get("s29")
    assert len(data.reads) == reads  # still cached
    directory.get("s1")
    assert len(data.reads) == reads + 1  # evicted long ago


def test_a_repeated_unknown_id_costs_no_read_within_the_window(data, clock):
    directory = StoreDirectory()
    assert directory.get("nope") is None
    assert directory.refresh_if_stale("nope") is None  # the guard's retry after a mismatch
    clock[0] += NEGATIVE_CACHE_SECONDS - 1
    assert directory.get("nope") is None
    clock[0] += 0.5
    assert directory.refresh_if_stale("nope") is None  # the mismatch refresh does not bypass it
    assert data.reads == ["nope"]
    clock[0] += 1
    assert directory.get("nope") is None
    assert data.reads == ["nope", "nope"]


def test_a_store_created_while_negatively_cached(data, clock):
    directory = StoreDirectory()
    assert directory.get("kyoto") is None
    data.rows["kyoto"] = _store("kyoto", "k")
    assert directory.get("kyoto") is None  # another instance's create: unknown until the miss expires
    clock[0] += NEGATIVE_CACHE_SECONDS
    assert directory.get("kyoto") is not None
    directory.get("nara")
    data.rows["nara"] = _store("nara", "k")
    directory.forget("nara")  # what create_store does in its own process
    assert directory.get("nara") is not None


def test_rotation_refreshes_early_after_a_mismatch(data, clock):
    directory = StoreDirectory()
    data.rows["demo"] = _store("demo", "old")
    assert [s.value for s in directory.get("demo").secrets] == ["old"]
    data.rows["demo"] = replace(data.rows["demo"], secrets=_store("demo", "old", "new").secrets)
    assert [s.value for s in directory.get("demo").secrets] == ["old"]  # cached
    assert directory.refresh_if_stale("demo") is None  # read moments ago: not again
    clock[0] += REFRESH_AFTER_MISMATCH_SECONDS
    refreshed = directory.refresh_if_stale("demo")
    assert refreshed is not None and [s.value for s in refreshed.secrets] == ["old", "new"]
    assert [s.value for s in directory.get("demo").secrets] == ["old", "new"]
    assert data.reads == ["demo", "demo"]


def test_a_deleted_store_becomes_a_miss(data, clock):
    directory = StoreDirectory()
    data.rows["gone"] = _store("gone", "k")
    assert directory.get("gone") is not None
    del data.rows["gone"]
    clock[0] += REFRESH_AFTER_MISMATCH_SECONDS
    assert directory.refresh_if_stale("gone") is None
    assert directory.get("gone") is None
    assert data.reads == ["gone", "gone"]


def test_defaults():
    assert MAX_CACHED_STORES == 1024 and MAX_CACHED_MISSES == 1024 and NEGATIVE_CACHE_SECONDS == 30
