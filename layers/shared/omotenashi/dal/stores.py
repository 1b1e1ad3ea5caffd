"""Store registry access."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.expressions.condition import size

from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import SecretAttribute, StoreItem, bind
from omotenashi.domain import Locale, SigningSecret, SlaPolicy, Store


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
        sla_hours=float(item.sla_hours),
        secrets=tuple(
            SigningSecret(secret_id=s.secret_id, value=s.value, created_at=s.created_at)
            for s in item.secrets or ()
        ),
        created_at=item.created_at,
        policy=_policy(item.policy, float(item.sla_hours)),
        unsubscribe_keys=_keys(item),
        marketing=item.marketing,
        loyalty=item.loyalty,
        reviews=item.reviews,
        email=item.email,
    )


def _keys(item: StoreItem) -> tuple[bytes, ...]:
    return tuple(base64.b64decode(str(k)) for k in item.unsubscribe_keys or ())


def _key_texts(keys: tuple[bytes, ...]) -> list[str]:
    return [base64.b64encode(k).decode("ascii") for k in keys]


def _policy(document: dict[str, Any] | None, normal_hours: float) -> SlaPolicy:
    """The stored policy, with `normal` always the store's sla_hours (one promise, one number)."""
    document = document or {}
    escalation = document.get("escalation", {})
    default = SlaPolicy()  # a key the document lacks takes the policy's default
    hours = {**dict(default.hours), **document.get("hours", {}), "normal": normal_hours}
    return SlaPolicy(
        hours=tuple((k, float(v)) for k, v in hours.items()),
        reminder_hours_before=tuple(
            float(h) for h in document.get("reminder_hours_before", default.reminder_hours_before)
        ),
        escalate_after_hours=float(escalation.get("after_hours", default.escalate_after_hours)),
        escalate_every_hours=float(escalation.get("every_hours", default.escalate_every_hours)),
        escalate_max=int(escalation.get("max", default.escalate_max)),
        escalation_addresses=tuple(escalation.get("addresses", default.escalation_addresses)),
        morning_digest=bool(document.get("morning_digest", default.morning_digest)),
        calendar=tuple(sorted((document.get("calendar") or dict(default.calendar)).items())),
    )


