"""The legal footer of marketing email (特定電子メール法): name, postal address, contact and a
visible unsubscribe link in text and HTML, both languages; and how it is attached to a message."""

from __future__ import annotations

import pytest

from omotenashi.messaging.footer import render_footer, with_footer
from omotenashi.messaging.templates import RenderedMessage

ADDRESS = "〒100-0001\r\n  東京都千代田区千代田1-1  \n\nデモビル3F <B棟>"
LINES = ["〒100-0001", "東京都千代田区千代田1-1", "デモビル3F <B棟>"]
UNSUBSCRIBE = "https://api.example/v1/unsubscribe?token=abc.def&x=1"


def _footer(locale: str = "ja", **overrides: str) -> tuple[str, str]:
    arguments = {
        "store_name": "デモ & <ショップ>",
        "postal_address": ADDRESS,
        "contact": "shop@demo.example",
        "unsubscribe_url": UNSUBSCRIBE,
    } | overrides
    return render_footer(locale, **arguments)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_text_carries_everything_the_law_asks_with_the_address_lines_kept(locale):
    text, _ = _footer(locale)
    assert "デモ & <ショップ>" in text
    assert "\n".join(LINES) in text  # one line each, blank line and padding dropped
    assert "shop@demo.example" in text
    assert UNSUBSCRIBE in text
    sentence = {
        "ja": "配信停止をご希望の方は、以下のURLからお手続きください。",
        "en": "Unsubscribe from these emails",
    }[locale]
    assert sentence in text


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_html_carries_everything_escaped_with_line_breaks(locale):
    _, html = _footer(locale)
    assert "デモ &amp; &lt;ショップ&gt;" in html and "<ショップ>" not in html
    assert "〒100-0001<br>\n東京都千代田区千代田1-1<br>\nデモビル3F &lt;B棟&gt;<br>" in html
    assert '<a href="mailto:shop@demo.example"' in html
    link_text = {"ja": "配信停止ページ", "en": "Unsubscribe from these emails"}[locale]
    assert f'<a href="{UNSUBSCRIBE.replace("&", "&amp;")}"' in html
    assert f'text-decoration: underline;">{link_text}</a>' in html  # visible, not hidden
    if locale == "ja":
        assert "配信停止をご希望の方は、" in html


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ("https://shop.example/contact", '<a href="https://shop.example/contact"'),
        ("support@shop.example", '<a href="mailto:support@shop.example"'),
        ("03-1234-5678", "03-1234-5678</p>"),  # a phone number reads as it is
        ("電話 03-1234-5678 (平日10-17時) / a@b", "電話 03-1234-5678 (平日10-17時) / a@b</p>"),
    ],
)
def test_contact_is_a_link_when_it_is_an_address_or_url(locale, contact, expected):
    text, html = _footer(locale, contact=contact)
    assert contact in text and expected in html
    if "03-1234-5678" in contact:
        assert "mailto:" not in html


def test_hostile_contact_and_url_are_escaped():
    _, html = _footer("en", contact='x@y" onclick="evil()')
    assert 'onclick="evil()"' not in html and "&#34; onclick=&#34;" in html


@pytest.mark.parametrize("field", ["store_name", "postal_address", "contact", "unsubscribe_url"])
@pytest.mark.parametrize("empty", ["", "   ", "\n \n"])
def test_a_footer_missing_what_the_law_requires_is_refused(field, empty):
    with pytest.raises(ValueError, match=field):
        _footer("ja", **{field: empty})


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://x.example/u", "/v1/unsubscribe?token=a", "https://x.example/a b"]
)
def test_the_unsubscribe_link_must_be_an_http_url(url):
    with pytest.raises(ValueError, match="unsubscribe"):
        _footer("en", unsubscribe_url=url)


def test_the_local_stack_http_link_is_accepted():
    text, _ = _footer("en", unsubscribe_url="http://127.0.0.1:3000/v1/unsubscribe?token=a")
    assert "http://127.0.0.1:3000/v1/unsubscribe?token=a" in text


@pytest.mark.parametrize("locale", ["fr", "", "../ja", "ja/../en"])
def test_unknown_locale_is_refused(locale):
    with pytest.raises(ValueError, match="locale"):
        _footer(locale)


def test_with_footer_puts_it_inside_the_body_and_after_the_text():
    message = RenderedMessage(
        subject="件名", text="本文\n\n\n", html="<html><body><p>本文</p>\n</BODY>\n</html>\n"
    )
    footer = _footer("ja")
    attached = with_footer(message, footer)
    assert attached.subject == "件名"
    assert attached.text == "本文\n\n" + footer[0]
    assert attached.html == "<html><body><p>本文</p>\n" + footer[1] + "</BODY>\n</html>\n"
    fragment = with_footer(RenderedMessage(subject="s", text="t", html="<p>t</p>"), footer)
    assert fragment.html == "<p>t</p>" + footer[1]
