from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import UndefinedError

from omotenashi.messaging import templates

ROOT = Path(__file__).resolve().parents[2] / "templates"
# Email kinds only: folders ending in _page hold web pages (messaging/pages.py, tested on their own).
KINDS = sorted(
    p.name
    for p in ROOT.iterdir()
    if p.is_dir() and p.name not in ("stores", "_partials") and not p.name.endswith("_page")
)


def test_every_kind_has_ja_and_en_with_all_parts():
    assert {
        "inquiry_auto_reply",
        "inquiry_reply",
        "sla_reminder",
        "sla_breach",
        "sla_escalation",
        "cart_reminder",
    } <= set(KINDS)
    for kind in KINDS:
        for locale in ("ja", "en"):
            for part in templates.PARTS:
                assert (ROOT / kind / locale / part).is_file(), f"{kind}/{locale}/{part} missing"


CONTEXT = {
    "store": {"name": "店", "sender": "shop@x.example"},
    "customer": {"name": None, "email": "a@b.example"},
    "inquiry": {"id": "inq_1", "subject": "<b>hi</b>", "channel": "web_form", "order_id": None},
    "received_at": "R",
    "reply_due_at": "D",
    "locale": "ja",
}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_auto_reply_renders_without_name_or_order(locale):
    rendered = templates.render("inquiry_auto_reply", locale, CONTEXT)
    assert "inq_1" in rendered.subject and "\n" not in rendered.subject
    assert "D" in rendered.text and "D" in rendered.html
    assert "&lt;b&gt;hi&lt;/b&gt;" in rendered.html
    assert "<b>hi</b>" in rendered.text
    assert ("お客様" if locale == "ja" else "Hello,") in rendered.text


def test_missing_variable_is_an_error():
    context = dict(CONTEXT)
    del context["reply_due_at"]
    with pytest.raises(UndefinedError):
        templates.render("inquiry_auto_reply", "ja", context)
