"""The template's tables and the code's PynamoDB models agree: every index a model queries exists
in the template with the same keys, key types and projection, and the template declares no index
no model knows (an index nobody queries still costs a write per item)."""

from __future__ import annotations

from typing import Any

import pytest

from omotenashi_local.template import load_template


def _models() -> list[tuple[Any, str]]:
    from omotenashi.dal import loyalty_tables, review_tables, tables  # noqa: F401 - they register

    return list(tables._MODELS)


def _table_of(template: dict[str, Any], setting: str) -> str:
    """The logical id of the table a settings attribute ("stores_table") names, through the
    variable the template gives the functions ("STORES_TABLE: !Ref StoresTable")."""
    variable = setting.upper()
    found = {
        resource["Properties"]["Environment"]["Variables"][variable]["Ref"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        and variable in resource["Properties"].get("Environment", {}).get("Variables", {})
    }
    assert len(found) == 1, (setting, found)
    return found.pop()


def _keys(schema: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(k["AttributeName"], k["KeyType"]) for k in schema}


def _projection(projection: dict[str, Any]) -> tuple[str, frozenset[str]]:
    return projection["ProjectionType"], frozenset(projection.get("NonKeyAttributes", []))


def _indexes(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        index["IndexName"]: index
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
        for index in props.get(kind, [])
    }


@pytest.mark.parametrize("model", [m for m, _ in _models()], ids=lambda m: m.__name__)
def test_each_models_keys_and_indexes_are_the_templates(model):
    template = load_template()
    setting = dict((m, s) for m, s in _models())[model]
    props = template["Resources"][_table_of(template, setting)]["Properties"]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    schema = model._get_schema()
    assert _keys(schema["key_schema"]) == _keys(props["KeySchema"])
    for attribute in schema["attribute_definitions"]:
        assert types.get(attribute["AttributeName"]) == attribute["AttributeType"], attribute
    declared = _indexes(props)
    for index in schema["global_secondary_indexes"] + schema["local_secondary_indexes"]:
        name = index["index_name"]
        assert name in declared, (model.__name__, name)
        assert _keys(index["key_schema"]) == _keys(declared[name]["KeySchema"]), name
        assert _projection(index["projection"]) == _projection(declared[name]["Projection"]), name
    gsis = {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])}
    assert {i["index_name"] for i in schema["global_secondary_indexes"]} <= gsis
    assert {i["index_name"] for i in schema["local_secondary_indexes"]} <= set(declared) - gsis


def test_every_template_index_is_a_models():
    template = load_template()
    known: dict[str, set[str]] = {}
    for model, setting in _models():
        schema = model._get_schema()
        names = {i["index_name"] for i in schema["global_secondary_indexes"]}
        names |= {i["index_name"] for i in schema["local_secondary_indexes"]}
        known.setdefault(_table_of(template, setting), set()).update(names)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            declared = set(_indexes(resource["Properties"]))
            assert declared <= known.get(logical_id, set()), (logical_id, declared - known[logical_id])


def test_stores_receiving_domain_index_is_sparse_and_keys_only():
    """Inbound mail to a store's own domain finds the store with one Query; only stores with a
    domain of their own carry the key, and the store id (the table's key) is the whole answer."""
    from omotenashi.dal.tables import StoreItem

    props = load_template()["Resources"]["StoresTable"]["Properties"]
    [index] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == "receiving-domain"]
    assert index["KeySchema"] == [{"AttributeName": "receiving_domain", "KeyType": "HASH"}]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {"AttributeName": "receiving_domain", "AttributeType": "S"} in props["AttributeDefinitions"]
    assert StoreItem.receiving_domains.Meta.index_name == "receiving-domain"
    assert StoreItem.receiving_domain.null  # sparse
