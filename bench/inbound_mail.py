"""Inbound handling time per message (issue 11): parse + route + intake on the local stack, p50/p95
over 200 messages of mixed charsets.

The local stack runs in-process on moto (mock_aws, as the other in-process benchmarks do). For each
message the benchmark times `LocalStack.inbound(raw, recipients)`: what SES receiving does, i.e. the
raw email put in the inbound bucket (S3), then the inbound function invoked with the receipt: it
reads the email back, parses it (`messaging/inbound.parse`), routes each recipient
(`logic/inquiries/inbound_mail.py`) and runs the route's intake: for a new inquiry the inquiry's
PutItem, the thread index and the SQS enqueue of the auto-reply and notice; for a follow-up or a staff
reply the entry's write (a staff reply also enqueues the customer's email). The queues are drained
after each message, outside the timing (the auto-reply's and notice's Reply-To are what the later
follow-ups and staff replies are sent to). Separately, the pure parse time of the same bytes
(`omotenashi.messaging.inbound.parse`, in this process, no AWS) is timed.

The 200 messages (all distinct; fixed seed):
- 140 new inquiries to support@demo.example, each from its own customer (the auto-reply rate limit
  is per address), in eight forms: ISO-2022-JP (encoded-word Japanese subject), Shift_JIS labelled
  but CP932 encoded (with ① and 髙), EUC-JP, UTF-8 quoted-printable, UTF-8 base64, HTML-only,
  multipart/alternative (ISO-2022-JP text + UTF-8 HTML), and multipart/mixed with a small attachment
  (an RFC 2231 Japanese file name);
- 30 customers' replies to their auto-reply's Reply-To, Gmail-style with the auto-reply quoted
  (follow-ups);
- 20 staff replies from staff@demo.example to a new-inquiry notice's Reply-To, Outlook-style with the
  notice quoted;
- 10 automated mails (out-of-office, DSN, MAILER-DAEMON, mailing list, Precedence: bulk), some to
  support@, some to an auto-reply's Reply-To: ignored.

Correctness is asserted while measuring, so failures cannot be timed as successes: every message
gets its expected outcome (and inquiry), parse reads the expected subject and text, and at the end
the inquiries, auto-replies, notices and staff-reply emails are counted, and every follow-up and
staff reply in the threads is exactly the new text (the quoted history cut).

These are moto timings, in-process (moto's S3, DynamoDB and SQS are Python objects in this process,
no network): they say what the code costs, not what AWS's latencies add. The first message (cold
import of the inbound function and its first AWS clients) is a warm-up, printed apart and not in the
figures.
"""

from __future__ import annotations

import base64
import contextlib
import quopri
import random
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from typing import Any

from _common import fake_aws_environment, percentile

SEED = 11
NEW, FOLLOW_UP, STAFF, AUTOMATED = "new inquiry", "follow-up", "staff reply", "ignored"
COUNTS = {NEW: 140, FOLLOW_UP: 30, STAFF: 20, AUTOMATED: 10}
FIRST_NEW = 10  # the first messages are new inquiries, so replies have something to answer
SUPPORT = "support@demo.example"
STAFF_ADDRESS = "staff@demo.example"
SHOP = "Omotenashi Demo Shop <shop@demo.example>"
EXPECTED_OUTCOME = {NEW: "inquiry_opened", FOLLOW_UP: "follow_up", STAFF: "staff_reply", AUTOMATED: "ignored"}

SUBJECTS = (
    "注文した商品が届きません",
    "返品について",
    "配送日の変更",
    "請求書の再発行",
    "ギフト包装のご相談",
)
BODIES = (
    "先週注文した商品がまだ届きません。\n注文番号は{n}です。\n確認をお願いします。",
    "届いた商品が注文と違いました。\n交換の手続きを教えてください。（注文{n}）",
    "配送日を週末に変更できますか。\nよろしくお願いいたします。注文番号{n}",
)


@dataclass
class Message:
    kind: str
    form: str
    raw: bytes
    recipient: str
    subject: str  # what parse must read
    text: str  # what parse's text must hold (its first line at least)
    inquiry_id: str | None = None  # the inquiry a reply must reach
    entry: str | None = None  # what the reply's thread entry must be: its new text, the quote cut


