"""The review emails' templates (review_request and review_reminder, marketing; review_reward,
transactional; ja and en), rendered through messaging/templates.render as the workers do: the reward
and the statement that it does not depend on the rating (景品表示法, stealth marketing) in both parts
whenever there is a reward and never otherwise, a review link per item, the coupon code, polite
fallbacks for a missing name; HTML escaped and well formed."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from omotenashi.domain import Store
from omotenashi.messaging import templates
from omotenashi.messaging.compose import Draft, MarketingFooter, compose
from omotenashi.messaging.footer import render_footer, with_footer
from tests.unit.html_balance import HtmlBalance, balanced

ROOT = Path(__file__).resolve().parents[2] / "templates"
LOCALES = ("ja", "en")
REQUESTS = ("review_request", "review_reminder")  # marketing
KINDS = (*REQUESTS, "review_reward")  # review_reward is transactional
STORE = {"name": "デモショップ", "sender": "shop@demo.example"}
SHOWN = 20  # items listed in full; more are counted in one line
REVIEW_URL = "https://shop.example/reviews/new?order=ord_1&sku={sku}&token=t"

POINTS = {"kind": "points", "points": 1500, "limit_days": 30}
COUPON = {"kind": "coupon", "points": None, "limit_days": 0}

# The sentences the law needs (景品表示法): what the reward is, that it is the same whatever the
# rating or content, that it is for a future purchase.
REWARD_SENTENCE = {
    ("ja", "points"): "レビューをご投稿いただいた方に、次回のお買い物で使える1,500ポイントを進呈します。",
    ("ja", "coupon"): "レビューをご投稿いただいた方に、次回のお買い物で使えるクーポンをお贈りします。",
    ("en", "points"): "Post a review and we will give you 1,500 points to use on your next purchase.",
    ("en", "coupon"): "Post a review and we will send you a coupon to use on your next purchase.",
}
NEUTRAL = {
    "ja": "評価の高低や内容にかかわらず、同じ特典を差し上げます。率直なご感想をお聞かせください。",
    "en": "The reward is the same whatever your rating or what you write: we want your honest opinion.",
}
FUTURE = {
    "ja": "今回のご注文の割引ではございません。",
    "en": "The reward is for a future purchase; it is not a discount on this order.",
}
LIMIT = {"ja": "※特典は30日間に1回までとなります。", "en": "The review reward is limited to one per 30 days."}
BUTTON = {"ja": "レビューを書く", "en": "Write a review"}


def _item(name: str = "玉露 100g", *, n: int = 1, image: bool = True, review: bool = True) -> dict[str, Any]:
    return {
        "sku": f"SKU-{n}",
        "name": name,
        "quantity": 2,
        "image_url": f"https://shop.example/i/{n}.jpg" if image else None,
        "product_url": f"https://shop.example/p/{n}",
        "review_url": REVIEW_URL.format(sku=f"SKU-{n}") if review else None,
    }


def _request_context(kind: str, locale: str, **overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "store": dict(STORE),
        "customer": {"name": "山田"},
        "order_id": "ord_20270301_0001",
        "ordered_on": "2027年3月1日" if locale == "ja" else "March 1, 2027",
        "items": [_item(n=1), _item("湯呑み", n=2, image=False, review=False)],
        "reward": dict(POINTS),
        "step": 1 if kind == "review_request" else 2,
        "locale": locale,
    }
    context.update(overrides)
    return context


def _reward_context(locale: str, **overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "store": dict(STORE),
        "customer": {"name": "山田"},
        "source": "review",
        "order_id": "ord_20270301_0001",
        "points": 1500,
        "available": 23456,
        "coupon_code": None,
        "locale": locale,
    }
    context.update(overrides)
    return context


def _context(kind: str, locale: str, **overrides: Any) -> dict[str, Any]:
    if kind == "review_reward":
        return _reward_context(locale, **overrides)
    return _request_context(kind, locale, **overrides)


def _render(kind: str, locale: str = "ja", **overrides: Any) -> templates.RenderedMessage:
    return templates.render(kind, locale, _context(kind, locale, **overrides), store_id="store_demo")


def _all(rendered: templates.RenderedMessage) -> str:
    return rendered.subject + "\n" + rendered.text + "\n" + rendered.html


def _assert_clean(rendered: templates.RenderedMessage, locale: str) -> HtmlBalance:
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.subject.startswith("【デモショップ】" if locale == "ja" else "[デモショップ] ")
    for leak in ("None", "Undefined", "{{", "}}", "{%", "%}", "{:,}"):
        assert leak not in _all(rendered), leak
    assert rendered.html.startswith("<!DOCTYPE html>") and f'<html lang="{locale}">' in rendered.html
    return balanced(rendered.html)


def test_every_kind_has_ja_and_en_with_all_parts():
    for kind in KINDS:
        for locale in LOCALES:
            for part in templates.PARTS:
                assert (ROOT / kind / locale / part).is_file(), f"{kind}/{locale}/{part} missing"


# -- review_request and review_reminder ------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
@pytest.mark.parametrize("reward", [None, POINTS, COUPON])
@pytest.mark.parametrize("name", [None, "", "山田"])
def test_requests_render_cleanly_with_and_without_a_name_or_reward(kind, locale, reward, name):
    rendered = _render(kind, locale, reward=reward, customer={"name": name})
    _assert_clean(rendered, locale)
    # In English a marketing email speaks in cart_reminder's and birthday_bonus's voice.
    greeting = {"ja": "山田 様" if name else "お客様", "en": "Hi 山田," if name else "Hi there,"}[locale]
    assert rendered.text.startswith(greeting) and greeting in rendered.html
    for body in (rendered.text, rendered.html):
        assert "ord_20270301_0001" in body and _context(kind, locale)["ordered_on"] in body
        assert "玉露 100g" in body and "湯呑み" in body
    assert rendered.text.strip().endswith("デモショップ")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
@pytest.mark.parametrize("reward_kind", ["points", "coupon"])
def test_a_reward_is_stated_with_its_neutrality_in_text_and_html(kind, locale, reward_kind):
    reward = dict(POINTS if reward_kind == "points" else COUPON)
    rendered = _render(kind, locale, reward=reward)
    for body in (rendered.text, rendered.html):
        assert REWARD_SENTENCE[(locale, reward_kind)] in body
        assert NEUTRAL[locale] in body
        assert FUTURE[locale] in body
        # The neutrality statement sits with the reward, not in small print far below it.
        assert 0 < body.index(NEUTRAL[locale]) - body.index(REWARD_SENTENCE[(locale, reward_kind)]) < 400
    other = "coupon" if reward_kind == "points" else "points"
    assert REWARD_SENTENCE[(locale, other)] not in _all(rendered)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_without_a_reward_no_reward_is_mentioned(kind, locale):
    rendered = _render(kind, locale, reward=None)
    everything = _all(rendered)
    for sentence in (*REWARD_SENTENCE.values(), NEUTRAL[locale], FUTURE[locale], LIMIT[locale]):
        assert sentence not in everything
    for word in ("特典", "進呈", "ポイント", "クーポン") if locale == "ja" else ("reward", "point", "coupon"):
        assert word not in everything, word


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_the_limit_note_only_when_there_is_a_limit(kind, locale):
    limited = _render(kind, locale, reward=dict(POINTS))
    assert LIMIT[locale] in limited.text and LIMIT[locale] in limited.html
    unlimited = _render(kind, locale, reward=dict(POINTS, limit_days=0))
    assert LIMIT[locale] not in _all(unlimited)
    assert ("1回まで" if locale == "ja" else "limited to one") not in _all(unlimited)
    one_day = _render(kind, locale, reward=dict(POINTS, limit_days=1))
    assert ("1日に1回まで" if locale == "ja" else "one per day.") in one_day.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_the_subject_names_the_reward(kind, locale):
    assert "1,500" in _render(kind, locale).subject
    assert ("クーポン" if locale == "ja" else "coupon") in _render(kind, locale, reward=dict(COUPON)).subject
    bare = _render(kind, locale, reward=None).subject
    assert "1,500" not in bare and ("クーポン" if locale == "ja" else "coupon") not in bare
    one = _render(kind, locale, reward=dict(POINTS, points=1)).subject
    assert ("1ポイント" if locale == "ja" else "1 point") in one and "1 points" not in one


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_each_item_links_to_its_review_page(kind, locale):
    rendered = _render(kind, locale)
    link = REVIEW_URL.format(sku="SKU-1")
    html_link = link.replace("&", "&amp;")
    assert f'href="{html_link}"' in rendered.html
    assert link in rendered.text
    button = rendered.html[rendered.html.index('bgcolor="#222222"') :]
    assert button.index(f'href="{html_link}"') < button.index(BUTTON[locale])
    # The item without a review link is named, and linked nowhere.
    assert "<strong>湯呑み</strong>" in rendered.html
    assert rendered.html.count(BUTTON[locale]) == 1
    assert "https://shop.example/p/" not in rendered.html  # the links go to the review pages
    assert (
        '<a href="' + html_link + '" target="_blank"><img src="https://shop.example/i/1.jpg"' in rendered.html
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_items_without_any_link_or_image(kind, locale):
    items = [_item(n=1, image=False, review=False), _item("湯呑み", n=2, image=False, review=False)]
    rendered = _render(kind, locale, items=items)
    tags = _assert_clean(rendered, locale).counts
    assert tags.get("img", 0) == 0 and 'width="80"' not in rendered.html
    assert BUTTON[locale] not in _all(rendered) and "reviews/new" not in _all(rendered)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_long_orders_show_twenty_items_and_count_the_rest(kind, locale):
    items = [_item(f"商品{n:02d}", n=n) for n in range(1, 26)]
    rendered = _render(kind, locale, items=items)
    for n in range(1, SHOWN + 1):
        assert f"商品{n:02d}" in rendered.text and f"商品{n:02d}" in rendered.html
    for n in range(SHOWN + 1, 26):
        assert f"商品{n:02d}" not in _all(rendered)
    rest = {"ja": "ほか5件の商品", "en": "5 more items"}[locale]
    assert rest in rendered.text and rest in rendered.html
    assert _assert_clean(rendered, locale).counts["img"] == SHOWN
    assert rendered.html.count(BUTTON[locale]) == SHOWN
    one_more = _render(kind, locale, items=items[: SHOWN + 1])
    assert ("ほか1件の商品" if locale == "ja" else "1 more item from") in one_more.text
    exactly = _render(kind, locale, items=items[:SHOWN])
    assert ("件の商品は" if locale == "ja" else " more item") not in exactly.text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_reminder_reads_as_a_gentle_reminder(locale):
    request, reminder = _render("review_request", locale), _render("review_reminder", locale, step=2)
    assert request.subject != reminder.subject and request.text != reminder.text
    gentle = {"ja": "先日お送りしたレビューのお願い", "en": "gentle reminder"}[locale]
    for part in (reminder.subject, reminder.text, reminder.html):
        assert gentle in part.lower() if locale == "en" else gentle in part
    assert gentle not in _all(request).lower()
    for reward in (None, COUPON):
        assert (
            _render("review_request", locale, reward=reward).subject
            != _render("review_reminder", locale, reward=reward).subject
        )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_html_escapes_what_came_from_outside_and_text_keeps_it(kind, locale):
    rendered = _render(
        kind,
        locale,
        items=[_item("<b>x</b>", n=1)],
        customer={"name": "<i>太郎</i>"},
        store={"name": "A&B <Shop>", "sender": "s@x.example"},
        order_id="<o&1>",
    )
    for raw in ("<b>", "<i>", "<Shop>", "<o&1>"):
        assert raw not in rendered.html
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered.html and 'alt="&lt;b&gt;x&lt;/b&gt;"' in rendered.html
    assert "&lt;i&gt;太郎&lt;/i&gt;" in rendered.html and "A&amp;B &lt;Shop&gt;" in rendered.html
    assert "&lt;o&amp;1&gt;" in rendered.html
    assert "<b>x</b>" in rendered.text and "<i>太郎</i>" in rendered.text
    assert "A&B <Shop>" in rendered.subject
    balanced(rendered.html)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_the_templates_do_not_carry_the_legal_footer_themselves(kind, locale):
    rendered = _render(kind, locale)
    for marker in ("配信停止", "nsubscribe", "unsubscribe_url"):
        assert marker not in rendered.text + rendered.html
    for part in templates.PARTS:
        assert "marketing_footer" not in (ROOT / kind / locale / part).read_text(encoding="utf-8")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_composed_as_marketing_they_carry_the_footer_once(kind, locale):
    store = Store(
        store_id="demo",
        name="デモショップ",
        sender="shop@demo.example",
        staff_addresses=("staff@demo.example",),
        default_locale="ja",
        time_zone="Asia/Tokyo",
        sla_hours=24,
    )
    unsubscribe = "https://api.example/v1/unsubscribe?token=abc"
    context = _context(kind, locale)
    del context["store"]  # compose adds it
    draft = Draft(
        kind=kind,
        store=store,
        locale=locale,
        to="taro@example.jp",
        to_name="山田",
        context=context,
        reference=f"ord_1#{kind}",
        marketing=MarketingFooter("〒100-0001\n東京都千代田区千代田1-1", "support@demo.example", unsubscribe),
    )
    message = message_from_bytes(
        compose(draft, datetime(2027, 3, 10, 2, tzinfo=UTC)).raw_mime, policy=default
    )
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert text.count(unsubscribe) == 1 and html.count(unsubscribe) == 1
    assert NEUTRAL[locale] in text and NEUTRAL[locale] in html
    assert html.index(NEUTRAL[locale]) < html.index(unsubscribe) < html.lower().index("</body>")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
def test_worst_case_email_stays_under_gmails_clipping_size(kind, locale):
    """Gmail clips an HTML part over 102 KB and hides the rest, the legal footer included."""
    items = [_item("長い商品名" * 40, n=n) for n in range(60)]
    rendered = with_footer(
        _render(kind, locale, items=items),
        render_footer(
            locale, "店" * 100, "住所\n" * 5, "shop@x.example", "https://x.example/?t=" + "a" * 300
        ),
    )
    assert len(rendered.html.encode()) < 60_000


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", REQUESTS)
@pytest.mark.parametrize("missing", ["customer", "order_id", "ordered_on", "items", "reward"])
def test_every_variable_the_requests_use_is_required(kind, locale, missing):
    context = _context(kind, locale)
    del context[missing]
    with pytest.raises(UndefinedError):
        templates.render(kind, locale, context)


# -- review_reward ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("source", ["review", "survey"])
@pytest.mark.parametrize("name", [None, "", "山田"])
@pytest.mark.parametrize(
    ("points", "available", "coupon_code"),
    [(1500, 23456, None), (1500, None, None), (None, None, "THANKS-5"), (1500, 23456, "THANKS-5"),
     (None, None, None)],
)  # fmt: skip
def test_reward_renders_cleanly_in_every_combination(locale, source, name, points, available, coupon_code):
    rendered = _render(
        "review_reward",
        locale,
        source=source,
        order_id="ord_20270301_0001" if source == "review" else None,
        customer={"name": name},
        points=points,
        available=available,
        coupon_code=coupon_code,
    )
    _assert_clean(rendered, locale)
    # In English a transactional email speaks in points_earned's voice.
    greeting = {"ja": "山田 様" if name else "お客様", "en": "Dear 山田," if name else "Hello,"}[locale]
    assert rendered.text.startswith(greeting) and greeting in rendered.html
    assert rendered.text.strip().endswith("shop@demo.example")  # signed by the store
    assert "shop@demo.example" in rendered.html


@pytest.mark.parametrize("locale", LOCALES)
def test_reward_for_a_review_thanks_for_it_and_names_the_order(locale):
    rendered = _render("review_reward", locale)
    thanks = {
        "ja": "レビューをご投稿いただき、誠にありがとうございました。",
        "en": "Thank you for reviewing",
    }[locale]
    for body in (rendered.text, rendered.html):
        assert thanks in body and "ord_20270301_0001" in body
        assert ("アンケート" if locale == "ja" else "survey") not in body
    assert ("レビュー" if locale == "ja" else "review") in rendered.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_reward_for_a_survey_thanks_for_the_answers(locale):
    rendered = _render("review_reward", locale, source="survey", order_id=None)
    thanks = {"ja": "アンケートにご回答いただき", "en": "Thank you for answering our survey"}[locale]
    for body in (rendered.text, rendered.html):
        assert thanks in body
        assert ("ご注文番号" if locale == "ja" else "your order") not in body
    assert ("アンケート" if locale == "ja" else "survey") in rendered.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_reward_points_with_separators_usable_from_the_next_purchase(locale):
    rendered = _render("review_reward", locale)
    usable = {
        "ja": "次回のお買い物からご利用いただけます",
        "en": "ready to use from your next purchase",
    }[locale]
    for body in (rendered.text, rendered.html):
        assert "1,500" in body and "23,456" in body and usable in body
    assert "1,500" in rendered.subject and "1500" not in _all(rendered)
    without_balance = _render("review_reward", locale, available=None)
    balance = {"ja": "ポイント残高", "en": "Points available in total"}[locale]
    assert balance not in _all(without_balance) and usable in without_balance.text
    one = _render("review_reward", locale, points=1, available=1)
    assert ("1ポイント" if locale == "ja" else "1 point is") in one.subject
    assert "1 points" not in _all(one)


@pytest.mark.parametrize("locale", LOCALES)
def test_reward_coupon_code_is_shown_prominently(locale):
    rendered = _render("review_reward", locale, points=None, available=None, coupon_code="THANKS-5")
    sentence = {
        "ja": "次回のお買い物のご購入手続きの際に、",
        "en": "Enter this code at checkout on your next purchase:",
    }[locale]
    for body in (rendered.text, rendered.html):
        assert "THANKS-5" in body and sentence in body
    assert "font-size: 24px" in rendered.html.split("THANKS-5")[0].rsplit("<p", 1)[1]
    assert "dashed" in rendered.html
    assert ("クーポン" if locale == "ja" else "coupon") in rendered.subject
    assert ("ポイント" if locale == "ja" else "point") not in _all(rendered)
    without = _render("review_reward", locale)
    assert sentence not in _all(without) and "dashed" not in without.html


@pytest.mark.parametrize("locale", LOCALES)
def test_reward_html_escapes_and_text_keeps(locale):
    rendered = _render(
        "review_reward",
        locale,
        customer={"name": "<b>x</b>"},
        coupon_code="<C&1>",
        order_id="<o&1>",
        store={"name": "A&B <Shop>", "sender": "s@x.example"},
    )
    for raw in ("<b>", "<C&1>", "<o&1>", "<Shop>"):
        assert raw not in rendered.html
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered.html and "&lt;C&amp;1&gt;" in rendered.html
    assert "<b>x</b>" in rendered.text and "<C&1>" in rendered.text and "A&B <Shop>" in rendered.subject
    balanced(rendered.html)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("missing", ["customer", "source", "order_id", "points", "available", "coupon_code"])
def test_every_variable_the_reward_uses_is_required(locale, missing):
    context = _context("review_reward", locale)
    del context[missing]
    with pytest.raises((UndefinedError, TypeError)) as error:
        templates.render("review_reward", locale, context)
    assert isinstance(error.value, UndefinedError) or "Undefined" in str(error.value), missing
