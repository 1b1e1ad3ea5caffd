"""`omotenashi templates preview`: every email kind under templates/ renders in ja and en with its
sample data (messaging/samples.py), through the one skeleton, with no AWS; a new kind without a
sample fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from omotenashi import cli
from omotenashi.messaging import samples, templates
from tests.unit.html_balance import balanced

ROOT = Path(__file__).resolve().parents[2] / "templates"
KINDS = sorted(
    p.name
    for p in ROOT.iterdir()
    if p.is_dir() and p.name not in ("stores", "_partials") and not p.name.endswith("_page")
)
LEAKS = ("None", "Undefined", "{{", "}}", "{%", "%}")


def test_the_kinds_are_the_template_folders_and_each_has_a_sample():
    assert templates.email_kinds() == KINDS
    assert sorted(samples.SAMPLES) == KINDS, (
        "a kind without sample data in messaging/samples.py (or the reverse)"
    )


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_previews_in_every_locale(capsys, tmp_path, kind, locale):
    assert cli.main(["templates", "preview", kind, "--locale", locale]) == 0
    out = capsys.readouterr().out
    subject, blank, *text = out.splitlines()
    assert subject.startswith("Subject: ") and len(subject) > len("Subject: ") and blank == ""
    body = "\n".join(text)
    assert body.strip() and not any(leak in out for leak in LEAKS)
    assert ("京都茶舗" in out) or ("inq_sample01" in out)
    if kind in samples.MARKETING_KINDS:  # the legal footer, as customers get it
        assert "〒600-8001" in body and "https://api.example/v1/unsubscribe?token=sample" in body

    html = tmp_path / "preview.html"
    assert cli.main(["templates", "preview", kind, "--locale", locale, "--html", str(html)]) == 0
    assert capsys.readouterr().out == f"{subject}\nwrote the HTML part to {html}\n"
    page = html.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html>") and not any(leak in page for leak in LEAKS)
    balanced(page)


def test_samples_read_as_their_locale():
    ja = samples.preview("cart_reminder", "ja").text
    en = samples.preview("cart_reminder", "en").text
    assert "山田 太郎" in ja and "¥7,640" in ja
    assert "Emily Clark" in en and "¥7,640" in en
    assert "2026年11月22日" in samples.preview("inquiry_auto_reply", "ja").text
    assert "November 22, 2026" in samples.preview("inquiry_auto_reply", "en").text


def test_an_unknown_kind_lists_the_kinds(capsys):
    assert cli.main(["templates", "preview", "newsletter", "--locale", "ja"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown kind 'newsletter'") and all(kind in err for kind in KINDS)


def test_the_help_lists_the_kinds(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    assert cli.main(["templates", "preview", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert all(kind in text for kind in KINDS)
    assert cli.main(["templates", "preview", "inquiry_reply", "--locale", "fr"]) == 2
