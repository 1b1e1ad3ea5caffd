"""The loyalty emails' templates (points_earned, tier_changed, points_expiring, birthday_bonus; ja and
en): points with a thousands separator, tier names, optional values left out rather than printed as
"None", the up/down/joined variants of a tier change; HTML escaped and well formed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from omotenashi.messaging import templates
from tests.unit.html_balance import balanced

ROOT = Path(__file__).resolve().parents[2] / "templates"
LOCALES = ("ja", "en")
KINDS = ("points_earned", "tier_changed", "points_expiring", "birthday_bonus")
STORE = {"name": "デモショップ", "sender": "shop@demo.example"}
STORE_ID = "store_demo"  # no override folder: every file falls back to the defaults

BASE: dict[str, dict[str, Any]] = {
    "points_earned": {
        "points": 1234,
        "order_id": "ord_20270301_0001",
        "available": 56789,
        "expires_on": "2028年3月31日",
        "tier_label": "ゴールド",
    },
    "tier_changed": {
        "tier_label": "ゴールド",
        "previous_tier_label": "シルバー",
        "direction": "up",
        "rate_percent": "2",
        "next_tier_label": "プラチナ",
        "spend_to_next": "¥38,000",
        "window_months": 12,
    },
    "points_expiring": {"points": 12345, "expires_on": "2027年3月31日 23:59"},
    "birthday_bonus": {"points": 1500, "available": 23456, "expires_on": "2028年3月31日"},
}
# Values that may be None; each kind must render without them.
OPTIONAL = {
    "points_earned": ("expires_on", "tier_label"),
    "tier_changed": ("next_tier_label", "spend_to_next"),
    "points_expiring": (),
    "birthday_bonus": ("expires_on",),
}


def _context(kind: str, locale: str = "ja", name: str | None = "山田", **overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"store": dict(STORE), "customer": {"name": name}, "locale": locale}
    context.update(BASE[kind])
    context.update(overrides)
    return context


def _render(kind: str, locale: str = "ja", **overrides: Any) -> templates.RenderedMessage:
    return templates.render(kind, locale, _context(kind, locale, **overrides), store_id=STORE_ID)


def _all(rendered: templates.RenderedMessage) -> str:
    return rendered.subject + "\n" + rendered.text + "\n" + rendered.html


def _assert_clean(rendered: templates.RenderedMessage) -> None:
    everything = _all(rendered)
    assert rendered.subject and "\n" not in rendered.subject and "デモショップ" in rendered.subject
    for leak in ("None", "Undefined", "{{", "}}", "{%", "%}", "{:,}"):
        assert leak not in everything, leak
    balanced(rendered.html)
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert rendered.text.strip().endswith(("デモショップ", "shop@demo.example"))  # signed by the store


def test_every_kind_has_ja_and_en_with_all_parts():
    for kind in KINDS:
        for locale in LOCALES:
            for part in templates.PARTS:
                assert (ROOT / kind / locale / part).is_file(), f"{kind}/{locale}/{part} missing"
            html = (ROOT / kind / locale / "body.html").read_text(encoding="utf-8")
            assert f'<html lang="{locale}">' in html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", [None, "", "山田"])
def test_renders_with_and_without_a_name(kind, locale, name):
    rendered = _render(kind, locale, name=name)
    _assert_clean(rendered)
    if locale == "ja":
        greeting = "山田 様" if name else "お客様"
    elif kind == "birthday_bonus":  # a marketing email, in cart_reminder's voice
        greeting = "Hi 山田," if name else "Hi there,"
    else:
        greeting = "Dear 山田," if name else "Hello,"
    assert rendered.text.startswith(greeting) and greeting in rendered.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_optional_values_may_all_be_none(kind, locale):
    rendered = _render(kind, locale, name=None, **dict.fromkeys(OPTIONAL[kind]))
    _assert_clean(rendered)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["points_earned", "points_expiring", "birthday_bonus"])
def test_points_are_shown_with_a_thousands_separator(kind, locale):
    rendered = _render(kind, locale)
    points = f"{BASE[kind]['points']:,}"
    assert points in rendered.subject and points in rendered.text and points in rendered.html
    if "available" in BASE[kind]:
        available = f"{BASE[kind]['available']:,}"
        assert available in rendered.text and available in rendered.html
    assert str(BASE[kind]["points"]) not in _all(rendered)  # never unformatted
    unit = "ポイント" if locale == "ja" else "points"
    assert unit in rendered.text and unit in rendered.html


@pytest.mark.parametrize("locale", LOCALES)
def test_one_point_reads_in_the_singular(locale):
    for kind in ("points_earned", "points_expiring", "birthday_bonus"):
        rendered = _render(kind, locale, points=1)
        _assert_clean(rendered)
        if locale == "en":
            assert "1 point " in rendered.subject and "1 points" not in _all(rendered)
        else:
            assert "1ポイント" in rendered.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_points_earned_names_the_order_balance_tier_and_expiry(locale):
    rendered = _render("points_earned", locale)
    for body in (rendered.text, rendered.html):
        for value in ("ord_20270301_0001", "ゴールド", "2028年3月31日", "1,234", "56,789"):
            assert value in body, value
    assert ("返品受付期間" if locale == "ja" else "return period") in rendered.text
    assert "shop@demo.example" in rendered.text and "shop@demo.example" in rendered.html
    bare = _render("points_earned", locale, expires_on=None, tier_label=None)
    for body in (bare.text, bare.html):
        assert "ゴールド" not in body and "2028年" not in body
        assert ("有効期限" if locale == "ja" else "valid until") not in body
        assert ("会員ランク" if locale == "ja" else "Membership tier") not in body


@pytest.mark.parametrize("locale", LOCALES)
def test_points_earned_shows_a_negative_balance_as_it_is(locale):
    rendered = _render("points_earned", locale, available=-1234)
    _assert_clean(rendered)
    assert "-1,234" in rendered.text and "-1,234" in rendered.html


def _tier(locale: str, variant: str, **overrides: Any) -> templates.RenderedMessage:
    variants = {
        "up": {},
        "down": {
            "tier_label": "シルバー",
            "previous_tier_label": "ゴールド",
            "direction": "down",
            "rate_percent": "1",
            "next_tier_label": "ゴールド",
            "spend_to_next": "¥12,000",
        },
        "joined": {"tier_label": "レギュラー", "previous_tier_label": None, "rate_percent": "1",
                   "next_tier_label": "シルバー", "spend_to_next": "¥30,000"},
    }  # fmt: skip
    return _render("tier_changed", locale, **(variants[variant] | overrides))


@pytest.mark.parametrize("locale", LOCALES)
def test_tier_changed_subjects_differ_for_up_down_and_joined(locale):
    up, down, joined = (_tier(locale, v) for v in ("up", "down", "joined"))
    for rendered in (up, down, joined):
        _assert_clean(rendered)
    assert len({up.subject, down.subject, joined.subject}) == 3
    assert "ゴールド" in up.subject  # good news names the new tier up front
    congratulations = {"ja": "アップしました", "en": "Congratulations"}[locale]
    assert congratulations in up.subject
    assert congratulations not in down.subject + down.text
    welcome = {"ja": "ご参加", "en": "Welcome"}[locale]
    assert welcome in joined.subject and welcome not in up.subject + down.subject


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("variant", ["up", "down", "joined"])
def test_tier_changed_names_the_tiers_rate_and_window(locale, variant):
    rendered = _tier(locale, variant)
    context = (
        _context("tier_changed")
        | {
            "up": {},
            "down": {"tier_label": "シルバー", "previous_tier_label": "ゴールド", "rate_percent": "1"},
            "joined": {"tier_label": "レギュラー", "previous_tier_label": None, "rate_percent": "1"},
        }[variant]
    )
    for body in (rendered.text, rendered.html):
        assert context["tier_label"] in body
        assert f"{context['rate_percent']}%" in body
        assert ("直近12か月間" if locale == "ja" else "over the last 12 months") in body
        if context["previous_tier_label"]:
            assert context["previous_tier_label"] in body
    if variant == "joined":
        assert ("会員プログラムにご参加" if locale == "ja" else "Thank you for joining") in rendered.text


@pytest.mark.parametrize("locale", LOCALES)
def test_tier_changed_says_what_the_next_tier_needs(locale):
    rendered = _tier(locale, "up")
    sentence = {
        "ja": "あと¥38,000のお買い物で、次の会員ランク「プラチナ」にアップします。",
        "en": "Spend ¥38,000 more to reach プラチナ.",
    }[locale]
    assert sentence in rendered.text
    assert "¥38,000" in rendered.html and "プラチナ" in rendered.html
    without_amount = _tier(locale, "up", spend_to_next=None)
    assert "プラチナ" in without_amount.text and "¥38,000" not in _all(without_amount)
    top = _tier(locale, "up", tier_label="プラチナ", previous_tier_label="ゴールド", next_tier_label=None,
                spend_to_next=None)  # fmt: skip
    highest = {"ja": "最上位の会員ランク", "en": "our highest tier"}[locale]
    assert highest in top.text and highest in top.html and highest not in rendered.text
    assert ("次の会員ランク" if locale == "ja" else "Next tier") not in top.text + top.html


def test_tier_changed_window_of_one_month_reads_naturally():
    assert "over the last month." in _tier("en", "up", window_months=1).text
    assert "直近1か月間" in _tier("ja", "up", window_months=1).text


@pytest.mark.parametrize("locale", LOCALES)
def test_points_expiring_warns_with_the_date_and_explains_the_extension(locale):
    rendered = _render("points_expiring", locale)
    assert "2027年3月31日 23:59" in rendered.subject
    extension = {
        "ja": "お持ちのすべてのポイントの有効期限が延長されます",
        "en": "the validity of all your points is extended",
    }[locale]
    for body in (rendered.text, rendered.html):
        assert "12,345" in body and "2027年3月31日 23:59" in body
        assert extension in body
    assert ("ご注文のポイントが確定し" if locale == "ja" else "points from an order") in rendered.text


@pytest.mark.parametrize("locale", LOCALES)
def test_birthday_bonus_greets_warmly(locale):
    rendered = _render("birthday_bonus", locale)
    greeting = {"ja": "お誕生日おめでとうございます", "en": "Happy birthday"}[locale]
    assert greeting in rendered.subject and greeting in rendered.text and greeting in rendered.html
    for body in (rendered.text, rendered.html):
        assert "1,500" in body and "23,456" in body and "2028年3月31日" in body
    without_expiry = _render("birthday_bonus", locale, expires_on=None)
    assert "2028年" not in _all(without_expiry)


@pytest.mark.parametrize("locale", LOCALES)
def test_birthday_bonus_does_not_carry_the_legal_footer_itself(locale):
    """compose appends the marketing footer to every marketing email; a template with its own would
    print it twice, and a store override could drop it."""
    rendered = _render("birthday_bonus", locale)
    for marker in ("配信停止", "nsubscribe", "unsubscribe_url"):
        assert marker not in rendered.text + rendered.html
    for part in templates.PARTS:
        assert "marketing_footer" not in (ROOT / "birthday_bonus" / locale / part).read_text(encoding="utf-8")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_html_escapes_and_text_keeps_what_the_customer_typed(kind, locale):
    hostile = "<b>x</b>"
    rendered = _render(kind, locale, name=hostile, store={"name": "A&B <Shop>", "sender": "s@x.example"})
    assert "<b>" not in rendered.html and "<Shop>" not in rendered.html
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered.html and "A&amp;B &lt;Shop&gt;" in rendered.html
    assert hostile in rendered.text and "A&B <Shop>" in rendered.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_tier_labels_are_escaped_in_html(locale):
    rendered = _tier(locale, "up", tier_label="<i>Gold</i>", next_tier_label="Platinum & more")
    assert "&lt;i&gt;Gold&lt;/i&gt;" in rendered.html and "<i>" not in rendered.html
    assert "Platinum &amp; more" in rendered.html and "<i>Gold</i>" in rendered.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_variable_is_required(kind, locale):
    """A missing variable fails the render: StrictUndefined's UndefinedError, or, where the value is
    first met by "{:,}".format(...), the TypeError of StrictUndefined.__format__."""
    for missing in ["customer", *BASE[kind]]:
        context = _context(kind, locale)
        del context[missing]
        with pytest.raises((UndefinedError, TypeError)) as error:
            templates.render(kind, locale, context, store_id=STORE_ID)
        assert isinstance(error.value, UndefinedError) or "Undefined" in str(error.value), missing
