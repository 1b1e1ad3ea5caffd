"""GET/POST /v1/unsubscribe end to end on the local stack (in-process moto): the page, one-click,
the consent it records, the tokens it refuses (400, nothing changes) and the stores' keys."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import boto3
import pytest

from omotenashi import clock
from omotenashi.logic.core import unsubscribe_tokens
from tests.integration.helpers import item_count
from tests.support import aws_fault, call

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
BASE = "https://api.example"
CONSENT = "/v1/customers/c-123/consent"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def fixed_clock(stack):
    clock.set_source(lambda: NOW)
    yield
    clock.set_source(None)


def store(store_id="demo"):
    from omotenashi.logic.core.directory import directory

    found = directory.get(store_id)
    assert found is not None
    return found


def link(customer_id="c-123", store_id="demo") -> str:
    from omotenashi.logic.marketing.unsubscribe import link_for

    url = link_for(store(store_id), customer_id, BASE)
    assert url.startswith(BASE + "/v1/unsubscribe?token=")
    return url[len(BASE) :]


def token_of(path: str) -> str:
    return path.partition("?token=")[2]


def consent(stack, **overrides):
    body = {
        "email": "taro@example.jp",
        "marketing_email": True,
        "source": "checkout_checkbox",
        "wording": "ショップからのお知らせメールを受け取る",
        "consented_at": "2026-11-22T01:00:00Z",
        "name": "山田太郎",
        "locale": "ja",
    }
    body.update(overrides)
    answer = call(stack, "PUT", CONSENT, body)
    assert answer.status == 200, answer.text
    return answer.json


def consent_state(stack, path=CONSENT):
    return call(stack, "GET", path)


def create_other_store(store_id="other"):
    from omotenashi.logic.core.store_admin import create_store

    return create_store(
        store_id=store_id,
        name="Other Shop",
        sender=f"shop@{store_id}.example",
        staff_addresses=(),
        default_locale="en",
        time_zone="UTC",
        sla_hours=24,
        now=clock.now(),
        secret_value=f"{store_id}-secret",
    )


def assert_page(answer, status):
    assert answer.status == status, answer.text
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.text.startswith("<!DOCTYPE html>")


def assert_invalid(answer):
    assert_page(answer, 400)
    assert "このリンクは無効です" in answer.text
    assert "<form" not in answer.text


# -- the page and the one-click POST ------------------------------------------------------------


def test_get_shows_the_confirm_page_in_japanese(stack):
    consent(stack)
    path = link()
    answer = call(stack, "GET", path, sign=False)
    assert_page(answer, 200)
    assert '<html lang="ja">' in answer.text
    assert "お知らせメールの配信を停止しますか" in answer.text
    assert "山田太郎 様" in answer.text
    assert f'action="?token={token_of(path)}"' in answer.text
    assert 'name="List-Unsubscribe" value="One-Click"' in answer.text
    assert "Omotenashi Demo Shop" in answer.text
    assert consent_state(stack).json["marketing_email"] is True  # a GET changes nothing


def test_get_shows_the_confirm_page_in_english_for_an_english_customer(stack):
    consent(stack, locale="en", name=None)
    answer = call(stack, "GET", link(), sign=False)
    assert_page(answer, 200)
    assert '<html lang="en">' in answer.text
    assert "Unsubscribe from marketing email?" in answer.text
    assert "t***@example.jp" in answer.text  # no name on record: the masked address
    assert "taro@example.jp" not in answer.text


def test_the_page_language_falls_back_to_the_browser_then_the_store(stack):
    path = link("c-unknown")  # never seen: no locale on record
    english = call(stack, "GET", path, sign=False, headers={"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"})
    assert '<html lang="en">' in english.text
    other = call(stack, "GET", path, sign=False, headers={"Accept-Language": "fr-FR, de;q=0.8"})
    assert '<html lang="ja">' in other.text  # the demo store's default
    plain = call(stack, "GET", path, sign=False)
    assert '<html lang="ja">' in plain.text


def test_post_unsubscribes_and_the_consent_history_says_so(stack):
    consent(stack)
    answer = call(stack, "POST", link(), sign=False)
    assert_page(answer, 200)
    assert '<html lang="ja">' in answer.text
    assert "<h1>配信を停止しました</h1>" in answer.text
    state = consent_state(stack).json
    assert state["marketing_email"] is False
    assert state["source"] == "unsubscribe_link"
    assert [(e["source"], e["marketing_email"]) for e in state["history"]] == [
        ("checkout_checkbox", True),
        ("unsubscribe_link", False),
    ]
    from omotenashi.logic.marketing import consent as consent_logic

    assert consent_logic.current("demo", "c-123") is False


def test_the_done_page_is_in_the_customers_language(stack):
    consent(stack, locale="en")
    answer = call(stack, "POST", link(), sign=False)
    assert_page(answer, 200)
    assert '<html lang="en">' in answer.text
    assert "You have been unsubscribed" in answer.text


def test_post_twice_answers_done_twice(stack):
    consent(stack)
    path = link()
    first = call(stack, "POST", path, sign=False)
    clock.set_source(lambda: datetime(2026, 11, 22, 3, 5, tzinfo=UTC))
    second = call(stack, "POST", path, sign=False)
    assert first.status == second.status == 200
    assert first.text == second.text
    assert consent_state(stack).json["marketing_email"] is False


def test_the_rfc_8058_one_click_body_works(stack):
    consent(stack)
    answer = call(stack, "POST", link(), raw=b"List-Unsubscribe=One-Click", headers=FORM, sign=False)
    assert_page(answer, 200)
    assert consent_state(stack).json["marketing_email"] is False


def test_any_body_or_content_type_is_ignored_within_the_size_limit(stack):
    consent(stack)
    path = link()
    odd = call(
        stack, "POST", path, raw=b"\xff\xfe not a form", headers={"Content-Type": "text/plain"}, sign=False
    )
    assert_page(odd, 200)
    too_big = call(stack, "POST", path, raw=b"x" * (256 * 1024 + 1), headers=FORM, sign=False)
    assert too_big.status == 413


def test_no_signature_headers_are_needed_and_wrong_ones_do_not_matter(stack):
    consent(stack)
    answer = call(
        stack,
        "POST",
        link(),
        sign=False,
        headers={"X-Omotenashi-Store": "demo", "X-Omotenashi-Signature": "t=1,v1=00"},
    )
    assert_page(answer, 200)


def test_a_guest_unsubscribes_by_address(stack):
    call(
        stack,
        "PUT",
        "/v1/customers/hanako@example.jp/consent",
        {
            "email": "hanako@example.jp",
            "marketing_email": True,
            "source": "footer_form",
            "wording": "News",
            "locale": "en",
        },
    )
    path = link("Hanako@Example.jp")
    page = call(stack, "GET", path, sign=False)
    assert "h***@example.jp" in page.text
    assert_page(call(stack, "POST", path, sign=False), 200)
    assert consent_state(stack, "/v1/customers/hanako@example.jp/consent").json["marketing_email"] is False


def test_a_customer_never_seen_is_recorded_as_unsubscribed(stack):
    answer = call(stack, "POST", link("c-new"), sign=False)
    assert_page(answer, 200)
    assert consent_state(stack, "/v1/customers/c-new/consent").json["marketing_email"] is False


# -- tokens refused: 400, nothing changes --------------------------------------------------------


def _altered(token: str, index: int) -> str:
    """One base64url character changed (a different character of the same alphabet)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = alphabet[(alphabet.index(token[index]) + 1) % len(alphabet)]
    return token[:index] + replacement + token[index + 1 :]


