"""The part of a plain-text email reply its sender wrote now: quoted history and signature removed.

Staff answer customers by replying to notification emails, customers reply to auto-replies; what
becomes the staff reply or the follow-up is `new_text(body)`. The full original is kept elsewhere
for audit, so this is allowed to be approximate, and it errs on the side of keeping text.

Rules, line by line (line endings CRLF/CR/LF are read as LF; the result uses LF):

1. The new text ends at the first line that starts quoted history (leading whitespace, including
   the full-width space U+3000, is allowed before it):
   - an attribution line: "On <anything> wrote:" (Gmail, Apple Mail, Thunderbird in English),
     also wrapped over two lines when one of them carries an address ("On ... <a@b>" / "wrote:");
     a date first, "2026年12月1日(月) 10:00 山田太郎 <taro@example.jp>:" (Gmail ja),
     "2026/12/01 10:00、山田太郎 <taro@example.jp>のメール:" (Apple Mail ja), ending in "wrote:",
     "書きました:", "のメール:" or "<address>:" (also wrapped over two lines);
     any other line ending in "wrote:" / "書きました:" ("山田太郎 さんは書きました:",
     "...に書きました:", "...が書きました:", "Taro wrote:") only when the next non-blank line is a
     ">" quote (or nothing follows);
   - "-----Original Message-----", "-----元のメッセージ-----", "---- Forwarded message ----";
     "Begin forwarded message:" / "転送されたメッセージ:";
   - a line of 10 or more underscores followed within 3 lines by "From:" / "差出人:" / "送信者:";
   - an Outlook header block: "From:" / "差出人:" / "送信者:" followed, within the next 4 lines,
     by a date line ("Sent:", "Date:", "送信日時:", "日時:", "日付:") and a "To:" / "宛先:" /
     "Cc:" / "Subject:" / "件名:" line;
   - the first line starting with ">". Interleaved answers (new text between quote blocks) are
     not reassembled: the new text is what comes before the first quote block. A reply that
     begins with a quote thus has no new text, and falls back (rule 4).
2. In what is left, a signature is dropped from its first line to the end: the RFC 3676 "-- "
   delimiter (or "--" alone), "Sent from my iPhone" and similar, "iPhoneから送信",
   "Android から送信", "Get Outlook for iOS/Android", "Outlook for iOS を入手" - only when some
   text comes before it.
3. Leading blank lines and trailing whitespace are removed; the rest is kept verbatim (no width
   or Unicode normalisation, inner lines untouched).
4. When nothing is left although the body has text (everything looks quoted, the reply starts
   with a quote, the body is only a signature), the whole body is returned, tidied as in 3: never
   an empty result for a body that has text. An empty or blank body gives "".

Every pattern is matched against one stripped line (two for wrapped attributions) with no nested
repetition, and every line is looked at a bounded number of times: linear in the body's size.
Pure: stdlib only, no clock, no I/O.
"""

from __future__ import annotations

import re

_COLON = "[:：]"
_DATE_START = r"\d{4}(?:年\d{1,2}月\d{1,2}日|[/.-]\d{1,2}[/.-]\d{1,2})"
# How an attribution line ends: "wrote:", "書きました:", "のメール:", "<taro@example.jp>:".
_ATTRIBUTION_END = re.compile(rf".*(?:\bwrote|書きました|のメール|>)\s*{_COLON}", re.IGNORECASE)
_WROTE_END = re.compile(rf".*(?:\bwrote|書きました)\s*{_COLON}", re.IGNORECASE)
_ON_START = re.compile(r"On\s", re.IGNORECASE)
_DATE_ATTRIBUTION_START = re.compile(_DATE_START)
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")

_SEPARATOR = re.compile(
    r"-{3,}\s*(?:Original Message|Forwarded message|元のメッセージ|転送メッセージ)\s*-{3,}",
    re.IGNORECASE,
)
_FORWARDED = re.compile(rf"(?:Begin forwarded message|転送されたメッセージ)\s*{_COLON}", re.IGNORECASE)
_UNDERSCORES = re.compile(r"_{10,}")
_FROM_KEY = re.compile(rf"(?:From|差出人|送信者)\s*{_COLON}", re.IGNORECASE)
_DATE_KEY = re.compile(rf"(?:Sent|Date|送信日時|日時|日付)\s*{_COLON}", re.IGNORECASE)
_TO_KEY = re.compile(rf"(?:To|Cc|Subject|宛先|件名)\s*{_COLON}", re.IGNORECASE)

