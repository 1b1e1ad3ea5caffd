from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omotenashi.logic.core import unsubscribe_tokens as tokens
from omotenashi.logic.core.unsubscribe_tokens import InvalidToken, UnsubscribeClaim

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
AT = datetime(2025, 3, 4, 1, 2, 3, tzinfo=UTC)
TOKEN = tokens.issue(KEY, "demo", "taro.yamada@example.co.jp", AT)
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second datetime holds
BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What customer ids may be: any printable text (an email for guests, non-ASCII, '@').
customer_ids = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")),
    min_size=1,
    max_size=tokens.MAX_CUSTOMER_ID_CHARS,
).filter(str.isprintable)


def _decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signed(payload: bytes) -> str:
    """A token of any payload, signed exactly as the module signs (to reach the checks behind it)."""
    return _encode(payload + hmac.new(KEY, b"omotenashi-unsubscribe\x00" + payload, hashlib.sha256).digest())


def test_round_trip():
    claim = tokens.verify([KEY], TOKEN, "demo")
    assert claim == UnsubscribeClaim(store_id="demo", customer_id="taro.yamada@example.co.jp", issued_at=AT)
    assert tokens.peek_store_id(TOKEN) == "demo"


def test_url_safe_unpadded_and_versioned():
    assert set(TOKEN) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert _decode(TOKEN)[0] == tokens.VERSION == 1


def test_signature_is_hmac_sha256_over_the_exact_payload():
    raw = _decode(TOKEN)
    payload, tag = raw[:-32], raw[-32:]
    assert tag == hmac.new(KEY, b"omotenashi-unsubscribe\x00" + payload, hashlib.sha256).digest()


def test_issued_at_is_whole_seconds_utc_from_any_offset():
    jst = timezone(timedelta(hours=9))
    moment = datetime(2025, 3, 4, 10, 2, 3, 987654, tzinfo=jst)
    claim = tokens.verify([KEY], tokens.issue(KEY, "demo", "c1", moment), "demo")
    assert claim.issued_at == AT and claim.issued_at.tzinfo is UTC


@pytest.mark.parametrize(
    "customer_id",
    ["guest@example.com", "山田太郎@例え.jp", "cust_123", "a b@c", "😀" * 255, "x" * 255, "@", "a=b&c?d/e+f"],
)
def test_customer_ids_with_at_non_ascii_and_url_characters(customer_id):
    token = tokens.issue(KEY, "demo", customer_id, AT)
    assert tokens.verify([KEY], token, "demo").customer_id == customer_id
    assert len(token) <= tokens.MAX_TOKEN_CHARS


def test_typical_tokens_are_compact():
    assert len(TOKEN) < 120
    long_store = "s" * 63  # the longest store id the directory allows
    assert len(tokens.issue(KEY, long_store, "customer.name+tag@subdomain.example.co.jp", AT)) < 200
    assert len(tokens.issue(KEY, long_store, "x" * 255, AT)) < 500


@pytest.mark.parametrize(
    ("store_id", "customer_id", "issued_at"),
    [
        ("demo", "", AT),
        ("", "c", AT),
        ("demo", "x" * 256, AT),
        ("demo", "a\nb", AT),
        ("demo", "a\x00b", AT),
        ("demo", "\ud800", AT),
        ("de\tmo", "c", AT),
        ("demo", "c", datetime(2025, 1, 1)),  # naive
        ("demo", "c", datetime(1969, 12, 31, tzinfo=UTC)),
    ],
)
def test_issue_refuses_what_the_format_cannot_carry(store_id, customer_id, issued_at):
    with pytest.raises(ValueError):
        tokens.issue(KEY, store_id, customer_id, issued_at)


def test_new_keys_are_32_random_bytes():
    first, second = tokens.new_key(), tokens.new_key()
    assert len(first) == len(second) == 32 and first != second


def test_rotated_keys_are_accepted_in_any_order():
    new = tokens.new_key()
    assert tokens.verify([new, KEY], TOKEN, "demo").customer_id == "taro.yamada@example.co.jp"
    assert tokens.verify([KEY, new], TOKEN, "demo").customer_id == "taro.yamada@example.co.jp"
    fresh = tokens.issue(new, "demo", "c", AT)
    assert tokens.verify([KEY, new], fresh, "demo").customer_id == "c"
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], fresh, "demo")  # the new key is not held yet: refused


def test_tokens_do_not_expire():
    old = tokens.issue(KEY, "demo", "c", datetime(1970, 1, 1, tzinfo=UTC))
    assert tokens.verify([KEY], old, "demo").issued_at == datetime(1970, 1, 1, tzinfo=UTC)


def test_other_stores_key_is_refused():
    with pytest.raises(InvalidToken):
        tokens.verify([OTHER_KEY], TOKEN, "demo")
    with pytest.raises(InvalidToken):
        tokens.verify([], TOKEN, "demo")


def test_a_token_of_store_a_never_unsubscribes_at_store_b_even_under_a_shared_key():
    token_a = tokens.issue(KEY, "store-a", "c", AT)
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], token_a, "store-b")  # B's keys happen to include A's: still refused
    assert tokens.verify([KEY], token_a, "store-a").store_id == "store-a"


