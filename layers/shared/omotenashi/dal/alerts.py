"""The sweep's read side: pending SLA alerts that are due, from the sparse due-alerts index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.exceptions import PynamoDBException

from omotenashi.clock import isoformat
from omotenashi.dal.errors import StorageError
from omotenashi.dal.inquiries import ALERT_SHARDS, _plan_from_json
from omotenashi.dal.tables import InquiryItem, bind


@dataclass(frozen=True)
class DueAlert:
    store_id: str
    inquiry_id: str
    alert_index: int
    sla_round: int
    plan: tuple[tuple[str, datetime], ...]


@dataclass
class SweepStats:
    items_read: int = 0  # DynamoDB ScannedCount: items the queries evaluated (what is billed)
    queries: int = 0
    shards: list[str] = field(default_factory=list)


def due_alerts(now: datetime, stats: SweepStats, limit: int = 1000) -> Iterator[DueAlert]:
    """Query every shard for next_alert_at <= now. Reads only due items: cost follows the number
    of due alerts, never the size of the table."""
    bind()
    cutoff = isoformat(now)
    for shard in (f"s{n}" for n in range(ALERT_SHARDS)):
        stats.shards.append(shard)
        try:
            results = InquiryItem.due_alerts.query(
                shard, InquiryItem.next_alert_at <= cutoff, limit=limit, page_size=200
            )
            stats.queries += 1
            for item in results:
                yield DueAlert(
                    store_id=item.store_id,
                    inquiry_id=item.inquiry_id,
                    alert_index=int(item.alert_index or 0),
                    sla_round=int(item.sla_round or 0),
                    plan=_plan_from_json(item.alert_plan),
                )
            stats.items_read += results.page_iter.total_scanned_count
        except PynamoDBException as error:
            raise StorageError("querying due alerts failed") from error
