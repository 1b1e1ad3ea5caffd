"""Morning digests: alerts held outside business hours, sent together at the next opening."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.clock import isoformat
from omotenashi.dal.errors import StorageError
from omotenashi.dal.inquiries import alert_shard, plan_to_json
from omotenashi.dal.tables import DigestItem, bind

DIGEST_PREFIX = "digest#"
DIGEST_KIND = "sla_digest"


def digest_id_for(opening: datetime) -> str:
    return DIGEST_PREFIX + isoformat(opening)


def hold(store_id: str, opening: datetime, entry: str) -> str:
    """Add an alert to the digest due at `opening` (idempotent: the held alerts are a set)."""
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
        item.update(actions=actions)  # type: ignore[arg-type]
    except PynamoDBException as error:
        raise StorageError("holding an alert for the digest failed") from error
    return digest_id


def held_entries(store_id: str, digest_id: str) -> list[str]:
    bind()
    try:
        item = DigestItem.get(store_id, digest_id, consistent_read=True)
    except DoesNotExist:
        return []
    except PynamoDBException as error:
        raise StorageError("reading a digest failed") from error
    return sorted(item.held or ())
