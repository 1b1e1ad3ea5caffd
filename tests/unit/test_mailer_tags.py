"""dal.mailer.send tags every email with its store (and names the configuration set when one is
configured), so SES's bounce and complaint notifications say which store's list they belong to."""

from __future__ import annotations

from typing import Any

import pytest

from omotenashi.dal import mailer
from omotenashi.domain import OutboundEmail


class FakeSes:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send_raw_email(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        return {"MessageId": "0106-ses-id"}


@pytest.fixture
def ses(monkeypatch) -> FakeSes:
    fake = FakeSes()
    monkeypatch.setattr(mailer, "client", lambda name: fake)
    return fake


def email(store_id: str | None) -> OutboundEmail:
    return OutboundEmail(
        kind="cart_reminder",
        sender="shop@demo.example",
        recipients=("taro@example.jp",),
        subject="件名",
        raw_mime=b"Subject: x\r\n\r\nbody",
        message_id="<cart_reminder.c-1@demo.example>",
        store_id=store_id,
    )


def test_the_store_tag_and_the_configuration_set(ses, monkeypatch):
    monkeypatch.setenv("SES_CONFIGURATION_SET", "omotenashi-email")
    assert mailer.send(email("demo-shop_2")) == "0106-ses-id"
    [params] = ses.calls
    assert params["Tags"] == [{"Name": "omotenashi-store", "Value": "demo-shop_2"}]
    assert params["ConfigurationSetName"] == "omotenashi-email"
    assert params["Destinations"] == ["taro@example.jp"] and params["Source"] == "shop@demo.example"


def test_no_configuration_set_unless_configured_and_no_tag_without_a_store(ses, monkeypatch):
    monkeypatch.delenv("SES_CONFIGURATION_SET", raising=False)
    mailer.send(email(None))
    [params] = ses.calls
    assert "ConfigurationSetName" not in params and "Tags" not in params
