"""Store registry access."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import SecretAttribute, StoreItem, bind
from omotenashi.domain import Locale, SigningSecret, Store


class StoreExists(Exception):
    pass


class StoreChanged(Exception):
    """Someone else updated the store between read and write."""


def _to_domain(item: StoreItem) -> Store:
    return Store(
        store_id=item.store_id,
        name=item.name,
        sender=item.sender,
        staff_addresses=tuple(str(a) for a in item.staff_addresses or ()),
        default_locale=cast(Locale, item.default_locale),
        time_zone=item.time_zone,
        sla_hours=int(item.sla_hours),
        secrets=tuple(
            SigningSecret(secret_id=s.secret_id, value=s.value, created_at=s.created_at)
            for s in item.secrets or ()
        ),
        created_at=item.created_at,
    )


def _secret_attributes(secrets: tuple[SigningSecret, ...]) -> list[SecretAttribute]:
    return [SecretAttribute(secret_id=s.secret_id, value=s.value, created_at=s.created_at) for s in secrets]


def get_store(store_id: str) -> Store | None:
    bind()
    try:
        return _to_domain(StoreItem.get(store_id, consistent_read=True))
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading a store failed") from error


def create_store(store: Store) -> None:
    bind()
    item = StoreItem(
        store_id=store.store_id,
        name=store.name,
        sender=store.sender,
        staff_addresses=list(store.staff_addresses),
        default_locale=store.default_locale,
        time_zone=store.time_zone,
        sla_hours=store.sla_hours,
        secrets=_secret_attributes(store.secrets),
        created_at=store.created_at,
    )
    try:
        item.save(condition=StoreItem.store_id.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            raise StoreExists(store.store_id) from error
        raise StorageError("creating a store failed") from error


def replace_secrets(store_id: str, secrets: tuple[SigningSecret, ...], now: datetime) -> None:
    """Swap the signing secrets, failing if the store changed since it was read."""
    bind()
    try:
        item = StoreItem.get(store_id, consistent_read=True)
        item.secrets = _secret_attributes(secrets)
        item.save()  # VersionAttribute makes this a compare-and-swap
    except DoesNotExist as error:
        raise KeyError(store_id) from error
    except PynamoDBException as error:
        if condition_failed(error):
            raise StoreChanged(store_id) from error
        raise StorageError("updating store secrets failed") from error
