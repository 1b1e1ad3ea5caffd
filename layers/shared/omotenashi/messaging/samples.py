"""Sample data for every email kind, for `omotenashi templates preview`: one context per kind and
locale as the flows build it (names, yen amounts as Decimal formatted for the reader, dates in the
store's time zone), rendered through the one skeleton (compose.render_draft) with a sample store,
marketing's legal footer included. Fixed moments, no clock: a preview is the same every time.

A kind under templates/ without a sample here fails tests/unit/test_template_samples.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from omotenashi.domain import Store
from omotenashi.messaging.compose import Draft, MarketingFooter, render_draft
from omotenashi.messaging.formatting import format_date, format_datetime, format_duration
from omotenashi.messaging.labels import label
from omotenashi.messaging.money import format_money
from omotenashi.messaging.templates import RenderedMessage, email_kinds

SAMPLE_STORE = Store(
    store_id="sample",
    name="京都茶舗",
    sender="shop@kyoto-chaho.example",
    staff_addresses=("staff@kyoto-chaho.example",),
    default_locale="ja",
    time_zone="Asia/Tokyo",
    sla_hours=24,
)
SAMPLE_FOOTER = MarketingFooter(
    postal_address="〒600-8001\n京都府京都市下京区四条通寺町東入2丁目御旅町1-1",
    contact="support@kyoto-chaho.example",
    unsubscribe_url="https://api.example/v1/unsubscribe?token=sample",
)
# Emails that are marketing (the legal footer and List-Unsubscribe are added by the skeleton).
MARKETING_KINDS = frozenset({"cart_reminder", "review_request", "review_reminder", "birthday_bonus"})

RECEIVED = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)  # 10:02 in Tokyo
NOW = RECEIVED + timedelta(hours=20)
CURRENCY = "JPY"


class UnknownKind(ValueError):
    pass


def _customer(locale: str) -> dict[str, Any]:
    if locale == "ja":
        return {"name": "山田 太郎", "email": "taro.yamada@example.jp"}
    return {"name": "Emily Clark", "email": "emily.clark@example.com"}


def _money(amount: str, locale: str) -> str:
    return format_money(Decimal(amount), CURRENCY, locale)


def _when(moment: datetime, locale: str, store: Store) -> str:
    return format_datetime(moment, store.time_zone, locale)


def _day(moment: datetime, locale: str, store: Store) -> str:
    return format_date(moment, store.time_zone, locale)


def _subject(locale: str) -> str:
    return "配送について" if locale == "ja" else "Where is my order?"


def _message(locale: str) -> str:
    if locale == "ja":
        return "11月20日に注文した玉露がまだ届きません。\n配送状況を教えていただけますか。"
    return "I ordered the gyokuro on November 20 and it has not arrived yet.\nCould you check where it is?"


def _inquiry_auto_reply(locale: str, store: Store) -> dict[str, Any]:
    return {
        "customer": _customer(locale),
        "inquiry": {
            "id": "inq_sample01",
            "subject": _subject(locale),
            "channel": "web_form",
            "order_id": "o-1001",
        },
        "received_at": _when(RECEIVED, locale, store),
        "reply_due_at": _when(RECEIVED + timedelta(hours=24), locale, store),
    }


def _inquiry_reply(locale: str, store: Store) -> dict[str, Any]:
    message = (
        "お問い合わせいただいた玉露は、本日ヤマト運輸にて発送いたしました。\n"
        "伝票番号は 1234-5678-9012 です。明日午前中にお届けの予定です。"
        if locale == "ja"
        else "Your gyokuro left our shop today with Yamato Transport (tracking 1234-5678-9012).\n"
        "It should arrive tomorrow morning."
    )
    subject = _subject(locale)
    quoted = _message(locale)
    return {
        "customer": {"name": _customer(locale)["name"]},
        "inquiry": {"id": "inq_sample01", "subject": subject},
        "reply": {"message": message},
        "staff": {"name": "山田 花子" if locale == "ja" else "Hanako Yamada"},
        "quote": {
            "author": _customer(locale)["name"],
            "at": _when(RECEIVED, locale, store),
            "message": quoted,
            "lines": quoted.splitlines(),
        },
        "subject": f"Re: {subject}",
    }


def _inquiry(locale: str) -> dict[str, Any]:
    return {
        "id": "inq_sample01",
        "subject": _subject(locale),
        "channel": "web_form",
        "channel_label": label("channel", "web_form", locale),
        "excerpt": _message(locale),
        "follow_up": False,
        "priority": "high",
        "priority_label": label("priority", "high", locale),
        "priority_reason": "missing_delivery",
        "priority_reason_label": label("priority_reason", "missing_delivery", locale),
        "order_id": "o-1001",
    }


def _sla_alert(hours_after: float, escalation_number: int) -> Callable[[str, Store], dict[str, Any]]:
    def context(locale: str, store: Store) -> dict[str, Any]:
        now = RECEIVED + timedelta(hours=hours_after)
        due = RECEIVED + timedelta(hours=24)
        return {
            "inquiry": _inquiry(locale),
            "customer": _customer(locale),
            "received_at": _when(RECEIVED, locale, store),
            "latest_message_at": None,
            "reply_due_at": _when(due, locale, store),
            "time_left": format_duration(due - now, locale),
            "overdue": now >= due,
            "escalation_number": escalation_number,
            "reply_by_email": True,
            "whole_message": False,
            "attachments": [],
            "link_hours": 0,
            "original_url": None,
        }

    return context


def _staff_new_inquiry(locale: str, store: Store) -> dict[str, Any]:
    due = RECEIVED + timedelta(hours=24)
    return {
        "inquiry": {
            **_inquiry(locale),
            "channel": "email",
            "channel_label": label("channel", "email", locale),
        },
        "whole_message": True,
        "customer": _customer(locale),
        "received_at": _when(RECEIVED, locale, store),
        "latest_message_at": None,
        "reply_due_at": _when(due, locale, store),
        "time_left": format_duration(due - RECEIVED, locale),
        "attachments": [
            {
                "name": "写真1.jpg" if locale == "ja" else "photo1.jpg",
                "content_type": "image/jpeg",
                "size": "240 KB",
                "url": "https://omotenashi-inbound.s3.amazonaws.com/attachments/demo/sample/0/photo1.jpg?X-Amz-Signature=sample",
            }
        ],
        "link_hours": 24,
        "original_url": "https://omotenashi-inbound.s3.amazonaws.com/inbound/sample?X-Amz-Signature=sample",
        "reply_by_email": True,
    }


def _staff_reply_refused(locale: str, store: Store) -> dict[str, Any]:
    return {
        "inquiry": {"id": "inq_sample01", "subject": _subject(locale)},
        "customer": _customer(locale),
        "reason": "empty_reply",
        "reply_by_email": True,
    }


def _sla_digest(locale: str, store: Store) -> dict[str, Any]:
    due = RECEIVED + timedelta(hours=24)
    rows = [
        {
            **_inquiry(locale),
            "customer": _customer(locale)["name"],
            "kind": "sla_reminder",
            "reply_due_at": _when(due, locale, store),
            "time_left": format_duration(due - NOW, locale),
        },
        {
            **_inquiry(locale),
            "id": "inq_sample02",
            "subject": "返品について" if locale == "ja" else "Returning a teapot",
            "priority": "normal",
            "priority_label": label("priority", "normal", locale),
            "priority_reason": None,
            "priority_reason_label": None,
            "customer": "sato.hanako@example.jp",
            "kind": "sla_breach",
            "reply_due_at": _when(RECEIVED - timedelta(hours=2), locale, store),
            "time_left": format_duration(timedelta(hours=-22), locale),
        },
    ]
    return {"rows": rows, "count": len(rows)}


def _cart_reminder(locale: str, store: Store) -> dict[str, Any]:
    items = [
        ("玉露 100g" if locale == "ja" else "Gyokuro 100 g", 2, "1620", "tea-01"),
        ("九谷焼 湯呑み" if locale == "ja" else "Kutani teacup", 1, "4400", "cup-02"),
    ]
    return {
        "customer": {"name": _customer(locale)["name"]},
        "items": [
            {
                "name": name,
                "quantity": quantity,
                "unit_price": _money(price, locale),
                "line_total": _money(str(Decimal(price) * quantity), locale),
                "image_url": f"https://shop.kyoto-chaho.example/i/{sku}.jpg",
                "product_url": f"https://shop.kyoto-chaho.example/p/{sku}",
            }
            for name, quantity, price, sku in items
        ],
        "subtotal": _money("7640", locale),
        "cart_url": "https://shop.kyoto-chaho.example/cart/cart-77",
        "step": 1,
        "discount_code": "WELCOME-7Q2F",
    }


def _review(step: int) -> Callable[[str, Store], dict[str, Any]]:
    def context(locale: str, store: Store) -> dict[str, Any]:
        review_url = "https://shop.kyoto-chaho.example/reviews/new?order=o-1001&sku={sku}"
        return {
            "customer": {"name": _customer(locale)["name"]},
            "order_id": "o-1001",
            "ordered_on": _day(RECEIVED - timedelta(days=10), locale, store),
            "items": [
                {
                    "sku": "TEA-01",
                    "name": "玉露 100g" if locale == "ja" else "Gyokuro 100 g",
                    "quantity": 2,
                    "image_url": "https://shop.kyoto-chaho.example/i/tea-01.jpg",
                    "product_url": "https://shop.kyoto-chaho.example/p/tea-01",
                    "review_url": review_url.format(sku="TEA-01"),
                }
            ],
            "reward": {"kind": "points", "points": 50, "limit_days": 30},
            "step": step,
        }

    return context


def _review_reward(locale: str, store: Store) -> dict[str, Any]:
    return {
        "customer": {"name": _customer(locale)["name"]},
        "source": "review",
        "order_id": "o-1001",
        "points": 50,
        "available": 1250,
        "coupon_code": None,
    }


def _points_earned(locale: str, store: Store) -> dict[str, Any]:
    return {
        "customer": {"name": _customer(locale)["name"]},
        "points": 32,
        "order_id": "o-1001",
        "available": 1232,
        "expires_on": _day(RECEIVED + timedelta(days=365), locale, store),
        "tier_label": "シルバー" if locale == "ja" else "Silver",
    }


def _tier_changed(locale: str, store: Store) -> dict[str, Any]:
    ja = locale == "ja"
    return {
        "customer": {"name": _customer(locale)["name"]},
        "tier_label": "ゴールド" if ja else "Gold",
        "previous_tier_label": "シルバー" if ja else "Silver",
        "direction": "up",
        "rate_percent": "2",
        "next_tier_label": "プラチナ" if ja else "Platinum",
        "spend_to_next": _money("38000", locale),
        "window_months": 12,
    }


def _points_expiring(locale: str, store: Store) -> dict[str, Any]:
    return {
        "customer": {"name": _customer(locale)["name"]},
        "points": 1200,
        "expires_on": _when(RECEIVED + timedelta(days=30), locale, store),
    }


def _birthday_bonus(locale: str, store: Store) -> dict[str, Any]:
    return {
        "customer": {"name": _customer(locale)["name"]},
        "points": 500,
        "available": 1732,
        "expires_on": _day(RECEIVED + timedelta(days=365), locale, store),
    }


SAMPLES: dict[str, Callable[[str, Store], dict[str, Any]]] = {
    "inquiry_auto_reply": _inquiry_auto_reply,
    "inquiry_reply": _inquiry_reply,
    "sla_reminder": _sla_alert(20, 0),
    "sla_breach": _sla_alert(24, 0),
    "sla_escalation": _sla_alert(28, 1),
    "sla_digest": _sla_digest,
    "staff_new_inquiry": _staff_new_inquiry,
    "staff_reply_refused": _staff_reply_refused,
    "cart_reminder": _cart_reminder,
    "review_request": _review(1),
    "review_reminder": _review(2),
    "review_reward": _review_reward,
    "points_earned": _points_earned,
    "tier_changed": _tier_changed,
    "points_expiring": _points_expiring,
    "birthday_bonus": _birthday_bonus,
}


def kinds() -> list[str]:
    """Every email kind under the templates folder (those a preview can be asked for)."""
    return email_kinds()


def sample_context(kind: str, locale: str, store: Store = SAMPLE_STORE) -> dict[str, Any]:
    if kind not in SAMPLES:
        raise UnknownKind(kind)
    return {**SAMPLES[kind](locale, store), "locale": locale}


def preview(
    kind: str, locale: str, store: Store = SAMPLE_STORE, footer: MarketingFooter = SAMPLE_FOOTER
) -> RenderedMessage:
    """The email of `kind` in `locale` with sample data, as `store` would send it (its template
    overrides under templates/stores/<store_id>/ apply); marketing kinds carry `footer`."""
    draft = Draft(
        kind=kind,
        store=store,
        locale=locale,
        to=str(_customer(locale)["email"]),
        to_name=str(_customer(locale)["name"]),
        context=sample_context(kind, locale, store),
        reference=f"preview.{kind}.{locale}",
        marketing=footer if kind in MARKETING_KINDS else None,
    )
    return render_draft(draft)
