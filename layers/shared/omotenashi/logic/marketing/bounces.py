"""SES bounce and complaint notifications -> the store's suppression list.

SES publishes a notification per event, through SNS, in one of two shapes: identity notifications
name its type in `notificationType`, configuration-set event publishing in `eventType` (and adds the
message's tags as `mail.tags`); the rest is the same. What it means for marketing:

- a **permanent bounce** (any subtype, `Suppressed` and `OnAccountSuppressionList` included)
  suppresses each bounced recipient, reason `bounce`;
- a **complaint** suppresses each complaining recipient, reason `complaint`, unless its feedback
  type is `not-spam` (the recipient took the email out of the spam folder);
- a transient or undetermined bounce and a delivery change nothing (counted only).

Suppression is per store: the store is the message's SES tag `omotenashi-store` (dal.mailer sets
it), else its header `X-Omotenashi-Store` (messaging.mime sets it; SES includes the original headers
unless they were truncated). A notification naming no store suppresses nothing (logged, counted).

`parse` and `decide` are pure; `handle` writes (dal.marketing.suppress, a conditional put: the same
notification twice suppresses once and the first reason and time stay). Logs carry ids only, never
an address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Literal

from omotenashi import clock
from omotenashi.dal import marketing as marketing_data
from omotenashi.dal.errors import DataAccessError
from omotenashi.logic.core.directory import STORE_ID_PATTERN
from omotenashi.observability import logger, metrics

STORE_TAG = "omotenashi-store"
STORE_HEADER = "x-omotenashi-store"
NotificationType = Literal["Bounce", "Complaint", "Delivery"]
NOTIFICATION_TYPES: tuple[NotificationType, ...] = ("Bounce", "Complaint", "Delivery")
# Other notifications SES publishes to a topic (the subscription check when a topic is set on an
# identity; event types a configuration set may also publish): valid, acknowledged, not acted on.
OTHER_SES_TYPES = frozenset(
    {
        "AmazonSnsSubscriptionSucceeded",
        "Send",
        "Reject",
        "Open",
        "Click",
        "Rendering Failure",
        "DeliveryDelay",
        "Subscription",
    }
)
_OBJECT_OF: dict[str, str] = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery"}

Outcome = Literal[
    "suppressed",  # a permanent bounce or a complaint: its recipients are on the store's list
    "transient_bounce",  # Transient or Undetermined: the address may work tomorrow
    "not_spam",  # a complaint that takes back a spam report
    "delivery",
    "no_store",  # the notification names no store: nothing to suppress
    "ignored",  # another SES notification (subscription check, opens, clicks, ...)
]


class InvalidNotification(ValueError):
    """Not an SES notification: `field` names what is missing or wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Notification:
    type: str  # one of NOTIFICATION_TYPES, or of OTHER_SES_TYPES
    message_id: str | None = None  # SES's id of the email the notification is about
    store_id: str | None = None
    bounce_type: str | None = None
    bounce_subtype: str | None = None
    feedback_type: str | None = None  # a complaint's complaintFeedbackType
    recipients: tuple[str, ...] = ()  # bounced or complaining addresses


@dataclass(frozen=True)
class Plan:
    outcome: Outcome
    store_id: str | None = None
    reason: Literal["bounce", "complaint"] | None = None
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    type: str
    outcome: Outcome
    store_id: str | None = None
    message_id: str | None = None
    suppressed: tuple[str, ...] = ()  # added to the list by this notification
    already: tuple[str, ...] = field(default=())  # on the list before (first reason and time kept)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "outcome": self.outcome,
            "store_id": self.store_id,
            "message_id": self.message_id,
            "suppressed": list(self.suppressed),
            "already_suppressed": list(self.already),
        }


# --- parsing (pure) -----------------------------------------------------------------------------


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidNotification(name, "must be a JSON object")
    return value


