"""The README's examples must work on any PORT: every call to the local stack goes through $URL (or
--url "$URL"), and the documented status codes match the routes' (docs/openapi.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = [
    " ".join(command.split())
    for block in re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)
    for command in re.split(r"(?<!\\)\n(?!\s)", block.replace("\\\n", " "))
]


def test_every_request_names_the_url():
    requests = [c for c in COMMANDS if "omotenashi request" in c]
    assert len(requests) >= 5
    assert [c for c in requests if '--url "$URL"' not in c] == []


def test_every_curl_goes_to_the_url_variable():
    curls = [c for c in COMMANDS if c.startswith("curl ") or " curl " in c]
    assert curls
    assert [c for c in curls if '"$URL/' not in c] == []
    assert "URL=http://127.0.0.1:3000" in README


def test_stores_commands_say_where_the_table_is():
    stores = [c for c in COMMANDS if "omotenashi stores" in c]
    assert [c for c in stores if "--stack " not in c and "--local " not in c] == []


def test_status_codes_are_those_of_the_routes():
    """Against docs/openapi.json, which a test keeps equal to the document the API serves."""
    paths = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["paths"]

    def success(path: str, method: str) -> list[str]:
        return [code for code in paths[path][method]["responses"] if code.startswith("2")]

    assert success("/v1/inquiries", "post") == ["202"]
    assert success("/v1/inquiries/{inquiry_id}/replies", "post") == ["201"]
    assert success("/v1/inquiries/{inquiry_id}/messages", "post") == ["201"]
    assert success("/v1/inquiries/{inquiry_id}/close", "post") == ["200"]
    assert success("/v1/inquiries/{inquiry_id}", "get") == ["200"]
    text = " ".join(README.split())
    assert "`202` for a new inquiry" in text
    assert "`201` for a reply (`reply_id`) or a follow-up (`message_id`)" in text
    assert "`200` for a close and for `GET`" in text


def test_the_local_stack_notes():
    text = " ".join(README.split())
    assert "in memory only" in text and "make run PORT=3001" in text
    assert "--local" in text and "AWS (moto)" in text
