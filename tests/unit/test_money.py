from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.messaging.money import MINOR_UNITS, format_money, from_minor, minor_units, to_minor

PROPERTY = settings(max_examples=200, deadline=None)
CURRENCIES = st.sampled_from(["JPY", "KRW", "USD", "EUR", "GBP", "AUD", "TWD", "BHD", "KWD", "XYZ", "CLF"])


def _amounts(currency: str) -> st.SearchStrategy[Decimal]:
    """Non-negative amounts with at most the currency's decimal places, up to 10^15 (a huge cart)."""
    units = minor_units(currency)
    return st.integers(min_value=0, max_value=10**15 * 10**units).map(lambda n: Decimal(n).scaleb(-units))


@pytest.mark.parametrize(
    ("currency", "units"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("USD", 2),
        ("EUR", 2),
        ("TWD", 2),
        ("BHD", 3),
        ("KWD", 3),
        ("usd", 2),
        ("ZZZ", 2),
    ],
)
def test_minor_units(currency, units):
    assert minor_units(currency) == units


@pytest.mark.parametrize("bad", ["", "US", "USDX", "U$D", "12A", "ＵＳＤ"])
def test_malformed_currency_code_is_refused(bad):
    with pytest.raises(ValueError):
        minor_units(bad)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("3240", "JPY", "ja", "¥3,240"),
        ("3240", "JPY", "en", "¥3,240"),
        ("3240.00", "JPY", "ja", "¥3,240"),
        ("0", "JPY", "ja", "¥0"),
        ("1234567", "JPY", "ja", "¥1,234,567"),
        ("16.2", "USD", "en", "$16.20"),
        ("16.20", "USD", "ja", "US$16.20"),
        ("16.20", "EUR", "en", "€16.20"),
        ("16.20", "EUR", "ja", "€16.20"),
        ("1234.5", "GBP", "en", "£1,234.50"),
        ("16.20", "AUD", "en", "16.20 AUD"),
        ("16.20", "AUD", "ja", "16.20 AUD"),
        ("50000", "KRW", "en", "50,000 KRW"),
        ("1.5", "KWD", "en", "1.500 KWD"),
        ("1234.567", "BHD", "ja", "1,234.567 BHD"),
        ("16.20", "XYZ", "en", "16.20 XYZ"),
        ("16.20", "usd", "en", "$16.20"),
        ("16.20", "USD", "fr", "$16.20"),  # an unknown reader language reads English
        ("1E+3", "USD", "en", "$1,000.00"),
        ("12345678901234567890.12", "USD", "en", "$12,345,678,901,234,567,890.12"),  # no float
    ],
)
def test_format_money(amount, currency, locale, expected):
    assert format_money(Decimal(amount), currency, locale) == expected


def test_int_amounts_are_money_too():
    assert format_money(3240, "JPY", "ja") == "¥3,240"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("16.205", "USD", "$16.21"),  # half up, not banker's rounding (which gives 16.20)
        ("16.215", "USD", "$16.22"),
        ("16.2049", "USD", "$16.20"),
        ("1620.5", "JPY", "¥1,621"),
        ("1621.5", "JPY", "¥1,622"),
        ("0.4", "JPY", "¥0"),
        ("999.995", "USD", "$1,000.00"),
        ("1.0005", "KWD", "1.001 KWD"),
    ],
)
def test_rounds_half_up_only_extra_digits(amount, currency, expected):
    assert format_money(Decimal(amount), currency, "en") == expected


@pytest.mark.parametrize("amount", [Decimal("-1"), Decimal("-0.01"), -5, Decimal("-0.001")])
def test_negative_amounts_are_refused(amount):
    with pytest.raises(ValueError):
        format_money(amount, "USD", "en")


def test_negative_zero_reads_as_zero():
    assert format_money(Decimal("-0"), "JPY", "ja") == "¥0"
    assert format_money(Decimal("-0.00"), "USD", "en") == "$0.00"


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("sNaN")])
def test_non_finite_amounts_are_refused(amount):
    with pytest.raises(ValueError):
        format_money(amount, "USD", "en")
    with pytest.raises(ValueError):
        to_minor(amount, "USD")


