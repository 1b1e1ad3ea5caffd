from __future__ import annotations

import base64
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP

import pytest

from omotenashi.messaging.inbound import InboundRejected, decode_bytes, html_to_text, parse

CUSTOMER_HEADERS = (
    b"Return-Path: <taro@example.jp>\r\n"
    b"From: Taro Yamada <Taro@Example.JP>\r\n"
    b"To: shop@demo.example\r\n"
    b"Date: Thu, 01 Jan 2026 10:00:00 +0900\r\n"
    b"Message-ID: <CAF1234@mail.example.jp>\r\n"
)


def _customer_mail(body: str = "注文番号1001の配送状況を教えてください。", **headers: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "山田 太郎 <taro@example.jp>"
    message["To"] = "shop@demo.example"
    message["Subject"] = headers.pop("Subject", "配送について")
    message["Message-ID"] = "<CAF1234@mail.example.jp>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def _legacy(text: str, charset: str, subject: str) -> MIMEText:
    """A message as Japanese mailers write it: the body and the subject in a legacy charset."""
    message = MIMEText(text, "plain", charset)
    message["Subject"] = Header(subject, charset)
    message["From"] = Header("山田 太郎", charset).encode() + " <taro@example.jp>"
    message["To"] = "shop@demo.example"
    return message


def test_iso_2022_jp_body_and_encoded_word_subject():
    raw = _legacy("配送について質問です。\n明日届きますか？\n", "iso-2022-jp", "配送について").as_bytes()
    assert b"=?iso-2022-jp?b?" in raw

    email = parse(raw)

    assert email.subject == "配送について"
    assert email.text == "配送について質問です。\n明日届きますか？\n"
    assert email.sender == "taro@example.jp"
    assert email.sender_name == "山田 太郎"
    assert email.automated is None


def test_iso_2022_jp_with_windows_extensions_keeps_circled_digits():
    # Outlook writes ① (NEC row 13) inside ISO-2022-JP; the strict codecs cannot map it.
    raw = CUSTOMER_HEADERS + (
        b"Subject: =?ISO-2022-JP?B?GyRCLSEbKEI=?=\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
        b"\x1b$B-!HV$N>&IJ\x1b(B\r\n"
    )

    email = parse(raw)

    assert email.subject == "①"
    assert email.text == "①番の商品\n"


def test_shift_jis_body_is_decoded_as_cp932():
    raw = CUSTOMER_HEADERS + (
        b"Subject: =?Shift_JIS?B?"
        + base64.b64encode("①髙橋です".encode("cp932"))
        + b"?=\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "髙橋です。①の商品について\r\n".encode("cp932")
    )

    email = parse(raw)

    assert email.subject == "①髙橋です"
    assert email.text == "髙橋です。①の商品について\n"


def test_euc_jp_body():
    email = parse(_legacy("ご注文ありがとうございます。", "euc-jp", "注文").as_bytes())

    assert email.text == "ご注文ありがとうございます。"
    assert email.subject == "注文"


def test_utf8_quoted_printable_and_base64_bodies():
    for encoding in ("quoted-printable", "base64"):
        message = EmailMessage()
        message["From"] = "taro@example.jp"
        message.set_content("返品したいです。\nよろしくお願いします。\n", cte=encoding)

        assert parse(message.as_bytes()).text == "返品したいです。\nよろしくお願いします。\n"


def test_crlf_and_byte_order_mark_are_normalised():
    raw = CUSTOMER_HEADERS + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    raw += b"\xef\xbb\xbfline one  \r\nline two\r\n"

    assert parse(raw).text == "line one  \nline two\n"


def test_unknown_and_non_text_charsets_fall_back_to_utf8():
    for charset in (b"x-unknown", b"zlib"):  # zlib: a charset must never decompress anything
        raw = CUSTOMER_HEADERS + b"Content-Type: text/plain; charset=" + charset + b"\r\n\r\n\xe3\x81\x82\xff"

        assert parse(raw).text == "あ\ufffd"


def test_multipart_alternative_picks_the_plain_part():
    message = EmailMessage()
    message["From"] = "taro@example.jp"
    message.set_content("プレーンテキスト")
    message.add_alternative("<p>HTML版</p>", subtype="html")

    email = parse(message.as_bytes())

    assert email.text == "プレーンテキスト\n"
    assert email.html == "<p>HTML版</p>\n"
    assert email.attachments == ()


def test_html_only_mail_is_converted_to_text():
    html = (
        "<html><head><title>t</title><style>p { color: red }</style></head><body>"
        "<p>ご注文&amp;配送</p>1行目<br>2行目&nbsp;です &lt;至急&gt;"
        "<script>alert(1)</script><ul><li>A</li><li>B</li></ul></body></html>"
    )
    message = EmailMessage()
    message["From"] = "taro@example.jp"
    message.set_content(html, subtype="html")

    email = parse(message.as_bytes())

    assert email.text == "ご注文&配送\n1行目\n2行目 です <至急>\n\nA\n\nB"
    assert email.html is not None and email.html.startswith("<html>")
    assert html_to_text("<div>a</div><div>b</div>") == "a\n\nb"


def test_attachments_with_japanese_filenames():
    message = EmailMessage()
    message["From"] = "taro@example.jp"
    message.set_content("写真を添付します。")
    message.add_related(b"\x89PNG logo", maintype="image", subtype="png", cid="<logo>")  # no name: skipped
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="請求書.pdf")
    raw = message.as_bytes()
    assert b"filename*=utf-8''" in raw  # RFC 2231

    email = parse(raw)

    assert [(a.filename, a.content_type, a.size, a.content) for a in email.attachments] == [
        ("請求書.pdf", "application/pdf", 13, b"%PDF-1.4 fake")
    ]
    assert email.text == "写真を添付します。\n"


