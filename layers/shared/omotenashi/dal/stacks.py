"""Deployed stack lookup for the ops CLI (CloudFormation outputs -> table names)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from omotenashi.dal.aws import client
from omotenashi.dal.errors import DataAccessError


def stack_outputs(stack_name: str) -> dict[str, str]:
    try:
        stacks = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise DataAccessError(f"cannot read stack {stack_name}: {error}") from error
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def verify_sender_domain(domain: str) -> str:
    """Start SES domain verification; returns the TXT record value to publish."""
    try:
        return str(client("ses").verify_domain_identity(Domain=domain)["VerificationToken"])
    except (ClientError, BotoCoreError) as error:
        raise DataAccessError(f"SES domain verification request failed: {error}") from error
