"""The staff reply email: signed with the member's display name, quoting the customer's newest
message as of the reply (text "> " lines, an HTML blockquote), with a Reply-To that brings the
customer's answer back to the inquiry, and threaded under the customer's own email when it came
by email."""

from __future__ import annotations

from dataclasses import replace

import pytest

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.logic.core import directory as stores
from omotenashi.logic.core.directory import directory
from omotenashi.logic.inquiries import reply_addresses
from tests.support import call, inquiry_body

STAFF = "staff@demo.example"


def _set_staff_name(name: str) -> None:
    from omotenashi.logic.core.store_admin import set_email

    set_email("demo", {"staff_names": {STAFF: name}})
    directory.clear()


def _inquiry(stack, locale: str, *, named: bool = True) -> str:
    who = {"email": "taro@example.jp", "locale": locale}
    if named:
        who["name"] = "山田太郎" if locale == "ja" else "Taro Yamada"
    created = call(stack, "POST", "/v1/inquiries", inquiry_body(customer=who))
    assert created.status == 202, created.text
    stack.drain()
    return created.json["inquiry_id"]


def _post(stack, path: str, body: dict) -> None:
    reply = call(stack, "POST", path, body)
    assert reply.status == 201, reply.text


def _reply_mails(stack) -> list[dict]:
    return [m for m in stack.outbox() if m["kind"] == "inquiry_reply"]


CASES = {
    "ja": ("佐藤 花子", "2026年11月16日(月) 10:00（日本時間） 山田太郎 様:"),
    "en": ("Hanako Sato", "On Monday, November 16, 2026, 10:00 AM JST, Taro Yamada wrote:"),
}


@pytest.fixture
def at_ten_tokyo(stack):
    """Business time from 2026-11-16 01:00Z (10:00 in Tokyo)."""
    from datetime import UTC, datetime

    start = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    clock.set_source(lambda: start)
    yield stack
    clock.set_source(None)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_quote_of_the_newest_message_and_the_signature_in_both_parts(at_ten_tokyo, locale):
    stack = at_ten_tokyo
    name, attribution = CASES[locale]
    _set_staff_name(name)
    inquiry_id = _inquiry(stack, locale)
    clock.advance(3600)
    _post(stack, f"/v1/inquiries/{inquiry_id}/replies", {"author": STAFF, "message": "確認いたします。"})
    stack.drain()
    [first] = _reply_mails(stack)
    assert attribution in first["text"] and attribution in first["html"]
    assert "> 注文した商品はいつ届きますか？" in first["text"]
    assert "<blockquote" in first["html"] and "注文した商品はいつ届きますか？</blockquote>" in first["html"]
    for part in ("text", "html"):
        assert name in first[part], part
        assert STAFF not in first[part], part  # the author's address is not shown to the customer
        assert (
            first[part].index("確認いたします。") < first[part].index(name) < first[part].index(attribution)
        )

    # A follow-up (two lines, one of them markup), then the next reply quotes it.
    clock.advance(3600)
    _post(stack, f"/v1/inquiries/{inquiry_id}/messages", {"message": "まだ届きません。\n\n<b>急ぎ</b>です"})
    clock.advance(600)
    _post(stack, f"/v1/inquiries/{inquiry_id}/replies", {"author": STAFF, "message": "本日発送しました。"})
    stack.drain()
    second = _reply_mails(stack)[1]
    assert "> まだ届きません。\n>\n> <b>急ぎ</b>です" in second["text"]
    assert "まだ届きません。\n\n&lt;b&gt;急ぎ&lt;/b&gt;です</blockquote>" in second["html"]
    assert "注文した商品はいつ届きますか？" not in second["text"]
    at = "12:00" if locale == "ja" else "12:00 PM"  # the follow-up's time (the reply is 12:10)
    assert at in second["text"] and at in second["html"]


def test_the_quote_is_as_of_the_reply_not_a_later_follow_up(stack):
    inquiry_id = _inquiry(stack, "ja")
    _post(stack, f"/v1/inquiries/{inquiry_id}/replies", {"author": STAFF, "message": "確認します。"})
    clock.advance(60)
    _post(stack, f"/v1/inquiries/{inquiry_id}/messages", {"message": "後から書いた追記"})
    stack.drain()  # the email is composed after the follow-up exists
    [mail] = _reply_mails(stack)
    assert "> 注文した商品はいつ届きますか？" in mail["text"]
    assert "後から書いた追記" not in mail["text"] + mail["html"]


def test_without_a_display_name_no_staff_address_is_shown(stack):
    inquiry_id = _inquiry(stack, "en", named=False)
    _post(stack, f"/v1/inquiries/{inquiry_id}/replies", {"author": STAFF, "message": "On its way."})
    stack.drain()
    [mail] = _reply_mails(stack)
    assert STAFF not in mail["text"] + mail["html"]
    assert "taro@example.jp wrote:" in mail["text"]  # a customer without a name: their address


def test_reply_to_is_the_customers_reply_address_of_the_inquiry(stack):
    inquiry_id = _inquiry(stack, "ja")
    _post(stack, f"/v1/inquiries/{inquiry_id}/replies", {"author": STAFF, "message": "確認します。"})
    stack.drain()
    [mail] = _reply_mails(stack)
    address = mail["headers"]["Reply-To"]
    local, _, domain = address.partition("@")
    assert local.startswith("reply+") and domain == "demo.example"  # the demo store's own domain
    store = stores.require("demo")
    target = reply_addresses.read(local, store.unsubscribe_keys, store_id="demo", sender="taro@example.jp")
    assert target is not None and (target.kind, target.inquiry_id) == ("customer", inquiry_id)
    # Still threaded under the auto-reply.
    assert mail["headers"]["In-Reply-To"].endswith("@ap-northeast-1.amazonses.com>")


def test_an_inquiry_by_email_is_answered_under_the_customers_own_message(stack):
    inquiry_id = _inquiry(stack, "ja")
    stored = inquiry_data.get("demo", inquiry_id, consistent=True)
    assert stored is not None and stored.auto_reply_message_id
    by_email = replace(stored, inquiry_id="inq_" + "m" * 26, email_message_id="CAF=abc@mail.example.jp")
    assert inquiry_data.create_if_absent(by_email)
    inquiry_data.mark_auto_reply_sent(
        "demo", by_email.inquiry_id, message_id=stored.auto_reply_message_id, sent_at=clock.now()
    )
    _post(stack, f"/v1/inquiries/{by_email.inquiry_id}/replies", {"author": STAFF, "message": "確認します。"})
    stack.drain()
    [mail] = _reply_mails(stack)
    auto_reply = f"<{stored.auto_reply_message_id}@ap-northeast-1.amazonses.com>"
    assert mail["headers"]["In-Reply-To"] == "<CAF=abc@mail.example.jp>"
    assert mail["headers"]["References"] == f"<CAF=abc@mail.example.jp> {auto_reply}"
