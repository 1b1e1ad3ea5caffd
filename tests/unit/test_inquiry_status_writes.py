"""An inquiry's status and its open-by-customer key are written together, by one helper, so no write
path can open, answer or close an inquiry and forget the sparse index (dal/inquiries.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from omotenashi.dal.inquiries import _status_fields, open_customer_key

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "omotenashi"
HELPER = "_status_fields"


def test_status_and_open_customer_are_written_only_by_the_helper():
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
                and node.value.attr in ("status", "open_customer")
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "InquiryItem"
            ):
                offenders.append(f"{where}:{node.lineno} writes InquiryItem.{node.value.attr}")
            # InquiryItem(status=...) / InquiryItem(open_customer=...)
            constructs = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if constructs and node.func.id == "InquiryItem":
                for keyword in node.keywords:
                    if keyword.arg in ("status", "open_customer"):
                        offenders.append(f"{where}:{node.lineno} InquiryItem({keyword.arg}=...)")
            # the key's name outside the helper (in the model and the index it is declared)
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
    }
    assert open_customer_key("demo", "TARO@example.jp") == open_customer_key("demo", "taro@EXAMPLE.JP")


@pytest.mark.parametrize("status", ["answered", "closed"])
def test_answered_and_closed_remove_the_key(status):
    assert _status_fields("demo", status, None) == {"status": status, "open_customer": None}
    assert _status_fields("demo", status, "taro@example.jp")["open_customer"] is None


def test_opening_needs_the_address_and_statuses_are_known():
    with pytest.raises(ValueError, match="email"):
        _status_fields("demo", "open", None)
    with pytest.raises(ValueError, match="unknown"):
        _status_fields("demo", "pending", "taro@example.jp")
