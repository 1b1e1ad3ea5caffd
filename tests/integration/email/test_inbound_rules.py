"""The findings of the independent review of the email channel, each kept fixed by a test."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest

from omotenashi.dal import inbound_mail as mail_store
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.logic.inquiries import inbound_mail
from tests.integration.email import mail
from tests.integration.email.test_inbound_mail import (
    conversation,
    inquiries,
    open_by_email,
    receive,
    reply_to,
    sent,
)

pytestmark = pytest.mark.usefixtures("stack")


def _notice(stack) -> dict:
    [notice] = sent(stack, "staff_new_inquiry")
    return notice


def _unchanged(stack, inquiry_id: str) -> None:
    inquiry = inquiry_data.get("demo", inquiry_id, consistent=True)
    assert inquiry is not None and inquiry.status == "open" and inquiry.first_response_at is None
    assert conversation(stack, inquiry_id) == []
    assert sent(stack, "inquiry_reply") == []


def test_a_staff_reply_of_only_the_quoted_notice_never_reaches_the_customer(stack):
    inquiry_id = open_by_email(stack)
    notice = _notice(stack)
    quoted = "\n".join(f"> {line}" for line in notice["text"].splitlines())
    bottom_posted = quoted + "\n\n承知しました。"
    for n, body in enumerate((quoted, bottom_posted)):
        raw = mail.plain(body, sender=mail.STAFF, to=reply_to(notice), message_id=f"<q{n}@x>")
        [outcome] = receive(stack, raw)
        assert (outcome["outcome"], outcome["reason"]) == ("rejected", "empty_reply")
    _unchanged(stack, inquiry_id)


def test_a_staff_reply_holding_the_notice_without_quote_marks_is_refused(stack):
    inquiry_id = open_by_email(stack)
    notice = _notice(stack)
    raw = mail.plain(
        "対応します。\n\n" + notice["text"], sender=mail.STAFF, to=reply_to(notice), message_id="<f@x>"
    )

    [outcome] = receive(stack, raw)

    assert (outcome["outcome"], outcome["reason"]) == ("rejected", "quotes_a_staff_email")
    _unchanged(stack, inquiry_id)


@pytest.mark.parametrize(
    "sender",
    [
        "Attacker <attacker@evil.example> (<staff@demo.example>)",  # a comment is no address
        "staff@demo.example <evil@x.example>",
        "staff@demo.example<evil@x.example>",
        "staff@demo.example, evil@x.example",
    ],
)
def test_a_staff_address_in_the_display_name_or_beside_another_is_not_staff(stack, sender):
    inquiry_id = open_by_email(stack)
    raw = mail.plain("返金します。", sender=sender, to=reply_to(_notice(stack)), message_id="<spoof@x>")

    [outcome] = receive(stack, raw)

    assert outcome["outcome"] == "rejected"
    _unchanged(stack, inquiry_id)


def _receive_with_verdicts(stack, raw: bytes, to: str, **verdicts: Any) -> list[dict]:
    message_id = (
        "verdicts"
        + hashlib.sha256(raw + to.encode() + repr(sorted(verdicts.items())).encode()).hexdigest()[:20]
    )
    mail_store.put_raw(mail_store.RAW_PREFIX + message_id, raw)
    outcomes = inbound_mail.receive(inbound_mail.Receipt(message_id, (to,), **verdicts))
    stack.drain()
    return [o.as_dict() for o in outcomes]


def test_a_staff_reply_needs_its_domain_to_vouch_for_it_when_ses_checked(stack):
    inquiry_id = open_by_email(stack)
    to = reply_to(_notice(stack))
    raw = mail.plain("返金します。", sender=mail.STAFF, to=to, message_id="<unauth@x>")

    [gray] = _receive_with_verdicts(stack, raw, to, dmarc="GRAY", spf="NONE", dkim="NONE")
    [failed] = _receive_with_verdicts(stack, raw, to, dmarc="FAIL", spf="PASS", dkim="PASS")
    # SPF and DKIM pass for any domain: an attacker's own envelope domain proves nothing.
    [foreign] = _receive_with_verdicts(
        stack, raw, to, dmarc="GRAY", spf="PASS", dkim="PASS", envelope_from="bounce@evil.example"
    )
    assert gray["reason"] == failed["reason"] == foreign["reason"] == "unauthenticated_sender"
    _unchanged(stack, inquiry_id)

    [aligned] = _receive_with_verdicts(
        stack, raw, to, dmarc="GRAY", spf="PASS", dkim="NONE", envelope_from="bounces@mail.demo.example"
    )
    assert aligned["outcome"] == "staff_reply"


def test_a_new_inquiry_whose_from_is_forged_gets_no_auto_reply(stack):
    raw = mail.iso_2022_jp(message_id="<forged@example.jp>")

    [outcome] = _receive_with_verdicts(stack, raw, mail.SUPPORT, dmarc="FAIL", spf="FAIL", dkim="FAIL")

    assert outcome["outcome"] == "inquiry_opened"
    inquiry = inquiry_data.get("demo", outcome["inquiry_id"], consistent=True)
    assert inquiry is not None and inquiry.auto_reply_state == "suppressed"
    assert inquiry.auto_reply_reason == "spoofed_sender"
    assert sent(stack, "inquiry_auto_reply") == []
    assert len(sent(stack, "staff_new_inquiry")) == 1  # staff still see it


def test_files_staff_attach_go_to_the_customer_with_the_reply(stack):
    inquiry_id = open_by_email(stack)
    raw = mail.email_with_attachment(
        b"%PDF-1.4 invoice",
        "application",
        "pdf",
        "seikyusho.pdf",
        sender=mail.STAFF,
        to=reply_to(_notice(stack)),
    )

    [outcome] = receive(stack, raw)

    assert outcome["outcome"] == "staff_reply"
    [reply] = sent(stack, "inquiry_reply")
    assert reply["headers"]["Content-Type"].startswith("multipart/mixed")
    [entry] = conversation(stack, inquiry_id)
    assert "seikyusho.pdf" in entry["attachments"]["S"]


def test_a_bad_reply_address_does_not_swallow_the_copy_to_support(stack):
    open_by_email(stack)
    bad = "reply+c" + "a" * 26 + "b" * 16 + "@demo.example"
    raw = mail.plain("前の件とは別の質問です。", message_id="<both@example.jp>")

    outcomes = stack.inbound(raw, [bad, mail.SUPPORT])["results"]
    stack.drain()

    assert [o["outcome"] for o in outcomes] == ["rejected", "inquiry_opened"]
    assert len(inquiries(stack)) == 2


def test_a_reply_address_made_with_a_key_this_process_has_not_seen_yet_works(stack, monkeypatch):
    from omotenashi.dal import stores as store_data
    from omotenashi.logic.core import directory
    from omotenashi.logic.core.unsubscribe_tokens import new_key
    from omotenashi.logic.inquiries import reply_addresses

    inquiry_id = open_by_email(stack)
    directory.directory.get("demo")  # cached with the old keys
    keys = store_data.add_unsubscribe_key("demo", new_key())  # a rotation elsewhere
    monkeypatch.setattr(directory, "REFRESH_AFTER_MISMATCH_SECONDS", 0)
    address = reply_addresses.customer_address(
        keys, store_id="demo", inquiry_id=inquiry_id, domain="demo.example"
    )

    [outcome] = receive(stack, mail.plain("新しい鍵で届きました。", to=address, message_id="<k@x>"))

    assert outcome["outcome"] == "follow_up"


def test_a_retransmitted_email_under_a_new_ses_id_opens_one_inquiry(stack):
    raw = mail.iso_2022_jp(message_id="<retransmitted@example.jp>")
    [first] = receive(stack, raw, to=mail.SUPPORT)
    again = stack.inbound(raw, [mail.SUPPORT, "nobody@demo.example"])  # another envelope: another id
    stack.drain()

    [support] = [o for o in again["results"] if o["recipient"] == mail.SUPPORT]
    assert support["inquiry_id"] == first["inquiry_id"] and support["reason"] == "replayed"
    assert len(inquiries(stack)) == 1 and len(sent(stack, "inquiry_auto_reply")) == 1


def test_odd_charsets_and_deep_nesting_still_open_the_inquiry(stack):
    idna = (
        b"From: taro@example.jp\r\nTo: support@demo.example\r\nMessage-ID: <idna@x>\r\n"
        b"Subject: =?idna?Q?=FF?= question\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"real question\r\n"
    )
    [readable] = receive(stack, idna)
    inquiry = inquiry_data.get("demo", readable["inquiry_id"], consistent=True)
    assert inquiry is not None and inquiry.message == "real question"

    nested = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for _ in range(1500):
        nested = b"Content-Type: message/rfc822\r\n\r\n" + nested
    deep = (
        b"From: taro@example.jp\r\nTo: support@demo.example\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n"
        + nested
    )
    [outcome] = receive(stack, deep)
    assert outcome["outcome"] == "inquiry_opened"


def test_japanese_autoresponder_subjects_are_automated(stack):
    [outcome] = receive(
        stack,
        mail.plain("本メールは自動送信です。", subject="【自動送信】お問い合わせ受付", message_id="<auto@x>"),
    )

    assert outcome["outcome"] == "ignored" and outcome["reason"] == "automated:out_of_office_subject"


def test_attachments_download_rather_than_render_from_our_links(stack):
    raw = mail.email_with_attachment(b"<script>alert(1)</script>", "text", "html", "page.html")
    [outcome] = receive(stack, raw)
    inquiry = inquiry_data.get("demo", outcome["inquiry_id"], consistent=True)
    assert inquiry is not None
    [attachment] = inquiry.attachments
    head = boto3.client("s3").head_object(
        Bucket=stack.resources.environment["INBOUND_BUCKET"], Key=attachment.key
    )

    assert head["ContentDisposition"].startswith("attachment;")


def test_an_empty_email_says_it_has_no_text(stack):
    [outcome] = receive(stack, mail.plain("", message_id="<empty@x>"))

    inquiry = inquiry_data.get("demo", outcome["inquiry_id"], consistent=True)
    assert inquiry is not None and inquiry.message == "(本文なし)"  # the subject is Japanese


def test_an_answer_to_an_api_inquirys_auto_reply_that_lost_our_reply_to_threads_by_its_message_id(stack):
    from tests.support import call, inquiry_body

    created = call(stack, "POST", "/v1/inquiries", inquiry_body(external_id="threaded-api")).json
    stack.drain()
    [auto_reply] = sent(stack, "inquiry_auto_reply")
    seen_id = f"<{auto_reply['id']}@ap-northeast-1.amazonses.com>"

    raw = mail.plain(
        "返信です。", message_id="<api-thread@example.jp>", In_Reply_To=seen_id, References=seen_id
    )
    [outcome] = receive(stack, raw)

    assert outcome["outcome"] == "follow_up" and outcome["inquiry_id"] == created["inquiry_id"]


def test_the_notice_links_the_original_email(stack):
    open_by_email(stack)

    notice = _notice(stack)

    assert "元のメール（.eml" in notice["text"] and "/inbound/local" in notice["text"]


def test_a_store_cannot_take_the_stack_domain_or_another_stores_default_domain(stack):
    from omotenashi.logic.core.store_admin import InvalidStore, set_email

    stack_domain = stack.resources.environment["RECEIVING_DOMAIN"]
    for domain in (stack_domain, f"other.{stack_domain}"):
        with pytest.raises(InvalidStore, match=r"^receiving_domain"):
            set_email("demo", {"receiving_domain": domain})
    set_email("demo", {"receiving_domain": f"demo.{stack_domain}"})  # its own default: fine


def test_an_eight_bit_message_id_neither_crashes_nor_loses_the_email(stack):
    raw = (
        b"From: taro@example.jp\r\nTo: support@demo.example\r\nSubject: id\r\n"
        b"Message-ID: <\xe6\x97\xa5\xe6\x9c\xac@mail.example.jp>\r\n"
        b"References: <\xe6\x97\xa5@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nquestion\r\n"
    )
    [outcome] = receive(stack, raw)
    [again] = receive(stack, raw)

    assert outcome["outcome"] == "inquiry_opened" and again["inquiry_id"] == outcome["inquiry_id"]


def test_message_ids_differing_in_case_are_two_emails(stack):
    [upper] = receive(stack, mail.plain("first question", message_id="<ABC@example.jp>"))
    [lower] = receive(stack, mail.plain("second question", message_id="<abc@example.jp>"))

    assert upper["inquiry_id"] != lower["inquiry_id"]


def test_a_refused_staff_reply_copied_to_support_opens_nothing(stack):
    open_by_email(stack)
    notice = _notice(stack)
    quoted = "\n".join(f"> {line}" for line in notice["text"].splitlines()) + "\n\n承知しました。"
    raw = mail.plain(quoted, sender=mail.STAFF, message_id="<bottom@x>")

    outcomes = stack.inbound(raw, [reply_to(notice), mail.SUPPORT])["results"]

    assert [o["outcome"] for o in outcomes] == ["rejected", "ignored"]
    assert len(inquiries(stack)) == 1


def test_a_unicode_domain_sender_is_read_in_its_ascii_form(stack):
    raw = (
        "From: user@例え.jp\r\nTo: support@demo.example\r\nSubject: IDN\r\nMessage-ID: <idn@x>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n質問です。\r\n"
    ).encode()  # SMTPUTF8: the domain as UTF-8
    [outcome] = receive(stack, raw)

    inquiry = inquiry_data.get("demo", outcome["inquiry_id"], consistent=True)
    assert inquiry is not None and inquiry.customer.email == "user@xn--r8jz45g.jp"


def test_a_member_whose_reply_was_refused_is_told_once_and_can_answer_the_refusal(stack):
    inquiry_id = open_by_email(stack)
    notice = _notice(stack)
    bottom_posted = "\n".join(f"> {line}" for line in notice["text"].splitlines()) + "\n\n承知しました。"
    raw = mail.plain(bottom_posted, sender=mail.STAFF, to=reply_to(notice), message_id="<bottom-told@x>")

    receive(stack, raw)
    receive(stack, raw)  # SES again: still one email to the member

    [told] = sent(stack, "staff_reply_refused")
    assert told["to"] == [mail.STAFF] and "引用部分より上に本文がありませんでした" in told["text"]
    assert sent(stack, "inquiry_reply") == []
    fixed = mail.gmail_reply("明日発送いたします。", told["text"], sender=mail.STAFF, to=reply_to(told))
    [outcome] = receive(stack, fixed)
    assert outcome["outcome"] == "staff_reply" and outcome["inquiry_id"] == inquiry_id
    assert len(sent(stack, "inquiry_reply")) == 1


def test_a_forged_staff_reply_is_never_answered(stack):
    open_by_email(stack)
    to = reply_to(_notice(stack))
    for n, sender in enumerate(("intruder@demo.example", "staff@demo.example <evil@x.example>")):
        receive(stack, mail.plain("", sender=sender, to=to, message_id=f"<forged-{n}@x>"))

    assert sent(stack, "staff_reply_refused") == []
