"""The local stack provisions the template's new resource types in moto: the inbound bucket (its
name in the functions' INBOUND_BUCKET) and the SES configuration set every sent email names; the
rest of SES receiving (rule set, rule, permissions, bucket policy, topics) needs nothing locally."""

from __future__ import annotations

import boto3

from omotenashi.settings import FUNCTION_SETTINGS


def test_inbound_bucket_and_configuration_set_exist_and_functions_name_them(aws):
    from omotenashi_local import provision

    resources = provision.provision()
    region = resources.region
    name = resources.buckets["InboundBucket"]
    assert name == name.lower() and name.startswith("omotenashi-local-")
    assert resources.attributes[("InboundBucket", "Arn")] == f"arn:aws:s3:::{name}"
    s3 = boto3.client("s3", region_name=region)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    by_folder = {spec.code_dir.name: spec for spec in resources.functions}
    assert set(by_folder) == set(FUNCTION_SETTINGS)
    for folder, spec in by_folder.items():
        assert all(isinstance(v, str) and "${" not in v for v in spec.environment.values()), folder
        if "INBOUND_BUCKET" in FUNCTION_SETTINGS[folder]:
            assert spec.environment["INBOUND_BUCKET"] == name, folder
        if "RECEIVING_DOMAIN" in FUNCTION_SETTINGS[folder]:
            assert spec.environment["RECEIVING_DOMAIN"] == "inbound.example.com", folder

    configuration_set = resources.environment["SES_CONFIGURATION_SET"]
    assert {spec.environment["SES_CONFIGURATION_SET"] for spec in resources.functions} == {configuration_set}
    ses = boto3.client("ses", region_name=region)
    described = ses.describe_configuration_set(ConfigurationSetName=configuration_set)
    assert described["ConfigurationSet"]["Name"] == configuration_set
    # What the mailer does with it: moto accepts a send naming the set.
    ses.verify_domain_identity(Domain="demo.example")
    raw = b"From: shop@demo.example\r\nTo: taro@example.jp\r\nSubject: t\r\n\r\nhi"
    sent = ses.send_raw_email(RawMessage={"Data": raw}, ConfigurationSetName=configuration_set)
    assert sent["MessageId"]
