"""The SLA sweep: every minute, enqueue each staff alert that is due.

It reads the sparse due-alerts index (only inquiries with a pending alert are in it), enqueues one
job per due alert and moves the inquiry's pending alert on with a conditional update, so
overlapping sweeps cannot both move it. Enqueue happens first: a crash in between re-enqueues on
the next sweep, and the message worker's delivery record drops the twin. The emails themselves are
sla_emails.py (the message worker's half).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omotenashi import clock
from omotenashi.dal import alerts as alert_data
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.logic.core import jobs
from omotenashi.logic.inquiries import sla
from omotenashi.observability import logger, metrics
from omotenashi.schemas.jobs import SlaAlertJob


@dataclass
class SweepResult:
    enqueued: int
    skipped: int
    items_read: int
    queries: int


def run_sweep(now: datetime | None = None) -> SweepResult:
    now = now or clock.now()
    stats = alert_data.SweepStats()
    enqueued = skipped = 0
    for due in alert_data.due_alerts(now, stats):
        index = due.alert_index
        while index < len(due.plan) and due.plan[index][1] <= now:
            kind, at = due.plan[index]
            superseded = kind == sla.REMINDER and index + 1 < len(due.plan) and due.plan[index + 1][1] <= now
            if not superseded:  # "4 hours left" is no use once the breach is due too
                jobs.enqueue(
                    SlaAlertJob(
                        store_id=due.store_id,
                        inquiry_id=due.inquiry_id,
                        sla_round=due.sla_round,
                        alert_index=index,
                        kind=kind,  # type: ignore[arg-type]  # the plan holds alert kinds
                        due_at=clock.isoformat(at),
                    )
                )
            if not inquiry_data.advance_alert(
                due.store_id, due.inquiry_id, from_index=index, sla_round=due.sla_round, plan=due.plan
            ):
                break  # another sweep moved it on
            if superseded:
                skipped += 1
            else:
                enqueued += 1
            index += 1
    metrics.add_metric(name="SlaAlertsEnqueued", unit="Count", value=enqueued)
    logger.info("sla sweep", extra={"enqueued": enqueued, "items_read": stats.items_read})
    return SweepResult(enqueued, skipped, stats.items_read, stats.queries)
