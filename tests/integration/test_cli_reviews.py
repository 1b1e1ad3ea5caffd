"""`omotenashi stores set-reviews STORE --file reviews.json` against moto: a valid document is
validated, stored with every default filled in and printed; a bad one exits 2 naming the field and
changes nothing; an unknown store exits 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from omotenashi import cli
from omotenashi.dal.stores import get_store
from omotenashi.logic.reviews.settings import ReviewSettings, from_store, validate

FULL = {
    "enabled": True,
    "request_after": "fulfilled",
    "request_delay_days": 3,
    "reminder_delay_days": None,
    "review_url": "https://shop.example/reviews/new?order={order_id}&sku={sku}&c={customer_id}&token={token}",
    "reward": {"coupon_pool": "THANKS"},
    "reward_limit_days": 0,
    "survey_reward": None,
}


def _run(capsys, *args: str) -> tuple[int, Any]:
    code = cli.main(list(args))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except ValueError:
        return code, out


@pytest.fixture
def table(stack) -> str:
    return stack.resources.tables["StoresTable"]


def _file(tmp_path: Path, document: Any) -> str:
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _stored(store_id: str = "demo") -> Any:
    store = get_store(store_id)
    assert store is not None
    return store.reviews


def test_a_valid_file_is_stored_and_printed(stack, table, tmp_path, capsys):
    code, shown = _run(
        capsys, "stores", "set-reviews", "demo", "--file", _file(tmp_path, FULL), "--stores-table", table
    )
    assert code == 0
    assert shown == {"store_id": "demo", "reviews": FULL}
    assert _stored() == FULL
    store = get_store("demo")
    assert store is not None and from_store(store) == validate(FULL)


def test_defaults_are_filled_in_and_printed(stack, table, tmp_path, capsys):
    code, shown = _run(
        capsys,
        "stores",
        "set-reviews",
        "demo",
        "--file",
        _file(tmp_path, {"request_delay_days": 10}),
        "--stores-table",
        table,
    )
    expected = {**ReviewSettings().to_document(), "request_delay_days": 10}
    assert code == 0 and shown == {"store_id": "demo", "reviews": expected}
    assert _stored() == expected
    assert expected["reward"] == {"points": 50} and expected["reminder_delay_days"] == 5


def test_an_empty_document_is_every_default(stack, table, tmp_path, capsys):
    code, shown = _run(
        capsys, "stores", "set-reviews", "demo", "--file", _file(tmp_path, {}), "--stores-table", table
    )
    assert code == 0 and shown["reviews"] == ReviewSettings().to_document() == _stored()
    store = get_store("demo")
    assert store is not None and from_store(store) == ReviewSettings()


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"request_delay_days": 61}, "request_delay_days"),
        ({"reminder_delay_days": 0}, "reminder_delay_days"),
        ({"reward": {"points": 0}}, "reward.points"),
        ({"survey_reward": {"coupon_code": "a b"}}, "survey_reward.coupon_code"),
        ({"review_url": "https://shop.example/r?e={email}"}, "review_url"),
        ({"request_after": "shipped"}, "request_after"),
        ({"rating_bonus": 10}, "rating_bonus"),
    ],
)
def test_an_invalid_file_exits_2_naming_the_field_and_changes_nothing(
    stack, table, tmp_path, capsys, document, field
):
    before = _stored()
    assert (
        cli.main(
            ["stores", "set-reviews", "demo", "--file", _file(tmp_path, document), "--stores-table", table]
        )
        == 2
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field} "), captured.err
    assert _stored() == before


def test_a_document_that_is_not_an_object_exits_2(stack, table, tmp_path, capsys):
    path = _file(tmp_path, [FULL])
    assert cli.main(["stores", "set-reviews", "demo", "--file", path, "--stores-table", table]) == 2
    assert "JSON object" in capsys.readouterr().err


def test_a_file_that_is_not_json_is_one_line_of_error(stack, table, tmp_path, capsys):
    path = tmp_path / "reviews.json"
    path.write_text("{request_delay_days: 3}", encoding="utf-8")
    code = cli.main(["stores", "set-reviews", "demo", "--file", str(path), "--stores-table", table])
    captured = capsys.readouterr()
    assert code != 0 and "is not JSON" in captured.err and "Traceback" not in captured.err
    missing = str(tmp_path / "absent.json")
    code = cli.main(["stores", "set-reviews", "demo", "--file", missing, "--stores-table", table])
    captured = capsys.readouterr()
    assert code != 0 and "cannot read" in captured.err and "Traceback" not in captured.err


def test_an_unknown_store_exits_1(stack, table, tmp_path, capsys):
    assert (
        cli.main(["stores", "set-reviews", "nope", "--file", _file(tmp_path, FULL), "--stores-table", table])
        == 1
    )
    assert capsys.readouterr().err.strip() == "error: no store nope"
    assert get_store("nope") is None


def test_setting_again_replaces_the_whole_document(stack, table, tmp_path, capsys):
    args = ["stores", "set-reviews", "demo", "--stores-table", table, "--file"]
    assert cli.main([*args, _file(tmp_path, FULL)]) == 0
    assert cli.main([*args, _file(tmp_path, {"enabled": False})]) == 0
    capsys.readouterr()
    assert _stored() == {**ReviewSettings().to_document(), "enabled": False}  # not merged with FULL
