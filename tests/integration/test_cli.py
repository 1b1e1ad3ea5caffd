"""The ops CLI against moto: create, show (never the secret), rotate (old and new both valid)."""

from __future__ import annotations

import json

import pytest

from omotenashi import cli
from tests.support import call, inquiry_body


def _run(capsys, *args: str) -> tuple[int, dict | str]:
    code = cli.main(list(args))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except ValueError:
        return code, out


@pytest.fixture
def table(stack) -> str:
    return stack.resources.tables["StoresTable"]


def test_create_show_and_rotate(stack, table, capsys):
    code, created = _run(
        capsys,
        "stores",
        "create",
        "kyoto",
        "--name",
        "京都茶舗",
        "--sender",
        "info@kyoto.example",
        "--staff",
        "a@kyoto.example",
        "--staff",
        "b@kyoto.example",
        "--locale",
        "ja",
        "--stores-table",
        table,
    )
    assert code == 0
    first_secret = created["signing_secret"]
    assert first_secret.startswith("whsec_") and len(first_secret) > 30
    assert created["staff_addresses"] == ["a@kyoto.example", "b@kyoto.example"]

    code, shown = _run(capsys, "stores", "show", "kyoto", "--stores-table", table)
    assert code == 0
    assert first_secret not in json.dumps(shown)
    assert shown["time_zone"] == "Asia/Tokyo" and shown["sla_hours"] == 24
    assert len(shown["secrets"]) == 1

    assert (
        call(stack, "POST", "/v1/inquiries", inquiry_body(), store="kyoto", secret=first_secret).status == 202
    )

    code, rotated = _run(capsys, "stores", "rotate-secret", "kyoto", "--stores-table", table)
    assert code == 0
    second_secret = rotated["signing_secret"]
    assert second_secret != first_secret
    assert len(rotated["secrets"]) == 2
    # Both secrets work during the rotation window, at once (no waiting for a cache to expire).
    assert (
        call(stack, "POST", "/v1/inquiries", inquiry_body(), store="kyoto", secret=second_secret).status
        == 202
    )
    assert (
        call(stack, "POST", "/v1/inquiries", inquiry_body(), store="kyoto", secret=first_secret).status == 202
    )

    code, rotated_again = _run(capsys, "stores", "rotate-secret", "kyoto", "--stores-table", table)
    third_secret = rotated_again["signing_secret"]
    assert len(rotated_again["secrets"]) == 2  # never more than two active
    assert (
        call(stack, "POST", "/v1/inquiries", inquiry_body(), store="kyoto", secret=third_secret).status == 202
    )
    from omotenashi.logic.core.directory import directory

    directory.clear()
    assert (
        call(stack, "POST", "/v1/inquiries", inquiry_body(), store="kyoto", secret=first_secret).status == 401
    )

    code, retired = _run(
        capsys, "stores", "rotate-secret", "kyoto", "--retire-previous", "--stores-table", table
    )
    assert len(retired["secrets"]) == 1
    directory.clear()
    assert (
        call(stack, "POST", "/v1/inquiries", inquiry_body(), store="kyoto", secret=third_secret).status == 401
    )


