"""The local HTTP front answers JSON to everything, takes bursts of connections, and does not let
a stalled client hold a thread."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.e2e.helpers import SECRET, raw_http, start, stop
from tests.support import inquiry_body, signed_headers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("local-http") / "stdout.log"
    process, url = start(log_path, {"OMOTENASHI_LOCAL_READ_TIMEOUT": "1"})
    yield url
    stop(process)


def _status_and_json(response: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert headers.get("content-type", "").startswith("application/json"), response[:300]
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_a_hundred_simultaneous_connections_are_all_answered_at_once(base_url):
    """With http.server's listen backlog of 5, most of a burst overflowed the accept queue: reset
    connections on some kernels; on others (SYN cookies) dropped handshakes that the client
    retransmits after 1 s, 3 s, 7 s... Every connection must get its answer, none after a
    retransmit."""
    host, port = base_url.removeprefix("http://").split(":")
    count = 100
    barrier = threading.Barrier(count)
    results: list[tuple[object, float]] = [("not run", 0.0)] * count

    def one(i: int) -> None:
        barrier.wait(timeout=10)
        started = time.monotonic()
        try:
            with socket.create_connection((host, int(port)), timeout=30) as connection:
                connection.sendall(b"GET /_local/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                response = b""
                while chunk := connection.recv(65536):
                    response += chunk
            results[i] = (response.split(b"\r\n", 1)[0], time.monotonic() - started)
        except OSError as error:  # ConnectionResetError, or a timeout
            results[i] = (repr(error), time.monotonic() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in results] == [b"HTTP/1.1 200 OK"] * count
    retransmitted = [round(seconds, 2) for _, seconds in results if seconds >= 1.0]
    assert retransmitted == []


@pytest.mark.parametrize("method", ["TRACE", "CONNECT"])
def test_trace_and_connect_are_405_json_with_allow(base_url, method):
    target = "x:443" if method == "CONNECT" else "/v1/inquiries"
    status, headers, body = _status_and_json(
        raw_http(base_url, f"{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    )
    assert status == 405
    assert body["error"]["type"] == "method_not_allowed"
    assert "GET" in headers["allow"] and "POST" in headers["allow"] and "TRACE" not in headers["allow"]


def test_unknown_method_is_501_json(base_url):
    status, _, body = _status_and_json(raw_http(base_url, b"BREW /v1/inquiries HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 501 and body["error"]["type"] == "not_implemented"
    assert "BREW" in body["error"]["message"]


def test_oversize_request_line_is_414_json(base_url):
    request = b"GET /v1/" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, _, body = _status_and_json(raw_http(base_url, request))
    assert status == 414 and body["error"]["type"] == "uri_too_long"


def test_oversize_or_too_many_headers_are_431_json(base_url):
    long_header = b"GET /_local/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    many = (
        b"GET /_local/health HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(120))
        + b"\r\n"
    )
    for request in (long_header, many):
        status, _, body = _status_and_json(raw_http(base_url, request))
        assert status == 431 and body["error"]["type"] == "request_header_fields_too_large"


def test_bad_request_line_is_400_json(base_url):
    status, _, body = _status_and_json(raw_http(base_url, b"GET /x HTTP/9.x\r\n\r\n"))
    assert status == 400 and body["error"]["type"] == "bad_request"


def test_stalled_body_is_408_json_and_frees_the_thread(base_url):
    request = b'POST /v1/inquiries HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a"'
    started = time.monotonic()
    status, _, body = _status_and_json(raw_http(base_url, request, timeout=20))
    assert status == 408 and body["error"]["type"] == "request_timeout"
    assert time.monotonic() - started < 10


def test_trickled_body_is_408_too(base_url):
    """A byte now and then resets a per-read timeout; the whole body has a deadline."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as connection:
        connection.sendall(b"POST /v1/inquiries HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        connection.settimeout(0.5)
        response = b""
        for _ in range(10):
            try:
                connection.sendall(b" ")
            except OSError:
                break
            try:
                response += connection.recv(65536)
                break
            except TimeoutError:
                continue
        connection.settimeout(10)
        while b"}" not in response and (chunk := connection.recv(65536)):
            response += chunk
    status, _, body = _status_and_json(response)
    assert status == 408 and body["error"]["type"] == "request_timeout"


@pytest.mark.parametrize("name", ["X-Omotenashi-Store", "X-Omotenashi-Signature", "Idempotency-Key"])
def test_duplicate_guard_headers_are_400_naming_the_header(base_url, name):
    data = json.dumps(inquiry_body(), ensure_ascii=False).encode()
    headers = signed_headers("POST", "/v1/inquiries", data, secret=SECRET, extra={"Idempotency-Key": "k-1"})
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + f"{name}: {headers[name]}-second\r\n"
    request = (
        b"POST /v1/inquiries HTTP/1.1\r\nHost: x\r\n"
        + head.encode()
        + b"Content-Length: %d\r\n\r\n" % len(data)
        + data
    )
    status, _, body = _status_and_json(raw_http(base_url, request))
    assert status == 400
    assert body["error"]["type"] == "invalid_header" and name in body["error"]["message"]
