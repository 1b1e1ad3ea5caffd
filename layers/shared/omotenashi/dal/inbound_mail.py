"""Received email in S3 (the raw message SES receiving stored, the attachments we keep) and the
thread references that let a reply without our Reply-To find its inquiry."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.models import Model

from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.aws import client
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import bind, register
from omotenashi.settings import get_settings

RAW_PREFIX = "inbound/"  # the receipt rule's S3 action writes here (infra/template.yaml)
ATTACHMENT_PREFIX = "attachments/"


class RawMailMissing(Exception):
    """No raw email under that key (expired, or an event for another bucket)."""


def _not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


def read_raw(key: str) -> bytes:
    try:
        response = client("s3").get_object(Bucket=get_settings().inbound_bucket, Key=key)
        return bytes(response["Body"].read())
    except ClientError as error:
        if _not_found(error):
            raise RawMailMissing(key) from error
        raise StorageError("reading a received email failed") from error
    except BotoCoreError as error:
        raise StorageError("reading a received email failed") from error


def put_raw(key: str, raw: bytes) -> None:
    """What SES receiving's S3 action does (the local stack's /_local/inbound uses it)."""
    _put(key, raw, "message/rfc822")


def put_attachment(key: str, content: bytes, content_type: str, name: str) -> None:
    """Idempotent: the key is derived from the SES message id and the part's position. Served as
    a download (Content-Disposition: attachment), so an HTML or SVG file sent by a stranger never
    renders from our bucket's links in a staff member's browser."""
    disposition = "attachment; filename*=UTF-8''" + quote(name, safe="")
    _put(key, content, content_type, disposition)


def read_attachment(key: str) -> bytes:
    """A stored attachment (a staff reply's files, sent on with it)."""
    try:
        response = client("s3").get_object(Bucket=get_settings().inbound_bucket, Key=key)
        return bytes(response["Body"].read())
    except (ClientError, BotoCoreError) as error:
        raise StorageError("reading an attachment failed") from error


def _put(key: str, body: bytes, content_type: str, disposition: str | None = None) -> None:
    extra = {"ContentDisposition": disposition} if disposition else {}
    try:
        client("s3").put_object(
            Bucket=get_settings().inbound_bucket, Key=key, Body=body, ContentType=content_type, **extra
        )
    except (ClientError, BotoCoreError) as error:
        raise StorageError("storing a received email failed") from error


# --- thread references ----------------------------------------------------------------------------


class ThreadRefItem(Model):
    """Message-ID -> inquiry, in the replies table (its own partition per id): the customer's own
    first email and every staff reply we sent. Read when a reply comes to the support address
    without our Reply-To (its In-Reply-To / References name one of these)."""

    class Meta:
        table_name: str = ""  # set by bind()

    inquiry_key = UnicodeAttribute(hash_key=True)  # "ref#<store_id>#<lower-cased Message-ID>"
    reply_id = UnicodeAttribute(range_key=True)  # "ref"
    inquiry_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


register(((ThreadRefItem, "replies_table"),))


def _ref_key(store_id: str, message_id: str) -> str:
    return f"ref#{store_id}#{message_id.strip().strip('<>')[:900]}"  # Message-IDs are case-sensitive


def remember_thread(store_id: str, message_id: str, inquiry_id: str, at: datetime) -> None:
    bind()
    try:
        ThreadRefItem(
            inquiry_key=_ref_key(store_id, message_id), reply_id="ref", inquiry_id=inquiry_id, created_at=at
        ).save(condition=ThreadRefItem.inquiry_key.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            return  # the first email with this Message-ID keeps it: a repeat cannot repoint it
        raise StorageError("recording a thread reference failed") from error


def find_thread(store_id: str, message_ids: tuple[str, ...]) -> str | None:
    """The inquiry the newest of `message_ids` (References order: oldest first) belongs to."""
    bind()
    for message_id in reversed(message_ids[-10:]):  # a long chain: its newest ten are enough
        try:
            return str(ThreadRefItem.get(_ref_key(store_id, message_id), "ref").inquiry_id)
        except DoesNotExist:
            continue
        except PynamoDBException as error:
            raise StorageError("reading a thread reference failed") from error
    return None
