"""Enqueueing typed jobs: the producer side of schemas/jobs.py. Each job carries the correlation id
of the request or invocation that caused it (the logger's, set at the entry point)."""

from __future__ import annotations

import hashlib

from omotenashi.dal import queue
from omotenashi.observability import logger
from omotenashi.schemas.jobs import (
    AutoReplyJob,
    BirthdayBonusJob,
    CartReminderJob,
    Job,
    LoyaltyNoticeJob,
    LoyaltyTimerJob,
    ReviewRequestJob,
    ReviewRewardJob,
)


def enqueue(job: Job) -> None:
    if job.correlation_id is None:
        job = job.model_copy(update={"correlation_id": logger.get_correlation_id()})
    match job:
        case AutoReplyJob():
            queue.send("inquiry", job.model_dump_json())
        case CartReminderJob() | BirthdayBonusJob() | ReviewRequestJob():
            queue.send("marketing", job.model_dump_json())
        case LoyaltyTimerJob():
            queue.send("loyalty", job.model_dump_json())
        case _:
            queue.send("message", job.model_dump_json())


def bind_log_context(job: Job) -> None:
    """Consumer side: every log line of this job carries its correlation id and ids (ids only)."""
    logger.set_correlation_id(job.correlation_id)
    subject: dict[str, str]
    match job:
        case CartReminderJob():
            subject = {"cart_id": job.cart_id}
        case LoyaltyTimerJob() | LoyaltyNoticeJob() | BirthdayBonusJob():
            # A customer id may be an email address (guests): logs carry a digest, never the id.
            subject = {"account_ref": account_ref(job.store_id, job.customer_id)}
        case ReviewRequestJob():
            subject = {"order_id": job.order_id}
        case ReviewRewardJob():
            # The key holds a customer id for surveys (maybe an email address): a digest only.
            subject = {"reward_ref": account_ref(job.store_id, job.reward_key)}
        case _:
            subject = {"inquiry_id": job.inquiry_id}
    logger.append_keys(store_id=job.store_id, job_type=job.type, **subject)


def account_ref(store_id: str, customer_id: str) -> str:
    """A loyalty account's name for logs: a digest, so no customer id (maybe an email) is logged."""
    return hashlib.sha256(f"{store_id}#{customer_id}".encode()).hexdigest()[:16]
