"""The unsubscribe link (public, unsigned): GET /v1/unsubscribe shows the confirm page, POST
unsubscribes (RFC 8058 one-click, or the page's button). HTML answers, never JSON: a person or a
mail provider's one-click POST reads them. The guard lets these requests through without the
signature and the JSON body checks (http/resolver.py PUBLIC_PREFIXES), keeping the size limit."""

# No `from __future__ import annotations`: Powertools reads these annotations at run time.

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from omotenashi.http.openapi import answer
from omotenashi.logic.marketing import unsubscribe
from omotenashi.observability import tracer

HTML = "text/html; charset=utf-8"
# The address holds the token: no cache may keep the page, no Referer may carry it, no frame may
# hold the button. The CSP repeats the layout's meta tag and adds what a meta tag cannot say.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
}


def _html(description: str) -> Any:
    """One documented HTML answer (the pages are strings, not JSON models)."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


_INVALID = _html("Missing, forged, altered or unknown token (an HTML page); nothing changed")
_TOO_LARGE = {413: answer("Body over 256 KiB")}
_UNAVAILABLE = {503: answer("A dependency failed; retry (see Retry-After)")}
# Public: no signature headers (the document's default security is the signed one). The token is
# read from the event, not declared as a validated parameter: a repeated or odd one must answer the
# HTML 400 page, never the JSON 422 of the validation; so the parameter is documented here.
_PUBLIC: dict[str, Any] = {
    "security": [],
    "parameters": [
        {
            "name": "token",
            "in": "query",
            "required": True,
            "description": "The signed token of the link, exactly as in the email; a missing, repeated, "
            "forged or altered token answers 400 and changes nothing",
            "schema": {"type": "string"},
        }
    ],
}
_ONE_CLICK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "Optional and ignored: RFC 8058's List-Unsubscribe=One-Click, as mail "
        "providers and the confirm page's form send it",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
                }
            }
        },
    }
}


def _page(status: int, html: str) -> Response:
    return Response(status_code=status, content_type=HTML, body=html, headers=dict(PAGE_HEADERS))


def router() -> Router:
    routes = Router()

    def token_and_hint() -> tuple[str | None, str | None]:
        event = routes.current_event
        tokens = (event.multi_value_query_string_parameters or {}).get("token")
        if tokens is None:
            single = (event.query_string_parameters or {}).get("token")
            tokens = [] if single is None else [single]
        # Two tokens: which one was meant? Neither: the link is not as it was sent.
        token = tokens[0] if len(tokens) == 1 else None
        return token, event.headers.get("accept-language")

    @routes.get(
        "/v1/unsubscribe",
        summary="Unsubscribe link: the confirm page (public, unsigned)",
        description="The link of every marketing email's List-Unsubscribe header and footer. Shows a "
        "page in the customer's language with a confirm button that POSTs to the same link. Needs no "
        "signature headers and works for as long as the store exists.",
        responses={
            200: _html("The confirm page (HTML)"),
            400: _INVALID,
            **_UNAVAILABLE,
        },
        tags=["unsubscribe"],
        openapi_extensions=_PUBLIC,
    )
    @tracer.capture_method
    def confirm():  # no return annotation: Powertools would validate a Response
        return _page(*unsubscribe.confirm_page(*token_and_hint()))

    @routes.post(
        "/v1/unsubscribe",
        summary="Unsubscribe link: unsubscribe (RFC 8058 one-click; public, unsigned)",
        description="Withdraws the customer's marketing consent at once (recorded in the consent "
        "history with source unsubscribe_link) and answers a page saying so; transactional email "
        "still goes. No body is needed; RFC 8058's form body is accepted. Repeating it answers 200 "
        "again. Needs no signature headers.",
        responses={
            200: _html("Unsubscribed (an HTML page)"),
            400: _INVALID,
            **_TOO_LARGE,
            **_UNAVAILABLE,
        },
        tags=["unsubscribe"],
        openapi_extensions={**_PUBLIC, **_ONE_CLICK_BODY},
    )
    @tracer.capture_method
    def one_click():  # no return annotation: Powertools would validate a Response
        return _page(*unsubscribe.unsubscribe(*token_and_hint()))

    return routes
