"""reviews.json (logic/reviews/settings.py): the defaults, every bound, every bad field named first in
the message, and the stored document (`to_document`) reading back as the same settings."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.domain import Store
from omotenashi.logic.reviews.settings import (
    DEFAULT_REWARD,
    MAX_REWARD_POINTS,
    PLACEHOLDERS,
    InvalidReviewSettings,
    ReviewSettings,
    Reward,
    from_store,
    validate,
)

BOUNDED = settings(max_examples=200, deadline=None)
FIELDS = (
    "enabled",
    "request_after",
    "request_delay_days",
    "reminder_delay_days",
    "review_url",
    "reward",
    "reward_limit_days",
    "survey_reward",
)
STORE = Store(
    store_id="demo",
    name="Demo",
    sender="shop@demo.example",
    staff_addresses=("staff@demo.example",),
    default_locale="ja",
    time_zone="Asia/Tokyo",
    sla_hours=24,
)
EXAMPLE = {  # the module docstring's example
    "enabled": True,
    "request_after": "delivered",
    "request_delay_days": 7,
    "reminder_delay_days": 5,
    "review_url": "https://shop.example/reviews/new?order={order_id}&sku={sku}&token={token}",
    "reward": {"points": 50},
    "reward_limit_days": 30,
    "survey_reward": {"points": 50},
}


def _refused(document: Any) -> str:
    with pytest.raises(InvalidReviewSettings) as error:
        validate(document)
    return str(error.value)


def _names(message: str, field: str) -> bool:
    """The message starts with the field (or one of its parts: reward.points), then a space."""
    return re.match(rf"{re.escape(field)}(\.\S*)?\s", message) is not None


# -- defaults --------------------------------------------------------------------------------------


def test_the_empty_document_is_every_default():
    assert validate({}) == ReviewSettings()
    assert ReviewSettings() == ReviewSettings(
        enabled=True,
        request_after="delivered",
        request_delay_days=7,
        reminder_delay_days=5,
        review_url=None,
        reward=Reward(points=50),
        reward_limit_days=30,
        survey_reward=Reward(points=50),
    )
    assert Reward(points=50) == DEFAULT_REWARD


def test_a_store_without_a_document_runs_the_default_programme():
    assert from_store(STORE) == ReviewSettings()
    assert from_store(replace(STORE, reviews={})) == ReviewSettings()


def test_a_store_with_a_document_reads_it():
    document = {"request_delay_days": 3, "reward": None, "reminder_delay_days": None}
    assert from_store(replace(STORE, reviews=document)) == validate(document)
    assert from_store(replace(STORE, reviews=document)).reward is None


def test_the_docstring_example_is_valid_and_round_trips():
    read = validate(EXAMPLE)
    assert read.review_url == EXAMPLE["review_url"]
    assert read.to_document() == EXAMPLE
    assert validate(read.to_document()) == read


def test_an_omitted_field_keeps_its_default_and_null_means_none_where_allowed():
    read = validate({"reward": None, "survey_reward": None, "reminder_delay_days": None, "review_url": None})
    assert read.reward is None and read.survey_reward is None
    assert read.reminder_delay_days is None and read.review_url is None
    assert read.request_delay_days == 7 and read.reward_limit_days == 30 and read.enabled is True
    only_survey_off = validate({"survey_reward": None})
    assert only_survey_off.reward == DEFAULT_REWARD and only_survey_off.survey_reward is None


def test_to_document_names_every_field_and_is_json():
    document = ReviewSettings().to_document()
    assert set(document) == set(FIELDS)
    assert json.loads(json.dumps(document)) == document
    assert document["reward"] == {"points": 50} and document["review_url"] is None


# -- bounds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("request_delay_days", [0, 1, 7, 60], [-1, 61, 10**9]),
        ("reminder_delay_days", [1, 5, 30, None], [0, -1, 31]),
        ("reward_limit_days", [0, 1, 30, 365], [-1, 366]),
    ],
)
def test_day_bounds(field, good, bad):
    for value in good:
        assert getattr(validate({field: value}), field) == value
    for value in bad:
        assert _names(_refused({field: value}), field), value


@pytest.mark.parametrize("field", ["request_delay_days", "reward_limit_days"])
def test_null_is_not_a_number_of_days_where_a_number_is_needed(field):
    assert _names(_refused({field: None}), field)


@pytest.mark.parametrize("field", ["request_delay_days", "reminder_delay_days", "reward_limit_days"])
@pytest.mark.parametrize("value", [True, False, 7.0, 7.5, "7", [7], {"days": 7}])
def test_days_are_whole_json_numbers_not_booleans_floats_or_text(field, value):
    assert _names(_refused({field: value}), field)


@pytest.mark.parametrize("field", ["reward", "survey_reward"])
def test_reward_points_bounds(field):
    assert getattr(validate({field: {"points": 1}}), field) == Reward(points=1)
    assert getattr(validate({field: {"points": MAX_REWARD_POINTS}}), field) == Reward(
        points=MAX_REWARD_POINTS
    )
    for bad in (0, -5, MAX_REWARD_POINTS + 1, True, 1.0, "50", None):
        assert _refused({field: {"points": bad}}).startswith(f"{field}.points "), bad


@pytest.mark.parametrize("field", ["reward", "survey_reward"])
@pytest.mark.parametrize("kind", ["coupon_code", "coupon_pool"])
def test_coupon_codes_and_pools(field, kind):
    for good in ("A", "THANKS-10", "thanks_10", "x" * 50):
        reward = getattr(validate({field: {kind: good}}), field)
        expected = Reward(coupon_code=good) if kind == "coupon_code" else Reward(coupon_pool=good)
        assert reward == expected and reward.kind == "coupon"
        assert reward.to_document() == {kind: good}
    for bad in ("", "x" * 51, "a b", "コード", "A!", 10, None):
        assert _refused({field: {kind: bad}}).startswith(f"{field}.{kind} "), bad


@pytest.mark.parametrize("field", ["reward", "survey_reward"])
@pytest.mark.parametrize(
    "value",
    [{}, {"points": 50, "coupon_code": "A"}, [{"points": 50}], 50, "points", True, {"percent": 10}],
)
def test_a_reward_is_one_of_three_shapes_or_null(field, value):
    assert _names(_refused({field: value}), field)


def test_reward_kinds():
    assert Reward(points=5).kind == "points"
    assert Reward(coupon_code="A").kind == Reward(coupon_pool="P").kind == "coupon"


# -- the review link ---------------------------------------------------------------------------------


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_each_documented_placeholder_is_accepted(placeholder):
    url = f"https://shop.example/r?x={{{placeholder}}}"
    assert validate({"review_url": url}).review_url == url


def test_the_placeholders_are_the_documented_four():
    assert set(PLACEHOLDERS) == {"order_id", "sku", "customer_id", "token"}


def test_a_link_may_use_every_placeholder_or_none():
    every = "https://shop.example/" + "/".join(f"{{{p}}}" for p in PLACEHOLDERS)
    assert validate({"review_url": every}).review_url == every
    assert validate({"review_url": "http://shop.example/reviews"}).review_url == "http://shop.example/reviews"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://shop.example/r?o={order}", "{order}"),
        ("https://shop.example/r?o={ORDER_ID}", "{ORDER_ID}"),
        ("https://shop.example/r?o={}", "{}"),
        ("https://shop.example/r?o={order_id}&e={email}", "{email}"),
    ],
)
def test_an_unknown_placeholder_is_refused_and_named(url, named):
    message = _refused({"review_url": url})
    assert message.startswith("review_url ") and named in message


@pytest.mark.parametrize(
    "url",
    [
        "",
        "shop.example/reviews",
        "ftp://shop.example/reviews",
        "javascript:alert(1)",
        "https://",
        "https://shop.example/a b",
        " https://shop.example/",
        "https://shop.example/\nx",
        "https://shop.example/" + "a" * 2029,  # 2049 characters
        42,
        ["https://shop.example/"],
    ],
)
def test_the_link_is_one_http_url_of_at_most_2048_characters(url):
    assert _refused({"review_url": url}).startswith("review_url ")


def test_a_link_of_exactly_2048_characters_is_accepted():
    url = "https://shop.example/" + "a" * 2027
    assert len(url) == 2048
    assert validate({"review_url": url}).review_url == url


# -- the document as a whole -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": 1}, "enabled"),
        ({"enabled": None}, "enabled"),
        ({"request_after": "shipped"}, "request_after"),
        ({"request_after": None}, "request_after"),
        ({"request_after": "Delivered"}, "request_after"),
        ({"request_delay_days": 61}, "request_delay_days"),
        ({"reminder_delay_days": 0}, "reminder_delay_days"),
        ({"reward_limit_days": 366}, "reward_limit_days"),
        ({"reward": {"points": 0}}, "reward.points"),
        ({"reward": {"coupon_code": "a b"}}, "reward.coupon_code"),
        ({"reward": {"stars": 5}}, "reward.stars"),
        ({"survey_reward": {"coupon_pool": ""}}, "survey_reward.coupon_pool"),
        ({"review_url": "https://x.example/{oops}"}, "review_url"),
        ({"rating_bonus": 10}, "rating_bonus"),
        ({"Enabled": True}, "Enabled"),
    ],
)
def test_a_bad_field_is_named_first(change, field):
    message = _refused({**EXAMPLE, **change})
    assert message.startswith(field + " "), message


def test_unknown_keys_are_refused_the_first_in_sorted_order_named():
    assert _refused({"zeta": 1, "alpha": 2, **EXAMPLE}).startswith("alpha is not a setting")


@pytest.mark.parametrize("document", [None, [], [EXAMPLE], "reviews", 7, True])
def test_the_document_must_be_an_object(document):
    assert "JSON object" in _refused(document)


# -- properties --------------------------------------------------------------------------------------

codes = st.text(alphabet="ABCXYZabcxyz0189_-", min_size=1, max_size=50)
rewards = (
    st.none()
    | st.integers(1, MAX_REWARD_POINTS).map(lambda n: {"points": n})
    | codes.map(lambda c: {"coupon_code": c})
    | codes.map(lambda c: {"coupon_pool": c})
)
urls = st.none() | st.lists(
    st.sampled_from([*(f"{{{p}}}" for p in PLACEHOLDERS), "r", "/", "?q=", "&", "-", "%20", "レビュー"]),
    max_size=8,
).map(lambda parts: "https://shop.example/" + "".join(parts))


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    candidates = {
        "enabled": st.booleans(),
        "request_after": st.sampled_from(["delivered", "fulfilled"]),
        "request_delay_days": st.integers(0, 60),
        "reminder_delay_days": st.none() | st.integers(1, 30),
        "review_url": urls,
        "reward": rewards,
        "reward_limit_days": st.integers(0, 365),
        "survey_reward": rewards,
    }
    chosen = draw(st.sets(st.sampled_from(FIELDS)))
    return {field: draw(candidates[field]) for field in FIELDS if field in chosen}


@BOUNDED
@given(valid_documents())
def test_every_valid_document_is_read_as_given_and_round_trips(document):
    read = validate(document)
    stored = read.to_document()
    assert validate(stored) == read
    assert validate(json.loads(json.dumps(stored))) == read  # as the store table keeps it
    assert stored.keys() == set(FIELDS)
    for field, value in document.items():
        assert stored[field] == value  # what was given is what is kept
    for field in set(FIELDS) - document.keys():
        assert stored[field] == ReviewSettings().to_document()[field]  # the rest: defaults


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
)
near_misses = st.sampled_from(
    [
        0,
        -1,
        1,
        30,
        31,
        60,
        61,
        365,
        366,
        "delivered",
        "fulfilled",
        {"points": 0},
        {"points": 50},
        {"coupon_code": ""},
        {"coupon_pool": "P"},
        "https://x.example/{sku}",
        "https://x.example/{nope}",
    ]
)


@BOUNDED
@given(st.sampled_from(FIELDS), json_values | near_misses, valid_documents())
def test_any_json_for_a_field_is_read_or_refused_naming_that_field(field, value, rest):
    """Never another exception, and a refusal is about the field that was changed."""
    document = {**rest, field: value}
    try:
        read = validate(document)
    except InvalidReviewSettings as error:
        assert _names(str(error), field), (field, value, str(error))
    else:
        assert validate(read.to_document()) == read


@BOUNDED
@given(
    st.dictionaries(
        st.text(max_size=20).filter(lambda k: k not in FIELDS),
        st.none() | st.integers(),
        min_size=1,
        max_size=3,
    )
)
def test_any_unknown_key_is_refused(extra):
    message = _refused({**EXAMPLE, **extra})
    assert message == f"{min(extra)} is not a setting"


# -- found while testing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"review_url": "https://shop.example/r?t={token}\n"},
        {"reward": {"coupon_code": "THANKS\n"}},
        {"survey_reward": {"coupon_pool": "POOL\n"}},
    ],
)
def test_a_trailing_newline_is_not_part_of_a_url_or_a_code(change):
    _refused(change)