def test_store_id_is_authenticated():
    """Rewriting the store id inside the token (same length, then shorter) breaks the signature."""
    raw = bytearray(_decode(tokens.issue(KEY, "store-a", "c", AT)))
    start = raw.index(b"store-a")
    raw[start : start + 7] = b"store-b"
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], _encode(bytes(raw)), "store-b")
    assert tokens.peek_store_id(_encode(bytes(raw))) == "store-b"  # peeking does not authenticate


def test_a_token_signed_for_another_purpose_is_refused():
    """The key signs unsubscribe tokens only: a MAC over the bare payload does not verify."""
    raw = _decode(TOKEN)
    payload = raw[:-32]
    bare = _encode(payload + hmac.new(KEY, payload, hashlib.sha256).digest())
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], bare, "demo")


def test_a_new_version_byte_is_refused_even_when_signed():
    raw = bytearray(_decode(TOKEN)[:-32])
    raw[0] = 2
    payload = bytes(raw)
    forged = _signed(payload)
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], forged, "demo")


@pytest.mark.parametrize("customer_id", ["c", "cc", "ccc"])  # every length of base64's last group
def test_one_token_one_spelling(customer_id):
    """The unused low bits of the last character are not free: no other last character passes."""
    token = tokens.issue(KEY, "demo", customer_id, AT)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for other in alphabet.replace(token[-1], ""):
        with pytest.raises(InvalidToken):
            tokens.verify([KEY], token[:-1] + other, "demo")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "A",
        "AQ",
        TOKEN + "=",
        TOKEN + "==",
        TOKEN.replace("-", "+").replace("_", "/") if ("-" in TOKEN or "_" in TOKEN) else TOKEN + "+",
        " " + TOKEN,
        TOKEN + "\n",
        TOKEN[:50] + "." + TOKEN[50:],
        "あ" * 10,
        "A" * (tokens.MAX_TOKEN_CHARS + 1),
        _encode(b"\x01" + b"\x00" * 200),
    ],
)
def test_malformed_tokens_are_refused(token):
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], token, "demo")
    with pytest.raises(InvalidToken):
        tokens.peek_store_id(token)


def test_a_signed_but_inconsistent_payload_is_still_refused():
    """Lengths that disagree with the bytes are refused even under a valid signature."""
    payload = b"\x01" + (0).to_bytes(8, "big") + b"\x10demo" + b"\x00\x01c"
    signed = _signed(payload)
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], signed, "demo")


def test_invalid_token_is_a_value_error_without_the_token_in_its_message():
    with pytest.raises(ValueError) as caught:
        tokens.verify([OTHER_KEY], TOKEN, "demo")
    assert isinstance(caught.value, InvalidToken)
    assert TOKEN not in str(caught.value) and "taro" not in str(caught.value)


def test_a_bad_key_is_a_configuration_error_not_an_invalid_token():
    with pytest.raises(ValueError) as caught:
        tokens.verify([b"short"], TOKEN, "demo")
    assert not isinstance(caught.value, InvalidToken)
    with pytest.raises(TypeError):
        tokens.issue("text key" * 4, "demo", "c", AT)  # type: ignore[arg-type]


@BOUNDED
@given(customer_id=customer_ids, seconds=st.integers(min_value=0, max_value=LAST_SECOND))
def test_round_trip_any_printable_customer_id(customer_id, seconds):
    issued_at = datetime.fromtimestamp(seconds, UTC)
    token = tokens.issue(KEY, "demo", customer_id, issued_at)
    assert tokens.verify([OTHER_KEY, KEY], token, "demo") == UnsubscribeClaim("demo", customer_id, issued_at)
    assert len(token) <= tokens.MAX_TOKEN_CHARS


@BOUNDED
@given(data=st.data(), customer_id=customer_ids)
def test_any_single_character_change_is_refused(data, customer_id):
    token = tokens.issue(KEY, "demo", customer_id, AT)
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != token[index]))
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], token[:index] + replacement + token[index + 1 :], "demo")


@BOUNDED
@given(data=st.data(), customer_id=customer_ids)
def test_any_single_byte_change_is_refused(data, customer_id):
    raw = bytearray(_decode(tokens.issue(KEY, "demo", customer_id, AT)))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    raw[index] ^= flip
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], _encode(bytes(raw)), "demo")


@BOUNDED
@given(data=st.data(), customer_id=customer_ids)
def test_any_truncation_is_refused(data, customer_id):
    token = tokens.issue(KEY, "demo", customer_id, AT)
    cut = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], token[:cut], "demo")


@BOUNDED
@given(customer_id=customer_ids, suffix=st.text(min_size=1, max_size=40))
def test_any_extension_is_refused(customer_id, suffix):
    token = tokens.issue(KEY, "demo", customer_id, AT)
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], token + suffix, "demo")


@BOUNDED
@given(token=st.text(max_size=300))
def test_random_text_is_refused_never_crashes(token):
    with pytest.raises(InvalidToken):
        tokens.verify([KEY], token, "demo")