# -- the forms of a new inquiry ------------------------------------------------------------------------
def _encoded_word(text: str, charset: str, codec: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="


def _q_words(text: str) -> str:
    """RFC 2047 Q encoding in UTF-8, folded into words of at most 75 characters, whole characters each."""
    words: list[str] = []
    current = ""
    for char in text:
        encoded = "_" if char == " " else char if char.isascii() and char.isalnum() else ""
        encoded = encoded or "".join(f"={byte:02X}" for byte in char.encode())
        if len(current) + len(encoded) > 75 - len("=?UTF-8?Q??="):
            words.append(current)
            current = ""
        current += encoded
    return "\r\n ".join(f"=?UTF-8?Q?{word}?=" for word in [*words, current])


def _head(sender: str, subject_header: str, message_id: str, extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject_header}\r\n"
        f"Date: Fri, 04 Dec 2026 10:00:00 +0900\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n{extra}"
    ).encode()


def iso_2022_jp(n: int, sender: str, subject: str, body: str) -> bytes:
    message = MIMEText(body, "plain", "iso-2022-jp")
    message["Subject"] = Header(subject, "iso-2022-jp")
    message["From"] = Header("山田 太郎", "iso-2022-jp").encode() + f" <{sender}>"
    message["To"] = SUPPORT
    message["Date"] = "Fri, 04 Dec 2026 10:00:00 +0900"
    message["Message-ID"] = f"<jis-{n}@mail.example.jp>"
    return message.as_bytes()


def shift_jis(n: int, sender: str, subject: str, body: str) -> bytes:
    """As Windows mailers write it: labelled Shift_JIS, encoded CP932 (髙 and ① are CP932 only)."""
    return (
        _head(f"Takahashi <{sender}>", _encoded_word(subject, "Shift_JIS", "cp932"), f"sjis-{n}@example.jp")
        + b"Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.replace("\n", "\r\n").encode("cp932")
    )


def euc_jp(n: int, sender: str, subject: str, body: str) -> bytes:
    return (
        _head(sender, _encoded_word(subject, "EUC-JP", "euc_jp"), f"euc-{n}@example.jp")
        + b"Content-Type: text/plain; charset=EUC-JP\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.replace("\n", "\r\n").encode("euc_jp")
    )


def utf8_quoted_printable(n: int, sender: str, subject: str, body: str) -> bytes:
    subject_header = _q_words(subject)
    return (
        _head(sender, subject_header, f"qp-{n}@example.jp")
        + b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + quopri.encodestring(body.replace("\n", "\r\n").encode())
    )


def utf8_base64(n: int, sender: str, subject: str, body: str) -> bytes:
    return (
        _head(sender, _encoded_word(subject, "UTF-8", "utf-8"), f"b64-{n}@example.jp")
        + b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(body.encode())
    )


def _html(body: str) -> str:
    lines = "<br>\r\n".join(body.split("\n"))
    style = "<style>p {color: #333}</style>"
    return f'<html><head>{style}</head><body><div dir="ltr"><p>{lines}</p></div></body></html>'


def html_only(n: int, sender: str, subject: str, body: str) -> bytes:
    return (
        _head(sender, _encoded_word(subject, "UTF-8", "utf-8"), f"html-{n}@example.jp")
        + b"Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(_html(body).encode())
    )


def alternative(n: int, sender: str, subject: str, body: str) -> bytes:
    message = MIMEMultipart("alternative")
    message["Subject"] = Header(subject, "iso-2022-jp")
    message["From"] = sender
    message["To"] = SUPPORT
    message["Message-ID"] = f"<alt-{n}@mail.example.jp>"
    message.attach(MIMEText(body, "plain", "iso-2022-jp"))
    message.attach(MIMEText(_html(body), "html", "utf-8"))
    return message.as_bytes()


