"""Outbound email through SES (raw MIME, so text and HTML parts and our own headers survive)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from omotenashi.dal.aws import client
from omotenashi.dal.errors import MailerError
from omotenashi.domain import OutboundEmail
from omotenashi.settings import get_settings

# The SES message tag naming the store an email is sent for: configuration-set event publishing
# hands it back in each bounce, complaint and delivery notification (mail.tags).
STORE_TAG = "omotenashi-store"


def send(email: OutboundEmail) -> str:
    """Send and return SES's message id. Raises MailerError when SES refused or failed the call,
    in which case nothing was sent. The email is tagged with its store, and sent through the
    configuration set SES_CONFIGURATION_SET names (when set), whose event destination publishes
    its bounces and complaints."""
    params: dict[str, Any] = {
        "Source": email.sender,
        "Destinations": list(email.recipients),
        "RawMessage": {"Data": email.raw_mime},
    }
    if email.store_id:
        params["Tags"] = [{"Name": STORE_TAG, "Value": email.store_id}]
    configuration_set = get_settings().ses_configuration_set
    if configuration_set:
        params["ConfigurationSetName"] = configuration_set
    try:
        response = client("ses").send_raw_email(**params)
    except (ClientError, BotoCoreError) as error:
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        raise MailerError(f"SES SendRawEmail failed {code}".strip()) from error
    return str(response["MessageId"])


def delivered_message_id(ses_message_id: str) -> str:
    """The Message-ID header recipients see. SES replaces the one we set with its own, built from
    the id SendRawEmail returned and the sending region; replies thread under this one."""
    region = client("ses").meta.region_name
    domain = "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
    return f"<{ses_message_id}@{domain}>"
