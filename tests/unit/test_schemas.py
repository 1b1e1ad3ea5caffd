from __future__ import annotations

import pytest
from pydantic import ValidationError

from omotenashi.addresses import is_valid_email
from omotenashi.schemas.inquiries import InquiryIn


@pytest.mark.parametrize(
    "address", ["taro@example.jp", "a.b+c@sub.example.co.jp", "x@xn--eckwd4c7c.xn--zckzah"]
)
def test_valid_addresses(address):
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plain",
        "a@b",
        "a@@b.jp",
        "a b@c.jp",
        "a@b.jp\r\nBcc: x@y.jp",
        "<a@b.jp>",
        "a..b@c.jp",
        "a@-b.jp",
        "x" * 65 + "@b.jp",
    ],
)
def test_invalid_addresses(address):
    assert not is_valid_email(address)


def test_extra_fields_are_ignored():
    model = InquiryIn.model_validate(
        {
            "customer": {"email": "a@b.jp"},
            "channel": "chat",
            "subject": "s",
            "message": "m",
            "future_field": 1,
        }
    )
    assert model.channel == "chat"


def test_headers_limited():
    with pytest.raises(ValidationError):
        InquiryIn.model_validate(
            {
                "customer": {"email": "a@b.jp"},
                "channel": "email",
                "subject": "s",
                "message": "m",
                "headers": {f"h{i}": "v" for i in range(101)},
            }
        )
