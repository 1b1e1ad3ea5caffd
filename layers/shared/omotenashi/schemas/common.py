"""Field types and the error body shared by every area's request and response models."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, WithJsonSchema

from omotenashi.addresses import is_valid_email


def _email(value: str) -> str:
    value = value.strip()
    if not is_valid_email(value):
        raise ValueError("must be a valid email address")
    return value


def real_day(value: str) -> str:
    """A day some year has (02-29 yes, 02-30 and 04-31 no)."""
    month, day = (int(part) for part in value.split("-"))
    if day > (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31):
        raise ValueError("must be a day of the year (MM-DD)")
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# Text rules. Every C0 and C1 control (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) and lone
# surrogates are refused everywhere text is stored, except TAB, LF and CR in multi-line bodies
# (browsers submit textarea line breaks as CRLF). Single-line fields (names, subjects) also refuse
# TAB, the line and paragraph separators U+2028/U+2029 (which str.splitlines() and Python's email
# headers treat as line breaks) and the bidi embeddings, overrides and isolates U+202A-U+202E and
# U+2066-U+2069 (they make a name or subject read differently from what it is). LRM/RLM, ZWJ and
# other format characters stay: real names and emoji use them.
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Header field values (RFC 7230 field-value): visible characters, space and TAB, no line breaks.
_HEADER_VALUE_FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
# Header field names: an RFC 7230 token. Anything else (an empty name above all, which DynamoDB
# refuses as an attribute name) could be stored and never read back.
HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$"
_HEADER_NAME = re.compile(HEADER_NAME_PATTERN)
MAX_HEADER_VALUE = 2000


def _describe(character: str) -> str:
    return f"U+{ord(character):04X}"


def forbidden_character(value: str, *, multi_line: bool = False) -> str | None:
    """The first character the text rules above refuse, as U+XXXX, or None."""
    found = (_MULTI_LINE_FORBIDDEN if multi_line else _SINGLE_LINE_FORBIDDEN).search(value)
    return _describe(found.group()) if found else None


def single_line(value: str) -> str:
    found = forbidden_character(value)
    if found:
        raise ValueError(f"must be a single line without control characters (found {found})")
    return value


# Other ways of breaking a line (Word's manual break VT, form feed, NEL, the Unicode line and
# paragraph separators) are line breaks to the person who typed them: kept as "\n", not refused.
_LINE_BREAK_LIKE = re.compile("[\x0b\x0c\x85\u2028\u2029]")
# RFC 5322 folding (CRLF followed by white space) inside a header value copied from an email.
_FOLDING = re.compile(r"\r?\n[ \t]+")


def multi_line(value: str) -> str:
    value = _LINE_BREAK_LIKE.sub("\n", value)
    found = forbidden_character(value, multi_line=True)
    if found:
        raise ValueError(
            f"must not contain control characters other than line breaks and tabs (found {found})"
        )
    return value


def source_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """Header names must be tokens and values single lines: both are stored as a DynamoDB map and
    read back by loop protection, so what would not survive the round trip is refused here. A value
    folded as in the original email (CRLF + white space) is unfolded first, as RFC 5322 reads it."""
    if headers is None:
        return None
    headers = {name: _FOLDING.sub(" ", value) for name, value in headers.items()}
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise ValueError(
                f"header name {shown!r} must be 1-200 token characters "
                "(A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~)"
            )
        found = _HEADER_VALUE_FORBIDDEN.search(value)
        if found:
            raise ValueError(
                f"header {name} must be one line without control characters "
                f"(found {_describe(found.group())})"
            )
    return headers


Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(single_line)]
MAX_HEADERS = 100
# Documented as validated: names are tokens (propertyNames), values strings of at most 2000.
SourceHeaders = Annotated[
    dict[str, Annotated[str, StringConstraints(max_length=MAX_HEADER_VALUE)]],
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_HEADERS,
            "propertyNames": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "pattern": HEADER_NAME_PATTERN,
            },
            "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE},
        }
    ),
]
# A customer's birthday, "MM-DD" (the loyalty birthday bonus); 02-29 is celebrated on 02-28 in other years.
Birthday = Annotated[
    str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"), AfterValidator(real_day)
]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    type: str
    message: str
    fields: list[FieldError] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail
