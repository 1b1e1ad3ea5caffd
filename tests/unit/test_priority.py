from __future__ import annotations

import pytest

from omotenashi.logic.priority import classify


@pytest.mark.parametrize(
    ("subject", "message", "reason"),
    [
        ("商品について", "届いた商品が破損していました。", "damaged_item"),
        ("注文と違う", "注文と違う商品が届きました", "wrong_item"),
        ("配送", "一週間たっても届かない", "missing_delivery"),
        ("返品したい", "サイズが合わないので", "refund_or_return"),
        ("返金", "返金をお願いします", "refund_or_return"),
        ("至急", "明日までに必要です", "urgent"),
        ("対応", "最悪の対応です", "angry"),
        ("Order 1001", "The vase arrived broken.", "damaged_item"),
        ("Wrong item", "You sent the wrong size.", "wrong_item"),
        ("Where is it", "My parcel never arrived.", "missing_delivery"),
        ("Refund please", "I want my money back", "refund_or_return"),
        ("URGENT", "need it today", "urgent"),
        ("Complaint", "This is unacceptable service", "angry"),
        ("ＲＥＦＵＮＤ", "full-width text", "refund_or_return"),
        ("ｷｬﾝｾﾙ希望", "half-width katakana", "refund_or_return"),
    ],
)
def test_flags_high_with_reason(subject, message, reason):
    result = classify(subject, message)
    assert (result.priority, result.reason) == ("high", reason)
    assert result.matched


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("配送について", "注文した商品はいつ届きますか？"),
        ("Question", "Do you ship to Osaka?"),
        ("Returning customer", "I loved my last order"),  # 'returning' is not 'return'
        ("ギフト包装", "ラッピングはできますか"),
    ],
)
def test_ordinary_questions_are_normal(subject, message):
    assert classify(subject, message).priority == "normal"
