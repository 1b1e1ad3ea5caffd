"""The marketing policy: its defaults, validate_policy's messages, and the gate's purity."""

from __future__ import annotations

import ast
import sys
from datetime import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.logic.marketing import gate
from omotenashi.logic.marketing.gate import (
    DEFAULT_CAP_HOURS,
    DEFAULT_QUIET_HOURS,
    DEFAULT_TIME_ZONE,
    POLICY_KEYS,
    InvalidMarketingPolicy,
    MarketingPolicy,
    validate_policy,
)

BOUNDED = settings(max_examples=200, deadline=None)


def test_the_defaults():
    assert MarketingPolicy() == MarketingPolicy("Asia/Tokyo", (time(21, 0), time(8, 0)), 16.0)
    assert MarketingPolicy() == MarketingPolicy(DEFAULT_TIME_ZONE, DEFAULT_QUIET_HOURS, DEFAULT_CAP_HOURS)


def test_an_empty_document_is_the_defaults():
    assert validate_policy({}) == MarketingPolicy()
    assert validate_policy({}, time_zone="America/New_York") == MarketingPolicy(time_zone="America/New_York")


def test_the_documented_shape():
    policy = validate_policy({"quiet_hours": {"start": "22:30", "end": "07:00"}, "cap_hours": 24})
    assert policy == MarketingPolicy("Asia/Tokyo", (time(22, 30), time(7, 0)), 24.0)


def test_null_quiet_hours_means_none_and_zero_cap_means_no_cap():
    assert validate_policy({"quiet_hours": None, "cap_hours": 0}) == MarketingPolicy(
        quiet_hours=None, cap_hours=0
    )


def test_a_time_zone_in_the_document_wins_over_the_argument():
    policy = validate_policy({"time_zone": "Europe/Paris"}, time_zone="Asia/Tokyo")
    assert policy.time_zone == "Europe/Paris"


def test_keys_outside_the_policy_are_left_to_the_caller():
    document = {"cap_hours": 8, "postal_address": "東京都千代田区1-1", "cart_steps": []}
    assert validate_policy(document) == MarketingPolicy(cap_hours=8)
    assert set(MarketingPolicy().to_config()) == set(POLICY_KEYS)


def test_single_digit_hours_are_accepted():
    assert validate_policy({"quiet_hours": {"start": "9:00", "end": "7:05"}}).quiet_hours == (
        time(9),
        time(7, 5),
    )


