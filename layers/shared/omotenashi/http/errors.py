"""Error bodies: {"error": {"type", "message", "fields": [{"field", "message"}]}}. Never echo secrets."""

from __future__ import annotations

import json
from typing import Any

JSON = "application/json"


def error_body(error_type: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"type": error_type, "message": message}
    if fields:
        detail["fields"] = fields
    return {"error": detail}


def proxy_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy response, for answers given before the resolver runs."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON, **(headers or {})},
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
    }


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """("body", "customer", "email") -> "customer.email"; list indexes as [0]."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "header", "path"):
        source = parts.pop(0)
        if not parts:
            return str(source)
        if source != "body":
            parts.insert(0, source)
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def validation_fields(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        path = field_path(error.get("loc", ()))
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "missing":
            message = "is required"
        if (path, message) not in seen:
            seen.add((path, message))
            fields.append({"field": path, "message": message})
    return fields
