"""Words staff read in alerts instead of codes: channels, priorities and priority reasons, per locale."""

from __future__ import annotations

_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "channel": {
        "ja": {
            "web_form": "お問い合わせフォーム",
            "email": "メール",
            "chat": "チャット",
            "line": "LINE",
            "sms": "SMS",
            "social": "SNS",
            "phone": "電話",
        },
        "en": {
            "web_form": "Web form",
            "email": "Email",
            "chat": "Chat",
            "line": "LINE",
            "sms": "SMS",
            "social": "Social media",
            "phone": "Phone",
        },
    },
    "priority": {
        "ja": {"urgent": "緊急", "high": "高", "normal": "通常", "low": "低"},
        "en": {"urgent": "Urgent", "high": "High", "normal": "Normal", "low": "Low"},
    },
    "priority_reason": {
        "ja": {
            "set_by_storefront": "ストアが指定",
            "damaged_item": "破損・不良",
            "wrong_item": "誤配送・商品違い",
            "missing_delivery": "未着・配送トラブル",
            "refund_or_return": "返品・返金・キャンセル",
            "urgent": "至急の依頼",
            "angry": "強い不満・苦情",
        },
        "en": {
            "set_by_storefront": "set by the storefront",
            "damaged_item": "damaged or defective item",
            "wrong_item": "wrong item",
            "missing_delivery": "delivery not received",
            "refund_or_return": "refund, return or cancellation",
            "urgent": "marked urgent",
            "angry": "strong complaint",
        },
    },
}


def label(group: str, code: str | None, locale: str) -> str | None:
    """The reader's word for a code; an unknown code is shown as it is (never dropped)."""
    if code is None:
        return None
    return _LABELS[group].get(locale, _LABELS[group]["en"]).get(code, code)
