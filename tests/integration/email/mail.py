"""Real-looking emails for the email-channel tests: Japanese mailers' charsets, replies in the
forms Gmail, Outlook and Apple Mail write, and automated mail."""

from __future__ import annotations

import base64
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.policy import SMTP

SUPPORT = "support@demo.example"
STAFF = "staff@demo.example"
CUSTOMER = "taro@example.jp"


def iso_2022_jp(
    body: str = "先週注文した商品がまだ届きません。\n注文番号は1001です。\n確認をお願いします。\n",
    subject: str = "注文した商品が届きません",
    *,
    sender: str = CUSTOMER,
    to: str = SUPPORT,
    message_id: str = "<CAF-first-1@mail.example.jp>",
) -> bytes:
    message = MIMEText(body, "plain", "iso-2022-jp")
    message["Subject"] = Header(subject, "iso-2022-jp")
    message["From"] = Header("山田 太郎", "iso-2022-jp").encode() + f" <{sender}>"
    message["To"] = to
    message["Date"] = "Fri, 04 Dec 2026 10:00:00 +0900"
    message["Message-ID"] = message_id
    return message.as_bytes()


def shift_jis(
    body: str = "髙橋です。①の商品の返品について教えてください。\n", subject: str = "返品について"
) -> bytes:
    """As Windows mailers write it: labelled Shift_JIS, encoded CP932 (髙 and ① are CP932 only)."""
    encoded_subject = base64.b64encode(subject.encode("cp932"))
    return (
        b"From: Takahashi <takahashi@example.jp>\r\nTo: " + SUPPORT.encode() + b"\r\n"
        b"Subject: =?Shift_JIS?B?" + encoded_subject + b"?=\r\n"
        b"Message-ID: <sjis-1@example.jp>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.replace("\n", "\r\n").encode("cp932")
    )


def plain(
    body: str,
    *,
    sender: str = CUSTOMER,
    to: str = SUPPORT,
    subject: str = "Re: お問い合わせ",
    message_id: str = "<reply-1@mail.example.jp>",
    **headers: str,
) -> bytes:
    # Long Message-IDs stay one unencoded line, as mail clients write them.
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def gmail_reply(new: str, quoted: str, **kwargs: str) -> bytes:
    quoted_lines = "\n".join(f"> {line}" for line in quoted.splitlines())
    body = f"{new}\n\n2026年12月4日(金) 10:05 Omotenashi Demo Shop <shop@demo.example>:\n\n{quoted_lines}\n"
    return plain(body, **kwargs)


def outlook_reply(new: str, quoted: str, **kwargs: str) -> bytes:
    body = (
        f"{new}\n\n山田 花子\nOmotenashi Demo Shop\n\n"
        "-----Original Message-----\n"
        "From: Omotenashi <shop@demo.example>\n"
        "Sent: Friday, December 4, 2026 10:05 AM\n"
        "Subject: 新着お問い合わせ\n\n"
        f"{quoted}\n"
    )
    return plain(body, **kwargs)


def out_of_office(to: str) -> bytes:
    return plain(
        "I am out of the office until Monday.",
        to=to,
        subject="Automatic reply: お問い合わせ",
        Auto_Submitted="auto-replied",
        X_Auto_Response_Suppress="All",
        message_id="<ooo-1@example.jp>",
    )


def delivery_status(to: str) -> bytes:
    return (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.jp>\r\n"
        b"To: " + to.encode() + b"\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\n"
        b"Message-ID: <dsn-1@mx.example.jp>\r\n"
        b"Auto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain\r\n\r\nDelivery to taro@example.jp failed.\r\n"
        b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.jp\r\n\r\nFinal-Recipient: rfc822; taro@example.jp\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--b1--\r\n"
    )


def mailing_list(to: str) -> bytes:
    return plain(
        "今週のニュースレターです。",
        sender="news@lists.example.com",
        to=to,
        subject="週刊ニュース",
        List_Id="<weekly.lists.example.com>",
        List_Unsubscribe="<mailto:unsubscribe@lists.example.com>",
        Precedence="list",
        message_id="<list-1@lists.example.com>",
    )


def with_attachments(count: int, *, size: int = 200, filename: str = "写真{n}.jpg") -> bytes:
    message = EmailMessage()
    message["From"] = f"山田 太郎 <{CUSTOMER}>"
    message["To"] = SUPPORT
    message["Subject"] = "破損した商品の写真"
    message["Message-ID"] = f"<att-{count}-{size}@example.jp>"
    message.set_content("届いた商品が破損していました。写真を添付します。")
    for n in range(count):
        message.add_attachment(
            bytes([n % 256]) * size, maintype="image", subtype="jpeg", filename=filename.format(n=n + 1)
        )
    return message.as_bytes()


def email_with_attachment(
    content: bytes,
    maintype: str,
    subtype: str,
    filename: str,
    *,
    sender: str = f"山田 太郎 <{CUSTOMER}>",
    to: str = SUPPORT,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "請求書"
    message["Message-ID"] = f"<{filename.encode().hex()[:40]}@example.jp>"
    message.set_content("請求書を添付します。")
    message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
