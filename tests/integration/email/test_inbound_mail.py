"""Email as a channel, end to end on the local stack (moto): what SES receiving hands the inbound
function becomes one inquiry, a follow-up or a staff reply, and nothing else (issue 11)."""

from __future__ import annotations

import io
import zipfile

import boto3
import pytest

from omotenashi.dal import inquiries as inquiry_data
from omotenashi.logic.core.store_admin import set_email
from tests.integration.email import mail

pytestmark = pytest.mark.usefixtures("stack")


def receive(stack, raw: bytes, to: str | None = None) -> list[dict]:
    result = stack.inbound(raw, [to] if to else None)
    stack.drain()
    return result["results"]


def sent(stack, kind: str) -> list[dict]:
    return [m for m in stack.outbox() if m["kind"] == kind]


def inquiries(stack) -> list[dict]:
    table = stack.resources.tables["InquiriesTable"]
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [item for item in items if item["inquiry_id"]["S"].startswith("inq_")]


def conversation(stack, inquiry_id: str) -> list[dict]:
    table = stack.resources.tables["RepliesTable"]
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="inquiry_key = :k",
        ExpressionAttributeValues={":k": {"S": f"demo#{inquiry_id}"}},
    )["Items"]
    return sorted(items, key=lambda item: item["created_at"]["S"])


def open_by_email(stack) -> str:
    [outcome] = receive(stack, mail.iso_2022_jp())
    assert outcome["outcome"] == "inquiry_opened", outcome
    return outcome["inquiry_id"]


def reply_to(message: dict) -> str:
    return message["headers"]["Reply-To"]


def test_an_iso_2022_jp_email_opens_one_inquiry_and_one_auto_reply_even_if_delivered_twice(stack):
    raw = mail.iso_2022_jp()
    [first] = receive(stack, raw)
    [again] = receive(stack, raw)  # SES delivers the same message again

    assert first["outcome"] == again["outcome"] == "inquiry_opened"
    assert again["inquiry_id"] == first["inquiry_id"] and again["reason"] == "replayed"
    assert len(inquiries(stack)) == 1
    inquiry = inquiry_data.get("demo", first["inquiry_id"], consistent=True)
    assert inquiry is not None
    assert inquiry.channel == "email" and inquiry.status == "open"
    assert inquiry.subject == "注文した商品が届きません"
    assert inquiry.message == "先週注文した商品がまだ届きません。\n注文番号は1001です。\n確認をお願いします。"
    assert inquiry.customer.email == mail.CUSTOMER and inquiry.customer.name == "山田 太郎"
    assert inquiry.locale == "ja"
    assert inquiry.source_key and inquiry.source_key.startswith("inbound/")
    assert inquiry.email_message_id == "CAF-first-1@mail.example.jp"

    [auto_reply] = sent(stack, "inquiry_auto_reply")
    assert auto_reply["to"] == [mail.CUSTOMER]
    assert reply_to(auto_reply).startswith("reply+c") and reply_to(auto_reply).endswith("@demo.example")
    assert auto_reply["headers"]["In-Reply-To"] == "<CAF-first-1@mail.example.jp>"

    [notice] = sent(stack, "staff_new_inquiry")
    assert notice["to"] == [mail.STAFF]
    assert reply_to(notice).startswith("reply+s")
    assert "注文番号は1001です。" in notice["text"] and "このメールに返信すると" in notice["text"]
    assert "注文した商品が届きません" in notice["subject"]


def test_shift_jis_and_english_mail_are_read_in_their_language(stack):
    [sjis] = receive(stack, mail.shift_jis())
    [english] = receive(stack, mail.plain("Where is my order?", subject="Order status", message_id="<en@x>"))

    japanese = inquiry_data.get("demo", sjis["inquiry_id"], consistent=True)
    assert japanese is not None and japanese.message == "髙橋です。①の商品の返品について教えてください。"
    assert japanese.subject == "返品について" and japanese.locale == "ja"
    other = inquiry_data.get("demo", english["inquiry_id"], consistent=True)
    assert other is not None and other.locale == "en" and other.subject == "Order status"
    assert {m["subject"] for m in sent(stack, "inquiry_auto_reply")} and len(
        sent(stack, "inquiry_auto_reply")
    ) == 2


