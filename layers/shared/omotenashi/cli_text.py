"""Text for a terminal (the ops CLI's tables): widths by display columns, not by characters, since
Japanese (全角) characters take two columns and combining marks none."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

ELLIPSIS = "…"  # one column in the terminals the CLI is used in (East Asian Width "ambiguous")


def char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(char) for char in text)


def one_line(text: str) -> str:
    """Line breaks, tabs and control characters as single spaces (a table cell is one line)."""
    return " ".join("".join(c if unicodedata.category(c)[0] != "C" else " " for c in text).split())


def truncate(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, ending in … when cut (never half a wide character)."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept, used = [], 0
    for char in text:
        w = char_width(char)
        if used + w > width - 1:
            break
        kept.append(char)
        used += w
    return "".join(kept) + ELLIPSIS


def fit(text: str, width: int) -> str:
    """`text` truncated and padded with spaces to exactly `width` columns."""
    cut = truncate(text, width)
    return cut + " " * (width - display_width(cut))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, last_width: int | None = None) -> str:
    """Columns aligned by display width, two spaces apart; the last column is not padded and is cut
    to `last_width` columns when given (the subject of a long list fits the terminal)."""
    cells = [[one_line(cell) for cell in row] for row in rows]
    if last_width is not None:
        cells = [[*row[:-1], truncate(row[-1], last_width)] for row in cells]
    widths = [
        max([display_width(h), *(display_width(row[i]) for row in cells)]) for i, h in enumerate(headers)
    ]
    lines = []
    for row in [list(headers), *cells]:
        padded = [fit(cell, widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(lines)
