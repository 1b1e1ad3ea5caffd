"""Enqueueing typed jobs: the producer side of schemas/jobs.py. Each job carries the correlation id
of the request or invocation that caused it (the logger's, set at the entry point)."""

from __future__ import annotations

from omotenashi.dal import queue
from omotenashi.observability import logger
from omotenashi.schemas.jobs import AutoReplyJob, CartReminderJob, Job


def enqueue(job: Job) -> None:
    if job.correlation_id is None:
        job = job.model_copy(update={"correlation_id": logger.get_correlation_id()})
    match job:
        case AutoReplyJob():
            queue.send("inquiry", job.model_dump_json())
        case CartReminderJob():
            queue.send("marketing", job.model_dump_json())
        case _:
            queue.send("message", job.model_dump_json())


def bind_log_context(job: Job) -> None:
    """Consumer side: every log line of this job carries its correlation id and ids (ids only)."""
    logger.set_correlation_id(job.correlation_id)
    subject = {"cart_id": job.cart_id} if isinstance(job, CartReminderJob) else {"inquiry_id": job.inquiry_id}
    logger.append_keys(store_id=job.store_id, job_type=job.type, **subject)