def test_the_customers_reply_to_the_auto_reply_is_a_follow_up_without_the_quoted_history(stack):
    inquiry_id = open_by_email(stack)
    [auto_reply] = sent(stack, "inquiry_auto_reply")
    raw = mail.gmail_reply("追跡番号を教えていただけますか。", auto_reply["text"], to=reply_to(auto_reply))

    [outcome] = receive(stack, raw)
    [again] = receive(stack, raw)

    assert outcome["outcome"] == "follow_up" and outcome["inquiry_id"] == inquiry_id
    assert again["reason"] == "replayed"
    assert len(inquiries(stack)) == 1
    [entry] = conversation(stack, inquiry_id)
    assert entry["author"]["S"] == "customer" and entry["channel"]["S"] == "email"
    assert entry["message"]["S"] == "追跡番号を教えていただけますか。"
    inquiry = inquiry_data.get("demo", inquiry_id, consistent=True)
    assert inquiry is not None and inquiry.latest_message == "追跡番号を教えていただけますか。"
    assert len(sent(stack, "inquiry_auto_reply")) == 1  # a follow-up is not a new inquiry


def test_a_staff_reply_to_the_notice_reaches_the_customer_without_the_quote_and_stops_the_clock(stack):
    inquiry_id = open_by_email(stack)
    [notice] = sent(stack, "staff_new_inquiry")
    raw = mail.outlook_reply(
        "お問い合わせありがとうございます。本日発送いたしました。",
        notice["text"],
        sender=mail.STAFF,
        to=reply_to(notice),
        message_id="<staff-1@demo.example>",
    )

    [outcome] = receive(stack, raw)
    receive(stack, raw)  # SES again: still one reply

    assert outcome["outcome"] == "staff_reply" and outcome["inquiry_id"] == inquiry_id
    inquiry = inquiry_data.get("demo", inquiry_id, consistent=True)
    assert inquiry is not None and inquiry.status == "answered" and inquiry.first_response_at is not None
    [reply] = sent(stack, "inquiry_reply")
    assert reply["to"] == [mail.CUSTOMER] and reply["from"].endswith("<shop@demo.example>")
    assert "本日発送いたしました。" in reply["text"]
    assert "Original Message" not in reply["text"] and "このメールに返信すると" not in reply["text"]
    [entry] = conversation(stack, inquiry_id)
    assert entry["author_email"]["S"] == mail.STAFF and entry["author"]["S"] == "山田 花子"
    stack.advance(30 * 3600)  # past the deadline: no alert for an answered inquiry
    assert not [m for m in stack.outbox() if (m["kind"] or "").startswith("sla_")]


def test_a_reply_from_a_stranger_or_with_a_forged_or_other_inquirys_token_changes_nothing(stack):
    first = open_by_email(stack)
    [second] = receive(stack, mail.iso_2022_jp("別の質問です。", "別件", message_id="<second@example.jp>"))
    notices = {m["subject"].rsplit("（", 1)[1].rstrip("）"): m for m in sent(stack, "staff_new_inquiry")}
    staff_address = reply_to(notices[first])
    local, domain = staff_address.split("@")
    tag = local[-16:]
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    other = "reply+s" + second["inquiry_id"].removeprefix("inq_") + tag + "@" + domain
    before = len(stack.outbox())

    attempts = [
        (mail.CUSTOMER, staff_address),  # the customer found the staff address
        ("intruder@demo.example", staff_address),  # not staff
        (mail.STAFF, forged),
        (mail.STAFF, other),
    ]
    for n, (sender, to) in enumerate(attempts):
        raw = mail.plain("返金します。", sender=sender, to=to, message_id=f"<attack-{n}@x>")
        [outcome] = receive(stack, raw)
        assert outcome["outcome"] == "rejected", (sender, to, outcome)

    for inquiry_id in (first, second["inquiry_id"]):
        inquiry = inquiry_data.get("demo", inquiry_id, consistent=True)
        assert inquiry is not None and inquiry.status == "open" and inquiry.first_response_at is None
        assert conversation(stack, inquiry_id) == []
    assert len(stack.outbox()) == before  # no bounce, nothing to the customer


@pytest.mark.parametrize("automated", [mail.out_of_office, mail.delivery_status, mail.mailing_list])
def test_automated_mail_opens_nothing_and_gets_no_auto_reply(stack, automated):
    [outcome] = receive(stack, automated(mail.SUPPORT))

    assert outcome["outcome"] == "ignored" and outcome["reason"].startswith("automated:")
    assert inquiries(stack) == []
    assert stack.outbox() == []