def with_attachment(n: int, sender: str, subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"山田 花子 <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = f"<att-{n}@example.jp>"
    message.set_content(body)
    picture = bytes((n * 7 + i) % 256 for i in range(2_000 + 500 * (n % 9)))  # 2 to 6 KB
    message.add_attachment(picture, maintype="image", subtype="jpeg", filename=f"破損写真{n}.jpg")
    return message.as_bytes()


FORMS: dict[str, Callable[[int, str, str, str], bytes]] = {
    "ISO-2022-JP": iso_2022_jp,
    "Shift_JIS (CP932)": shift_jis,
    "EUC-JP": euc_jp,
    "UTF-8 quoted-printable": utf8_quoted_printable,
    "UTF-8 base64": utf8_base64,
    "HTML only": html_only,
    "multipart/alternative": alternative,
    "with attachment": with_attachment,
}


def new_inquiry(n: int) -> Message:
    form = list(FORMS)[n % len(FORMS)]
    sender = f"customer{n}@example.jp"
    subject = f"{SUBJECTS[n % len(SUBJECTS)]} {n}"
    body = BODIES[n % len(BODIES)].format(n=1000 + n)
    if form == "Shift_JIS (CP932)":
        body = f"髙橋です。①の商品について。\n{body}"
        subject = f"①{subject}"
    return Message(NEW, form, FORMS[form](n, sender, subject, body), SUPPORT, subject, body)


# -- replies -------------------------------------------------------------------------------------------
def _plain(body: str, *, sender: str, to: str, subject: str, message_id: str, **headers: str) -> bytes:
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def follow_up(n: int, customer: str, auto_reply: dict[str, Any], inquiry_id: str) -> Message:
    new = f"追跡番号を教えていただけますか。（{n}）"
    quoted = "\n".join(f"> {line}" for line in auto_reply["text"].splitlines())
    body = f"{new}\n\n2026年12月4日(金) 10:05 {SHOP}:\n\n{quoted}\n"
    subject = "Re: " + auto_reply["subject"]
    to = auto_reply["headers"]["Reply-To"]
    raw = _plain(
        body,
        sender=customer,
        to=to,
        subject=subject,
        message_id=f"<CAF-follow-{n}@mail.gmail.example>",
        In_Reply_To=auto_reply["headers"].get("Message-ID", f"<auto-{n}@demo.example>"),
    )
    return Message(FOLLOW_UP, "UTF-8 Gmail reply", raw, to, subject, new, inquiry_id, new)


def staff_reply(n: int, notice: dict[str, Any], inquiry_id: str) -> Message:
    new = f"ご連絡ありがとうございます。本日発送いたしました。（{n}）\n\n山田 花子\nOmotenashi Demo Shop"
    body = (
        f"{new}\n\n-----Original Message-----\nFrom: {SHOP}\n"
        f"Sent: Friday, December 4, 2026 10:05 AM\nSubject: {notice['subject']}\n\n{notice['text']}\n"
    )
    subject = "RE: " + notice["subject"]
    to = notice["headers"]["Reply-To"]
    raw = _plain(body, sender=STAFF_ADDRESS, to=to, subject=subject, message_id=f"<staff-{n}@demo.example>")
    # The signature has no "-- " line: it stays, as the integration tests expect; the quote goes.
    return Message(STAFF, "UTF-8 Outlook reply", raw, to, subject, new, inquiry_id, new)


def automated(n: int, reply_to: str | None) -> Message:
    to = reply_to if reply_to and n % 3 == 0 else SUPPORT
    variant = n % 5
    if variant == 0:
        subject = f"Automatic reply: お問い合わせ {n}"
        raw = _plain(
            "I am out of the office until Monday.",
            sender=f"away{n}@example.jp",
            to=to,
            subject=subject,
            message_id=f"<ooo-{n}@example.jp>",
            Auto_Submitted="auto-replied",
            X_Auto_Response_Suppress="All",
        )
        return Message(AUTOMATED, "out-of-office", raw, to, subject, "out of the office")
    if variant == 1:
        subject = f"Delivery Status Notification (Failure) {n}"
        raw = (
            f"From: Mail Delivery Subsystem <MAILER-DAEMON@mx{n}.example.jp>\r\nTo: {to}\r\n"
            f"Subject: {subject}\r\nMessage-ID: <dsn-{n}@mx.example.jp>\r\nAuto-Submitted: auto-replied\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="b1"'
            "\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nDelivery to taro@example.jp failed.\r\n"
            "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.jp\r\n\r\n"
            "Final-Recipient: rfc822; taro@example.jp\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b1--\r\n"
        ).encode()
        return Message(AUTOMATED, "DSN", raw, to, subject, "failed")
    if variant == 2:
        subject = f"週刊ニュース {n}"
        raw = _plain(
            "今週のニュースレターです。",
            sender="news@lists.example.com",
            to=to,
            subject=subject,
            message_id=f"<list-{n}@lists.example.com>",
            List_Id="<weekly.lists.example.com>",
            List_Unsubscribe="<mailto:unsubscribe@lists.example.com>",
            Precedence="list",
        )
        return Message(AUTOMATED, "mailing list", raw, to, subject, "ニュースレター")
    if variant == 3:
        subject = f"Undeliverable: お問い合わせ {n}"
        raw = _plain(
            "Your message could not be delivered.",
            sender=f"postmaster@mx{n}.example.jp",
            to=to,
            subject=subject,
            message_id=f"<pm-{n}@example.jp>",
        )
        return Message(AUTOMATED, "postmaster", raw, to, subject, "could not be delivered")
    subject = f"キャンペーンのお知らせ {n}"
    raw = _plain(
        "セール開催中です。",
        sender=f"promo{n}@shop.example.net",
        to=to,
        subject=subject,
        message_id=f"<bulk-{n}@shop.example.net>",
        Precedence="bulk",
    )
    return Message(AUTOMATED, "Precedence: bulk", raw, to, subject, "セール")


@contextlib.contextmanager
def aws_calls() -> Iterator[list[str]]:
    """Every AWS call made in the block, as "service:Operation" (botocore's BaseClient._make_api_call,
    which boto3 and PynamoDB both go through; as bench/loyalty_calls.py counts them)."""
    import botocore.client

    calls: list[str] = []
    base: Any = botocore.client.BaseClient
    previous = base._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.append(f"{self.meta.service_model.service_name}:{operation_name}")
        return previous(self, operation_name, api_params)

    base._make_api_call = recording
    try:
        yield calls
    finally:
        base._make_api_call = previous


# -- figures -------------------------------------------------------------------------------------------
def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {percentile(ms, 50):6.2f}  p95 {percentile(ms, 95):6.2f}  max {max(ms):6.2f}  "
        f"mean {statistics.fmean(ms):6.2f} ms"
    )


