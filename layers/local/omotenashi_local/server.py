"""HTTP front of the local stack: /v1/* goes to the API function as API Gateway events; /_local/*
are the contract's local-only endpoints (health, outbox, clock)."""

from __future__ import annotations

import json
import math
import os
import re
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from omotenashi import clock
from omotenashi.observability import logger
from omotenashi_local.outbox import render_html
from omotenashi_local.runtime import api_response_bytes, dumps
from omotenashi_local.stack import LocalStack

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's own limit
MAX_INBOUND_BYTES = 40 * 1024 * 1024  # SES receiving's limit (/_local/inbound)
# An envelope recipient as SMTP carries it: a bare addr-spec, no display name, no spaces.
ENVELOPE_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"@]+@[^\s<>()\[\],;:\"@]+")
MAX_ADVANCE_SECONDS = 5 * 366 * 24 * 3600  # per call; far beyond any SLA, far below datetime's range
# A client gets this long to send its request body (and each read of an idle connection waits this
# long): a stalled client must not hold a server thread forever.
READ_TIMEOUT_SECONDS = float(os.environ.get("OMOTENASHI_LOCAL_READ_TIMEOUT", "30"))
# The kernel's accept queue: the default (5) reset most of 50 simultaneous connections. The kernel
# caps it at net.core.somaxconn.
LISTEN_BACKLOG = 1024
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
# Headers the request guard reads one value of: a second copy is refused rather than silently
# winning (which copy API Gateway's `headers` keeps is not something to rely on).
SINGLE_VALUE_HEADERS = ("X-Omotenashi-Store", "X-Omotenashi-Signature", "Idempotency-Key")
JSON_TYPE = "application/json; charset=utf-8"
_ERROR_TYPES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    414: "uri_too_long",
    431: "request_header_fields_too_large",
    501: "not_implemented",
    505: "http_version_not_supported",
}


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG
    stack: LocalStack  # set before serve_forever (binding first lets a busy port fail fast)


