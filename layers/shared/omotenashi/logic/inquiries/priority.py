"""Priority classifier: flags complaints and urgent issues as `high`, with the reason it matched.

Deliberately transparent (phrase rules, Japanese and English) so staff can see why an inquiry
jumped the queue; a storefront that knows better sends `priority` itself. Text is folded first
(NFKC: full-width Latin and half-width kana; katakana to hiragana; curly apostrophes), so
"ＲＥＦＵＮＤ", "ﾍﾝﾋﾟﾝ" and "hasn’t arrived" match too. A phrase that is negated ("not broken",
"破損なく届きました", "傷一つない") or a question about the rules ("return policy", "キャンセル料")
does not count.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# (reason, Japanese phrases, English patterns). Japanese phrases match anywhere (no word breaks in
# Japanese); English patterns are regular expressions matched on word boundaries.
_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "damaged_item",
        (
            "破損",
            "はそん",
            "壊れて",
            "壊れた",
            "こわれて",
            "割れて",
            "割れが",
            "ひび割れ",
            "傷があ",
            "傷がつい",
            "傷が付い",
            "傷が入",
            "傷あり",
            "傷つい",
            "きずがあ",
            "きずがつい",
            "きずあり",
            "へこんで",
            "へこみ",
            "凹み",
            "凹んで",
            "不良品",
            "初期不良",
            "動作不良",
            "品質不良",
            "故障",
            "動かない",
            "作動しない",
            "汚れて",
            "欠けて",
        ),
        (
            r"broken",
            r"broke",
            r"damag(?:e|ed|es|ing)",
            r"defect(?:s|ive)?",
            r"crack(?:s|ed)?",
            r"smashed",
            r"shattered",
            r"faulty",
            r"(?:doesn't|does not|don't|didn't|did not|won't|will not) (?:work|turn on|charge)",
            r"not working",
            r"stopped working",
            r"dead on arrival",
        ),
    ),
    (
        "wrong_item",
        ("違う商品", "間違った商品", "商品が違", "注文と違", "誤配", "別の商品", "サイズが違", "色が違"),
        (
            r"wrong (?:item|product|size|colou?r|order|model)",
            r"not what i ordered",
            r"incorrect (?:item|product|size|order)",
            r"sent (?:me )?the wrong",
        ),
    ),
    (
        "missing_delivery",
        (
            "届かない",
            "とどかない",
            "届いていない",
            "届いてない",
            "届いていません",
            "届きません",
            "未着",
            "まだ届",
            "来ない",
            "来ません",
            "配送されない",
            "紛失",
        ),
        (
            r"(?:never|not|hasn't|has not|haven't|have not|didn't|did not|still not|not yet) "
            r"(?:arrived|arrive|received|receive|come|delivered|shipped)",
            r"(?:lost|missing) (?:package|parcel|order|item|delivery)",
            r"where is my (?:order|package|parcel|delivery)",
        ),
    ),
    (
        "refund_or_return",
        (
            "返品",
            "へんぴん",
            "返金",
            "へんきん",
            "払い戻し",
            "キャンセル",
            "取り消し",
            "交換して",
            "交換したい",
            "交換希望",
            "交換をお願",
            "交換をしたい",
        ),
        (
            r"refund(?:s|ed|ing)?",
            r"money back",
            r"cancel(?:s|led|ed|ling|ing|lation)?",
            r"chargeback",
            r"return (?:it|this|these|them|the (?:item|product|order)|my (?:order|purchase|item))",
            r"(?:want|like|need|how) to return",
            r"send (?:it|this|them) back",
            r"exchange (?:it|this|them|for)",
        ),
    ),
    (
        "urgent",
        ("至急", "しきゅう", "緊急", "大至急", "早急", "今すぐ", "急いで", "急ぎで", "急ぎの"),
        (r"urgent(?:ly)?", r"asap", r"immediately", r"emergency", r"right now", r"as soon as possible"),
    ),
    (
        "angry",
        (
            "ひどい",
            "酷い",
            "最悪",
            "許せない",
            "ふざけ",
            "怒って",
            "怒り",
            "激怒",
            "腹が立",
            "腹立た",
            "詐欺",
            "二度と買",
            "二度と利用",
            "二度と注文",
            "訴え",
            "消費者センター",
            "不愉快",
            "対応が遅い",
        ),
        (
            r"terrible",
            r"awful",
            r"worst",
            r"unacceptable",
            r"disgusting",
            r"ridiculous",
            r"scam",
            r"fraud",
            r"furious",
            r"angry",
            r"lawyer",
            r"sue you",
            r"never again",
            r"complaint",
            r"disappointed",
        ),
    ),
)

# What follows a Japanese phrase and takes it back: 破損なく / 破損はありません / 傷がありません /
# 壊れていない / 不良品ではありません / 至急ではない.
_JAPANESE_NEGATION = re.compile(
    r"^(?:一つ|ひとつ)?(?:では|じゃ)?(?:は|も|が)?"
    r"(?:なく|なし|無く|無し|ございません|(?:あ)?りません|(?:し)?(?:て)?(?:い)?(?:ない|ません))"
)
# What precedes an English phrase and takes it back: "not broken", "no damage", "isn't damaged"
# (but "not only broken" still counts).
_ENGLISH_NEGATION = re.compile(
    r"\b(?:not(?!\W+(?:only|just|merely|simply)\b)|no|never|without|\w+n't)\W+(?:\w+\W+)?$"
)
# A question about the rules, not a request: 返品ポリシー, キャンセル料, "cancellation policy".
_JAPANESE_POLICY = re.compile(r"^(?:の)?(?:ぽりしー|規定|規約|料|手数料|条件)")
_ENGLISH_POLICY = re.compile(r"^\W+(?:polic(?:y|ies)|fees?|terms|rules|window|period)\b")
# Per reason: (what after a Japanese phrase, before an English one, after an English one takes it
# back). Not for refunds or missing parcels: "no refund yet" and "返金がない" are the complaint.
_TAKEN_BACK: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]] = {
    "damaged_item": (_JAPANESE_NEGATION, _ENGLISH_NEGATION, None),
    "wrong_item": (_JAPANESE_NEGATION, _ENGLISH_NEGATION, None),
    "urgent": (_JAPANESE_NEGATION, _ENGLISH_NEGATION, None),
    "angry": (_JAPANESE_NEGATION, _ENGLISH_NEGATION, None),
    "refund_or_return": (_JAPANESE_POLICY, None, _ENGLISH_POLICY),
}
_FOLD = str.maketrans({"’": "'", "‘": "'", "`": "'"})


@dataclass(frozen=True)
class Classification:
    priority: str
    reason: str | None
    matched: str | None


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    # Katakana to hiragana, so a word matches however it was written (キャンセル, きゃんせる).
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in folded)


_COMPILED = tuple(
    (
        reason,
        tuple(_normalise(phrase) for phrase in japanese),
        re.compile(r"\b(?:" + "|".join(english) + r")\b"),
    )
    for reason, japanese, english in _RULES
)


def _japanese_match(text: str, phrase: str, after: re.Pattern[str] | None) -> bool:
    start = text.find(phrase)
    while start != -1:
        end = start + len(phrase)
        if after is None or not after.match(text[end : end + 12]):
            return True
        start = text.find(phrase, end)
    return False


def _english_match(
    text: str, pattern: re.Pattern[str], before: re.Pattern[str] | None, after: re.Pattern[str] | None
) -> str | None:
    for match in pattern.finditer(text):
        if before is not None and before.search(text[max(0, match.start() - 30) : match.start()]):
            continue
        if after is not None and after.match(text[match.end() : match.end() + 30]):
            continue
        return match.group(0)
    return None


def classify(subject: str, message: str) -> Classification:
    text = _normalise(f"{subject}\n{message}")
    for reason, japanese, english in _COMPILED:
        japanese_after, english_before, english_after = _TAKEN_BACK.get(reason, (None, None, None))
        for phrase in japanese:
            if _japanese_match(text, phrase, japanese_after):
                return Classification("high", reason, phrase)
        matched = _english_match(text, english, english_before, english_after)
        if matched:
            return Classification("high", reason, matched)
    return Classification("normal", None, None)
