from __future__ import annotations

import pytest

from omotenashi.logic.inquiries.priority import classify


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
        ("ﾍﾝﾋﾟﾝ", "half-width katakana for 返品", "refund_or_return"),
        ("へんきん", "hiragana for 返金", "refund_or_return"),
        ("Order", "It hasn’t arrived yet", "missing_delivery"),  # iOS curly apostrophe
        ("Order", "The kettle doesn’t work", "damaged_item"),
        ("Order", "I cancelled it yesterday, where is my refund?", "refund_or_return"),
        ("Refunded?", "Has it been refunded", "refund_or_return"),
        ("RETURNS", "how to return the item", "refund_or_return"),
        ("Order", "Please reply urgently", "urgent"),
        ("Order", "The lid broke on day one", "damaged_item"),
        ("Order", "There is damage on the box and the cup", "damaged_item"),
        ("Order", "You sent the wrong product", "wrong_item"),
        ("配送", "まだ商品が届いてないです", "missing_delivery"),
        ("配送", "荷物が来ないのですが", "missing_delivery"),
        ("商品", "キズがありました", "damaged_item"),
        ("商品", "表面に傷がついていました", "damaged_item"),
        ("商品", "電源を入れても動かないです", "damaged_item"),
        ("返金", "まだ返金がありません", "refund_or_return"),  # "no refund" is the complaint
        ("Refund", "No refund yet after two weeks", "refund_or_return"),
        ("Order", "Not only broken but scratched too", "damaged_item"),
        ("Order", "It is not just damaged, it is unusable", "damaged_item"),
        ("キャンセル", "注文をキャンセルしたいです", "refund_or_return"),
        ("Order", "Please cancel my order", "refund_or_return"),
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
        ("Thanks", "Arrived safely, not broken, thanks!"),
        ("Returns", "What is your return policy?"),
        ("Call", "Will you return my call tomorrow?"),
        ("Gift", "Do you offer gift exchange wrapping?"),
        ("Order", "Not urgent, whenever you can."),
        ("Order", "I am not disappointed at all"),
        ("お礼", "商品は破損なく無事に届きました"),
        ("お礼", "傷一つなく届きました。ありがとうございます"),
        ("お礼", "すぐに届きました。ありがとう"),
        ("確認", "破損はありませんでした"),
        ("確認", "壊れていませんでした"),
        ("ポイント", "ポイント交換の方法を教えてください"),
        ("素材", "傷つきにくい素材ですか"),
        ("限定品", "二度と手に入らない限定品ですか"),
        ("セール", "怒涛のセールはいつまでですか"),
        ("配送", "お急ぎ便で注文できますか"),
        ("梱包", "割れ物も送れますか"),
        ("連絡", "と言われて安心しました"),
        ("質問", "至急ではありませんが、教えてください"),
        ("ポイント", "ポイント交換できますか"),
        ("質問", "返品ポリシーを教えてください"),
        ("質問", "キャンセル料はかかりますか"),
        ("Question", "What is your cancellation policy?"),
        ("Question", "Is there a restocking fee on returns? What are the refund terms?"),
    ],
)
def test_ordinary_questions_are_normal(subject, message):
    assert classify(subject, message).priority == "normal"
