"""Reply-by-email addresses (logic/inquiries/reply_addresses.py): an answer reaches its inquiry
only through an address Omotenashi made for it, and a staff address only from that staff member."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.logic.core.idempotency import entry_id
from omotenashi.logic.inquiries import reply_addresses as addresses
from omotenashi.logic.inquiries.reply_addresses import ReplyTarget

KEY, NEW_KEY, OTHER_KEY = b"k" * 32, b"n" * 32, b"o" * 32
STORE, DOMAIN = "demo", "demo.mail.example"
INQUIRY = entry_id("inq", "demo", "form-1")
STAFF = "sato@demo.example"
BOUNDED = settings(max_examples=100, deadline=None)


def _local(address: str) -> str:
    return address.split("@", 1)[0]


def test_a_customer_address_reads_back_whoever_sends_from_it():
    address = addresses.customer_address([KEY], store_id=STORE, inquiry_id=INQUIRY, domain=DOMAIN)
    assert address.endswith("@" + DOMAIN) and address.startswith("reply+c")
    for sender in ("taro@example.jp", "another@example.jp"):  # customers reply from other addresses
        assert addresses.read(_local(address), [KEY], store_id=STORE, sender=sender) == ReplyTarget(
            "customer", INQUIRY
        )


def test_a_staff_address_works_only_from_that_staff_member():
    address = addresses.staff_address(
        [KEY], store_id=STORE, inquiry_id=INQUIRY, staff="Sato@Demo.Example", domain=DOMAIN
    )
    assert addresses.read(_local(address), [KEY], store_id=STORE, sender=STAFF) == ReplyTarget(
        "staff", INQUIRY
    )
    assert addresses.read(_local(address), [KEY], store_id=STORE, sender="SATO@demo.example ") is not None
    assert addresses.read(_local(address), [KEY], store_id=STORE, sender="taro@example.jp") is None
    assert addresses.read(_local(address), [KEY], store_id=STORE, sender="suzuki@demo.example") is None


def test_another_store_another_inquiry_or_another_kind_is_refused():
    address = _local(addresses.customer_address([KEY], store_id=STORE, inquiry_id=INQUIRY, domain=DOMAIN))
    assert addresses.read(address, [KEY], store_id="other", sender=STAFF) is None
    other_inquiry = entry_id("inq", "demo", "form-2")
    swapped = address[:7] + other_inquiry[4:] + address[7 + 26 :]
    assert addresses.read(swapped, [KEY], store_id=STORE, sender=STAFF) is None
    as_staff = "reply+s" + address[7:]
    assert addresses.read(as_staff, [KEY], store_id=STORE, sender=STAFF) is None


def test_keys_rotate_old_addresses_keep_working_foreign_keys_do_not():
    old = _local(addresses.customer_address([KEY], store_id=STORE, inquiry_id=INQUIRY, domain=DOMAIN))
    new = _local(
        addresses.customer_address([KEY, NEW_KEY], store_id=STORE, inquiry_id=INQUIRY, domain=DOMAIN)
    )
    assert old != new  # made with the newest key
    for local in (old, new):
        assert addresses.read(local, [KEY, NEW_KEY], store_id=STORE, sender="x@example.jp") is not None
    assert addresses.read(old, [NEW_KEY], store_id=STORE, sender="x@example.jp") is None
    assert addresses.read(old, [OTHER_KEY], store_id=STORE, sender="x@example.jp") is None
    assert addresses.read(old, [], store_id=STORE, sender="x@example.jp") is None


def test_the_local_part_survives_case_folding_and_fits_rfc_5321():
    address = _local(
        addresses.staff_address([KEY], store_id=STORE, inquiry_id=INQUIRY, staff=STAFF, domain=DOMAIN)
    )
    assert len(address) == 49 <= addresses.MAX_LOCAL_PART
    assert address == address.lower() and address.replace("reply+", "").isalnum()
    assert addresses.read(address.upper(), [KEY], store_id=STORE, sender=STAFF) is not None


def test_the_documented_format():
    """What the module docstring says, computed again."""
    address = _local(addresses.customer_address([KEY], store_id=STORE, inquiry_id=INQUIRY, domain=DOMAIN))
    reply_key = hmac.new(KEY, b"omotenashi-reply-key", hashlib.sha256).digest()
    message = "\x00".join(("omotenashi-reply", "c", STORE, INQUIRY, "")).encode()
    import base64

    tag = base64.b32encode(hmac.new(reply_key, message, hashlib.sha256).digest()[:10]).decode().lower()
    assert address == "reply+c" + INQUIRY.removeprefix("inq_") + tag


@pytest.mark.parametrize(
    "local",
    [
        "",
        "reply",
        "reply+",
        "support",
        "reply+x" + "a" * 42,
        "reply+c" + "a" * 41,
        "reply+c" + "a" * 43,
        "reply+c" + "1" * 42,
        "reply+c" + "a" * 26 + "-" * 16,
        "reply+c" + "a" * 42 + "\n",
    ],
)
def test_malformed_local_parts_are_not_reply_addresses(local):
    assert addresses.read(local, [KEY], store_id=STORE, sender=STAFF) is None


@BOUNDED
@given(st.text(max_size=60))
def test_any_text_is_refused_without_raising(local):
    assert addresses.read(local, [KEY], store_id=STORE, sender=STAFF) is None


def test_only_inquiry_ids_and_a_key_make_addresses():
    with pytest.raises(ValueError):
        addresses.customer_address([KEY], store_id=STORE, inquiry_id="msg_abc", domain=DOMAIN)
    with pytest.raises(ValueError):
        addresses.customer_address([], store_id=STORE, inquiry_id=INQUIRY, domain=DOMAIN)