def _text(container: Mapping[str, Any], key: str, name: str, *, required: bool = True) -> str | None:
    value = container.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidNotification(name, "must be a non-empty string")
    return value.strip()


def _recipients(event: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    entries = event.get(key)
    if not isinstance(entries, list):
        raise InvalidNotification(f"{prefix}.{key}", "must be a list of recipients")
    addresses: list[str] = []
    for index, entry in enumerate(entries):
        name = f"{prefix}.{key}[{index}].emailAddress"
        raw = _text(_object(entry, f"{prefix}.{key}[{index}]"), "emailAddress", name)
        address = parseaddr(raw or "")[1].strip().lower()
        if "@" not in address or len(address) > 254:
            raise InvalidNotification(name, "must be an email address (at most 254 characters)")
        if address not in addresses:
            addresses.append(address)
    return tuple(addresses)


def _store_id(mail: Mapping[str, Any]) -> str | None:
    """The message tag first (event publishing), then the header (any notification whose headers
    SES kept). A value that is no store id is not trusted as one."""
    candidates: list[Any] = []
    tags = mail.get("tags")
    if isinstance(tags, Mapping):
        values = tags.get(STORE_TAG)
        candidates.extend(values if isinstance(values, list) else [values])
    headers = mail.get("headers")
    if isinstance(headers, list):
        candidates.extend(
            header.get("value")
            for header in headers
            if isinstance(header, Mapping)
            and isinstance(header.get("name"), str)
            and header["name"].strip().lower() == STORE_HEADER
        )
    for candidate in candidates:
        if isinstance(candidate, str) and STORE_ID_PATTERN.match(candidate.strip()):
            return candidate.strip()
    return None


def parse(payload: Any) -> Notification:
    """An SES notification as SES publishes it (either shape); InvalidNotification otherwise."""
    notification = _object(payload, "notification")
    type_key = "notificationType" if "notificationType" in notification else "eventType"
    if type_key not in notification:
        raise InvalidNotification("notificationType", "missing: notificationType or eventType is required")
    kind = _text(notification, type_key, type_key)
    if kind in OTHER_SES_TYPES:
        return Notification(type=str(kind))
    if kind not in NOTIFICATION_TYPES:
        raise InvalidNotification(type_key, f"must be one of {', '.join(NOTIFICATION_TYPES)}")
    mail = _object(notification.get("mail"), "mail")
    message_id = _text(mail, "messageId", "mail.messageId", required=False)
    store_id = _store_id(mail)
    key = _OBJECT_OF[kind]
    if kind == "Delivery":
        return Notification(type=kind, message_id=message_id, store_id=store_id)
    event = _object(notification.get(key), key)
    if kind == "Bounce":
        return Notification(
            type=kind,
            message_id=message_id,
            store_id=store_id,
            bounce_type=_text(event, "bounceType", "bounce.bounceType"),
            bounce_subtype=_text(event, "bounceSubType", "bounce.bounceSubType", required=False),
            recipients=_recipients(event, "bouncedRecipients", "bounce"),
        )
    feedback = event.get("complaintFeedbackType")
    return Notification(
        type=kind,
        message_id=message_id,
        store_id=store_id,
        feedback_type=feedback.strip().lower() if isinstance(feedback, str) else None,
        recipients=_recipients(event, "complainedRecipients", "complaint"),
    )


def parse_json(message: Any) -> Notification:
    """An SNS message's text (SES's notification as JSON)."""
    if not isinstance(message, str):
        raise InvalidNotification("Sns.Message", "must be the notification as JSON text")
    try:
        payload = json.loads(message)
    except ValueError as error:
        raise InvalidNotification("Sns.Message", "is not valid JSON") from error
    return parse(payload)


# --- the decision (pure) --------------------------------------------------------------------------


def decide(notification: Notification) -> Plan:
    """Which addresses the notification puts on which store's suppression list, and why."""
    kind = notification.type
    if kind == "Delivery":
        return Plan("delivery", notification.store_id)
    if kind not in NOTIFICATION_TYPES:
        return Plan("ignored")
    if kind == "Bounce" and notification.bounce_type != "Permanent":
        return Plan("transient_bounce", notification.store_id)  # Transient, Undetermined
    if kind == "Complaint" and notification.feedback_type == "not-spam":
        return Plan("not_spam", notification.store_id)
    if notification.store_id is None:
        return Plan("no_store")
    reason: Literal["bounce", "complaint"] = "bounce" if kind == "Bounce" else "complaint"
    return Plan("suppressed", notification.store_id, reason, notification.recipients)


# --- the writes -----------------------------------------------------------------------------------


def apply(notification: Notification, *, at: datetime) -> Result:
    """Decide and write; logs and counts what happened (ids only)."""
    plan = decide(notification)
    logger.append_keys(
        store_id=plan.store_id or notification.store_id, ses_message_id=notification.message_id
    )
    metrics.add_metric(name=f"SesNotification_{notification.type.replace(' ', '')}", unit="Count", value=1)
    new: list[str] = []
    already: list[str] = []
    if plan.outcome == "suppressed" and plan.store_id and plan.reason:
        for address in plan.addresses:
            added = marketing_data.suppress(plan.store_id, address, reason=plan.reason, at=at)
            (new if added else already).append(address)
        metrics.add_metric(name="AddressSuppressed", unit="Count", value=len(new))
    elif plan.outcome == "no_store":
        metrics.add_metric(name="SesNotificationWithoutStore", unit="Count", value=1)
        logger.warning(
            "SES notification names no store: nothing suppressed", extra={"type": notification.type}
        )
    elif plan.outcome == "transient_bounce":
        metrics.add_metric(name="SesTransientBounce", unit="Count", value=1)
    logger.info(
        "SES notification",
        extra={
            "type": notification.type,
            "outcome": plan.outcome,
            "bounce_type": notification.bounce_type,
            "bounce_subtype": notification.bounce_subtype,
            "feedback_type": notification.feedback_type,
            "recipients": len(notification.recipients),
            "suppressed": len(new),
        },
    )
    return Result(
        notification.type,
        plan.outcome,
        plan.store_id or notification.store_id,
        notification.message_id,
        tuple(new),
        tuple(already),
    )


def _invalid(error: InvalidNotification) -> dict[str, Any]:
    metrics.add_metric(name="SesNotificationInvalid", unit="Count", value=1)
    logger.warning("not an SES notification: ignored", extra={"field": error.field, "problem": error.message})
    return {"outcome": "invalid", "field": error.field, "message": error.message}


def handle_sns_event(event: Any) -> dict[str, Any]:
    """The SES-notifications function: each SNS record's message is one notification. An invalid
    one is logged and counted, never retried (it would fail again); a storage failure is raised
    after every other record ran, so Lambda retries the event (suppressing again changes nothing).
    Returns what each record came to (the local stack answers with it)."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        return {"notifications": [_invalid(InvalidNotification("Records", "must be a list of SNS records"))]}
    results: list[dict[str, Any]] = []
    failures: list[DataAccessError] = []
    for index, record in enumerate(records):
        sns = record.get("Sns") if isinstance(record, Mapping) else None
        logger.append_keys(sns_message_id=sns.get("MessageId") if isinstance(sns, Mapping) else None)
        try:
            notification = parse_json(sns.get("Message") if isinstance(sns, Mapping) else None)
            results.append(apply(notification, at=clock.now()).as_dict())
        except InvalidNotification as error:
            results.append(_invalid(error))
        except DataAccessError as error:
            logger.exception("recording an SES notification failed", extra={"record": index})
            failures.append(error)
            results.append({"outcome": "failed"})
        finally:
            logger.remove_keys(["store_id", "ses_message_id", "sns_message_id"])
    if failures:
        raise failures[0]
    return {"notifications": results}
