"""SES notification function: bounces and complaints (SES configuration set -> SNS) suppress the
address for marketing.

Placeholder so the template, the local stack and the architecture tests have the function's
folder; the real handler replaces it."""

from __future__ import annotations

from typing import Any

from omotenashi.settings import require_settings

require_settings("ses_notifications")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise NotImplementedError("ses_notifications: placeholder, the handler is not written yet")