def test_create_rejects_bad_input_and_duplicates(stack, table, capsys):
    assert (
        cli.main(
            ["stores", "create", "Bad Id!", "--name", "x", "--sender", "a@b.example", "--stores-table", table]
        )
        == 2
    )
    assert (
        cli.main(
            ["stores", "create", "ok", "--name", "x", "--sender", "not-an-address", "--stores-table", table]
        )
        == 2
    )
    assert (
        cli.main(
            [
                "stores",
                "create",
                "ok",
                "--name",
                "x",
                "--sender",
                "a@b.example",
                "--time-zone",
                "Mars/Base",
                "--stores-table",
                table,
            ]
        )
        == 2
    )
    assert (
        cli.main(
            ["stores", "create", "demo", "--name", "x", "--sender", "a@b.example", "--stores-table", table]
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err


def test_show_unknown_store(stack, table, capsys):
    assert cli.main(["stores", "show", "ghost", "--stores-table", table]) == 1


def test_sign_prints_a_verifiable_header(capsys):
    from omotenashi.logic.core import signing

    assert cli.main(["sign", "POST", "/v1/inquiries", "--secret", "s", "--data", "{}"]) == 0
    header = capsys.readouterr().out.strip()
    parsed = signing.parse_header(header)
    assert signing.matches(parsed, ["s"], "POST", ["/v1/inquiries"], b"{}")


@pytest.mark.parametrize(
    ("url", "says"),
    [("http://127.0.0.1:1", "could not reach"), ("127.0.0.1:3000", "must start with http")],
)
def test_request_to_an_unreachable_or_malformed_url_is_a_clear_error(capsys, url, says):
    code = cli.main(["request", "GET", "/v1/inquiries/inq_x", "--url", url, "--secret", "s"])
    captured = capsys.readouterr()
    assert code == 2
    assert says in captured.err and "Traceback" not in captured.err


def test_set_marketing_and_add_discount_codes(stack, table, tmp_path, capsys):
    settings = tmp_path / "marketing.json"
    settings.write_text(
        json.dumps(
            {
                "postal_address": "〒600-8001\n京都市下京区",
                "contact": "info@demo.example",
                "cart_reminders": {"steps": [{"delay_hours": 2, "discount_pool": "WELCOME"}]},
            }
        ),
        encoding="utf-8",
    )
    code, shown = _run(
        capsys, "stores", "set-marketing", "demo", "--file", str(settings), "--stores-table", table
    )
    assert code == 0 and shown["marketing"]["cart_reminders"]["steps"][0]["discount_pool"] == "WELCOME"
    settings.write_text(
        json.dumps({"postal_address": "x", "contact": "y", "cap_hours": -1}), encoding="utf-8"
    )
    assert (
        cli.main(["stores", "set-marketing", "demo", "--file", str(settings), "--stores-table", table]) == 2
    )
    assert capsys.readouterr().err.strip().startswith("error: cap_hours")
    codes = tmp_path / "codes.txt"
    codes.write_text("CODE-1\nCODE-2\n\nCODE-2\n", encoding="utf-8")
    code, added = _run(
        capsys,
        "stores",
        "add-discount-codes",
        "demo",
        "--pool",
        "WELCOME",
        "--file",
        str(codes),
        "--stores-table",
        table,
    )
    assert code == 0 and added["codes_added"] == 2
    assert (
        cli.main(
            [
                "stores",
                "add-discount-codes",
                "nope",
                "--pool",
                "W",
                "--file",
                str(codes),
                "--stores-table",
                table,
            ]
        )
        == 1
    )


def test_set_loyalty_stores_validated_settings_and_names_a_bad_field(stack, table, tmp_path, capsys):
    settings = tmp_path / "loyalty.json"
    settings.write_text(
        json.dumps(
            {
                "unit_points": {"JPY": "1", "USD": "150"},
                "return_window_days": 30,
                "expiry": None,
                "birthday_points": 0,
            }
        ),
        encoding="utf-8",
    )
    code, shown = _run(
        capsys, "stores", "set-loyalty", "demo", "--file", str(settings), "--stores-table", table
    )
    assert code == 0
    assert shown["loyalty"]["return_window_days"] == 30 and shown["loyalty"]["expiry"] is None
    assert shown["loyalty"]["unit_points"] == {"JPY": "1", "USD": "150"}
    assert [t["name"] for t in shown["loyalty"]["tiers"]] == ["silver", "gold", "platinum"]  # defaults kept
    settings.write_text(json.dumps({"tiers": [{"name": "gold", "threshold": "10", "rate_percent": "2"}]}))
    assert cli.main(["stores", "set-loyalty", "demo", "--file", str(settings), "--stores-table", table]) == 2
    assert capsys.readouterr().err.strip().startswith("error: tiers[0].threshold")
    assert cli.main(["stores", "set-loyalty", "nope", "--file", str(settings), "--stores-table", table]) == 1
