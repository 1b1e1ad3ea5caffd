"""Money as a reader expects it, and as the ledger stores it: exact, never a float.

Amounts are `Decimal` (or `int`); a `float` is refused with TypeError, because by the time a price
is a float it may already be wrong (0.1 + 0.2). Every currency has its ISO 4217 minor units (JPY 0,
USD 2, KWD 3); a well-formed code missing from the table is treated as 2, the most common case.

Rounding: `format_money` rounds ROUND_HALF_UP (the way a shop rounds a price, 0.5 up, unlike
Python's default banker's rounding) to the currency's minor units, and only when the amount has
more digits than the currency allows (a computed amount such as "16.205" USD reads "$16.21");
"3240" JPY or "16.2" USD are shown as they are ("¥3,240", "$16.20"). `to_minor` never rounds: an
amount it cannot store exactly ("1.5" JPY) is a ValueError, since the ledger and the reports must add
up to what the storefront sent.

Symbols. Japanese e-commerce writes prices in lists as "¥3,240" (Rakuten, Amazon.co.jp, Shopify's
Japanese themes): the prefix sign lines prices up in a column and is the storefront's own form;
"3,240円" belongs in running text. The sign is U+00A5 (half-width) as Shopify writes it. Other
currencies in Japanese carry an unambiguous prefix ("US$16.20", since "$" alone does not say
which dollar to a reader in Japan); in English "$16.20", "€16.20", "£16.20", "¥3,240". A currency
without a symbol here reads "16.20 AUD" in both languages: a code is never ambiguous.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

# ISO 4217 minor units that differ from 2, and the common 2-digit currencies (listed so a reader
# does not wonder whether they were forgotten). Anything else well-formed: 2.
MINOR_UNITS: dict[str, int] = {
    # 0: no minor unit in use
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # 2
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "IDR": 2,
    "INR": 2,
    "MYR": 2,
    "NZD": 2,
    "PHP": 2,
    "SGD": 2,
    "THB": 2,
    "TWD": 2,
    "USD": 2,
    # 3
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # 4
    "CLF": 4,
    "UYW": 4,
}
DEFAULT_MINOR_UNITS = 2

# Prefix symbols by reader's language; any other currency is written "<amount> <code>".
_PREFIX: dict[str, dict[str, str]] = {
    "ja": {"JPY": "¥", "USD": "US$", "EUR": "€", "GBP": "£"},
    "en": {"JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£"},
}


def _currency(currency: str) -> str:
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return code


def _decimal(amount: Decimal | int) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be a Decimal or an int, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {amount}")
    return value


def minor_units(currency: str) -> int:
    """Digits after the decimal point for the currency (ISO 4217): JPY 0, USD 2, KWD 3; unknown 2."""
    return MINOR_UNITS.get(_currency(currency), DEFAULT_MINOR_UNITS)


def to_minor(amount: Decimal | int, currency: str) -> int:
    """The amount in minor units (USD 16.20 -> 1620, JPY 3240 -> 3240), exactly. ValueError if the
    amount has more digits than the currency allows (never rounds). Signed amounts pass through."""
    units = minor_units(currency)
    sign, digits, exponent = _decimal(amount).as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    shift = exponent + units
    if shift >= 0:
        magnitude = int("".join(map(str, digits))) * 10**shift
    else:
        if any(digits[shift:]):
            raise ValueError(f"{amount} has more than {units} decimal places for {currency}")
        kept = digits[:shift]
        magnitude = int("".join(map(str, kept))) if kept else 0
    return -magnitude if sign else magnitude


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units back to an amount with exactly the currency's decimal places (1620 USD ->
    Decimal("16.20"), 3240 JPY -> Decimal("3240")). Exact for any integer."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"minor units must be an int, not {type(minor).__name__}")
    units = minor_units(currency)
    digits = tuple(int(d) for d in str(abs(minor)))
    return Decimal((1 if minor < 0 else 0, digits, -units))


def format_money(amount: Decimal | int, currency: str, locale: str) -> str:
    """ja: "¥3,240", "US$16.20", "16.20 AUD"; en: "¥3,240", "$16.20", "€16.20", "16.20 AUD".
    Thousands separators; the currency's decimal places; ROUND_HALF_UP only for extra digits.
    Negative amounts are refused (ValueError): money in events is never negative."""
    value = _decimal(amount)
    if value < 0:
        raise ValueError(f"negative amount of money: {amount}")
    code = _currency(currency)
    units = minor_units(code)
    with localcontext() as context:
        # Enough precision for any amount: quantize must never round the integer part.
        context.prec = max(28, value.adjusted() + units + 2)
        quantized = value.quantize(Decimal(1).scaleb(-units), rounding=ROUND_HALF_UP).copy_abs()
        number = f"{quantized:,.{units}f}"  # Decimal's own formatting: exact, no float
    prefix = _PREFIX.get(locale, _PREFIX["en"]).get(code)
    return f"{prefix}{number}" if prefix else f"{number} {code}"
