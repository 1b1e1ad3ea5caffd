"""Deployment settings, read from the environment the SAM template (or the local stack) sets.

Read lazily so that importing a handler costs nothing and tests can set the environment first. A
missing variable is reported when it is first needed, naming the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class SettingsError(RuntimeError):
    pass


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
    def message_queue_url(self) -> str:
        return _required("MESSAGE_QUEUE_URL")

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
