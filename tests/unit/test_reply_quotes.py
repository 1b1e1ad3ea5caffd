"""messaging.quotes.new_text: the new part of a plain-text reply, as each mail client writes it."""

from __future__ import annotations

import pytest

from omotenashi.messaging.quotes import new_text

STAFF_JA = "ご連絡ありがとうございます。\n明日発送いたします。\n\n佐藤"


def test_gmail_japanese_staff_reply():
    body = (
        "ご連絡ありがとうございます。\n明日発送いたします。\n\n佐藤\n\n"
        "2026年12月1日(月) 10:00 山田太郎 <taro@example.jp>:\n"
        "> 注文した商品はいつ届きますか？\n"
    )
    assert new_text(body) == STAFF_JA


def test_gmail_japanese_with_english_wrote():
    body = (
        "承知しました。よろしくお願いします。\n\n"
        "2026年12月1日(月) 10:00 Taro <taro@example.jp> wrote:\n\n"
        "> 明日発送いたします。\n"
    )
    assert new_text(body) == "承知しました。よろしくお願いします。"


def test_gmail_japanese_attribution_wrapped():
    body = (
        "住所を変更しました。\n\n"
        "2026年12月1日(月) 10:00 オモテナシ商店 サポート <\n"
        "support@shop.example.jp>:\n\n"
        "> ご注文ありがとうございます。\n"
    )
    assert new_text(body) == "住所を変更しました。"


def test_gmail_english():
    body = (
        "Thanks, that works for me.\r\n\r\n"
        "On Mon, Dec 1, 2026 at 10:00 AM Taro Yamada <taro@example.jp> wrote:\r\n\r\n"
        "> When will my order arrive?\r\n"
        ">\r\n"
    )
    assert new_text(body) == "Thanks, that works for me."


def test_gmail_english_wrote_wrapped_onto_next_line():
    body = (
        "Your parcel left our warehouse today.\n\n"
        "Best regards,\nHanako\n\n"
        "On Mon, Dec 1, 2026 at 10:00 AM Taro Yamada <taro@example.jp>\n"
        "wrote:\n\n"
        "> When will my order arrive?\n"
    )
    assert new_text(body) == "Your parcel left our warehouse today.\n\nBest regards,\nHanako"


def test_outlook_english_header_block():
    body = (
        "Please cancel order #1042.\n\n"
        "Kind regards,\nJohn\n\n"
        "________________________________\n"
        "From: Omotenashi Shop <support@shop.example.jp>\n"
        "Sent: Monday, December 1, 2026 10:00 AM\n"
        "To: john@example.com\n"
        "Subject: Your order #1042\n\n"
        "Thank you for your order.\n"
    )
    assert new_text(body) == "Please cancel order #1042.\n\nKind regards,\nJohn"


def test_outlook_english_header_block_without_underscores():
    body = (
        "Yes, please send it.\n\n"
        "From: Omotenashi Shop <support@shop.example.jp>\n"
        "Date: Monday, December 1, 2026 at 10:00\n"
        "To: John <john@example.com>\n"
        "Subject: RE: Gift wrapping\n\n"
        "Would you like gift wrapping?\n"
    )
    assert new_text(body) == "Yes, please send it."


def test_outlook_japanese_header_block():
    body = (
        "お世話になっております。\n返品の手続きをお願いいたします。\n\n"
        "差出人: オモテナシ商店 <support@shop.example.jp>\n"
        "送信日時: 2026年12月1日 10:00\n"
        "宛先: 山田太郎 <taro@example.jp>\n"
        "件名: ご注文の確認\n\n"
        "ご注文ありがとうございます。\n"
    )
    assert new_text(body) == "お世話になっております。\n返品の手続きをお願いいたします。"


def test_outlook_japanese_underscores_then_sender():
    body = (
        "了解です。\n\n"
        "________________________________\n"
        "送信者: オモテナシ商店 <support@shop.example.jp>\n"
        "送信日時: 2026年12月1日 10:00\n\n"
        "ご注文ありがとうございます。\n"
    )
    assert new_text(body) == "了解です。"


@pytest.mark.parametrize("separator", ["-----Original Message-----", "-----元のメッセージ-----"])
def test_outlook_original_message_separator(separator):
    body = (
        f"Received, thank you.\n\n{separator}\n"
        "From: support@shop.example.jp\nSent: Monday, December 1, 2026 10:00 AM\n\nHello\n"
    )
    assert new_text(body) == "Received, thank you."


def test_apple_mail_english_with_iphone_signature():
    body = (
        "Great, see you then.\n\n"
        "Sent from my iPhone\n\n"
        "> On Dec 1, 2026, at 10:00, Omotenashi Shop <support@shop.example.jp> wrote:\n"
        ">\n"
        "> Your order has shipped.\n"
    )
    assert new_text(body) == "Great, see you then."