def test_attachment_filenames_in_encoded_words_and_legacy_rfc_2231_charsets():
    raw = CUSTOMER_HEADERS + (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
        b"--b\r\nContent-Type: image/jpeg\r\n"
        b'Content-Disposition: inline; filename="=?ISO-2022-JP?B?GyRCPEw/PxsoQg==?=.jpg"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n/9j/\r\n"
        b"--b\r\nContent-Type: TEXT/CSV\r\n"
        b"Content-Disposition: attachment; filename*=shift_jis''%87%40%FB%FC.csv\r\n\r\na,b\r\n"
        b"--b--\r\n"
    )

    email = parse(raw)

    assert [(a.filename, a.content_type) for a in email.attachments] == [
        ("写真.jpg", "image/jpeg"),
        ("①髙.csv", "text/csv"),
    ]
    assert email.attachments[0].content == b"\xff\xd8\xff"


def test_attachments_beyond_the_limit_are_counted_not_kept():
    message = EmailMessage()
    message["From"] = "taro@example.jp"
    message.set_content("50 files")
    for index in range(50):
        message.add_attachment(f"{index}".encode(), maintype="text", subtype="plain", filename=f"{index}.txt")

    email = parse(message.as_bytes(), max_attachments=20)

    assert len(email.attachments) == 20
    assert email.attachments[-1].filename == "19.txt"
    assert email.truncated_attachments == 30
    assert email.text == "50 files\n"


def test_oversized_mail_is_rejected_before_parsing():
    with pytest.raises(InboundRejected) as rejected:
        parse(CUSTOMER_HEADERS + b"\r\n" + b"x" * 1000, max_bytes=1000)
    assert rejected.value.reason == "too_large"


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: hello\r\nTo: shop@demo.example\r\n\r\nbody",
        b"From: not an address\r\n\r\nbody",
        b"\x00\x01\x02\xff\xfe binary junk",
        b"",
    ],
)
def test_mail_without_a_sender_is_rejected(raw: bytes):
    with pytest.raises(InboundRejected) as rejected:
        parse(raw)
    assert rejected.value.reason == "no_sender"


