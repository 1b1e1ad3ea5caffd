"""The legal footer of every marketing email (特定電子メール法): the sender's name, postal address
and contact, and a visible unsubscribe link, in the reader's language, as text and as HTML.

The one email skeleton (messaging/compose) appends it to every marketing email, so no template
includes it and no store override can drop it: `render_footer` renders
templates/_partials/marketing_footer/<locale>/footer.{txt,html}, and `with_footer` attaches the two
parts to a rendered message (the HTML part inside its <body>). Pure: no clock, no AWS.
"""

from __future__ import annotations

from dataclasses import replace

from omotenashi.messaging.templates import RenderedMessage, available_locales, render_file

FOOTER_DIR = "_partials/marketing_footer"


def _required(field: str, value: str) -> str:
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        raise ValueError(f"the marketing footer needs {field}")
    return cleaned


def _address_lines(postal_address: str) -> str:
    """One line per line of the address as the store wrote it (any line ending), blank lines and
    surrounding spaces dropped: "〒100-0001\\n東京都千代田区千代田1-1\\nデモビル3F"."""
    lines = [line.strip() for line in _required("postal_address", postal_address).splitlines()]
    return "\n".join(line for line in lines if line)


def render_footer(
    locale: str, store_name: str, postal_address: str, contact: str, unsubscribe_url: str
) -> tuple[str, str]:
    """(text, html) of the footer. ValueError when a part the law requires is empty, when the
    unsubscribe link is not an http(s) URL, or when the locale has no footer: an email that cannot
    carry its footer must not go out. `contact` is an email address, a URL or a phone number (the
    first two become links in the HTML)."""
    if locale not in available_locales(FOOTER_DIR):
        raise ValueError(f"no marketing footer for locale {locale!r}")
    url = _required("unsubscribe_url", unsubscribe_url)
    if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        raise ValueError("the unsubscribe link must be an http(s) URL")
    context = {
        "store": {
            "name": _required("store_name", store_name),
            "postal_address": _address_lines(postal_address),
            "contact": _required("contact", contact),
        },
        "unsubscribe_url": url,
        "locale": locale,
    }
    text = render_file(f"{FOOTER_DIR}/{locale}/footer.txt", context)
    html = render_file(f"{FOOTER_DIR}/{locale}/footer.html", context)
    return text, html


def with_footer(message: RenderedMessage, footer: tuple[str, str]) -> RenderedMessage:
    """The message with the footer after its text (one blank line between) and at the end of its
    HTML body (before </body>, or appended when the HTML has none)."""
    footer_text, footer_html = footer
    text = message.text.rstrip() + "\n\n" + footer_text
    end = message.html.lower().rfind("</body>")
    html = message.html[:end] + footer_html + message.html[end:] if end >= 0 else message.html + footer_html
    return replace(message, text=text, html=html)