def _forged(store_id="demo", customer_id="c-123") -> str:
    return unsubscribe_tokens.issue(unsubscribe_tokens.new_key(), store_id, customer_id, NOW)


def refused_tokens(token: str) -> dict[str, str]:
    return {
        "forged": _forged(),
        "altered first": _altered(token, 0),
        "altered middle": _altered(token, len(token) // 2),
        "altered last": _altered(token, len(token) - 2),
        "truncated": token[:-1],
        "truncated much": token[: len(token) // 2],
        "extended": token + "A",
        "padded": token + "==",
        "not base64": token[:10] + "!" + token[11:],
        "empty": "",
        "garbage": "hello",
        "unknown store": _forged("no-such-store"),
        "bad store id": _forged("Not A Store"),
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_forged_altered_and_truncated_tokens_answer_400_and_change_nothing(stack, method):
    consent(stack)
    token = token_of(link())
    before = item_count(stack, "ConsentTable")
    for name, bad in refused_tokens(token).items():
        answer = call(stack, method, f"/v1/unsubscribe?token={bad}", sign=False)
        assert answer.status == 400, name
        assert_invalid(answer)
    assert item_count(stack, "ConsentTable") == before
    assert consent_state(stack).json["marketing_email"] is True


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_missing_or_repeated_token_answers_400(stack, method):
    consent(stack)
    token = token_of(link())
    for path in ("/v1/unsubscribe", "/v1/unsubscribe?token=", f"/v1/unsubscribe?token={token}&token={token}"):
        assert_invalid(call(stack, method, path, sign=False))
    assert consent_state(stack).json["marketing_email"] is True


def test_another_stores_token_answers_400_and_changes_nothing(stack):
    """Signed by the other store's key: refused for the demo store's customer, whether it names
    the demo store (not its key) or the other store (not its customer's consent in demo)."""
    consent(stack)
    other = create_other_store()
    other_key = other.unsubscribe_keys[-1]
    claims_demo = unsubscribe_tokens.issue(other_key, "demo", "c-123", NOW)
    before = item_count(stack, "ConsentTable")
    for method in ("GET", "POST"):
        assert_invalid(call(stack, method, f"/v1/unsubscribe?token={claims_demo}", sign=False))
    assert item_count(stack, "ConsentTable") == before
    assert consent_state(stack).json["marketing_email"] is True
    # The other store's own link unsubscribes its customer, never demo's of the same id.
    assert_page(call(stack, "POST", link(store_id="other"), sign=False), 200)
    assert consent_state(stack).json["marketing_email"] is True


def test_a_demo_key_cannot_sign_for_another_store(stack):
    create_other_store()
    demo_key = store().unsubscribe_keys[-1]
    claims_other = unsubscribe_tokens.issue(demo_key, "other", "c-123", NOW)
    assert_invalid(call(stack, "POST", f"/v1/unsubscribe?token={claims_other}", sign=False))
    assert item_count(stack, "ConsentTable") == 0


def test_the_api_signing_secret_does_not_sign_tokens(stack):
    token = unsubscribe_tokens.issue(b"demo-secret".ljust(32, b"\0"), "demo", "c-123", NOW)
    assert_invalid(call(stack, "POST", f"/v1/unsubscribe?token={token}", sign=False))
    assert item_count(stack, "ConsentTable") == 0


def test_a_dynamodb_fault_is_503_and_the_retry_works(stack):
    consent(stack)
    path = link()
    with aws_fault("dynamodb", "UpdateItem"):
        failed = call(stack, "POST", path, sign=False)
    assert failed.status == 503
    assert failed.headers.get("Retry-After")
    assert_page(call(stack, "POST", path, sign=False), 200)
    assert consent_state(stack).json["marketing_email"] is False


# -- keys: created with the store, on first use for older stores, rotated -----------------------


def test_stores_get_an_unsubscribe_key_that_is_not_their_signing_secret(stack):
    demo = store()
    assert len(demo.unsubscribe_keys) == 1 and len(demo.unsubscribe_keys[0]) == 32
    assert demo.unsubscribe_keys[0] not in {s.value.encode() for s in demo.secrets}
    assert "unsubscribe_keys" not in repr(demo) and base64.b64encode(
        demo.unsubscribe_keys[0]
    ).decode() not in repr(demo)
    other = create_other_store()
    assert other.unsubscribe_keys and other.unsubscribe_keys != demo.unsubscribe_keys


def _remove_keys(stack, store_id):
    """As a store created before unsubscribe keys existed is stored."""
    from omotenashi.logic.core.directory import directory

    boto3.client("dynamodb").update_item(
        TableName=stack.resources.tables["StoresTable"],
        Key={"store_id": {"S": store_id}},
        UpdateExpression="REMOVE unsubscribe_keys",
    )
    directory.clear()


def test_a_store_created_before_keys_existed_gets_one_on_first_use(stack):
    from omotenashi.dal import stores as store_data
    from omotenashi.logic.core.directory import directory

    create_other_store("older")
    _remove_keys(stack, "older")
    old = store("older")
    assert old.unsubscribe_keys == ()
    forged = _forged("older")
    assert_invalid(call(stack, "POST", f"/v1/unsubscribe?token={forged}", sign=False))
    assert store_data.get_store("older").unsubscribe_keys == ()  # checking a token writes no key

    path = link(store_id="older")
    keys = store_data.get_store("older").unsubscribe_keys
    assert len(keys) == 1
    assert unsubscribe_tokens.verify(keys, token_of(path), "older").customer_id == "c-123"
    # A second first use with the stale copy (as another process holds it) agrees on the key.
    from omotenashi.logic.marketing.unsubscribe import keys_for_links

    assert keys_for_links(old) == keys
    directory.clear()
    assert_page(call(stack, "GET", path, sign=False), 200)
    assert_page(call(stack, "POST", path, sign=False), 200)


def test_two_concurrent_first_uses_agree_on_one_key(stack):
    from omotenashi.dal import stores as store_data

    create_other_store("older")
    _remove_keys(stack, "older")
    first = store_data.add_first_unsubscribe_key("older", b"1" * 32)
    second = store_data.add_first_unsubscribe_key("older", b"2" * 32)
    assert first == second == (b"1" * 32,)
    with pytest.raises(KeyError):
        store_data.add_first_unsubscribe_key("no-such-store", b"3" * 32)


def test_the_key_written_on_first_use_survives_a_concurrent_store_update(stack):
    """A rotate-secret that read the store before the key was written fails (and is run again)
    rather than saving its copy over the key: the first use bumps the version."""
    from omotenashi.dal import stores as store_data
    from omotenashi.dal.tables import StoreItem

    create_other_store("older")
    _remove_keys(stack, "older")
    stale = StoreItem.get("older", consistent_read=True)
    store_data.add_first_unsubscribe_key("older", b"1" * 32)
    stale.name = "Renamed"
    from pynamodb.exceptions import PutError

    with pytest.raises(PutError):
        stale.save()
    assert store_data.get_store("older").unsubscribe_keys == (b"1" * 32,)


def test_a_rotated_key_signs_new_links_and_old_links_stay_valid(stack):
    from omotenashi.logic.core.store_admin import rotate_unsubscribe_key

    consent(stack)
    old_path = link()
    rotated = rotate_unsubscribe_key("demo")
    assert len(rotated.unsubscribe_keys) == 2
    new_path = link()
    assert unsubscribe_tokens.verify(rotated.unsubscribe_keys[-1:], token_of(new_path), "demo")
    with pytest.raises(unsubscribe_tokens.InvalidToken):
        unsubscribe_tokens.verify(rotated.unsubscribe_keys[-1:], token_of(old_path), "demo")
    assert_page(call(stack, "GET", old_path, sign=False), 200)
    assert_page(call(stack, "POST", old_path, sign=False), 200)
    assert_page(call(stack, "POST", new_path, sign=False), 200)
    assert consent_state(stack).json["marketing_email"] is False


def test_a_key_added_elsewhere_is_picked_up_without_waiting_for_the_cache(stack, monkeypatch):
    """Another process rotated the key and mailed a link: this process's cached store predates the
    key, and the token still verifies (one early re-read, as for a rotated signing secret)."""
    from omotenashi.dal import stores as store_data
    from omotenashi.logic.core import directory

    monkeypatch.setattr(directory, "REFRESH_AFTER_MISMATCH_SECONDS", 0.0)  # the cache is old enough
    consent(stack)
    store()  # cached now
    new_key = unsubscribe_tokens.new_key()
    store_data.add_unsubscribe_key("demo", new_key)  # not through this process's directory
    token = unsubscribe_tokens.issue(new_key, "demo", "c-123", NOW)
    assert_page(call(stack, "POST", f"/v1/unsubscribe?token={token}", sign=False), 200)


def test_the_cli_rotates_the_unsubscribe_key(stack, capsys):
    import json

    from omotenashi import cli

    old_path = link()
    code = cli.main(
        ["stores", "rotate-unsubscribe-key", "demo", "--stores-table", stack.resources.tables["StoresTable"]]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    view = json.loads(out)
    assert view["unsubscribe_keys"] == 2
    assert base64.b64encode(store().unsubscribe_keys[0]).decode() not in out
    assert_page(call(stack, "GET", old_path, sign=False), 200)
    assert (
        cli.main(
            [
                "stores",
                "rotate-unsubscribe-key",
                "nope",
                "--stores-table",
                stack.resources.tables["StoresTable"],
            ]
        )
        == 1
    )
