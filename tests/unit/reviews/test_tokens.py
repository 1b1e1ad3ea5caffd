"""The review link's `{token}` (logic/reviews/tokens.py): storefronts verify it themselves from the
documented format, so the format is pinned here by recomputing it independently (and by fixed
vectors computed with `openssl dgst -sha256 -hmac`); and `verify` accepts exactly the token made
for these values, unexpired, with one of the store's secrets, and refuses anything else without
raising."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.logic.reviews import tokens

BOUNDED = settings(max_examples=200, deadline=None)
SECRET, NEW_SECRET, OTHER = "demo-secret", "new-secret", "someone-else"
EXPIRES = 1_767_225_600  # 2026-01-01T00:00:00Z
VALUES = {"store_id": "demo", "order_id": "o-1001", "sku": "TEA-01", "customer_id": "c-123"}
NOW = EXPIRES - 86_400


def _token(secret: str = SECRET, expires: int = EXPIRES, **changes: str) -> str:
    return tokens.sign(secret, **{**VALUES, **changes}, expires=expires)


def _verify(token: str, secrets: Any = (SECRET,), now: float = NOW, **changes: str) -> bool:
    return tokens.verify(token, secrets, **{**VALUES, **changes}, now_epoch=now)


def _documented(secret: str, store_id: str, order_id: str, sku: str, customer_id: str, expires: int) -> str:
    """The module docstring's format, written out again."""
    message = f"review\n{store_id}\n{order_id}\n{sku}\n{customer_id}\n{expires}".encode()
    return "v1." + str(expires) + "." + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


# -- the documented format ---------------------------------------------------------------------------


def test_fixed_vectors():
    """Computed outside Python: printf 'review\ndemo\no-1001\nTEA-01\nc-123\n1767225600' |
    openssl dgst -sha256 -hmac demo-secret (and the same with a UTF-8 secret)."""
    assert _token() == "v1.1767225600.aac3907faf04ba9d41e7c86d745423062bb4c71d4fb7e1c0f2c04f01b05ddd24"
    assert (
        _token("ひみつ", customer_id="taro@example.jp")
        == "v1.1767225600.84be9192a27c5f5780097d832514efc2430cd090208333af92c558af62968fbb"
    )


identifiers = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
plain = identifiers
secrets_ = st.text(max_size=40)  # any text: the key is its UTF-8 bytes
expiries = st.integers(1, 10**12 - 1)  # written without leading zeros: 0 is no expiry a link has


@st.composite
def claims(draw: st.DrawFn, ids: st.SearchStrategy[str] = plain) -> dict[str, str]:
    return {name: draw(ids) for name in ("store_id", "order_id", "sku", "customer_id")}


@BOUNDED
@given(st.text(max_size=40), claims(identifiers), expiries)
def test_sign_is_the_documented_format(secret, claim, expires):
    token = tokens.sign(secret, **claim, expires=expires)
    assert token == _documented(secret, expires=expires, **claim)
    assert re.fullmatch(r"v1\.[1-9][0-9]{0,11}\.[0-9a-f]{64}", token)


def test_the_review_prefix_keeps_tokens_apart_from_request_signatures():
    message = b"review\ndemo\no-1001\nTEA-01\nc-123\n1767225600"
    assert _token().endswith(hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest())
    assert not message[:1].isdigit()  # request signatures' messages start with the timestamp


def test_links_work_for_half_a_year():
    assert tokens.VALID_DAYS == 180


# -- verify: what is accepted ------------------------------------------------------------------------


@BOUNDED
@given(secrets_, claims(), expiries, st.integers(0, 10**6))
def test_round_trip(secret, claim, expires, before):
    token = tokens.sign(secret, **claim, expires=expires)
    assert tokens.verify(token, [secret], **claim, now_epoch=expires - before)


def test_valid_up_to_and_including_the_expiry_second():
    token = _token()
    assert _verify(token, now=EXPIRES)
    assert _verify(token, now=EXPIRES - 0.5)
    assert not _verify(token, now=EXPIRES + 0.001)
    assert not _verify(token, now=EXPIRES + 1)


