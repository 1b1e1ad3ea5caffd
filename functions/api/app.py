"""API function: storefront HTTP requests (API Gateway REST proxy).

One resolver, one Router per area (omotenashi/http/routes/); each route parses (Powertools
validation), makes one logic call and answers.
"""

from typing import Any

# First: the cold-start measures must be in place before Powertools and pydantic load.
from omotenashi.http import coldstart

coldstart.begin()

# isort: split
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.http.resolver import create_resolver, serve
from omotenashi.http.routes import commerce, customers, events, inquiries, unsubscribe
from omotenashi.observability import logger, metrics, tracer
from omotenashi.settings import require_settings

require_settings("api")
app = create_resolver()
app.include_router(inquiries.router())
app.include_router(events.router())
app.include_router(commerce.router())
app.include_router(customers.router())
app.include_router(unsubscribe.router())


# API Gateway's request id is the correlation id of the request and of every job it enqueues.
@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)


coldstart.complete()  # last: freeze what the import built, resume garbage collection
