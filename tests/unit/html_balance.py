"""The HTML of an email template is well formed: every element opened is closed, in order (void
elements aside). A broken table in an email renders differently in every client."""

from __future__ import annotations

from html.parser import HTMLParser


class HtmlBalance(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def balanced(html: str) -> HtmlBalance:
    """Parse `html`, assert it is balanced, and answer the parser (its `counts` of each tag)."""
    parser = HtmlBalance()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    return parser