def test_garbage_with_a_from_line_degrades_and_reports_defects():
    raw = (
        b"From: taro@example.jp\r\n"
        b"Content-Type: multipart/mixed\r\n"
        b"this line is not a header\r\n"
        b"Subject: =?utf-8?B?!!!?= =?bogus?Q?x?=\r\n\r\n"
        b"\x00\xff\xfe--nothing\r\n"
    )

    email = parse(raw)

    assert email.sender == "taro@example.jp"
    assert email.defects  # e.g. missing_header_body_separator, no_boundary_in_multipart
    assert all(defect.islower() for defect in email.defects)


def test_broken_base64_attachment_does_not_raise():
    raw = CUSTOMER_HEADERS + (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"JVBER!!!i0x\r\n--b"  # bad characters and padding, and no closing boundary
    )

    email = parse(raw)

    assert email.attachments[0].filename == "a.pdf"
    assert "close_boundary_not_found" in email.defects
    assert "invalid_base64_characters" in email.defects or "invalid_base64_padding" in email.defects


def test_raw_eight_bit_headers_are_decoded():
    raw = (
        b"From: " + "髙橋".encode("cp932") + b" <takahashi@example.jp>\r\n"
        b"Subject: \x1b$BG[Aw\x1b(B\r\n\r\nbody"  # raw ISO-2022-JP, as old Japanese mailers wrote
    )

    email = parse(raw)

    assert email.sender_name == "髙橋"
    assert email.subject == "配送"
    assert parse(b"From: t@example.jp\r\nSubject: " + "返品".encode() + b"\r\n\r\nx").subject == "返品"


def test_thread_ids_lose_their_brackets():
    raw = CUSTOMER_HEADERS.replace(b"Message-ID: <CAF1234@mail.example.jp>\r\n", b"") + (
        b"Message-ID:  <reply.5678@mail.example.jp>\r\n"
        b"In-Reply-To: <inquiry_auto_reply.inq_1.demo@demo.example>\r\n"
        b"References: <first@mail.example.jp>\r\n <inquiry_auto_reply.inq_1.demo@demo.example>\r\n"
        b"Content-Type: text/plain\r\n\r\nthanks\r\n"
    )

    email = parse(raw)

    assert email.message_id == "reply.5678@mail.example.jp"
    assert email.in_reply_to == ("inquiry_auto_reply.inq_1.demo@demo.example",)
    assert email.references == ("first@mail.example.jp", "inquiry_auto_reply.inq_1.demo@demo.example")


def test_recipients_are_lower_cased_addr_specs():
    sato = Header("佐藤, 花子", "iso-2022-jp").encode()  # a comma inside the encoded name
    suzuki = Header("鈴木", "utf-8").encode()
    raw = (
        CUSTOMER_HEADERS.replace(b"To: shop@demo.example\r\n", b"")
        + (
            f"To: {sato} <Hanako@Example.JP>, Shop@Demo.Example\r\n"
            f'Cc: {suzuki} <SUZUKI@example.com>,\r\n "Kato" <kato@example.com>\r\n'
            "Reply-To: Taro <Taro+reply@Example.JP>\r\n"
            "Content-Type: text/plain\r\n\r\nhi\r\n"
        ).encode()
    )

    email = parse(raw)

    assert email.to == ("hanako@example.jp", "shop@demo.example")
    assert email.cc == ("suzuki@example.com", "kato@example.com")
    assert email.reply_to == "taro+reply@example.jp"
    assert email.sender_name == "Taro Yamada"