@pytest.mark.parametrize("amount", [16.2, 3240.0, True, "16.20", None])
def test_floats_and_other_types_are_refused(amount):
    with pytest.raises(TypeError):
        format_money(amount, "USD", "en")
    with pytest.raises(TypeError):
        to_minor(amount, "USD")


def test_from_minor_refuses_non_integers():
    for bad in (16.2, Decimal("1620"), True, "1620"):
        with pytest.raises(TypeError):
            from_minor(bad, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("16.20", "USD", 1620),
        ("16.2", "USD", 1620),
        ("16", "USD", 1600),
        ("0.01", "USD", 1),
        ("3240", "JPY", 3240),
        ("3240.000", "JPY", 3240),
        ("1E+3", "JPY", 1000),
        ("1.234", "KWD", 1234),
        ("0", "USD", 0),
        ("-16.20", "USD", -1620),  # conversions are signed; only display refuses negatives
    ],
)
def test_to_minor(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (1620, "USD", "16.20"),
        (1, "USD", "0.01"),
        (0, "USD", "0.00"),
        (3240, "JPY", "3240"),
        (1234, "KWD", "1.234"),
    ],
)
def test_from_minor_has_the_currency_places(minor, currency, amount):
    value = from_minor(minor, currency)
    assert str(value) == amount


@pytest.mark.parametrize(("amount", "currency"), [("1.5", "JPY"), ("16.205", "USD"), ("0.0001", "KWD")])
def test_to_minor_never_rounds(amount, currency):
    with pytest.raises(ValueError):
        to_minor(Decimal(amount), currency)


@PROPERTY
@given(data=st.data(), currency=CURRENCIES)
def test_round_trip_through_minor_units_is_exact(data, currency):
    amount = data.draw(_amounts(currency))
    minor = to_minor(amount, currency)
    assert isinstance(minor, int)
    back = from_minor(minor, currency)
    assert back == amount
    assert back.as_tuple().exponent == -minor_units(currency)
    assert to_minor(back, currency) == minor


@PROPERTY
@given(minor=st.integers(min_value=-(10**30), max_value=10**30), currency=CURRENCIES)
def test_every_integer_of_minor_units_round_trips(minor, currency):
    assert to_minor(from_minor(minor, currency), currency) == minor


@PROPERTY
@given(data=st.data(), currency=CURRENCIES, locale=st.sampled_from(["ja", "en"]))
def test_formatting_is_exact(data, currency, locale):
    """What the reader sees is the exact amount: digits a float would lose (past 15-17 significant
    figures) are all there, and the grouping is every three digits."""
    amount = data.draw(_amounts(currency))
    shown = format_money(amount, currency, locale)
    number = shown.split(" ")[0].lstrip("¥$€£US")
    integer, _, fraction = number.partition(".")
    groups = integer.split(",")
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
    assert len(fraction) == minor_units(currency)
    assert Decimal(number.replace(",", "")) == amount


@PROPERTY
@given(
    amount=st.decimals(min_value=0, max_value=10**12, allow_nan=False, allow_infinity=False, places=6),
    currency=CURRENCIES,
)
def test_formatting_rounds_to_the_nearest_minor_unit_half_up(amount, currency):
    units = minor_units(currency)
    shown = format_money(amount, currency, "en")
    value = Decimal(shown.split(" ")[0].lstrip("¥$€£").replace(",", ""))
    step = Decimal(1).scaleb(-units)
    assert abs(value - amount) <= step / 2
    if abs(value - amount) == step / 2:
        assert value > amount  # a tie goes up


def test_the_table_is_well_formed():
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)
    assert MINOR_UNITS["JPY"] == 0 and MINOR_UNITS["USD"] == 2 and MINOR_UNITS["KWD"] == 3
