"""Sliding-window counters kept in DynamoDB with optimistic locking."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import RateWindowItem, bind


class WindowChanged(Exception):
    """A concurrent writer updated the window; read again and retry."""


def read_window(key: str) -> tuple[dict[str, float], int | None]:
    """The hits recorded under `key` (member -> epoch seconds) and the version to write against."""
    bind()
    try:
        item = RateWindowItem.get(key, consistent_read=True)
    except DoesNotExist:
        return {}, None
    except PynamoDBException as error:
        raise StorageError("reading a rate window failed") from error
    hits = {str(k): float(v) for k, v in (item.hits.as_dict() if item.hits else {}).items()}
    return hits, item.version


def write_window(key: str, hits: dict[str, float], *, version: int | None, expires_at: datetime) -> None:
    bind()
    item = RateWindowItem(key=key, hits=hits, expires_at=expires_at)
    if version is not None:
        item.version = version
    try:
        item.save()  # VersionAttribute: succeeds only if nobody wrote since `version` was read
    except PynamoDBException as error:
        if condition_failed(error):
            raise WindowChanged(key) from error
        raise StorageError("writing a rate window failed") from error
