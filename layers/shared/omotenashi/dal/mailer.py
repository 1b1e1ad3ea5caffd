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
