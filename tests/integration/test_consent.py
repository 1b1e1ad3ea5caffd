"""PUT/GET /v1/customers/{customer_id}/consent end to end on the local stack (in-process moto)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from omotenashi import clock
from tests.integration.helpers import item_count
from tests.support import aws_fault, call, create_other_store

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
PATH = "/v1/customers/c-123/consent"
WORDING = "ショップからのお知らせメールを受け取る"


@pytest.fixture(autouse=True)
def fixed_clock(stack):
    clock.set_source(lambda: NOW)
    yield
    clock.set_source(None)


def consent_body(**overrides):
    body = {
        "email": "taro@example.jp",
        "marketing_email": True,
        "source": "checkout_checkbox",
        "wording": WORDING,
        "consented_at": "2026-11-22T01:00:00Z",
        "name": "山田太郎",
        "locale": "ja",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def put(stack, body, path=PATH, **options):
    return call(stack, "PUT", path, body, **options)


def entries(stack) -> int:
    return item_count(stack, "ConsentTable")


def test_put_then_get(stack):
    created = put(stack, consent_body())
    assert created.status == 200, created.text
    read = call(stack, "GET", PATH)
    assert read.status == 200
    assert read.json == created.json
    body = read.json
    assert body["customer_id"] == "c-123"
    assert body["email"] == "taro@example.jp"
    assert body["marketing_email"] is True
    assert (body["source"], body["wording"], body["consented_at"]) == (
        "checkout_checkbox",
        WORDING,
        "2026-11-22T01:00:00Z",
    )
    [entry] = body["history"]
    assert {k: entry[k] for k in ("marketing_email", "source", "wording", "at")} == {
        "marketing_email": True,
        "source": "checkout_checkbox",
        "wording": WORDING,
        "at": "2026-11-22T01:00:00Z",
    }
    assert entry["recorded_at"] == "2026-11-22T03:00:00Z"
    assert body["history_count"] == 1


def test_consented_at_defaults_to_now_and_offsets_are_normalised(stack):
    assert put(stack, consent_body(consented_at=None)).json["consented_at"] == "2026-11-22T03:00:00Z"
    later = put(stack, consent_body(consented_at="2026-11-22T12:03:00.250+09:00", marketing_email=False))
    assert later.json["consented_at"] == "2026-11-22T03:03:00.250000Z"  # within the 5-minute skew
    assert later.json["marketing_email"] is False


def test_unknown_customer_is_404(stack):
    assert call(stack, "GET", PATH).status == 404
    assert call(stack, "GET", "/v1/customers/nobody@example.jp/consent").status == 404
    assert call(stack, "GET", "/v1/customers/" + "x" * 256 + "/consent").status == 404
    assert call(stack, "GET", "/v1/customers/%E5%A4%AA/consent").status == 404


def test_history_is_oldest_first_and_withdrawal_decides(stack):
    put(stack, consent_body(consented_at="2026-11-20T00:00:00Z"))
    withdrawn = consent_body(consented_at="2026-11-21T00:00:00Z", marketing_email=False, source="settings")
    put(stack, withdrawn)
    body = call(stack, "GET", PATH).json
    assert [(e["at"], e["marketing_email"]) for e in body["history"]] == [
        ("2026-11-20T00:00:00Z", True),
        ("2026-11-21T00:00:00Z", False),
    ]
    assert body["marketing_email"] is False
    assert body["source"] == "settings"
    again = put(stack, consent_body(consented_at="2026-11-22T00:00:00Z", source="newsletter_form")).json
    assert again["marketing_email"] is True
    sources = [e["source"] for e in again["history"]]
    assert sources == ["checkout_checkbox", "settings", "newsletter_form"]


def test_withdrawal_and_consent_at_the_same_instant_withdrawal_wins(stack):
    put(stack, consent_body(marketing_email=False, source="account_settings"))
    put(stack, consent_body())
    body = call(stack, "GET", PATH).json
    assert body["marketing_email"] is False
    assert [e["marketing_email"] for e in body["history"]] == [True, False]


SEQUENCE = [
    consent_body(consented_at="2026-11-20T00:00:00Z"),
    consent_body(consented_at="2026-11-21T00:00:00+09:00", marketing_email=False, source="account_settings"),
    consent_body(consented_at="2026-11-21T09:00:00Z", source="newsletter_form", wording="ニュースレター"),
    consent_body(consented_at="2026-11-22T00:00:00Z", marketing_email=False, source="support_request"),
]


def _final(stack, customer_id, bodies):
    path = f"/v1/customers/{customer_id}/consent"
    for body in bodies:
        assert put(stack, body, path=path).status == 200
    final = call(stack, "GET", path).json
    assert final.pop("customer_id") == customer_id
    for entry in final["history"]:
        entry.pop("recorded_at")
    return final


@pytest.mark.parametrize("order", [(3, 2, 1, 0), (1, 3, 0, 2), (2, 0, 3, 1), (0, 3, 3, 1, 2, 0)])
def test_out_of_order_puts_end_as_in_order(stack, order):
    in_order = _final(stack, "in-order", SEQUENCE)
    shuffled = _final(stack, "shuffled", [SEQUENCE[i] for i in order])
    assert shuffled == in_order
    assert shuffled["marketing_email"] is False and shuffled["source"] == "support_request"


def test_an_older_consent_after_a_newer_withdrawal_changes_nothing(stack):
    put(stack, consent_body(consented_at="2026-11-22T00:00:00Z", marketing_email=False))
    late = put(stack, consent_body(consented_at="2026-11-20T00:00:00Z")).json
    assert late["marketing_email"] is False
    assert [e["at"] for e in late["history"]] == ["2026-11-20T00:00:00Z", "2026-11-22T00:00:00Z"]


def test_the_same_put_three_times_is_one_entry(stack):
    answers = [put(stack, consent_body()) for _ in range(3)]
    assert {a.status for a in answers} == {200}
    assert answers[0].json == answers[1].json == answers[2].json
    assert len(answers[2].json["history"]) == 1
    assert entries(stack) == 1
    # Key order and white space do not make another entry either.
    assert put(stack, dict(reversed(consent_body().items()))).json == answers[0].json
    assert entries(stack) == 1


def test_another_store_neither_reads_nor_changes_it(stack):
    create_other_store()
    put(stack, consent_body())
    other = {"store": "other", "secret": "other-secret"}
    assert call(stack, "GET", PATH, **other).status == 404
    theirs = put(stack, consent_body(marketing_email=False, consented_at="2026-11-22T02:00:00Z"), **other)
    assert theirs.status == 200
    assert theirs.json["marketing_email"] is False and len(theirs.json["history"]) == 1
    ours = call(stack, "GET", PATH).json
    assert ours["marketing_email"] is True and len(ours["history"]) == 1


BAD_BODIES = [
    ({"marketing_email": True, "source": "s", "wording": "w"}, "email"),
    (consent_body(email="not-an-address"), "email"),
    (consent_body(marketing_email=None), "marketing_email"),
    (consent_body(marketing_email="true"), "marketing_email"),
    (consent_body(marketing_email=1), "marketing_email"),
    (consent_body(source=""), "source"),
    (consent_body(source="x" * 101), "source"),
    (consent_body(source="checkout\ncheckbox"), "source"),
    (consent_body(source="   "), "source"),
    (consent_body(wording=None), "wording"),
    (consent_body(wording="x" * 1001), "wording"),
    (consent_body(wording="a\x00b"), "wording"),
    (consent_body(consented_at="2026-11-22T01:00:00"), "consented_at"),
    (consent_body(consented_at="2026-11-22"), "consented_at"),
    (consent_body(consented_at="yesterday"), "consented_at"),
    (consent_body(consented_at=1763773200), "consented_at"),
    (consent_body(consented_at="2026-02-30T01:00:00Z"), "consented_at"),
    (consent_body(consented_at="2026-11-22T03:06:00Z"), "consented_at"),  # 6 minutes ahead
    (consent_body(name=""), "name"),
    (consent_body(locale="fr"), "locale"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_bodies_are_422_naming_the_field_and_write_nothing(stack, body, field):
    answer = put(stack, body)
    assert answer.status == 422, answer.text
    assert field in [f["field"] for f in answer.json["error"]["fields"]], answer.text
    assert entries(stack) == 0
    assert call(stack, "GET", PATH).status == 404


def test_naive_time_names_the_zone(stack):
    answer = put(stack, consent_body(consented_at="2026-11-22T01:00:00"))
    [error] = answer.json["error"]["fields"]
    assert error["field"] == "consented_at" and "time zone" in error["message"]


def test_malformed_json_is_400_and_writes_nothing(stack):
    assert call(stack, "PUT", PATH, raw=b'{"email": ').status == 400
    assert entries(stack) == 0


def test_email_id_is_case_insensitive(stack):
    answer = put(stack, consent_body(email="Taro@Example.JP"), path="/v1/customers/TARO@example.jp/consent")
    assert answer.status == 200, answer.text
    assert answer.json["customer_id"] == "taro@example.jp"
    for spelling in ("taro@example.jp", "Taro@EXAMPLE.jp"):
        read = call(stack, "GET", f"/v1/customers/{spelling}/consent")
        assert read.status == 200 and read.json["customer_id"] == "taro@example.jp"
    # A storefront id that is not an address keeps its case: C-123 is not c-123.
    put(stack, consent_body())
    assert call(stack, "GET", "/v1/customers/C-123/consent").status == 404


def test_a_guest_path_and_a_different_body_email_are_refused(stack):
    answer = put(stack, consent_body(email="hanako@example.jp"), path="/v1/customers/taro@example.jp/consent")
    assert answer.status == 422
    assert [f["field"] for f in answer.json["error"]["fields"]] == ["email"]
    assert entries(stack) == 0


def test_unsubscribe_link_is_recorded_and_decides(stack):
    from omotenashi.logic.marketing import consent

    put(stack, consent_body())
    assert consent.current("demo", "c-123") is True
    consent.record_unsubscribe("demo", "c-123", datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    body = call(stack, "GET", PATH).json
    assert body["marketing_email"] is False
    assert body["source"] == "unsubscribe_link"
    assert body["email"] == "taro@example.jp"  # the newest address on record
    assert [(e["source"], e["marketing_email"]) for e in body["history"]] == [
        ("checkout_checkbox", True),
        ("unsubscribe_link", False),
    ]
    assert consent.current("demo", "c-123") is False
    assert consent.current("demo", "c-999") is None
    assert consent.current("other", "c-123") is None


def test_unsubscribe_wins_over_a_consent_dated_later(stack):
    """A storefront clock ahead of ours dated a consent after the click: the opt-out still counts."""
    from omotenashi.logic.marketing import consent

    put(stack, consent_body(consented_at="2026-11-22T03:04:00Z"))
    state = consent.record_unsubscribe("demo", "c-123", NOW)
    assert state.marketing_email is False
    assert call(stack, "GET", PATH).json["consented_at"] == "2026-11-22T03:04:00Z"
    assert consent.current("demo", "c-123") is False


def test_unsubscribe_of_a_guest_never_seen_is_kept(stack):
    from omotenashi.logic.marketing import consent

    consent.record_unsubscribe("demo", "Hanako@Example.jp", NOW)
    body = call(stack, "GET", "/v1/customers/hanako@example.jp/consent").json
    assert body["marketing_email"] is False and body["email"] == "hanako@example.jp"


def test_a_dynamodb_fault_is_503_and_the_retry_works(stack):
    for operation in ("UpdateItem", "Query"):
        with aws_fault("dynamodb", operation) as failures:
            answer = put(stack, consent_body())
        assert failures[0] == 1
        assert answer.status == 503, answer.text
        assert answer.headers.get("Retry-After")
        retried = put(stack, consent_body())
        assert retried.status == 200
        assert len(retried.json["history"]) == 1
    with aws_fault("dynamodb", "Query"):
        assert call(stack, "GET", PATH).status == 503
    assert call(stack, "GET", PATH).status == 200
    assert entries(stack) == 1


def test_a_failed_write_leaves_nothing(stack):
    with aws_fault("dynamodb", "UpdateItem"):
        assert put(stack, consent_body()).status == 503
    assert entries(stack) == 0


def test_customers_whose_ids_share_a_key_prefix_stay_apart(stack):
    """Entries are keyed "<customer_id>#<digest>": customer "c-1#x"'s keys start with "c-1#"."""
    from omotenashi.logic.marketing import consent

    put(stack, consent_body(), path="/v1/customers/c-1/consent")
    consent.record_unsubscribe("demo", "c-1#x", NOW)
    body = call(stack, "GET", "/v1/customers/c-1/consent").json
    assert body["marketing_email"] is True and len(body["history"]) == 1
    assert consent.current("demo", "c-1#x") is False


def test_history_keeps_every_entry(stack):
    """No cap: the proof is never refused or dropped (one item per entry)."""
    for day, marketing_email in zip(range(1, 31), itertools.cycle([True, False]), strict=False):
        put(stack, consent_body(consented_at=f"2026-10-{day:02d}T00:00:00Z", marketing_email=marketing_email))
    body = call(stack, "GET", PATH).json
    assert body["history_count"] == 30 == len(body["history"])
    assert [e["at"][:10] for e in body["history"]] == [f"2026-10-{d:02d}" for d in range(1, 31)]
    assert body["marketing_email"] is False
