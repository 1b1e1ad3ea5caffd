"""Outbound email through SES (raw MIME, so text and HTML parts and our own headers survive)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from omotenashi.dal.aws import client
from omotenashi.dal.errors import MailerError
from omotenashi.domain import OutboundEmail


def send(email: OutboundEmail) -> str:
    """Send and return SES's message id. Raises MailerError when SES refused or failed the call,
    in which case nothing was sent."""
    try:
        response = client("ses").send_raw_email(
            Source=email.sender,
            Destinations=list(email.recipients),
            RawMessage={"Data": email.raw_mime},
        )
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
