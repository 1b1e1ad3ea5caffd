"""HTTP front of the local stack: /v1/* goes to the API function as API Gateway events; /_local/*
are the contract's local-only endpoints (health, outbox, clock)."""

from __future__ import annotations

import json
import math
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from omotenashi import clock
from omotenashi_local.outbox import render_html
from omotenashi_local.runtime import api_response_bytes, dumps
from omotenashi_local.stack import LocalStack

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's own limit
MAX_ADVANCE_SECONDS = 5 * 366 * 24 * 3600  # per call; far beyond any SLA, far below datetime's range


def make_server(stack: LocalStack, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "omotenashi-local"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # the API function logs; access logs would drown the banner

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, value: Any) -> None:
            self._send(status, {"Content-Type": "application/json; charset=utf-8"}, dumps(value))

        def _error(self, status: int, error_type: str, message: str) -> None:
            self._json(status, {"error": {"type": error_type, "message": message}})

        def _body(self) -> bytes | None:
            """The request body (Content-Length or chunked), or None after answering an error."""
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._chunked_body()
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0:
                    raise ValueError(length)
            except ValueError:
                return self._refuse(400, "invalid_header", "Content-Length must be a whole number >= 0")
            if length > MAX_REQUEST_BYTES:
                return self._refuse(413, "payload_too_large", "request body too large")
            return self.rfile.read(length) if length else b""

        def _chunked_body(self) -> bytes | None:
            body = bytearray()
            while True:
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                    if size < 0:
                        raise ValueError(size)
                except ValueError:
                    return self._refuse(400, "invalid_body", "malformed chunked body")
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return bytes(body)
                if len(body) + size > MAX_REQUEST_BYTES:
                    return self._refuse(413, "payload_too_large", "request body too large")
                body += self.rfile.read(size)
                self.rfile.readline(8)  # the CRLF after each chunk

        def _refuse(self, status: int, error_type: str, message: str) -> bytes | None:
            """Answer and hang up: the rest of the request cannot be read reliably."""
            self._error(status, error_type, message)
            self.close_connection = True
            return None

        def _handle(self) -> None:
            body = self._body()
            if body is None:
                return
            path = self.path.partition("?")[0]
            if path.startswith("/_local/"):
                self._local(path, body)
                return
            headers = {name: value for name, value in self.headers.items()}
            result = stack.api(self.command, self.path, headers, body)
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
                self._json(200, {"messages": stack.outbox(offset)})
            elif path == "/_local/outbox.html" and method == "GET":
                self._send(
                    200,
                    {"Content-Type": "text/html; charset=utf-8"},
                    render_html(stack.outbox()).encode("utf-8"),
                )
            elif path == "/_local/clock" and method == "GET":
                self._json(200, {"now": clock.isoformat(clock.now())})
            elif path == "/_local/clock/advance" and method == "POST":
                self._advance(body)
            else:
                self._error(404, "not_found", "no such local endpoint")

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
            self._json(200, {"now": stack.advance(float(seconds))})

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
