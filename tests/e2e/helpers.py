"""Shared by the end-to-end tests: plain HTTP against a local stack started as a subprocess."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from omotenashi_local.launcher import StartFailed, start_local_stack
from tests.support import signed_headers

SECRET = "e2e-secret"


def start(
    log_path: Path, extra_env: dict[str, str] | None = None, extra_path: list[Path] | None = None
) -> tuple[subprocess.Popen[str], str]:
    try:
        return start_local_stack(
            log_path, {"OMOTENASHI_DEMO_SECRET": SECRET, **(extra_env or {})}, extra_path=extra_path
        )
    except StartFailed as error:
        pytest.fail(str(error))


def stop(process: subprocess.Popen[str], sig: int = signal.SIGINT, timeout: float = 30) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        pytest.fail(f"local stack did not stop on signal {sig} within {timeout} s")


def request(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def post_inquiry(
    base_url: str, body: dict[str, Any], extra: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = signed_headers("POST", "/v1/inquiries", data, secret=SECRET, extra=extra)
    return request(f"{base_url}/v1/inquiries", "POST", data, headers)


def get_signed(base_url: str, path: str) -> tuple[int, dict[str, str], str]:
    return request(base_url + path, "GET", None, signed_headers("GET", path, b"", secret=SECRET))


def raw_http(base_url: str, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes the connection (or a full JSON answer)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(data)
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
            head, _, body = response.partition(b"\r\n\r\n")
            length = _content_length(head)
            if length is not None and len(body) >= length:
                break
        return response


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None
