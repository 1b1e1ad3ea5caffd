"""GET /v1/inquiries/{id} answers the conversation: the customer's first message, then follow-ups and
staff replies in time order, staff under their display names, files with short-lived links."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import replies as reply_data
from omotenashi.domain import Attachment, CustomerMessage, Reply
from omotenashi.logic.core.directory import directory
from tests.support import call, inquiry_body

RECEIPT = Attachment(
    name="receipt.pdf", content_type="application/pdf", size=48213, key="attachments/a/receipt.pdf"
)
PHOTO = Attachment(name="箱.jpg", content_type="image/jpeg", size=1024, key="attachments/b/box.jpg")


def _create(stack) -> str:
    created = call(stack, "POST", "/v1/inquiries", inquiry_body())
    assert created.status == 202, created.text
    stack.drain()
    return created.json["inquiry_id"]


def _thread(stack, inquiry_id: str) -> list[dict]:
    reply = call(stack, "GET", f"/v1/inquiries/{inquiry_id}")
    assert reply.status == 200, reply.text
    return reply.json["messages"]


def _post(stack, path: str, body: dict) -> None:
    reply = call(stack, "POST", path, body)
    assert reply.status == 201, reply.text


def test_the_thread_in_time_order_with_authors(stack):
    inquiry_id = _create(stack)
    received_at = call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json["received_at"]
    clock.advance(600)
    _post(
        stack,
        f"/v1/inquiries/{inquiry_id}/replies",
        {"author": "sato@shop.example", "message": "確認します。"},
    )
    clock.advance(600)
    _post(stack, f"/v1/inquiries/{inquiry_id}/messages", {"message": "よろしくお願いします。"})
    clock.advance(600)
    _post(
        stack,
        f"/v1/inquiries/{inquiry_id}/replies",
        {"author": "sato@shop.example", "message": "発送しました。"},
    )

    messages = _thread(stack, inquiry_id)
    assert [(m["type"], m["author"], m["message"]) for m in messages] == [
        ("customer", "山田太郎", "注文した商品はいつ届きますか？"),
        ("staff", "sato@shop.example", "確認します。"),
        ("customer", "山田太郎", "よろしくお願いします。"),
        ("staff", "sato@shop.example", "発送しました。"),
    ]
    assert messages[0]["id"] == inquiry_id and messages[0]["at"] == received_at
    assert messages[0]["channel"] == "web_form"
    assert [m["channel"] for m in messages[1:]] == ["api"] * 3
    assert [m["at"] for m in messages] == sorted(m["at"] for m in messages)
    assert len({m["id"] for m in messages}) == 4
    assert all(m["attachments"] == [] for m in messages)
    # The list and close answer the inquiry without its messages.
    assert "messages" not in call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close").json


def test_a_customer_without_a_name_appears_by_address(stack):
    body = inquiry_body(customer={"email": "hanako@example.jp"})
    inquiry_id = call(stack, "POST", "/v1/inquiries", body).json["inquiry_id"]
    _post(stack, f"/v1/inquiries/{inquiry_id}/messages", {"message": "追記です"})
    assert [m["author"] for m in _thread(stack, inquiry_id)] == ["hanako@example.jp"] * 2


def test_staff_appear_under_their_display_name(stack):
    from omotenashi.logic.core.store_admin import set_email

    inquiry_id = _create(stack)
    _post(stack, f"/v1/inquiries/{inquiry_id}/replies", {"author": "staff@demo.example", "message": "API"})
    by_email = Reply(
        store_id="demo",
        inquiry_id=inquiry_id,
        reply_id="rep_byemail",
        author="staff@demo.example",
        message="メールから",
        created_at=clock.now() + timedelta(seconds=5),
        request_hash="h",
        author_email="Staff@Demo.example",
        channel="email",
    )
    assert reply_data.create_if_absent(by_email)
    set_email("demo", {"staff_names": {}})  # the demo store names its staff: no names here
    assert [m["author"] for m in _thread(stack, inquiry_id)][1:] == ["staff@demo.example"] * 2

    set_email("demo", {"staff_names": {"staff@demo.example": "佐藤 花子"}})
    directory.clear()
    messages = _thread(stack, inquiry_id)
    assert [(m["type"], m["author"], m["channel"]) for m in messages[1:]] == [
        ("staff", "佐藤 花子", "api"),
        ("staff", "佐藤 花子", "email"),
    ]


def test_attachments_are_listed_with_links_that_expire(stack):
    inquiry_id = _create(stack)
    stored = inquiry_data.get("demo", inquiry_id)
    assert stored is not None
    with_files = replace(stored, inquiry_id=inquiry_id + "files", attachments=(RECEIPT,), channel="email")
    assert inquiry_data.create_if_absent(with_files)
    follow_up = CustomerMessage(
        store_id="demo",
        inquiry_id=with_files.inquiry_id,
        message_id="msg_email1",
        message="写真を送ります",
        created_at=clock.now() + timedelta(minutes=1),
        request_hash="h",
        sla_round=0,
        reply_due_at=stored.reply_due_at,
        channel="email",
        attachments=(PHOTO,),
    )
    assert reply_data.create_message_if_absent(follow_up)

    messages = _thread(stack, with_files.inquiry_id)
    assert [m["channel"] for m in messages] == ["email", "email"]
    files = [m["attachments"] for m in messages]
    assert [[(a["name"], a["content_type"], a["size"]) for a in f] for f in files] == [
        [("receipt.pdf", "application/pdf", 48213)],
        [("箱.jpg", "image/jpeg", 1024)],
    ]
    for [attachment], key in zip(files, (RECEIPT.key, PHOTO.key), strict=True):
        url = urlparse(attachment["url"])
        query = parse_qs(url.query)
        assert url.scheme == "https"
        bucket = stack.resources.environment["INBOUND_BUCKET"]
        assert bucket in url.netloc + url.path and url.path.endswith(key)
        assert query["X-Amz-Expires"] == ["900"]  # 15 minutes
        assert "X-Amz-Signature" in query
