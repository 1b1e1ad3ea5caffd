"""SLA sweep cost: items read with 100 due alerts alone, and with 100,000 answered/closed
inquiries beside them. The sweep queries a sparse index, so the two must read the same."""

from __future__ import annotations

import os
import time

from _common import fake_aws_environment

DUE = 100
BACKGROUND = int(os.environ.get("BENCH_BACKGROUND", "100000"))


def main() -> None:
    fake_aws_environment()
    from datetime import UTC, datetime, timedelta

    from moto import mock_aws

    with mock_aws():
        import boto3

        from omotenashi import clock
        from omotenashi.dal import alerts
        from omotenashi.logic import sla_alerts
        from omotenashi_local.stack import LocalStack

        stack = LocalStack()
        table = stack.resources.tables["InquiriesTable"]
        dynamodb = boto3.resource("dynamodb", region_name=stack.resources.region).Table(table)
        now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        clock.set_source(lambda: now)
        past = clock.isoformat(now - timedelta(hours=1))

        def item(i: int, *, due: bool) -> dict:
            base = {
                "store_id": "demo",
                "inquiry_id": f"inq_{'due' if due else 'old'}{i:07d}",
                "customer_email": "c@example.jp",
                "locale": "ja",
                "channel": "web_form",
                "subject": "s",
                "message": "m",
                "priority": "normal",
                "request_hash": "h",
                "accepted_response": "{}",
                "received_at": "2026-11-21T12:00:00.000000+0000",
                "reply_due_at": "2026-11-22T12:00:00.000000+0000",
                "auto_reply_state": "sent",
                "sla_round": 0,
            }
            if due:
                base.update(
                    status="open",
                    alert_index=0,
                    alert_shard=f"s{i % 4}",
                    next_alert_at=past,
                    alert_plan=f'[{{"kind":"sla_breach","at":"{past}"}}]',
                )
            else:
                base.update(status="answered" if i % 2 else "closed")
            return base

        def measure(label: str) -> None:
            stats = alerts.SweepStats()
            started = time.perf_counter()
            count = sum(1 for _ in alerts.due_alerts(now, stats))
            elapsed = time.perf_counter() - started
            print(
                f"{label:<44}: due found {count:4d}   items read {stats.items_read:4d}   "
                f"queries {stats.queries}   ({elapsed * 1000:.0f} ms on moto)"
            )

        with dynamodb.batch_writer() as batch:
            for i in range(DUE):
                batch.put_item(Item=item(i, due=True))
        print("== SLA sweep cost (Query on the sparse due-alerts index; never Scan) ==")
        measure(f"{DUE} due alone")
        started = time.perf_counter()
        with dynamodb.batch_writer() as batch:
            for i in range(BACKGROUND):
                batch.put_item(Item=item(i, due=False))
        print(f"(wrote {BACKGROUND:,} answered/closed inquiries in {time.perf_counter() - started:.0f} s)")
        measure(f"{DUE} due + {BACKGROUND:,} answered/closed")
        result = sla_alerts.run_sweep(now)
        print(f"full sweep run: enqueued {result.enqueued}, items read {result.items_read}")
        print(
            "capacity: DynamoDB bills a Query by the size of what it reads; the same items are read "
            "in both runs, so the capacity consumed is the same (moto does not report capacity)."
        )


if __name__ == "__main__":
    main()
