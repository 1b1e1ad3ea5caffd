"""/_local/outbox.html shows each email as the customer sees it: the HTML part, rendered in a
sandboxed frame, with the text part still there."""

from __future__ import annotations

from html.parser import HTMLParser

from omotenashi_local.outbox import render_html
from tests.support import call, inquiry_body


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []
        self.scripts = 0
        self.pre: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.frames.append(dict(attrs))
        self.scripts += tag == "script"
        self._in_pre = tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        self._in_pre = self._in_pre and tag != "pre"

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.pre.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_the_auto_reply_shows_its_html_part_and_keeps_its_text_part(stack):
    created = call(stack, "POST", "/v1/inquiries", inquiry_body(external_id="page-1")).json
    stack.drain()
    (mail,) = [m for m in stack.outbox() if m["kind"] == "inquiry_auto_reply"]
    assert mail["html"] and mail["text"]
    page = _parse(render_html([mail]))
    assert [frame["srcdoc"] for frame in page.frames] == [mail["html"]]  # exactly the HTML part
    assert page.frames[0]["sandbox"] == ""
    assert mail["text"] in "".join(page.pre)
    assert created["inquiry_id"] in mail["html"]


def test_hostile_html_stays_inside_the_sandbox():
    hostile = (
        '<p class="x">"quoted" & \'single\'</p></iframe><script>alert(1)</script><style>p{color:red}</style>'
    )
    item = {
        "subject": "<b>s</b>",
        "kind": "inquiry_auto_reply",
        "sent_at": None,
        "from": "shop@demo.example",
        "to": ["a@example.jp"],
        "headers": {"X": "<y>"},
        "text": "plain <text>",
        "html": hostile,
    }
    page = _parse(render_html([item]))
    assert [frame["srcdoc"] for frame in page.frames] == [hostile]
    assert page.scripts == 0  # the script is text inside the attribute, not on the page
    assert "plain <text>" in "".join(page.pre)


def test_a_text_only_email_shows_its_text():
    item = {"subject": "s", "kind": None, "sent_at": None, "from": "f", "to": [], "headers": {}}
    item.update(text="only text", html="")
    page = _parse(render_html([item]))
    assert page.frames == [] and "only text" in "".join(page.pre)
