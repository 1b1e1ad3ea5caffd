"""API function: storefront HTTP requests (API Gateway REST proxy).

Each route: parse (Powertools validation) -> one logic call -> response.
"""

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.http.resolver import create_resolver, current_store, serve
from omotenashi.logic import inquiries, intake
from omotenashi.logic.errors import NotFound
from omotenashi.observability import logger, metrics, tracer
from omotenashi.schemas import ErrorOut, InquiryAccepted, InquiryIn, InquiryOut

app = create_resolver()
_INQUIRY_ID = re.compile(r"^inq_[a-z0-9]{1,64}$")
_ERRORS: dict[int | str, Any] = {
    401: {
        "description": "Missing or invalid signature",
        "content": {"application/json": {"model": ErrorOut}},
    },
    422: {"description": "Invalid fields", "content": {"application/json": {"model": ErrorOut}}},
}


@app.post(
    "/v1/inquiries",
    summary="Submit a customer inquiry",
    description="Stores the inquiry and queues the auto-reply. 202 with the reply deadline.",
    responses={
        202: {"description": "Accepted", "content": {"application/json": {"model": InquiryAccepted}}},
        400: {"description": "Malformed JSON", "content": {"application/json": {"model": ErrorOut}}},
        409: {"description": "Idempotency-Key reused with another body"},
        413: {"description": "Body over 256 KiB"},
        **_ERRORS,
    },
    tags=["inquiries"],
)
@tracer.capture_method
def create_inquiry(
    inquiry: Annotated[InquiryIn, Body(embed=False)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="1-255 printable characters; same key + same body within 24 h = same answer.",
        ),
    ] = None,
) -> Response[InquiryAccepted]:
    result = intake.accept_inquiry(
        current_store(app),
        inquiry,
        app.current_event.json_body,
        idempotency_key,
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return Response(
        status_code=result.status_code, content_type="application/json", body=result.body, headers=headers
    )


@app.get(
    "/v1/inquiries/<inquiry_id>",
    summary="Read an inquiry",
    responses={404: {"description": "Unknown inquiry"}, **_ERRORS},
    tags=["inquiries"],
)
@tracer.capture_method
def get_inquiry(inquiry_id: Annotated[str, Path(max_length=80)]) -> InquiryOut:
    if not _INQUIRY_ID.match(inquiry_id):
        raise NotFound("no such inquiry")
    return inquiries.view(current_store(app), inquiry_id)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