def policy_document(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "hours": dict(policy.hours),
        "reminder_hours_before": list(policy.reminder_hours_before),
        "escalation": {
            "after_hours": policy.escalate_after_hours,
            "every_hours": policy.escalate_every_hours,
            "max": policy.escalate_max,
            "addresses": list(policy.escalation_addresses),
        },
        "calendar": dict(policy.calendar),
        "morning_digest": policy.morning_digest,
    }


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
        policy=policy_document(store.policy),
        unsubscribe_keys=cast(Any, _key_texts(store.unsubscribe_keys) or None),
    )
    try:
        item.save(condition=StoreItem.store_id.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            raise StoreExists(store.store_id) from error
        raise StorageError("creating a store failed") from error


def replace_policy(store_id: str, policy: SlaPolicy) -> None:
    """Store the policy; its normal hours become the store's sla_hours."""
    bind()
    try:
        item = StoreItem.get(store_id, consistent_read=True)
        item.policy = policy_document(policy)
        item.sla_hours = policy.hours_for("normal")
        item.save()
    except DoesNotExist as error:
        raise KeyError(store_id) from error
    except PynamoDBException as error:
        if condition_failed(error):
            raise StoreChanged(store_id) from error
        raise StorageError("updating the store policy failed") from error


def _compare_and_swap(store_id: str, change: Callable[[StoreItem], None], what: str) -> None:
    """Read the store, `change` the item, save it only if nobody saved it meanwhile (its
    VersionAttribute): StoreChanged if somebody did, KeyError for an unknown store."""
    bind()
    try:
        item = StoreItem.get(store_id, consistent_read=True)
        change(item)
        item.save()
    except DoesNotExist as error:
        raise KeyError(store_id) from error
    except PynamoDBException as error:
        if condition_failed(error):
            raise StoreChanged(store_id) from error
        raise StorageError(f"updating {what} failed") from error


def replace_document(store_id: str, attribute: str, document: dict[str, Any]) -> None:
    """Store a validated settings document (marketing, loyalty, reviews, email) as the store's
    `attribute`; a compare-and-swap on the store's version. The email document's own receiving
    domain is also the receiving-domain index's key."""

    def change(item: StoreItem) -> None:
        setattr(item, attribute, document)
        if attribute == "email":
            item.receiving_domain = document.get("receiving_domain") or None

    _compare_and_swap(store_id, change, f"the {attribute} settings")


# The store's own fields `update_store` may change (store_admin validates them first).
UPDATABLE = ("name", "sender", "staff_addresses", "default_locale", "time_zone")


def update_store(store_id: str, changes: dict[str, Any]) -> None:
    """Set some of the store's own fields (UPDATABLE); a compare-and-swap on the store's version."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")

    def change(item: StoreItem) -> None:
        for attribute, value in changes.items():
            setattr(item, attribute, list(value) if attribute == "staff_addresses" else value)

    _compare_and_swap(store_id, change, "the store")


def stores_receiving_at(domain: str) -> list[str]:
    """The stores whose own receiving domain is `domain` (one at most, but an index cannot promise
    it): one Query of the sparse receiving-domain index, eventually consistent."""
    bind()
    try:
        return [item.store_id for item in StoreItem.receiving_domains.query(domain.lower(), limit=2)]
    except PynamoDBException as error:
        raise StorageError("looking up a receiving domain failed") from error


def list_stores() -> list[Store]:
    """Every store (ops: `omotenashi stores list`): a Scan, never on a request path."""
    bind()
    try:
        return sorted((_to_domain(item) for item in StoreItem.scan()), key=lambda store: store.store_id)
    except PynamoDBException as error:
        raise StorageError("listing stores failed") from error


def replace_secrets(store_id: str, secrets: tuple[SigningSecret, ...], now: datetime) -> None:
    """Swap the signing secrets, failing if the store changed since it was read."""

    def change(item: StoreItem) -> None:
        item.secrets = _secret_attributes(secrets)

    _compare_and_swap(store_id, change, "store secrets")


def add_first_unsubscribe_key(store_id: str, key: bytes) -> tuple[bytes, ...]:
    """Give a store that has no unsubscribe key (created before they existed) `key`, and answer
    the store's keys. One conditional UpdateItem (only while it has none), then a consistent read:
    of two first uses at once, one key is written and both answer it."""
    bind()
    try:
        item = StoreItem.get(store_id, consistent_read=True)
        if item.unsubscribe_keys:
            return _keys(item)
        no_keys = StoreItem.unsubscribe_keys.does_not_exist() | (size(StoreItem.unsubscribe_keys) == 0)
        try:
            # Not conditioned on the version (only on having no key), but it bumps it, so a
            # concurrent read-modify-write of the store (rotate_secret, set-policy) fails and is
            # retried rather than saving its older copy over the key.
            item.update(
                actions=[StoreItem.unsubscribe_keys.set(cast(Any, _key_texts((key,))))],
                condition=StoreItem.store_id.exists() & no_keys,
                add_version_condition=False,
            )
            return _keys(item)
        except PynamoDBException as error:
            if not condition_failed(error):
                raise
        return _keys(StoreItem.get(store_id, consistent_read=True))  # another first use won
    except DoesNotExist as error:
        raise KeyError(store_id) from error
    except PynamoDBException as error:
        raise StorageError("adding an unsubscribe key failed") from error


def add_unsubscribe_key(store_id: str, key: bytes) -> tuple[bytes, ...]:
    """Rotation: append `key` (the newest, used for new links) and keep every older one (links
    already sent stay valid: they never expire). Fails with StoreChanged if the store changed
    since it was read."""
    bind()
    try:
        item = StoreItem.get(store_id, consistent_read=True)
        keys = (*_keys(item), key)
        item.update(actions=[StoreItem.unsubscribe_keys.set(cast(Any, _key_texts(keys)))])  # version-checked
        return _keys(item)
    except DoesNotExist as error:
        raise KeyError(store_id) from error
    except PynamoDBException as error:
        if condition_failed(error):
            raise StoreChanged(store_id) from error
        raise StorageError("adding an unsubscribe key failed") from error
