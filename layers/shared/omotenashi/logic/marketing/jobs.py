"""The marketing worker's jobs (marketing email only), each matched to the flow that sends it
through the one marketing send path."""

from __future__ import annotations

from omotenashi.logic.loyalty.notices import deliver_birthday
from omotenashi.logic.marketing import cart_reminders
from omotenashi.logic.reviews import requests as review_requests
from omotenashi.schemas.jobs import BirthdayBonusJob, CartReminderJob, ReviewRequestJob


def run(job: CartReminderJob | BirthdayBonusJob | ReviewRequestJob) -> str:
    match job:
        case CartReminderJob():
            return cart_reminders.deliver(job)
        case BirthdayBonusJob():
            return deliver_birthday(job)
        case ReviewRequestJob():
            return review_requests.deliver(job)