def test_to_config_is_the_json_document():
    assert MarketingPolicy().to_config() == {
        "time_zone": "Asia/Tokyo",
        "quiet_hours": {"start": "21:00", "end": "08:00"},
        "cap_hours": 16,
    }
    assert MarketingPolicy(quiet_hours=None, cap_hours=0.5).to_config()["quiet_hours"] is None
    assert MarketingPolicy(cap_hours=0.5).to_config()["cap_hours"] == 0.5


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"quiet_hours": {"start": "9pm", "end": "08:00"}}, "quiet_hours.start must be HH:MM"),
        ({"quiet_hours": {"start": "24:00", "end": "08:00"}}, "quiet_hours.start must be HH:MM"),
        ({"quiet_hours": {"start": "21:60", "end": "08:00"}}, "quiet_hours.start must be HH:MM"),
        ({"quiet_hours": {"start": "21:00:00", "end": "08:00"}}, "quiet_hours.start must be HH:MM"),
        ({"quiet_hours": {"start": "２１:００", "end": "08:00"}}, "quiet_hours.start must be HH:MM"),
        ({"quiet_hours": {"start": 21, "end": "08:00"}}, "quiet_hours.start must be HH:MM"),
        ({"quiet_hours": {"end": "08:00"}}, "quiet_hours.start must be HH:MM"),
        ({"quiet_hours": {"start": "21:00", "end": "8"}}, "quiet_hours.end must be HH:MM"),
        ({"quiet_hours": {"start": "21:00"}}, "quiet_hours.end must be HH:MM"),
        (
            {"quiet_hours": {"start": "21:00", "end": "21:00"}},
            "quiet_hours.end must differ from quiet_hours.start",
        ),
        ({"quiet_hours": {"start": "21:00", "end": "08:00", "days": "all"}}, "quiet_hours has unknown keys"),
        ({"quiet_hours": "21:00-08:00"}, "quiet_hours must be"),
        ({"quiet_hours": []}, "quiet_hours must be"),
        ({"cap_hours": -1}, "cap_hours must be a number from 0 to 168"),
        ({"cap_hours": 168.5}, "cap_hours must be a number from 0 to 168"),
        ({"cap_hours": 10**400}, "cap_hours must be a number from 0 to 168"),
        ({"cap_hours": float("nan")}, "cap_hours must be a number from 0 to 168"),
        ({"cap_hours": float("inf")}, "cap_hours must be a number from 0 to 168"),
        ({"cap_hours": "16"}, "cap_hours must be a number from 0 to 168"),
        ({"cap_hours": True}, "cap_hours must be a number from 0 to 168"),
        ({"cap_hours": None}, "cap_hours must be a number from 0 to 168"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone 'Mars/Olympus_Mons' is unknown"),
        ({"time_zone": "Asia"}, "time_zone 'Asia' is unknown"),  # a folder of the zone database
        ({"time_zone": "../../etc/passwd"}, "time_zone '../../etc/passwd' is unknown"),
        ({"time_zone": ""}, "time_zone '' is unknown"),
        ({"time_zone": 9}, "time_zone must be an IANA time zone name"),
    ],
)
def test_validation_names_the_bad_field(document, message):
    with pytest.raises(InvalidMarketingPolicy, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        validate_policy(document)


def test_a_document_that_is_not_an_object():
    with pytest.raises(InvalidMarketingPolicy, match="must be a JSON object"):
        validate_policy(["cap_hours", 16])  # type: ignore[arg-type]


def test_an_unknown_store_time_zone_is_named():
    with pytest.raises(InvalidMarketingPolicy, match="time_zone 'Nowhere/Town' is unknown"):
        validate_policy({}, time_zone="Nowhere/Town")


def test_the_error_is_a_value_error_for_callers_that_catch_those():
    assert issubclass(InvalidMarketingPolicy, ValueError)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time_zone": "Not/AZone"}, "time_zone 'Not/AZone' is unknown"),
        ({"quiet_hours": (time(8), time(8))}, "quiet_hours.end must differ"),
        ({"cap_hours": 200}, "cap_hours must be a number"),
        ({"cap_hours": float("nan")}, "cap_hours must be a number"),
        ({"cap_hours": "16"}, "cap_hours must be a number"),
    ],
)
def test_a_policy_built_in_code_is_checked_too(fields, message):
    with pytest.raises(InvalidMarketingPolicy, match=message):
        MarketingPolicy(**fields)


hhmm = st.builds(time, st.integers(0, 23), st.integers(0, 59))
policies = st.builds(
    MarketingPolicy,
    time_zone=st.sampled_from(["Asia/Tokyo", "America/New_York", "UTC", "Asia/Kolkata"]),
    quiet_hours=st.one_of(st.none(), st.tuples(hhmm, hhmm).filter(lambda w: w[0] != w[1])),
    cap_hours=st.one_of(st.integers(0, 168).map(float), st.floats(0, 168, allow_nan=False)),
)


@BOUNDED
@given(policies)
def test_to_config_and_back_is_the_same_policy(policy):
    assert validate_policy(policy.to_config()) == policy


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
documents = st.dictionaries(
    st.sampled_from([*POLICY_KEYS, "other"]),
    st.one_of(
        json_values,
        st.dictionaries(st.sampled_from(["start", "end", "x"]), st.one_of(st.text(max_size=6), json_values)),
    ),
)


@BOUNDED
@given(documents)
def test_any_document_gives_a_policy_or_a_named_error(document):
    try:
        policy = validate_policy(document)
    except InvalidMarketingPolicy as error:
        assert str(error).split()[0].split(".")[0] in ("time_zone", "quiet_hours", "cap_hours")
    else:
        assert isinstance(policy, MarketingPolicy)


# -- purity ------------------------------------------------------------------------------------------
def test_the_gate_imports_only_the_standard_library_and_the_domain():
    source = Path(gate.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    outside = {
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names and name not in ("omotenashi.domain",)
    }
    assert outside == set()