def make_server(stack: LocalStack | None, host: str, port: int) -> LocalHTTPServer:
    """Bind host:port (OSError if it is taken). With stack None, set `server.stack` before
    serving."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "omotenashi-local"
        protocol_version = "HTTP/1.1"
        timeout = READ_TIMEOUT_SECONDS  # socket timeout: every read and write

        def log_message(self, format: str, *args: Any) -> None:
            return  # the API function logs; access logs would drown the banner

        @property
        def _stack(self) -> LocalStack:
            server: LocalHTTPServer = self.server  # type: ignore[assignment]
            return server.stack

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own errors (unknown method, request line or headers too long, bad
            request line) answer JSON like everything else, not its HTML page; then hang up."""
            try:
                phrase = HTTPStatus(code).phrase
            except ValueError:
                phrase = "Error"
            body = dumps(
                {"error": {"type": _ERROR_TYPES.get(code, "http_error"), "message": message or phrase}}
            )
            if self.request_version == "HTTP/0.9":  # an unparsable request line: answer HTTP/1.x anyway
                self.request_version = "HTTP/1.0"
            self.send_response(code, phrase)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.close_connection = True

        def _not_allowed(self) -> None:
            body = dumps(
                {"error": {"type": "method_not_allowed", "message": f"{self.command} is not allowed"}}
            )
            self.close_connection = True  # the request may carry a body we do not read
            self._send(405, {"Content-Type": JSON_TYPE, "Allow": ALLOWED_METHODS}, body)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, value: Any) -> None:
            self._send(status, {"Content-Type": JSON_TYPE}, dumps(value))

        def _error(self, status: int, error_type: str, message: str) -> None:
            self._json(status, {"error": {"type": error_type, "message": message}})

        def _body(self) -> bytes | None:
            """The request body (Content-Length or chunked), or None after answering an error. The
            whole body must arrive within READ_TIMEOUT_SECONDS, however slowly it trickles."""
            self._deadline = time.monotonic() + READ_TIMEOUT_SECONDS
            try:
                return self._read_body()
            except TimeoutError:
                return self._refuse(408, "request_timeout", "the request body did not arrive in time")

        def _read(self, size: int) -> bytes:
            data = bytearray()
            while len(data) < size:
                left = self._deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                self.connection.settimeout(left)
                chunk = self.rfile.read1(min(size - len(data), 65536))
                if not chunk:
                    break  # the client hung up; the handler sees a short body
                data += chunk
            self.connection.settimeout(READ_TIMEOUT_SECONDS)
            return bytes(data)

        def _readline(self, limit: int) -> bytes:
            self.connection.settimeout(max(0.001, self._deadline - time.monotonic()))
            line = self.rfile.readline(limit)
            self.connection.settimeout(READ_TIMEOUT_SECONDS)
            return line

        def _read_body(self) -> bytes | None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._chunked_body()
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0:
                    raise ValueError(length)
            except ValueError:
                return self._refuse(400, "invalid_header", "Content-Length must be a whole number >= 0")
            if length > self._max_body():
                return self._refuse(413, "payload_too_large", "request body too large")
            return self._read(length) if length else b""

        def _max_body(self) -> int:
            return MAX_INBOUND_BYTES if self.path.startswith("/_local/inbound") else MAX_REQUEST_BYTES

        def _chunked_body(self) -> bytes | None:
            body = bytearray()
            while True:
                size_line = self._readline(1024).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                    if size < 0:
                        raise ValueError(size)
                except ValueError:
                    return self._refuse(400, "invalid_body", "malformed chunked body")
                if size == 0:
                    while self._readline(1024).strip():  # trailers
                        pass
                    return bytes(body)
                if len(body) + size > self._max_body():
                    return self._refuse(413, "payload_too_large", "request body too large")
                body += self._read(size)
                self._readline(8)  # the CRLF after each chunk

        def _refuse(self, status: int, error_type: str, message: str) -> bytes | None:
            """Answer and hang up: the rest of the request cannot be read reliably."""
            self.close_connection = True
            self._error(status, error_type, message)
            return None

        def _handle(self) -> None:
            for name in SINGLE_VALUE_HEADERS:
                if len(self.headers.get_all(name) or []) > 1:
                    self._refuse(400, "invalid_header", f"{name} must be sent once, not repeated")
                    return
            body = self._body()
            if body is None:
                return
            path = self.path.partition("?")[0]
            if path.startswith("/_local/"):
                self._local(path, body)
                return
            headers = {name: value for name, value in self.headers.items()}
            result = self._stack.api(self.command, self.path, headers, body)
            self._send(*api_response_bytes(result))

        def _local(self, path: str, body: bytes) -> None:
            method = self.command
            if path == "/_local/health" and method == "GET":
                self._json(200, {"ok": True})
            elif path == "/_local/outbox" and method == "GET":
                # ?offset=N skips the first N messages (cheap polling for tools and benchmarks).
                query = parse_qs(self.path.partition("?")[2])
                try:
                    offset = max(0, int(query.get("offset", ["0"])[0]))
                except ValueError:
                    self._error(422, "validation_error", "offset must be an integer")
                    return
                self._json(200, {"messages": self._stack.outbox(offset)})
            elif path == "/_local/outbox.html" and method == "GET":
                self._send(
                    200,
                    {"Content-Type": "text/html; charset=utf-8"},
                    render_html(self._stack.outbox()).encode("utf-8"),
                )
            elif path == "/_local/clock" and method == "GET":
                self._json(200, {"now": clock.isoformat(clock.now())})
            elif path == "/_local/clock/advance" and method == "POST":
                self._advance(body)
            elif path == "/_local/inbound" and method == "POST":
                self._inbound(body)
            elif path == "/_local/ses/notifications" and method == "POST":
                self._ses_notification(body)
            else:
                self._error(404, "not_found", "no such local endpoint")

        def _inbound(self, body: bytes) -> None:
            """A raw RFC 5322 email, as SES receiving would get it; ?to=a,b is the envelope."""
            if not body.strip():
                self._error(400, "invalid_body", "the body must be a raw RFC 5322 email")
                return
            query = parse_qs(self.path.partition("?")[2])
            recipients = [a.strip() for value in query.get("to", []) for a in value.split(",") if a.strip()]
            bad = [a for a in recipients if len(a) > 254 or not ENVELOPE_ADDRESS.fullmatch(a)]
            if bad or len(recipients) > 50:
                self._json(
                    422,
                    {
                        "error": {
                            "type": "validation_error",
                            "message": "invalid fields: to",
                            "fields": [
                                {"field": "to", "message": "must be 1-50 email addresses, comma-separated"}
                            ],
                        }
                    },
                )
                return
            try:
                result = self._stack.inbound(body, recipients or None)
            except Exception:  # an AWS call failed: SES would retry the invocation; so can the caller
                logger.exception("local inbound email failed")
                self._error(503, "service_unavailable", "the email was not taken in: send it again")
                return
            self._json(202, result)

        def _advance(self, body: bytes) -> None:
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                self._error(400, "invalid_json", "request body is not valid JSON")
                return
            seconds = payload.get("seconds") if isinstance(payload, dict) else None
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not math.isfinite(seconds)
                or not 0 <= seconds <= MAX_ADVANCE_SECONDS
            ):
                self._json(
                    422,
                    {
                        "error": {
                            "type": "validation_error",
                            "message": "invalid fields: seconds",
                            "fields": [
                                {
                                    "field": "seconds",
                                    "message": f"must be a number from 0 to {MAX_ADVANCE_SECONDS}",
                                }
                            ],
                        }
                    },
                )
                return
            self._json(200, {"now": self._stack.advance(float(seconds))})

        def _ses_notification(self, body: bytes) -> None:
            """An SES notification, to the function a deployed stack subscribes to SES's topic: 200
            with what it came to (the suppressed addresses), 422 naming the field it lacks."""
            try:
                payload = json.loads(body)
            except ValueError:
                self._error(400, "invalid_json", "request body is not valid JSON")
                return
            try:
                [result] = self._stack.ses_notification(payload)["notifications"]
            except LookupError as error:  # a template without the function
                self._error(501, "not_implemented", str(error))
                return
            except Exception:  # a storage failure: SNS would retry; the function logged it
                self._error(503, "service_unavailable", "the notification was not recorded: send it again")
                return
            if result["outcome"] == "invalid":
                field, problem = result["field"], result["message"]
                self._json(
                    422,
                    {
                        "error": {
                            "type": "validation_error",
                            "message": f"not an SES notification: {field} {problem}",
                            "fields": [{"field": field, "message": problem}],
                        }
                    },
                )
                return
            self._json(200, result)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle
        do_TRACE = do_CONNECT = _not_allowed  # any other method: 501 (send_error above)

    server = LocalHTTPServer((host, port), Handler)
    if stack is not None:
        server.stack = stack
    return server
