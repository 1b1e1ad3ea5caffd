"""The local stack's one change to moto: TransactWriteItems snapshots the items it names instead of
copying whole tables, and still rolls back all of a transaction whose condition fails."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(stack):
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="patched",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for key, value in (("kept", "1"), ("gone", "2"), ("counter", "10")):
        client.put_item(TableName="patched", Item={"pk": {"S": key}, "v": {"N": value}})
    return client


def _state(client) -> dict[str, str]:
    items = client.scan(TableName="patched", ConsistentRead=True)["Items"]
    return {item["pk"]["S"]: item["v"]["N"] if "v" in item else "" for item in items}


def test_a_failed_condition_rolls_back_every_item_of_the_transaction(table):
    before = _state(table)
    with pytest.raises(ClientError) as raised:
        table.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "patched", "Item": {"pk": {"S": "new"}, "v": {"N": "5"}}}},
                {"Delete": {"TableName": "patched", "Key": {"pk": {"S": "gone"}}}},
                {
                    "Update": {
                        "TableName": "patched",
                        "Key": {"pk": {"S": "counter"}},
                        "UpdateExpression": "ADD v :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "patched",
                        "Key": {"pk": {"S": "kept"}},
                        "ConditionExpression": "v = :nine",
                        "ExpressionAttributeValues": {":nine": {"N": "9"}},
                    }
                },
            ]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _state(table) == before


def test_a_transaction_that_holds_applies_every_item(table):
    table.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "patched", "Item": {"pk": {"S": "new"}, "v": {"N": "5"}}}},
            {"Delete": {"TableName": "patched", "Key": {"pk": {"S": "gone"}}}},
            {
                "Update": {
                    "TableName": "patched",
                    "Key": {"pk": {"S": "counter"}},
                    "UpdateExpression": "ADD v :one",
                    "ConditionExpression": "v = :ten",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":ten": {"N": "10"}},
                }
            },
        ]
    )
    assert _state(table) == {"kept": "1", "new": "5", "counter": "11"}
