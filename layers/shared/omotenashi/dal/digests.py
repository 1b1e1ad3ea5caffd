"""Morning digests: alerts held outside business hours, sent together at the next opening."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PynamoDBException

from omotenashi.clock import isoformat
from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.inquiries import alert_shard, plan_to_json
from omotenashi.dal.tables import DigestItem, bind

DIGEST_PREFIX = "digest#"
DIGEST_KIND = "sla_digest"


def digest_id_for(opening: datetime) -> str:
    return DIGEST_PREFIX + isoformat(opening)


def hold(store_id: str, opening: datetime, entry: str) -> str | None:
    """Add an alert to the digest due at `opening` (idempotent: the held alerts are a set). None
    when that digest has already been closed for sending without this alert in it: the caller
    must send the alert itself. (A redelivered alert that the digest holds is held, not resent.)"""
    bind()
    digest_id = digest_id_for(opening)
    item = DigestItem(store_id=store_id, inquiry_id=digest_id)
    actions = [
        DigestItem.held.add({entry}),
        DigestItem.sla_round.set(DigestItem.sla_round | 0),
        DigestItem.alert_plan.set(DigestItem.alert_plan | plan_to_json(((DIGEST_KIND, opening),))),
        DigestItem.alert_index.set(DigestItem.alert_index | 0),
        DigestItem.alert_shard.set(DigestItem.alert_shard | alert_shard(digest_id)),
        DigestItem.next_alert_at.set(DigestItem.next_alert_at | isoformat(opening)),
    ]
    try:
        item.update(
            actions=actions,  # type: ignore[arg-type]
            condition=DigestItem.closed_at.does_not_exist() | DigestItem.held.contains(entry),
        )
    except PynamoDBException as error:
        if condition_failed(error):
            return None
        raise StorageError("holding an alert for the digest failed") from error
    return digest_id


def close_and_read(store_id: str, digest_id: str, now: datetime) -> list[str]:
    """Close the digest to further holds, then read what it holds. Closing first means an alert
    is either in this read or refused by `hold` (and sent on its own): never in neither."""
    bind()
    item = DigestItem(store_id=store_id, inquiry_id=digest_id)
    try:
        # The update returns the whole item (ALL_NEW): the held set as of the closing.
        item.update(
            actions=[DigestItem.closed_at.set(DigestItem.closed_at | now)],
            condition=DigestItem.inquiry_id.exists(),
        )
    except PynamoDBException as error:
        if condition_failed(error):
            return []  # no such digest
        raise StorageError("closing a digest failed") from error
    return sorted(item.held or ())