def main() -> None:
    fake_aws_environment()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from moto import mock_aws

    with mock_aws():
        from omotenashi import clock
        from omotenashi.dal import inquiries as inquiry_data
        from omotenashi.dal import replies as reply_data
        from omotenashi.messaging import inbound
        from omotenashi_local.stack import LocalStack

        clock.set_source(None)
        stack = LocalStack()

        def outbox_of(inquiry_id: str, kind: str) -> dict[str, Any]:
            [found] = [m for m in stack.outbox() if m["kind"] == kind and inquiry_id in m["subject"]]
            return found

        # Warm-up: the inbound function's cold import and first AWS clients (not in the figures).
        warm = new_inquiry(10_000)
        started = time.perf_counter()
        [outcome] = stack.inbound(warm.raw, [warm.recipient])["results"]
        cold = time.perf_counter() - started
        assert outcome["outcome"] == "inquiry_opened", outcome
        stack.drain()

        rng = random.Random(SEED)
        rest = [kind for kind, count in COUNTS.items() for _ in range(count)]
        for _ in range(FIRST_NEW):
            rest.remove(NEW)
        rng.shuffle(rest)
        schedule = [NEW] * FIRST_NEW + rest

        opened: list[tuple[str, str]] = []  # (inquiry id, customer), in order
        followed: set[str] = set()
        answered: set[str] = set()
        measured: list[tuple[Message, float, float]] = []  # message, inbound seconds, parse seconds
        calls_of: dict[str, list[list[str]]] = {}  # AWS calls of each stack.inbound, by kind
        for n, kind in enumerate(schedule):
            if kind == NEW:
                message = new_inquiry(n)
            elif kind == FOLLOW_UP:
                # each reply to its own inquiry: one follow-up or one staff reply, so each status is known
                inquiry_id, customer = next((i, c) for i, c in opened if i not in followed | answered)
                followed.add(inquiry_id)
                message = follow_up(n, customer, outbox_of(inquiry_id, "inquiry_auto_reply"), inquiry_id)
            elif kind == STAFF:
                inquiry_id, _ = next((i, c) for i, c in reversed(opened) if i not in followed | answered)
                answered.add(inquiry_id)
                message = staff_reply(n, outbox_of(inquiry_id, "staff_new_inquiry"), inquiry_id)
            else:
                inquiry_id = opened[n % len(opened)][0]
                message = automated(n, outbox_of(inquiry_id, "inquiry_auto_reply")["headers"]["Reply-To"])

            started = time.perf_counter()
            parsed = inbound.parse(message.raw)
            parse_seconds = time.perf_counter() - started
            assert parsed.subject == message.subject, (message.form, parsed.subject, message.subject)
            assert message.text.split("\n")[0] in parsed.text, (message.form, parsed.text[:200])

            with aws_calls() as calls:
                started = time.perf_counter()
                result = stack.inbound(message.raw, [message.recipient])
                inbound_seconds = time.perf_counter() - started
            [outcome] = result["results"]
            assert outcome["outcome"] == EXPECTED_OUTCOME[kind], (n, message.form, outcome)
            if kind == NEW:
                assert "reason" not in outcome, (n, message.form, outcome)  # not replayed, not refused
                opened.append((outcome["inquiry_id"], parsed.sender))
            elif kind in (FOLLOW_UP, STAFF):
                assert outcome["inquiry_id"] == message.inquiry_id and "reason" not in outcome, outcome
            else:
                assert outcome["reason"].startswith("automated:"), (n, message.form, outcome)
            measured.append((message, inbound_seconds, parse_seconds))
            calls_of.setdefault(kind, []).append(calls)
            stack.drain()  # the auto-reply and notice go (outside the timing)

        # -- what it all came to -----------------------------------------------------------------------
        kinds = {kind: [m for m, _, _ in measured if m.kind == kind] for kind in COUNTS}
        assert {kind: len(found) for kind, found in kinds.items()} == COUNTS
        outbox = stack.outbox()
        sent = {kind: sum(1 for m in outbox if m["kind"] == kind) for kind in ("inquiry_auto_reply",)}
        sent["staff_new_inquiry"] = sum(1 for m in outbox if m["kind"] == "staff_new_inquiry")
        sent["inquiry_reply"] = sum(1 for m in outbox if m["kind"] == "inquiry_reply")
        opened_total = COUNTS[NEW] + 1  # with the warm-up
        assert sent == {
            "inquiry_auto_reply": opened_total,
            "staff_new_inquiry": opened_total,
            "inquiry_reply": COUNTS[STAFF],
        }, sent
        for message in kinds[FOLLOW_UP] + kinds[STAFF]:
            assert message.inquiry_id is not None
            entries = [e.message for e in reply_data.conversation("demo", message.inquiry_id)]
            assert entries == [message.entry], (message.kind, entries)
        for inquiry_id, _ in opened:
            inquiry = inquiry_data.get("demo", inquiry_id, consistent=True)
            assert inquiry is not None and inquiry.channel == "email"
            assert inquiry.status == ("answered" if inquiry_id in answered else "open"), inquiry.status

        # -- figures -----------------------------------------------------------------------------------
        print(
            f"== Inbound mail handling (issue 11): {len(measured)} messages through LocalStack.inbound "
            "(S3 put + inbound function: parse, route, intake), in-process moto =="
        )
        print(f"warm-up (cold import of the inbound function, not counted): {cold * 1000:,.0f} ms")
        print(f"{'all':<24} inbound {summary([s for _, s, _ in measured])}")
        print(f"{'':<24} parse   {summary([p for _, _, p in measured])}")
        for kind, found in kinds.items():
            rows = [(s, p) for m, s, p in measured if m.kind == kind]
            print(f"{f'{kind} ({len(found)})':<24} inbound {summary([s for s, _ in rows])}")
            print(f"{'':<24} parse   {summary([p for _, p in rows])}")
        print("parse by form (new inquiries):")
        for form in FORMS:
            rows = [(s, p) for m, s, p in measured if m.kind == NEW and m.form == form]
            parse_p50 = percentile([p * 1000 for _, p in rows], 50)
            inbound_p50 = percentile([s * 1000 for s, _ in rows], 50)
            print(
                f"  {form:<24} n={len(rows):3d}  parse p50 {parse_p50:5.2f} ms  "
                f"inbound p50 {inbound_p50:6.2f} ms"
            )
        print("AWS calls per stack.inbound (median; the calls of the median message):")
        for kind, lists in calls_of.items():
            typical = sorted(lists, key=len)[len(lists) // 2]
            ops = ", ".join(f"{op} x{count}" if count > 1 else op for op, count in Counter(typical).items())
            print(f"  {kind:<12} {len(typical):2d}: {ops}")
        sizes = [len(m.raw) for m, _, _ in measured]
        print(
            f"message size: min {min(sizes):,} B  p50 {percentile(sizes, 50):,.0f} B  "
            f"p95 {percentile(sizes, 95):,.0f} B  max {max(sizes):,} B  total {sum(sizes) / 1024:,.0f} KiB"
        )
        buckets = ((0, 1024), (1024, 2048), (2048, 4096), (4096, 8192), (8192, 1 << 30))
        print(
            "  "
            + "  ".join(
                f"{lo // 1024}-{hi // 1024} KiB: {sum(1 for s in sizes if lo <= s < hi)}"
                if hi < 1 << 30
                else f">={lo // 1024} KiB: {sum(1 for s in sizes if s >= lo)}"
                for lo, hi in buckets
            )
        )
        for kind, found in kinds.items():
            kind_sizes = [len(m.raw) for m in found]
            print(f"  {kind:<12} p50 {percentile(kind_sizes, 50):6,.0f} B  max {max(kind_sizes):6,} B")
        print(
            f"checked: {opened_total} inquiries opened with one auto-reply and one notice each, "
            f"{COUNTS[FOLLOW_UP]} follow-ups and {COUNTS[STAFF]} staff replies in their threads without "
            f"the quote, {COUNTS[STAFF]} staff-reply emails, {COUNTS[AUTOMATED]} automated mails ignored"
        )
        print("(moto timings in one process, not AWS's: no network, no Lambda invocation overhead)")


if __name__ == "__main__":
    main()
