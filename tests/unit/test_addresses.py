"""Email address syntax: dot-atom local parts, ASCII (punycode) domains."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omotenashi.addresses import is_valid_email
from omotenashi.schemas.inquiries import InquiryIn, ReplyIn


@pytest.mark.parametrize(
    "address",
    [
        "taro@example.jp",
        "taro.yamada@example.jp",
        "taro+shop@example.jp",  # plus addressing
        "a.b.c+tag-1@mail.sub.example.co.jp",  # subdomains
        "x@xn--eckwd4c7c.xn--zckzah",  # IDN domain in punycode
        "TARO@EXAMPLE.JP",
        "o'brien@example.ie",
        "a_b-c!#$%&'*+/=?^`{|}~@example.com",  # every atext character
        "1@2.example",
        "a" * 64 + "@example.jp",
    ],
)
def test_accepted(address):
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        ".a@x.jp",  # leading dot
        "a.@x.jp",  # trailing dot
        "a.b.@x.jp",
        "a..b@x.jp",  # consecutive dots
        ".@x.jp",
        "@x.jp",
        "a@.x.jp",
        "a@x..jp",
        "a@x.jp.",
        "a@x.-jp",
        "a@x.jp-",
        "a@x.j",
        "a" * 65 + "@example.jp",
        '"a b"@x.jp',  # quoted local parts: valid RFC 5322, refused here (see the module docstring)
        "山田@example.jp",  # SMTPUTF8 local part
        "taro@例え.jp",  # IDN domain not in punycode
        "a@x.jp\n",
    ],
)
def test_refused(address):
    assert not is_valid_email(address)


@pytest.mark.parametrize("address", [".a@x.jp", "a.@x.jp", "a.b.@x.jp"])
def test_api_names_the_field(address):
    with pytest.raises(ValidationError) as error:
        InquiryIn.model_validate(
            {"customer": {"email": address}, "channel": "chat", "subject": "s", "message": "m"}
        )
    assert [e["loc"] for e in error.value.errors()] == [("customer", "email")]
    with pytest.raises(ValidationError) as reply_error:
        ReplyIn.model_validate({"author": address, "message": "m"})
    assert [e["loc"] for e in reply_error.value.errors()] == [("author",)]