def test_apple_mail_japanese():
    body = (
        "ありがとうございます。楽しみにしています。\n\n"
        "iPhoneから送信\n\n"
        "2026/12/01 10:00、オモテナシ商店 <support@shop.example.jp>のメール:\n\n"
        "\u3000\n"
        "> 本日発送いたしました。\n"
    )
    assert new_text(body) == "ありがとうございます。楽しみにしています。"


def test_apple_mail_forwarded_message():
    body = (
        "FYI, see below.\n\nBegin forwarded message:\n\n> From: Omotenashi Shop <support@shop.example.jp>\n"
    )
    assert new_text(body) == "FYI, see below."
    assert new_text("転送します。\n\n転送されたメッセージ:\n\n> 差出人: 店\n") == "転送します。"


def test_thunderbird_japanese_and_english():
    ja = "色違いはありますか？\n\n山田太郎 さんは書きました:\n> ご注文ありがとうございます。\n"
    assert new_text(ja) == "色違いはありますか？"
    dated_ja = "了解しました。\n\n2026/12/01 10:00 に 山田太郎 さんは書きました:\n> 発送しました。\n"
    assert new_text(dated_ja) == "了解しました。"
    en = "Thanks!\n\nOn 12/1/2026 10:00 AM, Omotenashi Shop wrote:\n> Your order has shipped.\n"
    assert new_text(en) == "Thanks!"


@pytest.mark.parametrize(
    "attribution",
    ["オモテナシ商店 が書きました:", "2026年12月1日 オモテナシ商店 に書きました：", "Taro wrote:"],
)
def test_other_wrote_forms(attribution):
    assert new_text(f"届きました。\n\n{attribution}\n\n> 発送しました。\n") == "届きました。"


def test_attribution_with_leading_full_width_space():
    body = "了解です。\n\u3000\u30002026年12月1日(月) 10:00 山田太郎 <taro@example.jp>:\n> 質問\n"
    assert new_text(body) == "了解です。"


def test_a_line_ending_in_wrote_without_a_quote_after_it_is_kept():
    body = "Here is what the courier wrote:\nparcel delivered to the front door."
    assert new_text(body) == body


def test_rfc_3676_signature_delimiter():
    body = "Thank you for your patience.\n\n-- \nOmotenashi Shop\nsupport@shop.example.jp\n"
    assert new_text(body) == "Thank you for your patience."
    assert new_text("ありがとうございます。\n--\n佐藤\n") == "ありがとうございます。"


@pytest.mark.parametrize(
    "signature",
    ["Sent from my iPhone", "Android から送信", "Get Outlook for iOS", "Get Outlook for Android"],
)
def test_mobile_signatures(signature):
    assert new_text(f"OK.\n\n{signature}\n") == "OK."


def test_interleaved_answers_keep_the_text_before_the_first_quote_block():
    body = "Answers below.\n\n> What colour?\nBlue.\n\n> What size?\nM.\n"
    assert new_text(body) == "Answers below."


def test_no_quote_at_all_is_unchanged_except_trailing_whitespace():
    body = "\n\nこんにちは。\n  インデントも　全角スペースも  そのまま。\n\n\u3000\n  \n"
    assert new_text(body) == "こんにちは。\n  インデントも　全角スペースも  そのまま。"


def test_everything_quoted_falls_back_to_the_whole_body():
    body = "> 注文した商品はいつ届きますか？\n> よろしくお願いします。\n\n"
    assert new_text(body) == "> 注文した商品はいつ届きますか？\n> よろしくお願いします。"


def test_bottom_posted_reply_falls_back_to_the_whole_body():
    body = "> When will it arrive?\n\nTomorrow.\n"
    assert new_text(body) == "> When will it arrive?\n\nTomorrow."


def test_on_wrote_mid_sentence_is_new_text():
    body = "Thanks for checking. As we said On Monday we wrote: the parcel ships on Friday.\nRegards"
    assert new_text(body) == body


@pytest.mark.parametrize("body", ["", "   ", "\n\n\u3000\n"])
def test_empty_body(body):
    assert new_text(body) == ""


def test_large_bodies_of_on_lines():
    many_lines = "On Mon, Dec 1, 2026 <taro@example.jp> \n" * 5_000  # 200 KB, no "wrote:"
    assert new_text(many_lines) == many_lines.rstrip()
    one_line = "On " * 70_000 + "x"
    assert new_text(one_line) == one_line
    ends_wrote = "Hi\n" + "On " * 70_000 + "wrote:\n> q\n"
    assert new_text(ends_wrote) == "Hi"
