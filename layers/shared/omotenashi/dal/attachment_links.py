"""Links to files in the inbound bucket (attachments of emails customers sent): pre-signed S3 GET
URLs, so whoever reads the thread downloads a file without AWS credentials for as long as the link
lasts. Signing is local (no AWS call); the link works while the signer may s3:GetObject the key."""

from __future__ import annotations

from omotenashi.dal import aws
from omotenashi.settings import get_settings


def presigned_url(key: str, *, expires_seconds: int) -> str:
    url: str = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": get_settings().inbound_bucket, "Key": key},
        ExpiresIn=expires_seconds,
    )
    return url
