"""Dispatch of message-queue jobs to the code that sends them."""

from __future__ import annotations

from omotenashi.logic.reply_emails import deliver_reply
from omotenashi.logic.sla_alerts import deliver_alert
from omotenashi.schemas import MessageJob


def deliver(job: MessageJob) -> str:
    data = job.model_dump()
    if job.type == "sla_alert":
        return deliver_alert(data)
    return deliver_reply(data)
