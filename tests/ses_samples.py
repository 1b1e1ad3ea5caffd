"""Amazon SES notifications as SES publishes them (shaped after the examples in the SES developer
guide: "Amazon SNS notification contents" for identity notifications, `notificationType`, and
"Event publishing" for configuration sets, `eventType`, with `mail.tags`). Shared by the unit,
integration and local-endpoint tests."""

from __future__ import annotations

import copy
from typing import Any

MESSAGE_ID = "0106019f2a3b4c5d-8a1e2f3b-6c7d-4e8f-9a0b-1c2d3e4f5a6b-000000"


def _mail(
    recipients: list[str], *, store: str | None, tags: bool, headers: bool, message_id: str
) -> dict[str, Any]:
    mail: dict[str, Any] = {
        "timestamp": "2026-11-22T01:00:00.000Z",
        "source": "demo@demo.example",
        "sourceArn": "arn:aws:ses:ap-northeast-1:123456789012:identity/demo.example",
        "sourceIp": "192.0.2.10",
        "callerIdentity": "omotenashi-MarketingWorkerFunction",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": recipients,
        "headersTruncated": not headers,
        "commonHeaders": {
            "from": ["デモ商店 <demo@demo.example>"],
            "to": recipients,
            "messageId": message_id,
            "subject": "カートに商品が残っています",
        },
    }
    if headers:
        mail["headers"] = [
            {"name": "From", "value": "デモ商店 <demo@demo.example>"},
            {"name": "To", "value": recipients[0]},
            {"name": "Subject", "value": "=?utf-8?b?44Kr44O844OI?="},
            {"name": "Message-ID", "value": "<cart_reminder.c-123@demo.example>"},
            {"name": "X-Omotenashi-Kind", "value": "cart_reminder"},
            *([{"name": "X-Omotenashi-Store", "value": store}] if store else []),
            {"name": "MIME-Version", "value": "1.0"},
        ]
    if tags:
        mail["tags"] = {
            "ses:configuration-set": ["omotenashi-email"],
            "ses:source-ip": ["192.0.2.10"],
            "ses:from-domain": ["demo.example"],
            "ses:caller-identity": ["omotenashi-MarketingWorkerFunction"],
            **({"omotenashi-store": [store]} if store else {}),
        }
    return mail


def bounce(
    recipients: list[str] | None = None,
    *,
    bounce_type: str = "Permanent",
    subtype: str = "General",
    store: str | None = "demo",
    form: str = "notificationType",
    tags: bool | None = None,
    headers: bool = True,
    message_id: str = MESSAGE_ID,
) -> dict[str, Any]:
    recipients = recipients or ["taro@example.jp"]
    return {
        form: "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": subtype,
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
                for address in recipients
            ],
            "timestamp": "2026-11-22T01:00:02.669Z",
            "feedbackId": "0106019f2a3b4d00-2b1c9f3e-51a4-4b8e-a3c1-7d0e9b8a6f5e-000000",
            "remoteMtaIp": "198.51.100.7",
            "reportingMTA": "dsn; a27-30.smtp-out.ap-northeast-1.amazonses.com",
        },
        "mail": _mail(
            recipients,
            store=store,
            tags=form == "eventType" if tags is None else tags,
            headers=headers,
            message_id=message_id,
        ),
    }


def complaint(
    recipients: list[str] | None = None,
    *,
    feedback_type: str | None = "abuse",
    store: str | None = "demo",
    form: str = "notificationType",
    tags: bool | None = None,
    headers: bool = True,
    message_id: str = MESSAGE_ID,
) -> dict[str, Any]:
    recipients = recipients or ["taro@example.jp"]
    event: dict[str, Any] = {
        "feedbackId": "0106019f2a3b4e11-5c6d7e8f-0a1b-4c2d-8e3f-4a5b6c7d8e9f-000000",
        "complaintSubType": None,
        "complainedRecipients": [{"emailAddress": address} for address in recipients],
        "timestamp": "2026-11-22T03:15:00.000Z",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "arrivalDate": "2026-11-22T01:00:05.000Z",
    }
    if feedback_type is not None:
        event["complaintFeedbackType"] = feedback_type
    return {
        form: "Complaint",
        "complaint": event,
        "mail": _mail(
            recipients,
            store=store,
            tags=form == "eventType" if tags is None else tags,
            headers=headers,
            message_id=message_id,
        ),
    }


def delivery(
    recipients: list[str] | None = None, *, store: str | None = "demo", form: str = "notificationType"
) -> dict[str, Any]:
    recipients = recipients or ["taro@example.jp"]
    return {
        form: "Delivery",
        "delivery": {
            "timestamp": "2026-11-22T01:00:01.000Z",
            "processingTimeMillis": 546,
            "recipients": recipients,
            "smtpResponse": "250 2.6.0 Message received",
            "remoteMtaIp": "198.51.100.7",
            "reportingMTA": "a27-30.smtp-out.ap-northeast-1.amazonses.com",
        },
        "mail": _mail(recipients, store=store, tags=form == "eventType", headers=True, message_id=MESSAGE_ID),
    }


SUBSCRIPTION_SUCCEEDED = {
    "notificationType": "AmazonSnsSubscriptionSucceeded",
    "message": "You have successfully subscribed your Amazon SNS topic "
    "'arn:aws:sns:ap-northeast-1:123456789012:omotenashi-ses' to receive 'Bounce' notifications "
    "from Amazon SES for identity 'demo.example'.",
}


def without(payload: dict[str, Any], *path: str | int) -> dict[str, Any]:
    """A copy of `payload` without the field at `path`."""
    result = copy.deepcopy(payload)
    target: Any = result
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return result
