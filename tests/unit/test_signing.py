from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omotenashi.logic.core import signing
from omotenashi.logic.core.errors import AuthenticationFailed


def test_digest_matches_contract_formula():
    body = '{"a":"あ"}'.encode()
    expected = hmac.new(b"s3cret", b"1700000000.POST./v1/inquiries." + body, hashlib.sha256).hexdigest()
    assert signing.compute("s3cret", 1700000000, "post", "/v1/inquiries", body) == expected


def test_parse_several_digests_and_ignores_unknown_schemes():
    parsed = signing.parse_header(f"t=12, v1={'a' * 64},v0=whatever,v1={'B' * 64}")
    assert parsed.timestamp == 12
    assert parsed.digests == ("a" * 64, "b" * 64)


@pytest.mark.parametrize(
    "header",
    ["", "t=1", "v1=" + "a" * 64, "t=x,v1=" + "a" * 64, "t=1,t=2,v1=" + "a" * 64, "t=1,v1=abc", "junk"],
)
def test_malformed_headers_refused(header):
    with pytest.raises(AuthenticationFailed):
        signing.parse_header(header)


def test_freshness_window_is_300_seconds_either_way():
    parsed = signing.parse_header(f"t=1000,v1={'a' * 64}")
    signing.check_fresh(parsed, 1300)
    signing.check_fresh(parsed, 700)
    with pytest.raises(AuthenticationFailed):
        signing.check_fresh(parsed, 1301)
    with pytest.raises(AuthenticationFailed):
        signing.check_fresh(parsed, 699)


def test_rotation_any_secret_any_digest():
    body = b"{}"
    old = signing.compute("old", 5, "POST", "/v1/x", body)
    parsed = signing.parse_header(f"t=5,v1={'0' * 64},v1={old}")
    assert signing.matches(parsed, ["new", "old"], "POST", ["/v1/x"], body)
    assert not signing.matches(parsed, ["new"], "POST", ["/v1/x"], body)


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=200), t=st.integers(0, 10**11))
def test_sign_then_verify_roundtrip(secret, body, t):
    parsed = signing.parse_header(signing.sign_header(secret, t, "POST", "/v1/inquiries", body))
    assert signing.matches(parsed, [secret], "POST", ["/v1/inquiries"], body)
    assert not signing.matches(parsed, [secret + "x"], "POST", ["/v1/inquiries"], body)
    assert not signing.matches(parsed, [secret], "POST", ["/v1/inquiries"], body + b" ")
