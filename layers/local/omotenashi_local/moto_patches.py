"""Two changes to the embedded moto, for the local stack and the tests (never deployed).

1. Isolation. moto's DynamoDB backend has no lock: a transaction applies its items one by one and,
   when a condition fails, restores what it saw before, so a concurrent write (or transaction)
   landing in between is undone or read half-applied. DynamoDB transactions are serializable
   against other writes; here every data operation of the backend holds one process-wide lock
   (re-entrant: a transaction calls the item operations), which gives the same guarantee.

2. Cost. moto's TransactWriteItems backs up every table it touches with `copy.deepcopy(table)` before
applying, once per item of the transaction, to roll back on a failed condition. A loyalty change is
one transaction of several items on the ledger table, so each costs copies of the whole table: time
and memory grow with the ledger (a 2,000-event load run of the local stack reached 20 GB). DynamoDB
is all-or-nothing per transaction; so is this replacement, which snapshots only the items the
transaction names and restores exactly those when moto rolls back. Conditions, errors and results
are moto's own code, unchanged.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_applied = False
_in_transaction = threading.local()


class _CopyForTransactions:
    """Stands in for the `copy` module inside moto's DynamoDB models: during a transaction a table
    is not copied (its items are snapshotted instead); everything else copies as before."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_in_transaction, "active", False) and isinstance(value, Table):
            return value  # moto's rollback then puts the same table back; the snapshots restore
        return copy.deepcopy(value, memo)


def apply() -> None:
    """Install the item-level rollback (idempotent)."""
    global _applied
    if _applied:
        return
    import moto.dynamodb.models as models

    backend = models.DynamoDBBackend
    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = _snapshot(self, transact_items)
        _in_transaction.active = True
        try:
            original(self, transact_items)
        except BaseException:
            _restore(self, snapshots)
            raise
        finally:
            _in_transaction.active = False

    models.copy = _CopyForTransactions()  # type: ignore[assignment]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for name in _DATA_OPERATIONS:
        setattr(backend, name, _locked(getattr(backend, name)))
    _applied = True


_DATA_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
)
_backend_lock = threading.RLock()


def _locked(operation: Any) -> Any:
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _backend_lock:
            return operation(self, *args, **kwargs)

    locked.__name__ = operation.__name__
    return locked


def _key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type == "Put":
        attrs = op["Item"]
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attrs[table.range_key_attr]
        return key
    return dict(op["Key"])


Snapshot = tuple[str, dict[str, Any], Any]


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[Snapshot]:
    snapshots: list[Snapshot] = []
    for item in transact_items:
        for op_type, op in item.items():
            name = op.get("TableName") if isinstance(op, dict) else None
            if not isinstance(name, str) or name not in backend.tables:
                continue
            try:
                key = _key(backend.tables[name], op_type, op)
                current = backend.get_item(name, key)
            except Exception:  # noqa: S112 - a malformed item: moto's own code reports it
                continue
            attributes = copy.deepcopy(current.to_json()["Attributes"]) if current is not None else None
            snapshots.append((name, key, attributes))
    return snapshots


def _restore(backend: Any, snapshots: list[Snapshot]) -> None:
    """Put every named item back as it was (absent ones removed), last change first."""
    for name, key, attributes in reversed(snapshots):
        table = backend.tables[name]
        if attributes is not None:
            table.put_item(attributes)
        elif backend.get_item(name, key) is not None:
            backend.delete_item(name, key)
