"""API function: storefront HTTP requests (API Gateway REST proxy).

Each route: parse (Powertools validation) -> one logic call -> response.
"""

import re
from typing import Annotated, Any

# First: pauses the garbage collector until startup_complete() below (see omotenashi/http/__init__.py).
from omotenashi.http import startup_complete

# isort: split
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.http.resolver import create_resolver, current_store, serve
from omotenashi.logic import inquiries, intake, replies
from omotenashi.logic.errors import NotFound
from omotenashi.logic.idempotency import Answer
from omotenashi.logic.inquiries import to_view
from omotenashi.observability import logger, metrics, tracer
from omotenashi.schemas import (
    ErrorOut,
    FollowUpIn,
    InquiryAccepted,
    InquiryIn,
    InquiryOut,
    MessageCreated,
    ReplyCreated,
    ReplyIn,
)

app = create_resolver()
_INQUIRY_ID = re.compile(r"^inq_[a-z0-9]{1,64}$")
InquiryIdPath = Annotated[str, Path(description="inq_…; an unknown id answers 404")]


def _answer(description: str, model: type = ErrorOut) -> dict[str, Any]:
    # Explicit content everywhere: Powertools documents a response without content as the route's
    # return model, which would describe error bodies as inquiries.
    return {"description": description, "content": {"application/json": {"model": model}}}


# Every /v1 route may answer these (the guard and the validation run before the route).
_ERRORS: dict[int | str, Any] = {
    400: _answer("Malformed JSON or header"),
    401: _answer("Missing or invalid signature, or unknown store"),
    413: _answer("Body over 256 KiB"),
    415: _answer("Content-Type is not application/json"),
    422: _answer("Invalid fields, each named"),
    503: _answer("A dependency failed; retry the same request"),
}
_UNKNOWN_INQUIRY = {404: _answer("Unknown inquiry (or another store's)")}
_KEY_CONFLICT = {409: _answer("Idempotency-Key reused with another body")}


@app.post(
    "/v1/inquiries",
    summary="Submit a customer inquiry",
    description="Stores the inquiry and queues the auto-reply. 202 with the reply deadline.",
    responses={202: _answer("Accepted", InquiryAccepted), **_KEY_CONFLICT, **_ERRORS},
    tags=["inquiries"],
)
@tracer.capture_method
def create_inquiry(
    inquiry: Annotated[InquiryIn, Body(embed=False)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="1-255 printable ASCII characters; same key + same body within 24 h = same answer.",
            min_length=1,
            max_length=255,
            pattern=r"^[\x20-\x7e]+$",
        ),
    ] = None,
) -> Response[InquiryAccepted]:
    result = intake.accept_inquiry(
        current_store(app),
        inquiry,
        app.current_event.json_body,
        idempotency_key,
    )
    return _idempotent_response(result)


@app.get(
    "/v1/inquiries/<inquiry_id>",
    summary="Read an inquiry",
    responses={200: _answer("The inquiry", InquiryOut), **_UNKNOWN_INQUIRY, **_ERRORS},
    tags=["inquiries"],
)
@tracer.capture_method
def get_inquiry(inquiry_id: InquiryIdPath) -> InquiryOut:
    return inquiries.view(current_store(app), _inquiry_id(inquiry_id))


def _inquiry_id(inquiry_id: str) -> str:
    if not _INQUIRY_ID.match(inquiry_id):
        raise NotFound("no such inquiry")
    return inquiry_id


@app.post(
    "/v1/inquiries/<inquiry_id>/replies",
    summary="Reply to the customer as staff",
    description="Emails the reply to the customer. The first reply sets first_response_at, marks the "
    "inquiry answered and stops its SLA alerts.",
    responses={
        201: _answer("Created; the email follows", ReplyCreated),
        **_UNKNOWN_INQUIRY,
        **_KEY_CONFLICT,
        **_ERRORS,
    },
    tags=["inquiries"],
)
@tracer.capture_method
def reply_to_inquiry(
    inquiry_id: InquiryIdPath,
    reply: Annotated[ReplyIn, Body(embed=False)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="1-255 printable ASCII characters; same key + same body within 24 h = same answer.",
            min_length=1,
            max_length=255,
            pattern=r"^[\x20-\x7e]+$",
        ),
    ] = None,
) -> Response[ReplyCreated]:
    result = replies.add_reply(
        current_store(app),
        _inquiry_id(inquiry_id),
        reply.author,
        reply.message,
        app.current_event.json_body,
        idempotency_key,
    )
    return _idempotent_response(result)


@app.post(
    "/v1/inquiries/<inquiry_id>/close",
    summary="Close an inquiry (no further SLA alerts)",
    responses={200: _answer("The closed inquiry", InquiryOut), **_UNKNOWN_INQUIRY, **_ERRORS},
    tags=["inquiries"],
)
@tracer.capture_method
def close_inquiry(inquiry_id: InquiryIdPath) -> InquiryOut:
    return to_view(replies.close(current_store(app), _inquiry_id(inquiry_id)))


@app.post(
    "/v1/inquiries/<inquiry_id>/messages",
    summary="Record a customer follow-up",
    description="On an answered or closed inquiry this starts a next-response SLA: the inquiry is open "
    "again with a new reply_due_at. On an open inquiry the deadline stands. Staff alerts quote the newest "
    "message.",
    responses={
        201: _answer("Recorded", MessageCreated),
        **_UNKNOWN_INQUIRY,
        **_KEY_CONFLICT,
        **_ERRORS,
    },
    tags=["inquiries"],
)
@tracer.capture_method
def customer_follow_up(
    inquiry_id: InquiryIdPath,
    message: Annotated[FollowUpIn, Body(embed=False)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="1-255 printable ASCII characters; same key + same body within 24 h = same answer.",
            min_length=1,
            max_length=255,
            pattern=r"^[\x20-\x7e]+$",
        ),
    ] = None,
) -> Response[MessageCreated]:
    result = replies.follow_up(
        current_store(app),
        _inquiry_id(inquiry_id),
        message.message,
        app.current_event.json_body,
        idempotency_key,
    )
    return _idempotent_response(result)


def _idempotent_response(result: Answer) -> Response:
    """The answer of a request that may be a retry; a replayed one says so (as Stripe does)."""
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return Response(
        status_code=result.status_code, content_type="application/json", body=result.body, headers=headers
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)


startup_complete()  # last: freeze what the import built, resume garbage collection
