"""The abandoned-cart reminder's templates (cart_reminder, ja and en): every item, the subtotal, the
button to the cart, the discount code when there is one, the tone of later steps; HTML escaped."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from omotenashi.messaging import templates
from omotenashi.messaging.footer import render_footer, with_footer
from omotenashi.messaging.money import format_money
from tests.unit.html_balance import balanced

ROOT = Path(__file__).resolve().parents[2] / "templates"
HOSTILE = '<script>alert("x")</script> & "tea" \'cup\''
SHOWN = 20  # items listed in full; more are summed up in one line (see templates/README.md)


def _item(name: str = "玉露 100g", *, image: bool = True, link: bool = True, n: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "quantity": 2,
        "unit_price": "¥1,620",
        "line_total": "¥3,240",
        "image_url": f"https://shop.example/i/{n}.jpg" if image else None,
        "product_url": f"https://shop.example/p/{n}" if link else None,
    }


def _context(locale: str = "ja", **overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "store": {"name": "デモショップ", "sender": "shop@demo.example"},
        "customer": {"name": "山田太郎"},
        "items": [_item()],
        "subtotal": "¥3,240",
        "cart_url": "https://shop.example/cart/cart-77?a=1&b=2",
        "step": 1,
        "discount_code": None,
        "locale": locale,
    }
    context.update(overrides)
    return context


def _render(locale: str = "ja", **overrides: Any) -> templates.RenderedMessage:
    return templates.render("cart_reminder", locale, _context(locale, **overrides))


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("step", [1, 2])
@pytest.mark.parametrize("discount_code", [None, "WELCOME10"])
@pytest.mark.parametrize("name", [None, "", "山田太郎"])
@pytest.mark.parametrize("image", [True, False])
def test_renders_every_combination(locale, step, discount_code, name, image):
    items = [_item(image=image, n=1), _item("湯呑み", image=False, link=False, n=2)]
    rendered = _render(
        locale,
        step=step,
        discount_code=discount_code,
        customer={"name": name},
        items=items,
        subtotal="¥6,480",
    )
    assert rendered.subject and "\n" not in rendered.subject and "デモショップ" in rendered.subject
    for body in (rendered.text, rendered.html):
        assert "玉露 100g" in body and "湯呑み" in body
        assert "¥1,620" in body and "¥3,240" in body and "¥6,480" in body
        assert (discount_code in body) if discount_code else ("WELCOME10" not in body)
    assert "https://shop.example/cart/cart-77?a=1&b=2" in rendered.text
    assert 'href="https://shop.example/cart/cart-77?a=1&amp;b=2"' in rendered.html
    if locale == "ja":
        greeting = "山田太郎 様" if name else "お客様"
    else:
        greeting = "Hi 山田太郎," if name else "Hi there,"
    assert rendered.text.startswith(greeting) and greeting in rendered.html
    assert "None" not in rendered.text + rendered.html + rendered.subject
    tags = balanced(rendered.html).counts
    assert tags.get("img", 0) == (1 if image else 0)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_hostile_names_are_escaped_in_html_and_kept_in_text(locale):
    rendered = _render(
        locale,
        items=[_item(HOSTILE)],
        customer={"name": "<b>太郎</b>"},
        store={"name": "A&B <Shop>", "sender": "s@x.example"},
        discount_code='"><img src=x>',
    )
    for raw in ("<script>", "<b>", "<img src=x>"):
        assert raw not in rendered.html
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;tea&#34; &#39;cup&#39;"
    assert escaped in rendered.html
    assert 'alt="&lt;script&gt;' in rendered.html  # the image's alt text too
    assert "A&amp;B &lt;Shop&gt;" in rendered.html
    assert HOSTILE in rendered.text and "<b>太郎</b>" in rendered.text and "A&B <Shop>" in rendered.subject
    balanced(rendered.html)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_images_have_alt_text_and_a_fixed_width(locale):
    rendered = _render(locale, items=[_item("玉露 100g", n=1)])
    assert '<img src="https://shop.example/i/1.jpg" width="80" alt="玉露 100g"' in rendered.html
    assert "width: 80px" in rendered.html


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_without_any_image_there_is_no_empty_image_column(locale):
    rendered = _render(locale, items=[_item(image=False), _item("湯呑み", image=False)])
    assert "<img" not in rendered.html and 'width="80"' not in rendered.html
    assert 'colspan="1"' in rendered.html  # the subtotal row spans the name column only


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_product_links_only_when_there_is_a_product_url(locale):
    rendered = _render(locale, items=[_item("リンクあり", n=1), _item("リンクなし", link=False, n=2)])
    assert 'href="https://shop.example/p/1"' in rendered.html
    assert "<strong>リンクなし</strong>" in rendered.html
    # An image without a product page links to the cart.
    assert '<a href="https://shop.example/cart/cart-77?a=1&amp;b=2" target="_blank"><img' in rendered.html


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_button_to_the_cart(locale):
    html = _render(locale).html
    label = {"ja": "お買い物かごを確認する", "en": "Return to your cart"}[locale]
    button = html[html.index('bgcolor="#222222"') :]
    assert button.index('href="https://shop.example/cart/cart-77?a=1&amp;b=2"') < button.index(label)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_discount_code_shown_prominently_with_a_sentence(locale):
    rendered = _render(locale, discount_code="OMOTE-10")
    sentence = {
        "ja": "ご購入手続きの際に、",
        "en": "Here is a code for you to use at checkout:",
    }[locale]
    assert sentence in rendered.text and sentence in rendered.html
    assert "font-size: 24px" in rendered.html.split("OMOTE-10")[0].rsplit("<p", 1)[1]
    assert ("クーポン" if locale == "ja" else "code") in rendered.subject
    without = _render(locale)
    assert sentence not in without.text + without.html and "dashed" not in without.html


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_later_steps_read_as_a_gentle_reminder(locale):
    first, later = _render(locale, step=1), _render(locale, step=2)
    assert first.subject != later.subject and first.text != later.text
    gentle = {"ja": "念のため、あらためてご案内いたします。", "en": "Just a gentle reminder"}[locale]
    assert gentle in later.text and gentle in later.html
    assert gentle not in first.text and gentle not in first.html
    assert _render(locale, step=3).subject == later.subject


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_japanese_copy_sounds_like_a_shop(locale):
    rendered = _render(locale)
    if locale == "ja":
        assert rendered.subject == "【デモショップ】お買い物かごに商品が残っています"
        assert "お買い物かごに、以下の商品が残っております。" in rendered.text
        assert "行き違い" in rendered.text  # the polite note for a customer who already ordered
    else:
        assert rendered.subject == "[デモショップ] You left something in your cart"
        assert "already completed your order" in rendered.text


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_long_item_lists_show_twenty_and_count_the_rest(locale):
    items = [_item(f"商品{n:02d}", n=n) for n in range(1, 26)]
    rendered = _render(locale, items=items)
    for n in range(1, SHOWN + 1):
        assert f"商品{n:02d}" in rendered.text and f"商品{n:02d}" in rendered.html
    for n in range(SHOWN + 1, 26):
        assert f"商品{n:02d}" not in rendered.text + rendered.html
    rest = {"ja": "ほか5件の商品", "en": "5 more items"}[locale]
    assert rest in rendered.text and rest in rendered.html
    assert balanced(rendered.html).counts["img"] == SHOWN
    one_more = _render(locale, items=items[: SHOWN + 1])
    assert ("ほか1件の商品" if locale == "ja" else "1 more item in") in one_more.text
    exactly = _render(locale, items=items[:SHOWN])
    assert ("ほか" if locale == "ja" else " more item") not in exactly.text


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_worst_case_email_stays_under_gmails_clipping_size(locale):
    """Gmail clips an HTML part over 102 KB and hides the rest, the legal footer and its
    unsubscribe link included; twenty long names with images and the footer stay well under."""
    items = [_item("長い商品名" * 40, n=n) for n in range(60)]
    rendered = with_footer(
        _render(locale, items=items, discount_code="CODE"),
        render_footer(
            locale, "店" * 100, "住所\n" * 5, "shop@x.example", "https://x.example/?t=" + "a" * 300
        ),
    )
    assert len(rendered.html.encode()) < 60_000


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_with_money_formatted_for_the_currency(locale):
    price, quantity = Decimal("16.20"), 3
    item = _item("Sencha") | {
        "quantity": quantity,
        "unit_price": format_money(price, "USD", locale),
        "line_total": format_money(price * quantity, "USD", locale),
    }
    rendered = _render(locale, items=[item], subtotal=format_money(price * quantity, "USD", locale))
    dollar = {"ja": "US$", "en": "$"}[locale]
    assert f"{dollar}16.20" in rendered.text and f"{dollar}48.60" in rendered.html


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_templates_do_not_carry_the_legal_footer_themselves(locale):
    """compose appends the marketing footer to every marketing email; a template with its own would
    print it twice, and a store override could drop it."""
    rendered = _render(locale)
    for marker in ("配信停止", "nsubscribe", "unsubscribe_url"):
        assert marker not in rendered.text + rendered.html
    for part in templates.PARTS:
        assert "marketing_footer" not in (ROOT / "cart_reminder" / locale / part).read_text(encoding="utf-8")


@pytest.mark.parametrize("missing", ["items", "subtotal", "cart_url", "step", "discount_code", "customer"])
def test_every_variable_is_required(missing):
    context = _context()
    del context[missing]
    with pytest.raises(UndefinedError):
        templates.render("cart_reminder", "ja", context)
