"""Deployment settings, read from the environment the SAM template (or the local stack) sets.

Each function declares the variables it needs (FUNCTION_SETTINGS) and checks them at cold start
(`require_settings`), so a deployment that forgot one fails at once, naming it, instead of on the
first request that needs it; tests/infrastructure checks the template gives each function exactly
these. Values are still read lazily, so tests can set the environment first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class SettingsError(RuntimeError):
    pass


# What each function (its folder under functions/) reads from its environment.
FUNCTION_SETTINGS: dict[str, tuple[str, ...]] = {
    "api": (
        "STORES_TABLE",
        "INQUIRIES_TABLE",
        "REPLIES_TABLE",
        "CONSENT_TABLE",
        "INQUIRY_QUEUE_URL",
        "MESSAGE_QUEUE_URL",
        "EVENTS_TABLE",
        "CARTS_TABLE",
        "ORDERS_TABLE",
        "LOYALTY_TABLE",
        "REVIEWS_TABLE",
        "INBOUND_BUCKET",
    ),
    "inquiry_worker": (
        "STORES_TABLE",
        "INQUIRIES_TABLE",
        "RATE_LIMITS_TABLE",
        "DELIVERIES_TABLE",
        "INBOUND_BUCKET",
        "RECEIVING_DOMAIN",
        "REPLIES_TABLE",
    ),
    "message_worker": (
        "STORES_TABLE",
        "INQUIRIES_TABLE",
        "REPLIES_TABLE",
        "DELIVERIES_TABLE",
        "LOYALTY_TABLE",
        "MARKETING_TABLE",
        "REVIEWS_TABLE",
        "INBOUND_BUCKET",
        "RECEIVING_DOMAIN",
    ),
    "sla_sweep": (
        "INQUIRIES_TABLE",
        "MESSAGE_QUEUE_URL",
        "CARTS_TABLE",
        "MARKETING_QUEUE_URL",
        "LOYALTY_TABLE",
        "LOYALTY_QUEUE_URL",
        "REVIEWS_TABLE",
    ),
    "event_worker": (
        "STORES_TABLE",
        "CARTS_TABLE",
        "ORDERS_TABLE",
        "LOYALTY_TABLE",
        "MESSAGE_QUEUE_URL",
        "REVIEWS_TABLE",
        "MARKETING_TABLE",
    ),
    "marketing_worker": (
        "STORES_TABLE",
        "CARTS_TABLE",
        "CONSENT_TABLE",
        "INQUIRIES_TABLE",
        "MARKETING_TABLE",
        "DELIVERIES_TABLE",
        "PUBLIC_API_URL",
        "LOYALTY_TABLE",
        "REVIEWS_TABLE",
        "ORDERS_TABLE",
    ),
    "loyalty_worker": (
        "STORES_TABLE",
        "ORDERS_TABLE",
        "LOYALTY_TABLE",
        "MESSAGE_QUEUE_URL",
        "MARKETING_QUEUE_URL",
    ),
    # SES receiving: raw mail in S3 -> a customer's new inquiry or follow-up, or a staff reply.
    "inbound_mail": (
        "STORES_TABLE",
        "INQUIRIES_TABLE",
        "REPLIES_TABLE",
        "INQUIRY_QUEUE_URL",
        "MESSAGE_QUEUE_URL",
        "INBOUND_BUCKET",
        "RECEIVING_DOMAIN",
    ),
    # SES bounce and complaint notifications (SNS) -> the store's suppression list.
    "ses_notifications": ("MARKETING_TABLE",),
}


def require_settings(function: str) -> None:
    """Cold-start check: every variable the function declares is set (names them if not)."""
    missing = [name for name in FUNCTION_SETTINGS[function] if not os.environ.get(name)]
    if missing:
        raise SettingsError(f"{function}: environment variables not set: {', '.join(missing)}")


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SettingsError(f"environment variable {name} is not set")
    return value


@dataclass(frozen=True)
class Settings:
    templates_dir: Path | None
    store_cache_seconds: float

    @property
    def stores_table(self) -> str:
        return _required("STORES_TABLE")

    @property
    def inquiries_table(self) -> str:
        return _required("INQUIRIES_TABLE")

    @property
    def rate_limits_table(self) -> str:
        return _required("RATE_LIMITS_TABLE")

    @property
    def inquiry_queue_url(self) -> str:
        return _required("INQUIRY_QUEUE_URL")

    @property
    def replies_table(self) -> str:
        return _required("REPLIES_TABLE")

    @property
    def deliveries_table(self) -> str:
        return _required("DELIVERIES_TABLE")

    @property
    def marketing_table(self) -> str:
        return _required("MARKETING_TABLE")

    @property
    def marketing_queue_url(self) -> str:
        return _required("MARKETING_QUEUE_URL")

    @property
    def public_api_url(self) -> str:
        """The API's public base URL (marketing emails link to its /v1/unsubscribe)."""
        return _required("PUBLIC_API_URL").rstrip("/")

    @property
    def events_table(self) -> str:
        return _required("EVENTS_TABLE")

    @property
    def carts_table(self) -> str:
        return _required("CARTS_TABLE")

    @property
    def orders_table(self) -> str:
        return _required("ORDERS_TABLE")

    @property
    def loyalty_table(self) -> str:
        return _required("LOYALTY_TABLE")

    @property
    def loyalty_queue_url(self) -> str:
        return _required("LOYALTY_QUEUE_URL")

    @property
    def reviews_table(self) -> str:
        return _required("REVIEWS_TABLE")

    @property
    def consent_table(self) -> str:
        return _required("CONSENT_TABLE")

    @property
    def message_queue_url(self) -> str:
        return _required("MESSAGE_QUEUE_URL")

    @property
    def inbound_bucket(self) -> str:
        """Raw received mail (inbound/<SES message id>) and its attachments (attachments/...)."""
        return _required("INBOUND_BUCKET")

    @property
    def receiving_domain(self) -> str:
        """The stack's SES receiving domain: a store receives at <store_id>.<this> unless its
        email settings name a domain of its own."""
        return _required("RECEIVING_DOMAIN").strip().lower().rstrip(".")

    @property
    def ses_configuration_set(self) -> str | None:
        """Optional (the template's Globals): the SES configuration set every email is sent
        through, whose event destination publishes bounces and complaints with the message tags."""
        return os.environ.get("SES_CONFIGURATION_SET") or None

    @classmethod
    def from_env(cls) -> Settings:
        templates = os.environ.get("OMOTENASHI_TEMPLATES_DIR")
        return cls(
            templates_dir=Path(templates) if templates else None,
            store_cache_seconds=float(os.environ.get("STORE_CACHE_SECONDS", "60")),
        )


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    global _settings
    _settings = None
