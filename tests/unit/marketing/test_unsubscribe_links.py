"""link_for (the unsubscribe link a marketing email carries) and the page language, without AWS:
a store that has its keys needs no data access."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from omotenashi import clock
from omotenashi.domain import Store
from omotenashi.logic.core import unsubscribe_tokens
from omotenashi.logic.marketing.unsubscribe import link_for, preferred_locale

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
OLD_KEY = b"o" * 32
NEW_KEY = b"n" * 32


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_source(lambda: NOW)
    yield
    clock.set_source(None)


def store(keys=(OLD_KEY, NEW_KEY), store_id="demo") -> Store:
    return Store(
        store_id=store_id,
        name="Demo",
        sender="shop@demo.example",
        staff_addresses=(),
        default_locale="ja",
        time_zone="Asia/Tokyo",
        sla_hours=24,
        unsubscribe_keys=keys,
    )


def token_of(url: str) -> str:
    [token] = parse_qs(urlsplit(url).query)["token"]
    return token


def test_the_link_is_the_public_unsubscribe_route_with_a_token_of_the_newest_key():
    url = link_for(store(), "c-123", "https://api.example.com")
    assert url.startswith("https://api.example.com/v1/unsubscribe?token=")
    token = token_of(url)
    assert url == f"https://api.example.com/v1/unsubscribe?token={token}"  # nothing to escape
    claim = unsubscribe_tokens.verify((NEW_KEY,), token, "demo")
    assert (claim.store_id, claim.customer_id, claim.issued_at) == ("demo", "c-123", NOW)
    with pytest.raises(unsubscribe_tokens.InvalidToken):
        unsubscribe_tokens.verify((OLD_KEY,), token, "demo")
    with pytest.raises(unsubscribe_tokens.InvalidToken):
        unsubscribe_tokens.verify((OLD_KEY, NEW_KEY), token, "other")


def test_the_signing_secrets_play_no_part():
    assert store().secrets == ()  # a store without API secrets still makes links
    assert link_for(store(), "c-123", "https://api.example.com")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.example.com/", "https://api.example.com/v1/unsubscribe"),
        (
            "https://abc.execute-api.ap-northeast-1.amazonaws.com/Prod",
            "https://abc.execute-api.ap-northeast-1.amazonaws.com/Prod/v1/unsubscribe",
        ),
        ("https://api.example.com:8443/", "https://api.example.com:8443/v1/unsubscribe"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000/v1/unsubscribe"),
        ("http://localhost:3000/", "http://localhost:3000/v1/unsubscribe"),
    ],
)
def test_the_base_url_is_the_apis_public_url(base_url, expected):
    assert link_for(store(), "c-123", base_url).partition("?")[0] == expected


@pytest.mark.parametrize(
    "base_url",
    [
        "http://api.example.com",  # plain http only for the local stack
        "ftp://api.example.com",
        "javascript:alert(1)",
        "api.example.com",
        "/v1",
        "",
        "https://",
        "https://api.example.com/?x=1",
        "https://api.example.com/#top",
        "https://user@api.example.com",
        "https://api.example.com/a b",
        'https://api.example.com/"><script>',
    ],
)
def test_a_bad_base_url_is_refused(base_url):
    with pytest.raises(ValueError, match="base_url"):
        link_for(store(), "c-123", base_url)


def test_a_guests_address_is_lower_cased_as_consent_keys_it():
    token = token_of(link_for(store(), "Hanako@Example.JP", "https://api.example.com"))
    assert unsubscribe_tokens.verify((NEW_KEY,), token, "demo").customer_id == "hanako@example.jp"


@pytest.mark.parametrize("customer_id", ["", "c 123", "c-\u3042", "x" * 256])
def test_an_id_no_customer_can_have_is_refused(customer_id):
    with pytest.raises(ValueError):
        link_for(store(), customer_id, "https://api.example.com")


def test_each_store_signs_its_own_links():
    demo = token_of(link_for(store(), "c-123", "https://api.example.com"))
    other = token_of(link_for(store((b"x" * 32,), "other"), "c-123", "https://api.example.com"))
    assert unsubscribe_tokens.peek_store_id(demo) == "demo"
    assert unsubscribe_tokens.peek_store_id(other) == "other"
    with pytest.raises(unsubscribe_tokens.InvalidToken):
        unsubscribe_tokens.verify((OLD_KEY, NEW_KEY), other, "demo")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("ja", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", "ja"),
        ("fr-FR,fr;q=0.9,en;q=0.5,ja;q=0.6", "ja"),
        ("EN", "en"),
        ("en;q=0, ja;q=0.1", "ja"),
        ("en;q=2, ja;q=0.5", "ja"),  # an out-of-range quality counts as none
        ("en;q=nan", None),
        ("*", None),
        ("fr, de", None),
        ("ja;q=0.5, en;q=0.5", "ja"),  # a tie: the first listed
        ("x" * 5000, None),
        (";;;,,,=", None),
    ],
)
def test_preferred_locale_of_accept_language(header, expected):
    assert preferred_locale(header) == expected