def test_a_customer_mail_is_not_automated():
    email = parse(_customer_mail())

    assert email.automated is None
    assert parse(_customer_mail(Subject="不在票について")).automated is None  # a missed delivery, not OOO


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_submitted_header"),
        ({"Auto_Submitted": "no"}, None),
        ({"Precedence": "bulk"}, "bulk_precedence"),
        ({"List_Id": "Shop news <news.demo.example>"}, "mailing_list"),
        ({"List_Unsubscribe": "<mailto:unsubscribe@list.example>"}, "mailing_list"),
        ({"X_Autoreply": "yes"}, "autoresponder_header"),
        ({"Return_Path": "<>"}, "null_return_path"),
        ({"Subject": "Automatic reply: 配送について"}, "out_of_office_subject"),
        ({"Subject": "Out of Office: back on Monday"}, "out_of_office_subject"),
        ({"Subject": "自動返信: 配送について"}, "out_of_office_subject"),
        ({"Subject": "【不在】1月5日まで休暇をいただいております"}, "out_of_office_subject"),
    ],
)
def test_automated_mail_is_recognised(headers: dict[str, str], reason: str | None):
    email = parse(_customer_mail(**headers))

    assert email.automated == reason
    for name in headers:
        if name != "Subject":
            assert name.replace("_", "-").lower() in email.headers


def test_delivery_status_notification_from_mailer_daemon():
    raw = (
        b"Return-Path: <>\r\n"
        b"From: MAILER-DAEMON@amazonses.com\r\n"
        b"To: shop@demo.example\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\n"
        b"Message-ID: <0100018c-dsn@email.amazonses.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status;\r\n boundary="dsn"\r\n\r\n'
        b"--dsn\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"An error occurred while trying to deliver the mail to the following recipients:\r\n"
        b"taro@example.jp\r\n"
        b"--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; a1-2.smtp-out.amazonses.com\r\n\r\n"
        b"Final-Recipient: rfc822; taro@example.jp\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        b"--dsn\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: shop@demo.example\r\nTo: taro@example.jp\r\nSubject: =?UTF-8?B?5rOo5paH?=\r\n\r\n"
        b"original body\r\n"
        b"--dsn--\r\n"
    )

    email = parse(raw)

    assert email.automated == "delivery_status_notification"
    assert email.sender == "mailer-daemon@amazonses.com"
    assert email.text.startswith("An error occurred")
    assert email.attachments == ()  # the returned original has no name: not a customer's file
    assert email.headers["content-type"].startswith("multipart/report")


def test_read_receipt_and_postmaster_sender():
    mdn = MIMEMultipart("report", report_type="disposition-notification")
    mdn["From"] = "taro@example.jp"
    mdn.attach(MIMEText("Your message was displayed."))
    assert parse(mdn.as_bytes()).automated == "disposition_notification"

    bounce = MIMEText("Undeliverable")
    bounce["From"] = "Postmaster@mail.example.jp"
    assert parse(bounce.as_bytes()).automated == "automated_sender"


def test_decode_bytes_never_raises():
    assert decode_bytes(b"\x82\xa0", "x-sjis") == "あ"
    assert decode_bytes(b"\x1b$B\x7f\x7f\x1b(B", "iso-2022-jp")  # replaced, not raised
    assert decode_bytes(b"\xa4\xa2", '"EUC-JP"') == "あ"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Attacker <attacker@evil.example> (<staff@demo.example>)", ["attacker@evil.example"]),
        ("staff@demo.example <evil@x.example>", ["evil@x.example"]),
        ("(Sato, H) sato@example.jp", ["sato@example.jp"]),
        ('"Yamada, Taro" <t@x.jp>, b@y.jp', ["t@x.jp", "b@y.jp"]),
        ("a <x@y.example> <z@w.example>", ["x@y.example", "z@w.example"]),  # ambiguous: both count
        ("user@例え.jp", ["user@xn--r8jz45g.jp"]),
        ("undisclosed-recipients:;", []),
    ],
)
def test_addresses_are_the_angle_address_outside_comments(header, expected):
    from omotenashi.messaging.inbound import _addresses

    assert [address for _, address in _addresses([header])] == expected


def test_eight_bit_message_ids_are_dropped_not_passed_on():
    raw = CUSTOMER_HEADERS.replace(b"<CAF1234@mail.example.jp>", b"<\xe6\x97\xa5@x>") + b"\r\nhello"

    assert parse(raw).message_id is None
