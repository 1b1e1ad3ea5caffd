"""The message worker's jobs (transactional email: staff alerts, staff replies, loyalty notices,
review rewards), each matched to the code that sends it."""

from __future__ import annotations

from omotenashi.logic.core import jobs
from omotenashi.logic.inquiries.reply_emails import deliver_reply
from omotenashi.logic.inquiries.sla_emails import deliver_alert
from omotenashi.logic.inquiries.staff_notice import deliver_refusal
from omotenashi.logic.loyalty.notices import deliver_notice
from omotenashi.logic.reviews.rewards import deliver_reward
from omotenashi.schemas.jobs import (
    LoyaltyNoticeJob,
    ReplyEmailJob,
    ReviewRewardJob,
    SlaAlertJob,
    StaffReplyRefusedJob,
)


def run(
    job: SlaAlertJob | ReplyEmailJob | LoyaltyNoticeJob | ReviewRewardJob | StaffReplyRefusedJob,
) -> str:
    jobs.bind_log_context(job)
    match job:
        case SlaAlertJob():
            return deliver_alert(job)
        case ReplyEmailJob():
            return deliver_reply(job)
        case LoyaltyNoticeJob():
            return deliver_notice(job)
        case ReviewRewardJob():
            return deliver_reward(job)
        case StaffReplyRefusedJob():
            return deliver_refusal(job)
