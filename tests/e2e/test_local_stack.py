"""The local stack as a user meets it: `python -m omotenashi_local` (what `make run` starts), real
HTTP on loopback, moto server behind it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from omotenashi_local.launcher import StartFailed, start_local_stack
from tests.support import inquiry_body, signed_headers

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("local-stack") / "stdout.log"
    try:
        process, url = start_local_stack(log_path, {"OMOTENASHI_DEMO_SECRET": "e2e-secret"})
    except StartFailed as error:
        pytest.fail(str(error))
    banner = log_path.read_text()
    assert "e2e-secret" in banner and "store id  : demo" in banner
    yield url
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)  # generous: a loaded CI machine finishes batches in flight slowly
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("local stack did not stop on SIGINT")


def _request(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _outbox(base_url: str) -> list[dict]:
    status, _, text = _request(f"{base_url}/_local/outbox")
    assert status == 200
    return json.loads(text)["messages"]


def _post_inquiry(base_url: str, body: dict, secret: str = "e2e-secret", extra: dict | None = None):
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = signed_headers("POST", "/v1/inquiries", data, secret=secret, extra=extra)
    return _request(f"{base_url}/v1/inquiries", "POST", data, headers)


def test_health(base_url):
    assert _request(f"{base_url}/_local/health")[::2] == (200, '{"ok": true}')


def test_inquiry_to_auto_reply_over_http(base_url):
    status, _, text = _post_inquiry(base_url, inquiry_body(external_id="e2e-1"))
    assert status == 202, text
    inquiry_id = json.loads(text)["inquiry_id"]
    deadline = time.monotonic() + 20
    mails: list[dict] = []
    while time.monotonic() < deadline and not mails:
        mails = [
            m for m in _outbox(base_url) if inquiry_id in m["subject"] and m["kind"] == "inquiry_auto_reply"
        ]
        time.sleep(0.1)
    assert len(mails) == 1
    mail = mails[0]
    assert mail["kind"] == "inquiry_auto_reply"
    assert mail["to"] == ["taro@example.jp"]
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
    assert inquiry_id in mail["text"] and inquiry_id in mail["html"]
    assert set(mail) >= {"id", "to", "from", "subject", "text", "html", "headers", "kind", "sent_at"}
    path = f"/v1/inquiries/{inquiry_id}"
    status, _, text = _request(
        base_url + path, "GET", None, signed_headers("GET", path, b"", secret="e2e-secret")
    )
    assert status == 200 and json.loads(text)["auto_reply"] == "sent"


def test_refused_without_valid_signature(base_url):
    status, _, text = _post_inquiry(base_url, inquiry_body(), secret="wrong")
    assert status == 401
    assert json.loads(text)["error"]["type"] == "authentication_failed"


def test_validation_error_over_http(base_url):
    status, _, text = _post_inquiry(base_url, inquiry_body(channel="fax"))
    assert status == 422
    assert json.loads(text)["error"]["fields"][0]["field"] == "channel"


def test_clock_advance(base_url):
    status, _, text = _request(f"{base_url}/_local/clock")
    before = json.loads(text)["now"]
    status, _, text = _request(
        f"{base_url}/_local/clock/advance",
        "POST",
        b'{"seconds": 86400}',
        {"Content-Type": "application/json"},
    )
    assert status == 200
    after = json.loads(text)["now"]
    from omotenashi.clock import parse_iso

    assert 86400 <= (parse_iso(after) - parse_iso(before)).total_seconds() < 86400 + 30
    assert _request(f"{base_url}/_local/clock/advance", "POST", b'{"seconds": -5}')[0] == 422
    assert _request(f"{base_url}/_local/clock/advance", "POST", b"{oops")[0] == 400
    for huge in (b"1e308", b"100000000000000000000", b"300000000000"):
        status, _, text = _request(f"{base_url}/_local/clock/advance", "POST", b'{"seconds": ' + huge + b"}")
        assert status == 422 and json.loads(text)["error"]["fields"][0]["field"] == "seconds"
    assert _request(f"{base_url}/_local/clock")[0] == 200  # the clock survived


def _raw_http(base_url: str, request: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
            if b"\r\n\r\n" in response and b'"}' in response:
                break
        return response


def test_bad_content_length_is_400_not_a_dropped_connection(base_url):
    for length in (b"abc", b"-5"):
        request = b"POST /v1/inquiries HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}"
        assert _raw_http(base_url, request).startswith(b"HTTP/1.1 400")


def test_malformed_chunk_size_is_400(base_url):
    for size in (b"-5", b"zz"):
        request = b"POST /v1/inquiries HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + size
        assert _raw_http(base_url, request + b"\r\nabc\r\n0\r\n\r\n").startswith(b"HTTP/1.1 400")


def test_chunked_request_body_is_read(base_url):
    data = json.dumps(inquiry_body(external_id="e2e-chunked"), ensure_ascii=False).encode()
    headers = signed_headers("POST", "/v1/inquiries", data, secret="e2e-secret")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (data[:10], data[10:]))
    request = (
        b"POST /v1/inquiries HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        + head.encode()
        + b"Connection: close\r\n\r\n"
        + chunks
        + b"0\r\n\r\n"
    )
    response = _raw_http(base_url, request)
    assert response.startswith(b"HTTP/1.1 202"), response[:300]


def test_outbox_html_and_docs(base_url):
    status, headers, text = _request(f"{base_url}/_local/outbox.html")
    assert status == 200 and "text/html" in headers["Content-Type"] and "Outbox" in text
    status, _, text = _request(f"{base_url}/v1/openapi.json")
    assert status == 200 and "/v1/inquiries" in json.loads(text)["paths"]
    status, _, text = _request(f"{base_url}/v1/docs")
    assert status == 200 and "swagger" in text.lower()


def test_cli_request_command_signs_correctly(base_url):
    body = json.dumps(inquiry_body(external_id="cli-1"), ensure_ascii=False)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "omotenashi.cli",
            "request",
            "POST",
            "/v1/inquiries",
            "--url",
            base_url,
            "--store",
            "demo",
            "--secret",
            "e2e-secret",
            "--data",
            body,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)])},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("202")


def test_sla_reminder_via_clock_advance_and_reply_stops_the_rest(base_url):
    status, _, text = _post_inquiry(base_url, inquiry_body(external_id="e2e-sla"))
    assert status == 202
    inquiry_id = json.loads(text)["inquiry_id"]

    def advance(seconds: int) -> None:
        body = json.dumps({"seconds": seconds}).encode()
        assert _request(f"{base_url}/_local/clock/advance", "POST", body)[0] == 200

    def sla_kinds() -> list[str]:
        return [
            m["kind"]
            for m in _outbox(base_url)
            if inquiry_id in m["subject"] and m["kind"].startswith("sla_")
        ]

    advance(20 * 3600 - 120)
    assert sla_kinds() == []
    advance(120)
    assert sla_kinds() == ["sla_reminder"]
    path = f"/v1/inquiries/{inquiry_id}/replies"
    data = json.dumps(
        {"author": "sato@shop.example", "message": "お待たせしました。"}, ensure_ascii=False
    ).encode()
    status, _, text = _request(
        base_url + path, "POST", data, signed_headers("POST", path, data, secret="e2e-secret")
    )
    assert status == 201, text
    advance(10 * 3600)
    assert sla_kinds() == ["sla_reminder"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        m["kind"] == "inquiry_reply" and inquiry_id in m["text"] for m in _outbox(base_url)
    ):
        time.sleep(0.1)
    assert any(m["kind"] == "inquiry_reply" and inquiry_id in m["text"] for m in _outbox(base_url))


def test_cart_and_order_events_flow_through_the_stream_over_http(base_url):
    """Over the moto server, as `make run` serves it: the events table's stream wakes the event
    worker's poller, and the order ends the cart's abandonment."""
    import time

    from tests.e2e.helpers import SECRET, request
    from tests.support import signed_headers

    def send(path: str, body: dict) -> int:
        data = json.dumps(body, ensure_ascii=False).encode()
        return request(f"{base_url}{path}", "POST", data, signed_headers("POST", path, data, secret=SECRET))[
            0
        ]

    def cart_status() -> str | None:
        status, _, text = request(
            f"{base_url}/v1/carts/e2e-cart",
            headers=signed_headers("GET", "/v1/carts/e2e-cart", b"", secret=SECRET),
        )
        return json.loads(text)["status"] if status == 200 else None

    item = {"sku": "TEA-01", "name": "玉露", "quantity": 1, "unit_price": "1620"}
    customer = {"id": "e2e-c", "email": "e2e@example.jp"}
    cart = {
        "cart_id": "e2e-cart",
        "customer": customer,
        "items": [item],
        "currency": "JPY",
        "subtotal": "1620",
    }
    assert send("/v1/events/carts", {**cart, "updated_at": "2026-11-22T01:00:00Z"}) == 202
    order = {"order_id": "e2e-o", "type": "placed", "customer": customer, "cart_id": "e2e-cart"}
    order.update(items=[item], currency="JPY", total="1620", occurred_at="2026-11-22T02:00:00Z")
    assert send("/v1/events/orders", order) == 202
    deadline = time.monotonic() + 10
    while cart_status() != "ordered" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cart_status() == "ordered"


def _signed(base_url: str, method: str, path: str, body: dict | None = None):
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    headers = signed_headers(method, path, data, secret="e2e-secret")
    return _request(base_url + path, method, data or None, headers)


def _advance(base_url: str, seconds: int) -> str:
    status, _, text = _request(
        f"{base_url}/_local/clock/advance", "POST", json.dumps({"seconds": seconds}).encode()
    )
    assert status == 200, text
    return str(json.loads(text)["now"])


def test_review_request_then_review_and_reward_over_http(base_url):
    """The demo store's review defaults over HTTP: a delivered order's request (with a signed review
    link from the demo review form), then a review's reward in the ledger and the outbox."""
    status, _, text = _request(f"{base_url}/_local/clock")
    now = json.loads(text)["now"]
    customer = {"id": "c-e2e-review", "email": "hanako@example.jp", "name": "佐藤花子", "locale": "ja"}
    consent = {
        "email": customer["email"],
        "marketing_email": True,
        "source": "checkout_checkbox",
        "wording": "お知らせを受け取る",
    }
    assert _signed(base_url, "PUT", "/v1/customers/c-e2e-review/consent", consent)[0] == 200
    items = [
        {
            "sku": "TEA-01",
            "name": "玉露 100g",
            "quantity": 1,
            "unit_price": "1620",
            "image_url": "https://shop.example/i/tea.jpg",
        }
    ]
    for kind, extra in (("placed", {"items": items, "currency": "JPY", "total": "1620"}), ("delivered", {})):
        body = {"order_id": "o-e2e-review", "type": kind, "customer": customer, "occurred_at": now, **extra}
        assert _signed(base_url, "POST", "/v1/events/orders", body)[0] == 202
    _advance(base_url, 7 * 86400 + 3600)
    requests = [m for m in _outbox(base_url) if m["kind"] == "review_request"]
    for _ in range(2):  # the stack's time of day fell in quiet hours (at most 11 h): it goes at 08:00
        if not requests:
            _advance(base_url, 6 * 3600)
            requests = [m for m in _outbox(base_url) if m["kind"] == "review_request"]
    decisions = _signed(base_url, "GET", "/v1/customers/c-e2e-review/marketing/decisions")[2]
    assert len(requests) == 1, decisions
    [request] = requests
    assert request["to"] == ["hanako@example.jp"]
    assert "https://shop.demo.example/reviews/new?order=o-e2e-review&amp;sku=TEA-01" in request["html"]
    assert "token=v1." in request["text"]
    assert request["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    review = {
        "review_id": "rv-e2e",
        "order_id": "o-e2e-review",
        "sku": "TEA-01",
        "customer": customer,
        "rating": 1,
        "submitted_at": _advance(base_url, 60),
    }
    status, _, text = _signed(base_url, "POST", "/v1/events/reviews", review)
    assert status == 202 and json.loads(text)["review_id"] == "rv-e2e"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not [m for m in _outbox(base_url) if m["kind"] == "review_reward"]:
        time.sleep(0.1)
    assert [m["to"] for m in _outbox(base_url) if m["kind"] == "review_reward"] == [["hanako@example.jp"]]
    status, _, text = _signed(base_url, "GET", "/v1/orders/o-e2e-review")
    order = json.loads(text)
    assert order["reviews"][0]["incentivized"] is True and order["review_reward"]["outcome"] == "granted"
