from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from omotenashi.messaging.pages import mask_address, render_page

ROOT = Path(__file__).resolve().parents[2] / "templates"
PAGES = ("confirm", "done", "invalid")
LOCALES = ("ja", "en")
HOSTILE = '<script>alert("x")</script>&"\'>'
ACTION = "https://api.example.com/v1/unsubscribe?token=AQAB-_x&lang=ja"


def _context(name: str | None = None, masked: str | None = "t***@example.com") -> dict:
    return {
        "store": {"name": "お店 Shop"},
        "customer": {"name": name, "masked_email": masked},
        "action_url": ACTION,
    }


def test_every_page_exists_in_ja_and_en():
    for locale in LOCALES:
        for page in PAGES:
            assert (ROOT / "unsubscribe_page" / locale / f"{page}.html").is_file(), (locale, page)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("page", PAGES)
def test_pages_are_for_phones_and_self_contained(locale, page):
    html = render_page(f"unsubscribe_page/{page}", locale, _context())
    assert html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta charset="utf-8">' in html
    assert '<meta name="referrer" content="no-referrer">' in html  # the address holds the token
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", html), "no external resources"
    assert "system-ui" in html


@pytest.mark.parametrize("locale", LOCALES)
def test_confirm_has_one_button_posting_to_the_action_url(locale):
    html = render_page("unsubscribe_page/confirm", locale, _context())
    assert (
        '<form method="post" action="https://api.example.com/v1/unsubscribe?token=AQAB-_x&amp;lang=ja">'
        in html
    )
    assert html.count("<form") == 1 and html.count("<button") == 1
    assert '<button type="submit">' in html
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in html  # RFC 8058 body
    assert "min-height: 3.25rem" in html  # a large tap target
    assert "お店 Shop" in html


@pytest.mark.parametrize(
    ("locale", "marketing", "still_sent"),
    [
        ("ja", ("カート", "レビュー"), ("ご注文", "お問い合わせ")),
        ("en", ("cart", "review"), ("order", "enquiries")),
    ],
)
def test_confirm_explains_what_stops_and_what_still_comes(locale, marketing, still_sent):
    html = render_page("unsubscribe_page/confirm", locale, _context())
    for word in (*marketing, *still_sent):
        assert word in html


@pytest.mark.parametrize("locale", LOCALES)
def test_confirm_shows_the_name_if_given_else_the_masked_address(locale):
    with_name = render_page("unsubscribe_page/confirm", locale, _context(name="山田 太郎"))
    assert "山田 太郎" in with_name and "t***@example.com" not in with_name
    masked = render_page("unsubscribe_page/confirm", locale, _context())
    assert "t***@example.com" in masked
    anonymous = render_page("unsubscribe_page/confirm", locale, _context(masked=None))
    assert 'class="who"' not in anonymous


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("page", PAGES)
def test_hostile_names_are_escaped(locale, page):
    context = {
        "store": {"name": HOSTILE},
        "customer": {"name": HOSTILE, "masked_email": HOSTILE},
        "action_url": 'https://x.example/"><script>alert(1)</script>',
    }
    html = render_page(f"unsubscribe_page/{page}", locale, context)
    assert "<script" not in html
    if page != "invalid":
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#34;&#39;&gt;" in html
    if page == "confirm":
        assert 'action="https://x.example/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


@pytest.mark.parametrize("locale", LOCALES)
def test_done_says_you_can_subscribe_again_at_the_store(locale):
    html = render_page("unsubscribe_page/done", locale, {"store": {"name": "お店 Shop"}})
    assert "お店 Shop" in html
    assert ("再度ご登録" if locale == "ja" else "subscribe again") in html
    assert "<form" not in html


@pytest.mark.parametrize("locale", LOCALES)
def test_invalid_page_needs_nothing_and_tells_nothing(locale):
    html = render_page("unsubscribe_page/invalid", locale, {})
    assert "このリンクは無効です" in html and "This link is not valid" in html  # locale unknown: both
    assert "<form" not in html and "token" not in html.lower()


def test_missing_variable_is_an_error():
    with pytest.raises(UndefinedError):
        render_page("unsubscribe_page/confirm", "ja", {"store": {"name": "s"}, "customer": {"name": None}})


@pytest.mark.parametrize(
    ("name", "locale"),
    [
        ("unsubscribe_page/confirm", "fr"),
        ("unsubscribe_page/../inquiry_reply/ja/body", "ja"),
        ("inquiry_reply/body", "ja"),  # an email kind is not a page
        ("unsubscribe_page/confirm.html", "ja"),
        ("confirm", "ja"),
    ],
)
def test_unknown_page_names_and_locales_are_refused(name, locale):
    with pytest.raises(ValueError):
        render_page(name, locale, _context())


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("taro.yamada@example.co.jp", "t***@example.co.jp"),
        ("a@b.example", "a***@b.example"),
        ("山田@例え.jp", "山***@例え.jp"),
        ('"odd@local"@example.com', '"***@example.com'),
        ("cust_123", "c***"),
        ("", ""),
    ],
)
def test_mask_address(address, masked):
    assert mask_address(address) == masked