def test_an_out_of_office_answer_to_a_notice_or_an_auto_reply_changes_nothing(stack):
    inquiry_id = open_by_email(stack)
    [notice] = sent(stack, "staff_new_inquiry")
    [auto_reply] = sent(stack, "inquiry_auto_reply")
    before = len(stack.outbox())

    for to in (reply_to(notice), reply_to(auto_reply)):
        [outcome] = receive(stack, mail.out_of_office(to))
        assert outcome["outcome"] == "ignored"

    assert conversation(stack, inquiry_id) == []
    assert len(stack.outbox()) == before


def test_a_reply_that_lost_our_reply_to_threads_by_its_references(stack):
    inquiry_id = open_by_email(stack)
    raw = mail.plain(
        "追加の質問です。",
        to=mail.SUPPORT,
        message_id="<reply-again@example.jp>",
        In_Reply_To="<CAF-first-1@mail.example.jp>",
        References="<CAF-first-1@mail.example.jp>",
    )
    [outcome] = receive(stack, raw)
    assert outcome["outcome"] == "follow_up" and outcome["inquiry_id"] == inquiry_id

    # The same references from someone else are not that customer's thread: a new inquiry.
    stranger = mail.plain(
        "便乗です。",
        sender="other@example.jp",
        message_id="<x@y>",
        References="<CAF-first-1@mail.example.jp>",
    )
    [other] = receive(stack, stranger)
    assert other["outcome"] == "inquiry_opened" and other["inquiry_id"] != inquiry_id


def test_unknown_addresses_and_our_own_sender_open_nothing(stack):
    outcomes = [
        *receive(stack, mail.plain("hello", to="nobody@demo.example", message_id="<a@x>")),
        *receive(stack, mail.plain("hello", to="support@elsewhere.example", message_id="<b@x>")),
        *receive(stack, mail.plain("loop", sender="shop@demo.example", message_id="<c@x>")),
    ]

    assert [o["outcome"] for o in outcomes] == ["ignored", "ignored", "ignored"]
    assert outcomes[2]["reason"] == "own_sender_address"
    assert inquiries(stack) == []


def test_the_new_inquiry_notice_can_be_switched_off(stack):
    set_email("demo", {"receiving_domain": "demo.example", "new_inquiry_notice": False})
    open_by_email(stack)

    assert sent(stack, "staff_new_inquiry") == []
    assert len(sent(stack, "inquiry_auto_reply")) == 1


def test_malformed_mime_is_read_as_far_as_it_goes_and_mail_without_a_sender_is_logged(stack):
    broken = (
        b"From: taro@example.jp\r\nTo: support@demo.example\r\nSubject: broken\r\n"
        b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n'
        b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "問い合わせ".encode() + b"\r\n"
    )
    [readable] = receive(stack, broken)
    [senderless] = receive(stack, b"\x00\xff garbage without headers", to=mail.SUPPORT)

    assert readable["outcome"] == "inquiry_opened"
    inquiry = inquiry_data.get("demo", readable["inquiry_id"], consistent=True)
    assert inquiry is not None and inquiry.message == "問い合わせ"
    assert senderless == {"recipient": "support@demo.example", "outcome": "rejected", "reason": "no_sender"}
    assert len(inquiries(stack)) == 1


def test_a_30_mb_email_opens_an_inquiry_that_says_the_original_is_kept(stack):
    body = ("大きなメールです。" * 8 + "\n") * 150_000
    raw = mail.plain(body, subject="大容量", message_id="<big@example.jp>")
    assert len(raw) > 30 * 1024 * 1024

    [outcome] = receive(stack, raw)

    assert outcome["outcome"] == "inquiry_opened"
    inquiry = inquiry_data.get("demo", outcome["inquiry_id"], consistent=True)
    assert inquiry is not None and inquiry.subject == "大容量"
    assert "大きすぎる" in inquiry.message and "元のメールは保存されています" in inquiry.message
    assert len(sent(stack, "inquiry_auto_reply")) == 1


def test_fifty_attachments_keep_twenty_and_say_where_the_rest_are(stack):
    [outcome] = receive(stack, mail.with_attachments(50))

    inquiry = inquiry_data.get("demo", outcome["inquiry_id"], consistent=True)
    assert inquiry is not None and len(inquiry.attachments) == 20
    assert inquiry.attachments[0].name == "写真1.jpg" and inquiry.attachments[0].size == 200
    assert "30 件の添付ファイル" in inquiry.message
    bucket = stack.resources.environment["INBOUND_BUCKET"]
    s3 = boto3.client("s3")
    for attachment in inquiry.attachments:
        body = s3.get_object(Bucket=bucket, Key=attachment.key)["Body"].read()
        assert len(body) == attachment.size
    [notice] = sent(stack, "staff_new_inquiry")  # links, not the files: nothing is forwarded
    assert notice["text"].count("X-Amz-Signature=") == 21 and "写真20.jpg" in notice["text"]  # and the .eml
    assert len(sent(stack, "inquiry_auto_reply")) == 1


