"""An inquiry's status, its open-by-customer key and its store-status key are written together, by
one helper, so no write path can open, answer or close an inquiry and forget an index
(dal/inquiries.py)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pynamodb.attributes import UTCDateTimeAttribute

from omotenashi.dal.inquiries import _status_fields, open_customer_key, received_key

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "omotenashi"
HELPER = "_status_fields"
KEYS = ("status", "open_customer", "status_key")


def test_status_and_its_index_keys_are_written_only_by_the_helper():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "tables.py" and path.parent.name == "dal":
            continue  # the model declares the attributes
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside: set[ast.AST] = set()
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef) and function.name == HELPER:
                inside.update(ast.walk(function))
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            # InquiryItem.status.set(...) / .remove(): a status write outside the helper
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("set", "remove")
                and isinstance(node.value, ast.Attribute)
                and node.value.attr in KEYS
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "InquiryItem"
            ):
                offenders.append(f"{where}:{node.lineno} writes InquiryItem.{node.value.attr}")
            # InquiryItem(status=...) / InquiryItem(open_customer=...)
            constructs = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if constructs and node.func.id == "InquiryItem":
                for keyword in node.keywords:
                    if keyword.arg in KEYS:
                        offenders.append(f"{where}:{node.lineno} InquiryItem({keyword.arg}=...)")
            # the open-by-customer key's name outside the helper (in the model and the index it is
            # declared); status_key is also read (the list's positions name it), never written
            named = (isinstance(node, ast.Attribute) and node.attr == "open_customer") or (
                isinstance(node, ast.Constant) and node.value == "open_customer"
            )
            if named and node not in inside:
                offenders.append(f"{where}:{node.lineno} names open_customer")
    assert offenders == []


def test_open_sets_the_key_of_the_lower_cased_address():
    assert _status_fields("demo", "open", "Taro@Example.JP") == {
        "status": "open",
        "open_customer": "demo#taro@example.jp",
        "status_key": "demo#open",
    }
    assert open_customer_key("demo", "TARO@example.jp") == open_customer_key("demo", "taro@EXAMPLE.JP")


@pytest.mark.parametrize("status", ["answered", "closed"])
def test_answered_and_closed_remove_the_key(status):
    assert _status_fields("demo", status, None) == {
        "status": status,
        "open_customer": None,
        "status_key": f"demo#{status}",
    }
    assert _status_fields("demo", status, "taro@example.jp")["open_customer"] is None


def test_opening_needs_the_address_and_statuses_are_known():
    with pytest.raises(ValueError, match="email"):
        _status_fields("demo", "open", None)
    with pytest.raises(ValueError, match="unknown"):
        _status_fields("demo", "pending", "taro@example.jp")


def test_stored_times_compare_as_text_in_time_order():
    """The overdue filter compares reply_due_at (a UTCDateTimeAttribute) as text, and the list
    indexes sort received_key as text: both serializations are fixed width, so text order is
    time order, whatever the offset the time came with."""
    attribute = UTCDateTimeAttribute()
    base = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
    moments = [
        base,
        base + timedelta(microseconds=1),
        base + timedelta(seconds=9),
        base + timedelta(seconds=10),
        base + timedelta(days=40),
        datetime(2027, 1, 1, 9, 0, tzinfo=UTC),
        datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    tokyo = [m.astimezone(ZoneInfo("Asia/Tokyo")) for m in moments]
    assert sorted(attribute.serialize(m) for m in tokyo) == [attribute.serialize(m) for m in moments]
    assert len({len(attribute.serialize(m)) for m in moments}) == 1
    keys = [received_key(m, "inq_a") for m in tokyo]
    assert sorted(keys) == keys and len({len(k) for k in keys}) == 1
    assert received_key(base, "inq_a") < received_key(base, "inq_b")
