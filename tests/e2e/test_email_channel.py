"""Email as a channel over HTTP (issue 11): raw emails posted to `POST /_local/inbound` of the stack
`make run` starts, the emails it sends read from `/_local/outbox`, the thread from a signed
`GET /v1/inquiries/{id}`.

One stack serves the module (as in the other e2e modules) and the tests run in any order
(pytest-randomly): each test writes from its own customer address, with its own Message-IDs and
subjects, and looks only at the emails and inquiries that are its own. (The auto-reply rate limit is
per address: a shared customer would lose auto-replies.)
"""

from __future__ import annotations

import io
import json
import time
import urllib.parse
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import ses_samples
from tests.e2e.helpers import SECRET, get_signed, request, start, stop
from tests.integration.email import mail
from tests.support import signed_headers

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 20.0


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("email-channel") / "stdout.log"
    process, url = start(log_path)
    yield url
    stop(process)


# -- helpers -----------------------------------------------------------------------------------------
def unique(prefix: str = "c") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def customer_address(tag: str) -> str:
    return f"{tag}@example.jp"


def post_inbound(base_url: str, raw: bytes, to: str | None = None) -> tuple[int, dict[str, Any]]:
    query = "?to=" + urllib.parse.quote(to, safe="@,") if to is not None else ""
    status, _, text = request(
        f"{base_url}/_local/inbound{query}", "POST", raw, {"Content-Type": "message/rfc822"}
    )
    return status, json.loads(text)


def receive(base_url: str, raw: bytes, to: str | None = None) -> dict[str, Any]:
    """Post one email; its one outcome (202 asserted)."""
    status, body = post_inbound(base_url, raw, to)
    assert status == 202, body
    [outcome] = body["results"]
    return outcome


def outbox(base_url: str) -> list[dict[str, Any]]:
    status, _, text = request(f"{base_url}/_local/outbox")
    assert status == 200
    messages: list[dict[str, Any]] = json.loads(text)["messages"]
    return messages


def wait_for(base_url: str, match: Callable[[dict[str, Any]], bool], count: int = 1) -> list[dict[str, Any]]:
    """The outbox's messages that match, once there are `count` of them (the workers send behind a
    queue); then a short settle, so a duplicate would show too."""
    deadline = time.monotonic() + WAIT_SECONDS
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = [m for m in outbox(base_url) if match(m)]
        if len(found) >= count:
            time.sleep(0.3)
            return [m for m in outbox(base_url) if match(m)]
        time.sleep(0.1)
    pytest.fail(f"expected {count} matching emails within {WAIT_SECONDS} s, found {len(found)}")