_SIGNATURE = re.compile(
    r"--"
    r"|Sent from my \S.{0,40}"
    r"|Sent from (?:Mail|Outlook|Yahoo Mail)\b.{0,40}"
    r"|(?:私の\s*)?(?:iPhone|iPad|Android|Android\s*端末|スマートフォン|Outlook)\s*から送信"
    r"|Get Outlook for (?:iOS|Android)"
    r"|Outlook for (?:iOS|Android)\s*を入手",
    re.IGNORECASE,
)

_HEADER_WINDOW = 4  # lines after "From:" in which Outlook's "Sent:" and "To:" must appear
_UNDERSCORE_WINDOW = 3  # lines after the underscores in which "From:" must appear


def _is_attribution(line: str, following: str | None) -> bool:
    """`line` (stripped) alone, or wrapped onto `following` (stripped), is an attribution line."""
    if _ON_START.match(line):
        end = _WROTE_END  # "On <anything> wrote:"
    elif _DATE_ATTRIBUTION_START.match(line):
        end = _ATTRIBUTION_END  # "2026年12月1日(月) 10:00 山田太郎 <taro@example.jp>:"
    else:
        return False
    if end.fullmatch(line):
        return True
    # "On Mon, Dec 1, 2026 at 10:00 AM Taro Yamada <taro@example.jp>" / "wrote:"
    return (
        following is not None
        and end.fullmatch(following) is not None
        and (_ADDRESS.search(line) is not None or _ADDRESS.search(following) is not None)
    )


def _is_outlook_header(lines: list[str], index: int) -> bool:
    """lines[index] is "From:" and a date line and a "To:" line follow it in the same block."""
    if not _FROM_KEY.match(lines[index]):
        return False
    dated = addressed = False
    for line in lines[index + 1 : index + 1 + _HEADER_WINDOW]:
        if not line:
            break
        dated = dated or _DATE_KEY.match(line) is not None
        addressed = addressed or _TO_KEY.match(line) is not None
    return dated and addressed


def _quote_start(lines: list[str]) -> int:
    """Index of the first line that starts quoted history (len(lines) when none does)."""
    count = len(lines)
    # Index of the first non-blank line after each line, computed once (keeps the scan linear).
    next_text = [count] * count
    upcoming = count
    for index in range(count - 1, -1, -1):
        next_text[index] = upcoming
        if lines[index]:
            upcoming = index
    for index, line in enumerate(lines):
        if not line:
            continue
        following = lines[index + 1] if index + 1 < count else None
        if (
            line.startswith(">")
            or _is_attribution(line, following)
            or _SEPARATOR.fullmatch(line)
            or _FORWARDED.fullmatch(line)
            or _is_outlook_header(lines, index)
        ):
            return index
        if _UNDERSCORES.fullmatch(line) and any(
            _FROM_KEY.match(after) for after in lines[index + 1 : index + 1 + _UNDERSCORE_WINDOW]
        ):
            return index
        if _WROTE_END.fullmatch(line):
            after = next_text[index]
            if after >= count or lines[after].startswith(">"):
                return index
    return count


def _signature_start(lines: list[str]) -> int:
    """Index of the first signature line that comes after some text (len(lines) when none)."""
    seen_text = False
    for index, line in enumerate(lines):
        if seen_text and _SIGNATURE.fullmatch(line):
            return index
        seen_text = seen_text or bool(line)
    return len(lines)


def _tidy(lines: list[str]) -> str:
    """Leading blank lines and trailing whitespace removed, everything else as it was."""
    text = "\n".join(lines).rstrip()
    kept = text.split("\n")
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


def new_text(body: str, *, strict: bool = False) -> str:
    """What the sender of this plain-text reply wrote now (see the module's docstring). When
    nothing stands above the quote (a bottom-posted or empty reply) the whole body is kept, since
    the sender's words are in it somewhere; `strict` answers "" instead (a staff reply must never
    send the quoted notice on to the customer)."""
    raw = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    stripped = [line.strip() for line in raw]
    end = _quote_start(stripped)
    end = _signature_start(stripped[:end])
    return _tidy(raw[:end]) if strict else _tidy(raw[:end]) or _tidy(raw)
