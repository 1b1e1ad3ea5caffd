"""The one email skeleton adds what every marketing email must carry, and nothing to others."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

import pytest

from omotenashi.domain import Store
from omotenashi.messaging.compose import Draft, MarketingFooter, compose

STORE = Store(
    store_id="demo",
    name="Omotenashi Demo Shop",
    sender="shop@demo.example",
    staff_addresses=("staff@demo.example",),
    default_locale="ja",
    time_zone="Asia/Tokyo",
    sla_hours=24,
)
CART_CONTEXT = {
    "customer": {"name": "山田太郎"},
    "items": [
        {
            "name": "玉露 100g",
            "quantity": 2,
            "unit_price": "¥1,620",
            "line_total": "¥3,240",
            "image_url": None,
            "product_url": None,
        }
    ],
    "subtotal": "¥3,240",
    "cart_url": "https://shop.example/cart/cart-77",
    "step": 1,
    "discount_code": None,
}
UNSUBSCRIBE = "https://api.example/v1/unsubscribe?token=abc"
FOOTER = MarketingFooter("〒100-0001\n東京都千代田区千代田1-1", "support@demo.example", UNSUBSCRIBE)


def _parts(raw: bytes):
    message = message_from_bytes(raw, policy=default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return message, text, html


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_marketing_email_carries_footer_and_one_click_unsubscribe(locale):
    draft = Draft(
        kind="cart_reminder",
        store=STORE,
        locale=locale,
        to="taro@example.jp",
        to_name="山田太郎",
        context={**CART_CONTEXT, "locale": locale},
        reference="cart-77.1.demo",
        marketing=FOOTER,
    )
    message, text, html = _parts(compose(draft, datetime(2026, 11, 22, 2, tzinfo=UTC)).raw_mime)
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for part in (text, html):
        assert "Omotenashi Demo Shop" in part and "東京都千代田区千代田1-1" in part
        assert "support@demo.example" in part
    assert UNSUBSCRIBE in text and UNSUBSCRIBE.replace("&", "&amp;") in html


def test_transactional_email_carries_no_unsubscribe_headers():
    draft = Draft(
        kind="inquiry_reply",
        store=STORE,
        locale="ja",
        to="taro@example.jp",
        to_name=None,
        context={
            "customer": {"name": None},
            "inquiry": {"id": "inq_1", "subject": "配送"},
            "reply": {"message": "明日発送します"},
            "staff": {"name": None},
            "quote": {
                "author": "taro@example.jp",
                "at": "11月22日",
                "message": "いつ届きますか",
                "lines": ["いつ届きますか"],
            },
            "subject": "Re: 配送",
        },
        reference="rep_1.demo",
        automated=False,
    )
    message, text, _ = _parts(compose(draft, datetime(2026, 11, 22, 2, tzinfo=UTC)).raw_mime)
    assert message["List-Unsubscribe"] is None and "東京都" not in text


def test_a_marketing_email_without_its_legal_parts_is_never_composed():
    incomplete = MarketingFooter("", "support@demo.example", UNSUBSCRIBE)
    draft = Draft(
        kind="cart_reminder",
        store=STORE,
        locale="ja",
        to="taro@example.jp",
        to_name=None,
        context={**CART_CONTEXT, "locale": "ja"},
        reference="cart-77.1.demo",
        marketing=incomplete,
    )
    with pytest.raises(ValueError, match="postal_address"):
        compose(draft, datetime(2026, 11, 22, 2, tzinfo=UTC))
