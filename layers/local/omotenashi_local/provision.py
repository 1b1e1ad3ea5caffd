"""Creates the template's DynamoDB tables, SQS queues, S3 buckets and SES configuration sets on the
current AWS endpoint (moto) and seeds the demo store. Works against the moto server (make run) and
in-process moto (tests). Everything else (SES receipt rules, SNS topics, bucket policies, Lambda
permissions, alarms) needs nothing locally: functions only see names, through their environment."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import boto3

from omotenashi_local.template import (
    PREFIX,
    FunctionSpec,
    Resolver,
    functions,
    load_template,
    parameter_defaults,
)

ACCOUNT_ID = "123456789012"

DEMO_STORE = {
    "store_id": "demo",
    "name": "Omotenashi Demo Shop",
    "sender": "shop@demo.example",
    "staff_addresses": ("staff@demo.example",),
    "default_locale": "ja",
    "time_zone": "Asia/Tokyo",
    "sla_hours": 24,
}


DEMO_MARKETING = {
    "postal_address": "〒100-0001\n東京都千代田区千代田1-1 デモビル3F",
    "contact": "support@demo.example",
}
# Every review default, and a review form that shows what a link carries (docs/reviews.md).
DEMO_REVIEWS = {
    "review_url": "https://shop.demo.example/reviews/new"
    "?order={order_id}&sku={sku}&customer={customer_id}&token={token}",
}

# The demo store receives at support@demo.example (CONTRACT.md), and staff replies show a name.
DEMO_EMAIL = {
    "receiving_domain": "demo.example",
    "support_addresses": ["support"],
    "staff_names": {"staff@demo.example": "山田 花子"},
}


@dataclass
class QueueInfo:
    logical_id: str
    url: str
    arn: str
    name: str


@dataclass
class LocalResources:
    region: str
    environment: dict[str, str]
    functions: list[FunctionSpec]
    queues: dict[str, QueueInfo]
    tables: dict[str, str]
    buckets: dict[str, str]  # logical id -> bucket name
    template: dict[str, Any]
    attributes: dict[tuple[str, str], str]  # (logical id, attribute) -> value, for Fn::GetAtt


def _physical_name(logical_id: str) -> str:
    return f"{PREFIX}-{logical_id}"


def _bucket_name(logical_id: str) -> str:
    """S3 names are lower case (and global on AWS, where CloudFormation makes them up)."""
    return _physical_name(logical_id).lower()


def _create_bucket(s3: Any, name: str, region: str) -> None:
    if region == "us-east-1":  # the one region that takes no location constraint
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def _create_table(dynamodb: Any, name: str, props: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("LocalSecondaryIndexes"):
        kwargs["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    description: dict[str, Any] = dynamodb.create_table(**kwargs)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return description


def provision(region: str | None = None) -> LocalResources:
    region = region or os.environ.get("AWS_DEFAULT_REGION", "ap-northeast-1")
    template = load_template()
    resources = template["Resources"]
    dynamodb: Any = boto3.client("dynamodb", region_name=region)
    sqs: Any = boto3.client("sqs", region_name=region)
    s3: Any = boto3.client("s3", region_name=region)
    ses: Any = boto3.client("ses", region_name=region)

    refs: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    tables: dict[str, str] = {}
    queues: dict[str, QueueInfo] = {}
    buckets: dict[str, str] = {}

    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            name = _physical_name(logical_id)
            description = _create_table(dynamodb, name, resource["Properties"])
            tables[logical_id] = name
            refs[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}"
            if description.get("LatestStreamArn"):
                attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]
        elif resource["Type"] == "AWS::SQS::Queue":
            name = _physical_name(logical_id)
            props = resource.get("Properties", {})
            queue_attributes = {
                key: str(props[key])
                for key in ("VisibilityTimeout", "MessageRetentionPeriod")
                if key in props
            }
            url = sqs.create_queue(QueueName=name, Attributes=queue_attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            queues[logical_id] = QueueInfo(logical_id, url, arn, name)
            refs[logical_id] = url
            attributes[(logical_id, "Arn")] = arn
            attributes[(logical_id, "QueueUrl")] = url
            attributes[(logical_id, "QueueName")] = name
        elif resource["Type"] == "AWS::S3::Bucket":
            name = _bucket_name(logical_id)
            _create_bucket(s3, name, region)
            buckets[logical_id] = name
            refs[logical_id] = name
            attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        elif resource["Type"] == "AWS::SES::ConfigurationSet":
            # Sent mail names it (SES_CONFIGURATION_SET); moto's send_raw_email accepts it.
            name = _physical_name(logical_id)
            ses.create_configuration_set(ConfigurationSet={"Name": name})
            refs[logical_id] = name

    for logical_id in resources:  # anything else (API, layer, roles) gets a stand-in name
        refs.setdefault(logical_id, _physical_name(logical_id))
    resolver = Resolver(
        parameters=parameter_defaults(template),
        refs=refs,
        attributes=attributes,
        pseudo={
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": PREFIX,
            "AWS::URLSuffix": "amazonaws.com",
        },
    )

    # Dead-letter wiring needs every queue's ARN, so it comes after all queues exist.
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::SQS::Queue":
            redrive = resource.get("Properties", {}).get("RedrivePolicy")
            if redrive:
                policy = resolver.resolve(redrive)
                sqs.set_queue_attributes(
                    QueueUrl=queues[logical_id].url,
                    Attributes={"RedrivePolicy": json.dumps({k: str(v) for k, v in policy.items()})},
                )

    specs = functions(template)
    environment: dict[str, str] = {}
    for spec in specs:
        spec.environment = {k: str(resolver.resolve(v)) for k, v in spec.environment.items()}
        for event in spec.events:
            event.properties = resolver.resolve(event.properties)
        environment.update(spec.environment)
    return LocalResources(region, environment, specs, queues, tables, buckets, template, attributes)


def verify_sender_domain(domain: str, region: str) -> None:
    boto3.client("ses", region_name=region).verify_domain_identity(Domain=domain)


def seed_demo_store(secret: str) -> None:
    from omotenashi import clock
    from omotenashi.logic.core.store_admin import create_store, set_email, set_marketing, set_reviews

    create_store(**DEMO_STORE, now=clock.now(), secret_value=secret)  # type: ignore[arg-type]
    # Every default, and the legal sender details, so `make run` shows a complete cart reminder.
    set_marketing(str(DEMO_STORE["store_id"]), DEMO_MARKETING)
    set_reviews(str(DEMO_STORE["store_id"]), DEMO_REVIEWS)
    set_email(str(DEMO_STORE["store_id"]), DEMO_EMAIL)
