"""An inquiry's conversation: staff replies (the first one stops the SLA clock) and customer
follow-ups, in the replies table."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.inquiries import attachments_from_json, attachments_to_json
from omotenashi.dal.tables import ReplyItem, bind
from omotenashi.domain import ConversationEntry, CustomerMessage, Reply

CUSTOMER_AUTHOR = "customer"


def _key(store_id: str, inquiry_id: str) -> str:
    return f"{store_id}#{inquiry_id}"


def _to_domain(item: ReplyItem) -> Reply:
    store_id, _, inquiry_id = item.inquiry_key.partition("#")
    return Reply(
        store_id=store_id,
        inquiry_id=inquiry_id,
        reply_id=item.reply_id,
        author=item.author,
        message=item.message,
        created_at=item.created_at,
        request_hash=item.request_hash,
        email_state=item.email_state,
        sla_round=int(item.sla_round or 0),
        author_email=item.author_email,
        channel=item.channel or "api",
        source_key=item.source_key,
        attachments=attachments_from_json(item.attachments),
    )


def create_if_absent(reply: Reply) -> bool:
    bind()
    item = ReplyItem(
        inquiry_key=_key(reply.store_id, reply.inquiry_id),
        reply_id=reply.reply_id,
        author=reply.author,
        message=reply.message,
        created_at=reply.created_at,
        request_hash=reply.request_hash,
        email_state="pending",
        sla_round=reply.sla_round,
        author_email=reply.author_email,
        channel=None if reply.channel == "api" else reply.channel,
        source_key=reply.source_key,
        attachments=attachments_to_json(reply.attachments),
    )
    return _save_new(item, "storing a reply failed")


def _save_new(item: ReplyItem, what: str) -> bool:
    """One conditional PutItem; False when an entry with this id exists (a retried request)."""
    try:
        item.save(condition=ReplyItem.reply_id.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError(what) from error
    return True


def _get_item(store_id: str, inquiry_id: str, entry_id: str) -> ReplyItem | None:
    bind()
    try:
        return ReplyItem.get(_key(store_id, inquiry_id), entry_id, consistent_read=True)
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading the conversation failed") from error


def get(store_id: str, inquiry_id: str, reply_id: str) -> Reply | None:
    item = _get_item(store_id, inquiry_id, reply_id)
    return None if item is None or item.author == CUSTOMER_AUTHOR else _to_domain(item)


def create_message_if_absent(message: CustomerMessage) -> bool:
    bind()
    item = ReplyItem(
        inquiry_key=_key(message.store_id, message.inquiry_id),
        reply_id=message.message_id,
        author=CUSTOMER_AUTHOR,
        message=message.message,
        created_at=message.created_at,
        request_hash=message.request_hash,
        email_state="none",
        sla_round=message.sla_round,
        reply_due_at=message.reply_due_at,
        channel=None if message.channel == "api" else message.channel,
        attachments=attachments_to_json(message.attachments),
        source_key=message.source_key,
    )
    return _save_new(item, "storing a customer message failed")


def get_message(store_id: str, inquiry_id: str, message_id: str) -> CustomerMessage | None:
    item = _get_item(store_id, inquiry_id, message_id)
    if item is None or item.author != CUSTOMER_AUTHOR or item.reply_due_at is None:
        return None
    return CustomerMessage(
        store_id=store_id,
        inquiry_id=inquiry_id,
        message_id=item.reply_id,
        message=item.message,
        created_at=item.created_at,
        request_hash=item.request_hash,
        sla_round=int(item.sla_round or 0),
        reply_due_at=item.reply_due_at,
        channel=item.channel or "api",
        attachments=attachments_from_json(item.attachments),
        source_key=item.source_key,
    )


def mark_emailed(store_id: str, inquiry_id: str, reply_id: str) -> None:
    bind()
    try:
        ReplyItem(inquiry_key=_key(store_id, inquiry_id), reply_id=reply_id).update(
            actions=[ReplyItem.email_state.set("sent")]
        )
    except PynamoDBException as error:
        raise StorageError("recording a reply email failed") from error


def set_message_outcome(message: CustomerMessage) -> None:
    """Record the round a follow-up ended up in and its deadline (what a retry answers)."""
    bind()
    try:
        ReplyItem(inquiry_key=_key(message.store_id, message.inquiry_id), reply_id=message.message_id).update(
            actions=[
                ReplyItem.sla_round.set(message.sla_round),
                ReplyItem.reply_due_at.set(message.reply_due_at),
            ],
            condition=ReplyItem.reply_id.exists(),
        )
    except PynamoDBException as error:
        raise StorageError("recording a follow-up's deadline failed") from error


def conversation(store_id: str, inquiry_id: str) -> list[ConversationEntry]:
    """Every entry of the inquiry's conversation (staff replies and customer follow-ups), oldest
    first (created_at, then id): a strongly consistent Query of the inquiry's partition, page by
    page. The inquiry's own first message is not an entry (it is on the inquiry)."""
    bind()
    try:
        items = list(ReplyItem.query(_key(store_id, inquiry_id), consistent_read=True))
    except PynamoDBException as error:
        raise StorageError("reading the conversation failed") from error
    entries = [
        ConversationEntry(
            entry_id=item.reply_id,
            from_customer=item.author == CUSTOMER_AUTHOR,
            author=item.author,
            author_email=item.author_email,
            message=item.message,
            created_at=item.created_at,
            channel=item.channel or "api",
            attachments=attachments_from_json(item.attachments),
        )
        for item in items
    ]
    return sorted(entries, key=lambda entry: (entry.created_at, entry.entry_id))
