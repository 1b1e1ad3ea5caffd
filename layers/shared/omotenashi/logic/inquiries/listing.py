"""GET /v1/inquiries: a store's inquiries newest first, by status and whether they are overdue,
page by page. The cursor is opaque to callers: base64url of the JSON of the position (the index's
LastEvaluatedKey) the page ended at, checked on the way back in: a cursor that is not one of this
store's list (with this status) is a 422 naming cursor, never a read of someone else's data."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.domain import Store
from omotenashi.logic.core.errors import InvalidFields
from omotenashi.logic.inquiries.views import to_view
from omotenashi.schemas.inquiries import InquiryListOut

_BAD_CURSOR = "is not a cursor this API gave out for this list"


def encode_cursor(position: dict[str, str]) -> str:
    text = json.dumps(position, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        raise InvalidFields(cursor=_BAD_CURSOR) from None


def list_inquiries(
    store: Store, *, status: str | None, overdue: bool | None, limit: int, cursor: str | None
) -> InquiryListOut:
    """overdue true: open inquiries whose reply_due_at has passed (business time, the injectable
    clock), so it goes with status open or none; false: every other inquiry."""
    if overdue and status not in (None, "open"):
        raise InvalidFields(overdue=f"only open inquiries are overdue; overdue=true with status={status}")
    if overdue:
        status = "open"
    position = decode_cursor(cursor) if cursor is not None else None
    try:
        inquiries, after = inquiry_data.list_page(
            store.store_id, status=status, overdue=overdue, now=clock.now(), limit=limit, position=position
        )
    except inquiry_data.InvalidPosition:
        raise InvalidFields(cursor=_BAD_CURSOR) from None
    return InquiryListOut(
        inquiries=[to_view(inquiry) for inquiry in inquiries],
        next_cursor=encode_cursor(after) if after is not None else None,
    )