def test_a_zip_bomb_is_stored_as_it_came_never_unpacked(stack):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * (50 * 1024 * 1024))
    bomb = buffer.getvalue()
    message = mail.email_with_attachment(bomb, "application", "zip", "invoice.zip")

    [outcome] = receive(stack, message)

    inquiry = inquiry_data.get("demo", outcome["inquiry_id"], consistent=True)
    assert inquiry is not None
    [attachment] = inquiry.attachments
    assert attachment.name == "invoice.zip" and attachment.size == len(bomb) < 200_000


def test_an_answer_to_a_staff_reply_that_lost_our_reply_to_threads_by_the_message_id_seen(stack):
    inquiry_id = open_by_email(stack)
    [notice] = sent(stack, "staff_new_inquiry")
    staff = mail.plain(
        "発送しました。", sender=mail.STAFF, to=reply_to(notice), message_id="<s@demo.example>"
    )
    receive(stack, staff)
    [reply] = sent(stack, "inquiry_reply")
    seen_id = f"<{reply['id']}@ap-northeast-1.amazonses.com>"  # SES's Message-ID, as recipients see it

    answer = mail.plain("ありがとうございます。", message_id="<thanks@example.jp>", In_Reply_To=seen_id)
    [outcome] = receive(stack, answer)

    assert outcome["outcome"] == "follow_up" and outcome["inquiry_id"] == inquiry_id


def test_a_store_with_the_morning_digest_gets_the_notice_at_opening_not_at_night(stack, tmp_path):
    from datetime import UTC, datetime

    from omotenashi import clock
    from tests.integration.test_sla_alerts import _digest_store

    _digest_store(stack, tmp_path)
    clock.set_source(lambda: datetime(2026, 11, 13, 12, 0, tzinfo=UTC))  # Friday 21:00 JST: closed
    inquiry_id = open_by_email(stack)
    assert sent(stack, "staff_new_inquiry") == []
    assert len(sent(stack, "inquiry_auto_reply")) == 1  # the customer is answered at once
    table = stack.resources.tables["InquiriesTable"]
    held = [
        entry
        for item in boto3.client("dynamodb").scan(TableName=table)["Items"]
        if item["inquiry_id"]["S"].startswith("digest#")
        for entry in item.get("held", {}).get("SS", [])
    ]
    assert f"{inquiry_id}|staff_new_inquiry|0" in held
    for _ in range(5):
        stack.advance(12 * 3600)  # to Wednesday 09:00 JST, past Monday's opening
    [digest] = [m for m in sent(stack, "sla_digest") if inquiry_id in m["text"]][:1]
    assert digest["to"] == [mail.STAFF]
    assert sent(stack, "staff_new_inquiry") == []
    clock.set_source(None)


def test_during_business_hours_the_notice_goes_at_once(stack, tmp_path):
    from tests.integration.test_sla_alerts import _digest_store

    _digest_store(stack, tmp_path)  # Friday 09:00 JST: open
    open_by_email(stack)

    assert len(sent(stack, "staff_new_inquiry")) == 1
    assert sent(stack, "sla_digest") == []


def test_an_sla_alert_carries_the_members_reply_address_and_an_answer_to_it_is_a_staff_reply(stack):
    inquiry_id = open_by_email(stack)
    for _ in range(6):
        stack.advance(4 * 3600)  # past the reminder (the deadline is 24 h or less)
    alerts = [m for m in stack.outbox() if (m["kind"] or "").startswith("sla_") and m["to"] == [mail.STAFF]]
    assert alerts, [m["kind"] for m in stack.outbox()]
    assert all(reply_to(alert).startswith("reply+s") for alert in alerts)
    assert "このメールに返信すると" in alerts[0]["text"]

    raw = mail.plain(
        "遅くなり申し訳ありません。", sender=mail.STAFF, to=reply_to(alerts[0]), message_id="<late@x>"
    )
    [outcome] = receive(stack, raw)

    assert outcome["outcome"] == "staff_reply" and outcome["inquiry_id"] == inquiry_id
    assert len(sent(stack, "inquiry_reply")) == 1