def kind_to(kind: str, address: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["kind"] == kind and address in m["to"]


def kind_about(kind: str, inquiry_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["kind"] == kind and inquiry_id in m["subject"]


def thread(base_url: str, inquiry_id: str) -> dict[str, Any]:
    status, _, text = get_signed(base_url, f"/v1/inquiries/{inquiry_id}")
    assert status == 200, text
    result: dict[str, Any] = json.loads(text)
    return result


def signed(base_url: str, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body, ensure_ascii=False).encode()
    status, _, text = request(
        base_url + path, method, data, signed_headers(method, path, data, secret=SECRET)
    )
    return status, json.loads(text)


def reply_to(message: dict[str, Any]) -> str:
    address: str = message["headers"]["Reply-To"]
    return address


BODY = "先週注文した商品がまだ届きません。\n注文番号は1001です。\n確認をお願いします。\n"


def open_inquiry(base_url: str, tag: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An ISO-2022-JP email from the tag's customer: the inquiry id, its auto-reply and its notice."""
    raw = mail.iso_2022_jp(
        BODY,
        f"注文した商品が届きません {tag}",
        sender=customer_address(tag),
        message_id=f"<first-{tag}@mail.example.jp>",
    )
    outcome = receive(base_url, raw)
    assert outcome["outcome"] == "inquiry_opened", outcome
    inquiry_id = outcome["inquiry_id"]
    [auto_reply] = wait_for(base_url, kind_to("inquiry_auto_reply", customer_address(tag)))
    [notice] = wait_for(base_url, kind_about("staff_new_inquiry", inquiry_id))
    return inquiry_id, auto_reply, notice


def assert_still_working(base_url: str) -> None:
    """A normal email still opens an inquiry and gets its auto-reply."""
    inquiry_id, auto_reply, _ = open_inquiry(base_url, unique("after"))
    assert inquiry_id in auto_reply["subject"]


# -- a customer's email -----------------------------------------------------------------------------
def test_an_iso_2022_jp_email_opens_one_inquiry_with_one_auto_reply_even_when_posted_twice(base_url):
    tag = unique()
    address = customer_address(tag)
    subject = f"注文した商品が届きません {tag}"
    raw = mail.iso_2022_jp(BODY, subject, sender=address, message_id=f"<first-{tag}@mail.example.jp>")
    assert b"\x1b$B" in raw and b"=?iso-2022-jp?" in raw  # really ISO-2022-JP, subject encoded

    first = receive(base_url, raw)
    again = receive(base_url, raw)  # SES delivering the same email twice

    assert first["outcome"] == "inquiry_opened" and first["recipient"] == mail.SUPPORT
    assert "reason" not in first
    assert again["outcome"] == "inquiry_opened" and again["inquiry_id"] == first["inquiry_id"]
    assert again["reason"] == "replayed"
    inquiry = thread(base_url, first["inquiry_id"])
    assert inquiry["channel"] == "email" and inquiry["status"] == "open"
    assert inquiry["subject"] == subject and inquiry["locale"] == "ja"
    assert inquiry["customer"]["email"] == address and inquiry["customer"]["name"] == "山田 太郎"
    assert inquiry["message"] == BODY.strip()
    assert [m["message"] for m in inquiry["messages"]] == [BODY.strip()]
    [auto_reply] = wait_for(base_url, kind_to("inquiry_auto_reply", address))
    assert first["inquiry_id"] in auto_reply["subject"]
    assert auto_reply["headers"]["In-Reply-To"] == f"<first-{tag}@mail.example.jp>"
    assert reply_to(auto_reply).startswith("reply+c") and reply_to(auto_reply).endswith("@demo.example")
    [notice] = wait_for(base_url, kind_about("staff_new_inquiry", first["inquiry_id"]))
    assert notice["to"] == [mail.STAFF] and reply_to(notice).startswith("reply+s")
    assert thread(base_url, first["inquiry_id"])["auto_reply"] == "sent"


def test_the_customers_reply_to_the_auto_reply_is_a_follow_up_without_the_quote(base_url):
    tag = unique()
    inquiry_id, auto_reply, _ = open_inquiry(base_url, tag)
    new = "追跡番号を教えていただけますか。"
    raw = mail.gmail_reply(
        new,
        auto_reply["text"],
        sender=customer_address(tag),
        to=reply_to(auto_reply),
        subject="Re: " + auto_reply["subject"],
        message_id=f"<reply-{tag}@mail.example.jp>",
    )

    outcome = receive(base_url, raw)

    assert outcome["outcome"] == "follow_up" and outcome["inquiry_id"] == inquiry_id, outcome
    messages = thread(base_url, inquiry_id)["messages"]
    assert [(m["type"], m["message"]) for m in messages] == [("customer", BODY.strip()), ("customer", new)]
    assert messages[1]["channel"] == "email"
    time.sleep(0.5)  # an auto-reply to a follow-up would be queued by now
    assert len([m for m in outbox(base_url) if kind_to("inquiry_auto_reply", customer_address(tag))(m)]) == 1


def test_a_staff_reply_to_the_notice_reaches_the_customer_without_the_quote_and_answers_it(base_url):
    tag = unique()
    inquiry_id, _, notice = open_inquiry(base_url, tag)
    new = "お問い合わせありがとうございます。本日発送いたしました。"
    raw = mail.outlook_reply(
        new,
        notice["text"],
        sender=mail.STAFF,
        to=reply_to(notice),
        subject="RE: " + notice["subject"],
        message_id=f"<staff-{tag}@demo.example>",
    )

    outcome = receive(base_url, raw)

    assert outcome["outcome"] == "staff_reply" and outcome["inquiry_id"] == inquiry_id, outcome
    [reply] = wait_for(base_url, kind_to("inquiry_reply", customer_address(tag)))
    assert reply["from"].endswith("<shop@demo.example>") and new in reply["text"]
    assert "Original Message" not in reply["text"] and "このメールに返信すると" not in reply["text"]
    assert reply_to(reply).startswith("reply+c")  # the customer can answer it by email in turn
    inquiry = thread(base_url, inquiry_id)
    assert inquiry["status"] == "answered" and inquiry["first_response_at"] is not None
    staff = [m for m in inquiry["messages"] if m["type"] == "staff"]
    assert [(m["author"], m["channel"]) for m in staff] == [("山田 花子", "email")]
    assert staff[0]["message"].startswith(new) and "Original Message" not in staff[0]["message"]


def test_a_stranger_a_forged_token_or_another_inquirys_token_changes_nothing(base_url):
    first_tag, second_tag = unique(), unique()
    first, _, notice = open_inquiry(base_url, first_tag)
    second, _, _ = open_inquiry(base_url, second_tag)
    staff_address = reply_to(notice)
    local, domain = staff_address.split("@")
    tag = local[-16:]
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    other = "reply+s" + second.removeprefix("inq_") + tag + "@" + domain
    customers = {customer_address(first_tag), customer_address(second_tag)}

    def theirs() -> list[str]:  # what went to either customer, or was a staff reply on either inquiry
        return [
            m["id"]
            for m in outbox(base_url)
            if customers & set(m["to"])
            or (m["kind"] == "inquiry_reply" and any(i in m["subject"] for i in (first, second)))
        ]

    before = theirs()
    attempts = [
        (customer_address(first_tag), staff_address),  # the customer found the staff address
        (f"intruder-{first_tag}@demo.example", staff_address),  # not staff
        (mail.STAFF, forged),
        (mail.STAFF, other),
    ]
    for n, (sender, to) in enumerate(attempts):
        raw = mail.plain("返金します。", sender=sender, to=to, message_id=f"<attack-{n}-{first_tag}@x>")
        outcome = receive(base_url, raw)
        assert outcome["outcome"] == "rejected", (sender, to, outcome)

    time.sleep(0.5)  # anything queued would be sent by now
    for inquiry_id in (first, second):
        inquiry = thread(base_url, inquiry_id)
        assert inquiry["status"] == "open" and inquiry["first_response_at"] is None
        assert len(inquiry["messages"]) == 1
    assert theirs() == before  # no bounce, nothing to the customer


@pytest.mark.parametrize(
    "automated",
    [mail.out_of_office, mail.delivery_status, mail.mailing_list],
    ids=["out_of_office", "delivery_status", "mailing_list"],
)
def test_automated_mail_opens_nothing_and_gets_no_auto_reply(base_url, automated):
    tag = unique("auto")
    raw = automated(mail.SUPPORT).replace(b"taro@example.jp", customer_address(tag).encode())
    raw = raw.replace(b"-1@", f"-{tag}@".encode())  # its own Message-ID
    assert tag.encode() in raw

    outcome = receive(base_url, raw)

    assert outcome["outcome"] == "ignored" and outcome["reason"].startswith("automated:"), outcome
    assert "inquiry_id" not in outcome
    time.sleep(0.5)  # an auto-reply would be sent by now
    answers = [
        m
        for m in outbox(base_url)
        if customer_address(tag) in m["to"] or tag in m["headers"].get("In-Reply-To", "")
    ]
    assert answers == []


# -- what the internet sends -------------------------------------------------------------------------
def test_malformed_mime_is_read_as_far_as_it_goes_and_headerless_bytes_are_refused(base_url):
    tag = unique()
    broken = (
        f"From: {customer_address(tag)}\r\nTo: support@demo.example\r\nSubject: broken {tag}\r\n".encode()
        + b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n'
        b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "問い合わせ".encode() + b"\r\n"
    )
    readable = receive(base_url, broken)
    senderless = receive(base_url, b"\x00\xff garbage without headers " + tag.encode(), to=mail.SUPPORT)

    assert readable["outcome"] == "inquiry_opened", readable
    assert thread(base_url, readable["inquiry_id"])["message"] == "問い合わせ"
    assert senderless == {"recipient": mail.SUPPORT, "outcome": "rejected", "reason": "no_sender"}
    assert_still_working(base_url)


def test_a_30_mb_email_opens_an_inquiry_that_says_the_original_is_kept(base_url):
    tag = unique()
    body = ("大きなメールです。" * 8 + "\n") * 150_000
    raw = mail.plain(
        body, sender=customer_address(tag), subject=f"大容量 {tag}", message_id=f"<big-{tag}@example.jp>"
    )
    assert 30 * 1024 * 1024 < len(raw) < 40 * 1024 * 1024

    started = time.monotonic()
    outcome = receive(base_url, raw)
    took = time.monotonic() - started

    assert outcome["outcome"] == "inquiry_opened", outcome
    assert took < 10, took
    inquiry = thread(base_url, outcome["inquiry_id"])
    assert inquiry["subject"] == f"大容量 {tag}"
    assert "大きすぎる" in inquiry["message"] and "元のメールは保存されています" in inquiry["message"]
    wait_for(base_url, kind_to("inquiry_auto_reply", customer_address(tag)))
    assert_still_working(base_url)


def test_fifty_attachments_keep_twenty_and_say_where_the_rest_are(base_url):
    tag = unique()
    raw = mail.with_attachments(50).replace(mail.CUSTOMER.encode(), customer_address(tag).encode())
    raw = raw.replace(b"<att-50-200@example.jp>", f"<att-{tag}@example.jp>".encode())

    outcome = receive(base_url, raw)

    assert outcome["outcome"] == "inquiry_opened", outcome
    inquiry = thread(base_url, outcome["inquiry_id"])
    attachments = inquiry["messages"][0]["attachments"]
    assert len(attachments) == 20 and attachments[0]["name"] == "写真1.jpg" and attachments[0]["size"] == 200
    assert "30 件の添付ファイル" in inquiry["message"]
    wait_for(base_url, kind_to("inquiry_auto_reply", customer_address(tag)))
    assert_still_working(base_url)


def test_a_zip_bomb_is_kept_as_it_came_never_unpacked(base_url):
    tag = unique()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * (50 * 1024 * 1024))
    bomb = buffer.getvalue()
    raw = mail.email_with_attachment(bomb, "application", "zip", f"invoice-{tag}.zip")
    raw = raw.replace(mail.CUSTOMER.encode(), customer_address(tag).encode())

    outcome = receive(base_url, raw)

    assert outcome["outcome"] == "inquiry_opened", outcome
    [attachment] = thread(base_url, outcome["inquiry_id"])["messages"][0]["attachments"]
    assert attachment["name"] == f"invoice-{tag}.zip" and attachment["size"] == len(bomb) < 200_000
    assert attachment["content_type"] == "application/zip"
    assert_still_working(base_url)


# -- the endpoint's own checks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "to",
    ["not-an-address", "a@b@demo.example", "@demo.example", "support@", ",".join(["a@x.example"] * 51)],
    ids=["no_at", "two_ats", "no_local_part", "no_domain", "51_recipients"],
)
def test_a_bad_to_is_422_naming_to(base_url, to):
    tag = unique()
    raw = mail.plain("hello", sender=customer_address(tag), message_id=f"<to-{tag}@x>")

    status, body = post_inbound(base_url, raw, to)

    assert status == 422, body
    assert body["error"]["type"] == "validation_error"
    assert [f["field"] for f in body["error"]["fields"]] == ["to"]
    time.sleep(0.3)
    assert not [m for m in outbox(base_url) if customer_address(tag) in m["to"]]


@pytest.mark.parametrize("body", [b"", b"\r\n \r\n"], ids=["empty", "blank"])
def test_an_empty_body_is_400(base_url, body):
    status, answer = post_inbound(base_url, body, mail.SUPPORT)

    assert status == 400, answer
    assert answer["error"]["type"] == "invalid_body"


# -- SES notifications --------------------------------------------------------------------------------
def test_a_permanent_bounce_suppresses_that_customers_marketing(base_url):
    tag = unique()
    bounced, other = customer_address(tag), customer_address(tag + "x")
    for customer_id, address in ((f"cb-{tag}", bounced), (f"co-{tag}", other)):
        status, body = signed(
            base_url,
            "PUT",
            f"/v1/customers/{customer_id}/consent",
            {
                "email": address,
                "marketing_email": True,
                "source": "checkout_checkbox",
                "wording": "お知らせを受け取る",
            },
        )
        assert status == 200, body

    status, _, text = request(
        f"{base_url}/_local/ses/notifications",
        "POST",
        json.dumps(ses_samples.bounce([bounced], message_id=f"bounce-{tag}")).encode(),
        {"Content-Type": "application/json"},
    )

    assert status == 200, text
    answer = json.loads(text)
    assert answer["outcome"] == "suppressed" and answer["store_id"] == "demo"
    assert answer["suppressed"] == [bounced] and answer["already_suppressed"] == []

    # The effect: an abandoned cart's reminder is decided "suppressed" for that customer only.
    _, _, now = request(f"{base_url}/_local/clock")
    updated_at = json.loads(now)["now"]
    for customer_id, address in ((f"cb-{tag}", bounced), (f"co-{tag}", other)):
        status, body = signed(
            base_url,
            "POST",
            "/v1/events/carts",
            {
                "cart_id": f"cart-{customer_id}",
                "customer": {"id": customer_id, "email": address, "name": "山田太郎", "locale": "ja"},
                "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 1, "unit_price": "1620"}],
                "currency": "JPY",
                "subtotal": "1620",
                "cart_url": f"https://shop.example/cart/{customer_id}",
                "updated_at": updated_at,
            },
        )
        assert status == 202, body
    time.sleep(0.5)  # the event worker plans the reminders
    status, _, text = request(
        f"{base_url}/_local/clock/advance", "POST", b'{"seconds": 7200}', {"Content-Type": "application/json"}
    )
    assert status == 200, text

    def decisions(customer_id: str) -> list[dict[str, Any]]:
        status, _, text = get_signed(base_url, f"/v1/customers/{customer_id}/marketing/decisions")
        assert status == 200, text
        found: list[dict[str, Any]] = json.loads(text)["decisions"]
        return found

    suppressed = decisions(f"cb-{tag}")
    assert suppressed and {d["reason"] for d in suppressed} == {"suppressed"}, suppressed
    control = decisions(f"co-{tag}")  # sent, or deferred by quiet hours: never "suppressed"
    assert control and "suppressed" not in {d["reason"] for d in control}, control
    assert not [m for m in outbox(base_url) if bounced in m["to"] and m["kind"] == "cart_reminder"]


@pytest.mark.parametrize(
    "to",
    ["Support <support@demo.example>", "sup port@demo.example"],
    ids=["display_name", "space_inside"],
)
def test_a_to_that_is_no_address_is_422_too(base_url, to):
    tag = unique()
    raw = mail.plain("hello", sender=customer_address(tag), message_id=f"<to-{tag}@x>")

    status, body = post_inbound(base_url, raw, to)

    assert status == 422, body
    assert [f["field"] for f in body["error"]["fields"]] == ["to"]