@pytest.mark.parametrize("signed_with", [SECRET, NEW_SECRET])
@pytest.mark.parametrize("held", [(SECRET, NEW_SECRET), (NEW_SECRET, SECRET)])
def test_rotation_either_secret_verifies(signed_with, held):
    token = _token(signed_with)
    assert _verify(token, held)
    assert _verify(token, iter(held))  # any iterable of secrets
    assert _verify(token, (OTHER, *held, OTHER))


def test_a_retired_or_foreign_secret_does_not_verify():
    assert not _verify(_token(SECRET), (NEW_SECRET,))
    assert not _verify(_token(OTHER), (SECRET, NEW_SECRET))
    assert not _verify(_token(SECRET), ())
    assert not _verify(_token(""), (SECRET,))


# -- verify: what is refused -------------------------------------------------------------------------


@BOUNDED
@given(secrets_, claims(), st.sampled_from(sorted(VALUES)), plain, expiries)
def test_any_changed_field_fails(secret, claim, field, other, expires):
    token = tokens.sign(secret, **claim, expires=expires)
    changed = {**claim, field: other}
    assert tokens.verify(token, [secret], **changed, now_epoch=0) == (changed == claim)


@BOUNDED
@given(secrets_, claims(), expiries, expiries)
def test_a_changed_expiry_fails(secret, claim, expires, other):
    digest = tokens.sign(secret, **claim, expires=expires).rsplit(".", 1)[1]
    forged = f"v1.{other}.{digest}"
    assert tokens.verify(forged, [secret], **claim, now_epoch=0) == (other == expires)


@BOUNDED
@given(secrets_, secrets_, claims(), expiries)
def test_another_secret_fails(secret, other, claim, expires):
    token = tokens.sign(secret, **claim, expires=expires)
    assert tokens.verify(token, [other], **claim, now_epoch=0) == (other == secret)


def test_case_matters_in_every_field():
    token = _token()
    for field, value in VALUES.items():
        changed: dict[str, Any] = {field: value.upper() if value != value.upper() else value.lower()}
        assert not _verify(token, **changed)


def _malformed() -> list[str]:
    good = _token()
    _, expires, digest = good.split(".")
    return [
        "",
        "v1",
        "v1.",
        "v1..",
        "v2....",
        f"v2.{expires}.{digest}",
        f"V1.{expires}.{digest}",
        f"v1.{expires}.{digest.upper()}",
        f"v1.{expires}.{digest[:-1]}",
        f"v1.{expires}.{digest}0",
        f"v1.{expires}.{'g' * 64}",
        f"v1.{expires}.{'z' + digest[1:]}",
        f"v1..{digest}",
        f"v1.-{expires}.{digest}",
        f"v1.+{expires}.{digest}",
        f"v1.{expires}.0.{digest}",
        f"v1.{expires}{digest}",
        f"v1.{'9' * 13}.{digest}",
        f"v1.{expires}.{digest}.",
        f" {good}",
        f"{good} ",
        f"v1.{expires}. {digest[1:]}",
        good.replace(".", ":"),
        "v1.１７６７２２５６００." + digest,  # full-width digits
        f"v1.{expires}.{digest[:32]}",
        good[:-2] + "ｆｆ",
        good + "\x00",
    ]


@pytest.mark.parametrize("token", _malformed())
def test_malformed_tokens_fail_without_raising(token):
    assert token != _token()
    assert _verify(token) is False
    assert _verify(token, (SECRET, NEW_SECRET, "")) is False


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=120) | st.from_regex(r"v1\.[0-9]{1,13}\.[0-9a-fA-F]{60,66}", fullmatch=True))
def test_any_text_is_refused_unless_it_is_the_token(text):
    assert _verify(text, (SECRET, NEW_SECRET), now=0) == (text in (_token(), _token(NEW_SECRET)))


# -- found while testing -----------------------------------------------------------------------------


def test_a_trailing_newline_is_not_a_token():
    assert _verify(_token() + "\n") is False


def test_an_expiry_with_leading_zeros_is_not_the_token():
    _, expires, digest = _token().split(".")
    assert not _verify(f"v1.0{expires}.{digest}")
    assert not _verify(f"v1.000{expires}.{digest}")


def test_a_dot_moved_between_fields_is_another_claim():
    token = _token(sku="TEA", customer_id="taro.yamada@example.jp")
    assert _verify(token, sku="TEA", customer_id="taro.yamada@example.jp")
    assert not _verify(token, sku="TEA.taro", customer_id="yamada@example.jp")
