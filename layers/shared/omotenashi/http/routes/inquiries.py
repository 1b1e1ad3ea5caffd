"""Inquiry routes: intake, list, read (with the conversation), staff replies, close, customer
follow-ups."""

# No `from __future__ import annotations`: Powertools reads these annotations at run time (through
# the tracer's wrapper, whose globals are not this module's), so they must be real objects.

import re
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

from omotenashi.domain import InquiryStatus
from omotenashi.http.openapi import COMMON_ERRORS, KEY_CONFLICT, answer, not_found
from omotenashi.http.resolver import current_store
from omotenashi.http.responses import idempotent_response
from omotenashi.logic.core.errors import NotFound
from omotenashi.logic.inquiries import follow_ups, intake, listing, replies, views
from omotenashi.observability import tracer
from omotenashi.schemas.inquiries import (
    FollowUpIn,
    InquiryAccepted,
    InquiryIn,
    InquiryListOut,
    InquiryOut,
    InquiryThreadOut,
    MessageCreated,
    ReplyCreated,
    ReplyIn,
)

_INQUIRY_ID = re.compile(r"^inq_[a-z0-9]{1,64}$")
InquiryIdPath = Annotated[str, Path(description="inq_…; an unknown id answers 404")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="1-255 printable ASCII characters; the same key and body within 24 h answers "
        "as the first call did, with no new effect.",
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
    ),
]
_UNKNOWN_INQUIRY = not_found("inquiry")


def _inquiry_id(inquiry_id: str) -> str:
    if not _INQUIRY_ID.match(inquiry_id):
        raise NotFound("no such inquiry")
    return inquiry_id


def router() -> Router:
    routes = Router()

    @routes.post(
        "/v1/inquiries",
        summary="Submit a customer inquiry",
        description="Stores the inquiry and queues the auto-reply. 202 with the reply deadline.",
        responses={202: answer("Accepted", InquiryAccepted), **KEY_CONFLICT, **COMMON_ERRORS},
        tags=["inquiries"],
    )
    @tracer.capture_method
    def create_inquiry(
        inquiry: Annotated[InquiryIn, Body(embed=False)], idempotency_key: IdempotencyKey = None
    ) -> Response[InquiryAccepted]:
        store = current_store(routes)
        result = intake.accept_inquiry(store, inquiry, routes.current_event.json_body, idempotency_key)
        return idempotent_response(result)

    @routes.get(
        "/v1/inquiries",
        summary="List the store's inquiries, newest first",
        description="Newest first by received_at (then inquiry_id), each as GET /v1/inquiries/{id} "
        "answers but without messages. Pass next_cursor as cursor (with the same status and overdue) "
        "for the next page. overdue=true lists open inquiries whose reply_due_at has passed; it cannot "
        "go with status answered or closed (422). Inquiries show up about a second after they are "
        "written.",
        responses={200: answer("One page of inquiries", InquiryListOut), **COMMON_ERRORS},
        tags=["inquiries"],
    )
    @tracer.capture_method
    def list_inquiries(
        status: Annotated[InquiryStatus | None, Query(description="Only inquiries of this status")] = None,
        overdue: Annotated[
            bool | None,
            Query(description="true: open and past reply_due_at; false: every other inquiry"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100, description="Inquiries per page (default 20)")] = 20,
        cursor: Annotated[
            str | None, Query(max_length=2000, description="next_cursor of the page before")
        ] = None,
    ) -> InquiryListOut:
        return listing.list_inquiries(
            current_store(routes), status=status, overdue=overdue, limit=limit, cursor=cursor
        )

    @routes.get(
        "/v1/inquiries/<inquiry_id>",
        summary="Read an inquiry and its conversation",
        description="messages: the conversation oldest first: the customer's first message, then every "
        "follow-up and staff reply. Attachment links are valid for 15 minutes.",
        responses={
            200: answer("The inquiry with its messages", InquiryThreadOut),
            **_UNKNOWN_INQUIRY,
            **COMMON_ERRORS,
        },
        tags=["inquiries"],
    )
    @tracer.capture_method
    def get_inquiry(inquiry_id: InquiryIdPath) -> InquiryThreadOut:
        return views.view(current_store(routes), _inquiry_id(inquiry_id))

    @routes.post(
        "/v1/inquiries/<inquiry_id>/replies",
        summary="Reply to the customer as staff",
        description="Emails the reply to the customer. The first reply sets first_response_at, marks "
        "the inquiry answered and stops its SLA alerts.",
        responses={
            201: answer("Created; the email follows", ReplyCreated),
            **_UNKNOWN_INQUIRY,
            **KEY_CONFLICT,
            **COMMON_ERRORS,
        },
        tags=["inquiries"],
    )
    @tracer.capture_method
    def reply_to_inquiry(
        inquiry_id: InquiryIdPath,
        reply: Annotated[ReplyIn, Body(embed=False)],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReplyCreated]:
        result = replies.add_reply(
            current_store(routes),
            _inquiry_id(inquiry_id),
            reply.author,
            reply.message,
            routes.current_event.json_body,
            idempotency_key,
        )
        return idempotent_response(result)

    @routes.post(
        "/v1/inquiries/<inquiry_id>/close",
        summary="Close an inquiry (no further SLA alerts)",
        responses={200: answer("The closed inquiry", InquiryOut), **_UNKNOWN_INQUIRY, **COMMON_ERRORS},
        tags=["inquiries"],
    )
    @tracer.capture_method
    def close_inquiry(inquiry_id: InquiryIdPath) -> InquiryOut:
        return views.to_view(replies.close(current_store(routes), _inquiry_id(inquiry_id)))

    @routes.post(
        "/v1/inquiries/<inquiry_id>/messages",
        summary="Record a customer follow-up",
        description="On an answered or closed inquiry this starts a next-response SLA: the inquiry is "
        "open again with a new reply_due_at. On an open inquiry the deadline stands. Staff alerts quote "
        "the newest message.",
        responses={
            201: answer("Recorded", MessageCreated),
            **_UNKNOWN_INQUIRY,
            **KEY_CONFLICT,
            **COMMON_ERRORS,
        },
        tags=["inquiries"],
    )
    @tracer.capture_method
    def customer_follow_up(
        inquiry_id: InquiryIdPath,
        message: Annotated[FollowUpIn, Body(embed=False)],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[MessageCreated]:
        result = follow_ups.follow_up(
            current_store(routes),
            _inquiry_id(inquiry_id),
            message.message,
            routes.current_event.json_body,
            idempotency_key,
        )
        return idempotent_response(result)

    return routes
