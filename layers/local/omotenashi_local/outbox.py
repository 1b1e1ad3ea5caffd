"""What the stack has emailed: read from the embedded moto SES backend, parsed from raw MIME."""

from __future__ import annotations

import html
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from omotenashi.clock import isoformat
from omotenashi.dal.mailer import delivered_message_id
from omotenashi_local.provision import ACCOUNT_ID


def _raw_messages(region: str) -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT_ID][region].sent_messages)


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    return str(part.get_content()).replace("\r\n", "\n")


def parse(message_id: str, raw: bytes | str, destinations: list[str] | None) -> dict[str, Any]:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    headers = {name: str(value).strip() for name, value in message.items()}
    # moto records both the Destinations parameter and the To header; show each address once.
    to: list[str] = []
    for _, address in getaddresses([*(destinations or []), *map(str, message.get_all("To", []))]):
        if address and address.lower() not in (known.lower() for known in to):
            to.append(address)
    sent_at = None
    if message["Date"]:
        sent_at = isoformat(parsedate_to_datetime(str(message["Date"])))
    return {
        "id": message_id,
        "to": to,
        "from": str(message["From"] or ""),
        "subject": str(message["Subject"] or ""),
        "text": _part(message, "plain"),
        "html": _part(message, "html"),
        "headers": headers,
        "kind": headers.get("X-Omotenashi-Kind"),
        "sent_at": sent_at,
    }


def messages(region: str, offset: int = 0) -> list[dict[str, Any]]:
    result = []
    for raw in _raw_messages(region)[offset:]:
        data = getattr(raw, "raw_data", None)
        if data is None:  # a simple (non-raw) email; the stack sends raw only, but show it anyway
            result.append(
                {
                    "id": raw.id,
                    "to": list(getattr(raw, "destinations", {}).get("ToAddresses", [])),
                    "from": raw.source,
                    "subject": getattr(raw, "subject", ""),
                    "text": "",
                    "html": getattr(raw, "body", ""),
                    "headers": {},
                    "kind": None,
                    "sent_at": None,
                }
            )
            continue
        message = parse(raw.id, data, list(getattr(raw, "destinations", []) or []))
        # Real SES replaces the Message-ID header with its own; moto keeps ours. Show what a
        # recipient of SES would see, so threading (In-Reply-To) can be checked locally.
        headers = {k: v for k, v in message["headers"].items() if k.lower() != "message-id"}
        message["headers"] = {**headers, "Message-ID": delivered_message_id(raw.id)}
        result.append(message)
    return result


def render_html(items: list[dict[str, Any]]) -> str:
    """The outbox for people, newest first: each email's HTML part as the customer's mail program
    shows it (in a sandboxed iframe), its text part and headers one click away."""
    rows = []
    for item in reversed(items):
        text = f"<pre>{html.escape(item['text'])}</pre>"
        if item["html"]:
            # srcdoc is an attribute value: escape quotes too. sandbox="" allows nothing: no
            # scripts, forms or plugins, and no access to this page.
            srcdoc = html.escape(item["html"], quote=True)
            frame = f'<iframe sandbox="" title="HTML part" srcdoc="{srcdoc}"></iframe>'
            body = f"{frame}<details><summary>text part</summary>{text}</details>"
        else:
            body = text
        headers = html.escape("\n".join(f"{k}: {v}" for k, v in item["headers"].items()))
        rows.append(
            f"<article><h2>{html.escape(item['subject'])}</h2>"
            f"<p><b>{html.escape(str(item['kind']))}</b> · {html.escape(str(item['sent_at']))} · "
            f"from {html.escape(item['from'])} to {html.escape(', '.join(item['to']))}</p>"
            f"<details><summary>headers</summary><pre>{headers}</pre></details>{body}</article>"
        )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Omotenashi outbox</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}article{border-bottom:1px solid #ccc}"
        "pre{white-space:pre-wrap}iframe{width:100%;height:28em;border:1px solid #ddd;background:#fff}"
        "</style></head><body>"
        f"<h1>Outbox ({len(items)} messages, newest first)</h1>{''.join(rows) or '<p>No messages yet.</p>'}"
        "</body></html>"
    )
