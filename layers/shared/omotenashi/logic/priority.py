"""Priority classifier: flags complaints and urgent issues as `high`, with the reason it matched.

Deliberately transparent (keyword and phrase rules, Japanese and English) so staff can see why an
inquiry jumped the queue; a storefront that knows better sends `priority` itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# (reason, patterns). Japanese patterns match anywhere; English ones on word boundaries.
_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "damaged_item",
        ("破損", "壊れ", "割れ", "傷", "へこ", "不良", "故障", "動かない", "作動しない"),
        (
            "broken",
            "damaged",
            "defective",
            "cracked",
            "smashed",
            "faulty",
            "doesn't work",
            "does not work",
            "not working",
            "stopped working",
        ),
    ),
    (
        "wrong_item",
        ("違う商品", "間違った商品", "商品が違", "注文と違", "誤配", "別の商品", "サイズが違", "色が違"),
        ("wrong item", "wrong size", "wrong color", "wrong colour", "not what i ordered", "incorrect item"),
    ),
    (
        "missing_delivery",
        ("届かない", "届いていない", "届きません", "未着", "まだ届", "配送されない", "紛失"),
        (
            "never arrived",
            "not arrived",
            "hasn't arrived",
            "has not arrived",
            "not received",
            "never received",
            "didn't receive",
            "did not receive",
            "lost package",
            "missing package",
            "where is my order",
        ),
    ),
    (
        "refund_or_return",
        ("返品", "返金", "交換", "払い戻し", "キャンセル", "取り消し"),
        ("refund", "return", "money back", "cancel", "cancellation", "chargeback", "exchange"),
    ),
    (
        "urgent",
        ("至急", "緊急", "急ぎ", "大至急", "早急", "今すぐ", "すぐに"),
        ("urgent", "asap", "immediately", "emergency", "right now", "as soon as possible"),
    ),
    (
        "angry",
        (
            "ひどい",
            "最悪",
            "許せない",
            "ふざけ",
            "怒",
            "詐欺",
            "二度と",
            "訴え",
            "消費者センター",
            "不愉快",
            "対応が遅い",
        ),
        (
            "terrible",
            "awful",
            "worst",
            "unacceptable",
            "disgusting",
            "ridiculous",
            "scam",
            "fraud",
            "furious",
            "angry",
            "lawyer",
            "sue you",
            "never again",
            "complaint",
            "disappointed",
        ),
    ),
)


@dataclass(frozen=True)
class Classification:
    priority: str
    reason: str | None
    matched: str | None


def _normalise(text: str) -> str:
    # NFKC folds full-width Latin and half-width katakana so "ＲＥＦＵＮＤ" and "ﾍﾝﾋﾟﾝ" match too.
    return unicodedata.normalize("NFKC", text).lower()


_ENGLISH = {
    reason: re.compile(r"\b(" + "|".join(re.escape(p) for p in english) + r")\b")
    for reason, _, english in _RULES
}


def classify(subject: str, message: str) -> Classification:
    text = _normalise(f"{subject}\n{message}")
    for reason, japanese, _ in _RULES:
        for pattern in japanese:
            if _normalise(pattern) in text:
                return Classification("high", reason, pattern)
        match = _ENGLISH[reason].search(text)
        if match:
            return Classification("high", reason, match.group(1))
    return Classification("normal", None, None)
