"""Email as a channel (issue 11): SES receives mail for the stack's domain into a private bucket
and invokes the inbound mail function; bounces and complaints of sent mail reach the suppression
list. Checked on the transformed template, least privilege throughout."""

from __future__ import annotations

import json
from typing import Any

import pytest

from omotenashi_local.template import load_template
from tests.infrastructure.test_template import _grants, _of_type, _statements

BUCKET_ARN = {"Fn::GetAtt": ["InboundBucket", "Arn"]}
RULES = (
    "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
    "receipt-rule-set/${InboundRuleSet}:receipt-rule/*"
)


def _bucket_grants(resources: dict[str, Any], role: str) -> dict[str, set[str]]:
    """A role's Allow grants on the inbound bucket, by key pattern ("attachments/*")."""
    found: dict[str, set[str]] = {}
    for statement in _statements(resources, role):
        if statement["Effect"] != "Allow":
            continue
        targets = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for target in targets:
            text = json.dumps(target)
            if "InboundBucket" in text:
                assert isinstance(target, dict) and "Fn::Sub" in target, (role, target)
                prefix = "${InboundBucket.Arn}/"
                assert target["Fn::Sub"].startswith(prefix), (role, target)
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                found.setdefault(target["Fn::Sub"].removeprefix(prefix), set()).update(actions)
    return found


# ---------------------------------------------------------------- the bucket
def test_inbound_bucket_is_private_encrypted_expiring_and_retained(transformed):
    bucket = transformed["InboundBucket"]
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert "BucketName" not in props  # CloudFormation names it: S3 names are global
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    rules = props["LifecycleConfiguration"]["Rules"]
    assert all(r["Status"] == "Enabled" for r in rules)
    expiring = {r["Prefix"]: r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r}
    assert expiring == {
        "inbound/": {"Ref": "InboundMailRetentionDays"},
        "attachments/": {"Ref": "InboundMailRetentionDays"},
    }
    [abort] = [r for r in rules if "AbortIncompleteMultipartUpload" in r]
    assert "Prefix" not in abort and abort["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
    parameter = load_template()["Parameters"]["InboundMailRetentionDays"]
    assert parameter["Type"] == "Number" and parameter["Default"] == 365


def test_only_this_accounts_ses_rules_may_write_raw_mail_and_only_over_tls(transformed):
    policy = transformed["InboundBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "InboundBucket"}
    statements = policy["PolicyDocument"]["Statement"]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == {"Fn::Sub": "${InboundBucket.Arn}/inbound/*"}
    assert allow["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"AWS:SourceArn": {"Fn::Sub": RULES}},
    }
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Resource"] == [BUCKET_ARN, {"Fn::Sub": "${InboundBucket.Arn}/*"}]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statements) == 2


# ---------------------------------------------------------------- SES receiving
def test_receipt_rule_scans_stores_then_invokes_the_function(transformed):
    rule = transformed["InboundRule"]
    assert set(rule["DependsOn"]) == {"InboundBucketPolicy", "InboundMailPermission"}
    props = rule["Properties"]
    assert props["RuleSetName"] == {"Ref": "InboundRuleSet"}
    assert props["Rule"]["Enabled"] is True and props["Rule"]["ScanEnabled"] is True
    actions = props["Rule"]["Actions"]
    assert [next(iter(a)) for a in actions] == ["S3Action", "LambdaAction"]  # stored, then handed on
    assert actions[0]["S3Action"] == {"BucketName": {"Ref": "InboundBucket"}, "ObjectKeyPrefix": "inbound/"}
    assert actions[1]["LambdaAction"] == {
        "FunctionArn": {"Fn::GetAtt": ["InboundMailFunction", "Arn"]},
        "InvocationType": "Event",
    }
    assert transformed["InboundRuleSet"]["Type"] == "AWS::SES::ReceiptRuleSet"


class _Evaluate:
    """The few intrinsic functions the rule's Recipients use, with given parameter values."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, Any]) -> None:
        self.template = template
        self.parameters = parameters

    def condition(self, name: str) -> bool:
        return bool(self(self.template["Conditions"][name]))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        [(key, arg)] = value.items()
        if key == "Ref":
            return self.parameters[arg]
        if key == "Fn::Sub":
            text = arg
            for name, parameter in self.parameters.items():
                text = text.replace("${" + name + "}", str(parameter))
            return text
        if key == "Fn::Join":
            return arg[0].join(self(arg[1]))
        if key == "Fn::Split":
            return self(arg[1]).split(arg[0])
        if key == "Fn::Equals":
            return self(arg[0]) == self(arg[1])
        if key == "Fn::Not":
            return not self(arg[0])
        if key == "Fn::If":
            return self(arg[1]) if self.condition(arg[0]) else self(arg[2])
        raise AssertionError(f"unexpected {key}")


@pytest.mark.parametrize(
    ("extra", "recipients"),
    [
        # CloudFormation passes an empty CommaDelimitedList as [""]: no empty recipient.
        ([""], ["inbound.example.com", ".inbound.example.com"]),
        (
            ["support.shop.example", "mail.other.example"],
            ["inbound.example.com", ".inbound.example.com", "support.shop.example", "mail.other.example"],
        ),
    ],
)
def test_rule_receives_for_the_domain_its_subdomains_and_stores_own_domains(extra, recipients):
    template = load_template()
    parameters = template["Parameters"]
    assert parameters["ReceivingDomain"]["Default"] == "inbound.example.com"
    assert parameters["ExtraReceivingDomains"]["Type"] == "CommaDelimitedList"
    assert parameters["ExtraReceivingDomains"]["Default"] == ""
    evaluate = _Evaluate(template, {"ReceivingDomain": "inbound.example.com", "ExtraReceivingDomains": extra})
    assert evaluate(template["Resources"]["InboundRule"]["Properties"]["Rule"]["Recipients"]) == recipients


def test_only_this_accounts_ses_rules_may_invoke_the_function(transformed):
    permission = transformed["InboundMailPermission"]["Properties"]
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["FunctionName"] == {"Fn::GetAtt": ["InboundMailFunction", "Arn"]}
    assert permission["Principal"] == "ses.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert permission["SourceArn"] == {"Fn::Sub": RULES}


# ---------------------------------------------------------------- the inbound mail function
def test_inbound_mail_function_is_sized_for_40_mb_and_dead_letters_after_two_retries(transformed):
    function = transformed["InboundMailFunction"]["Properties"]
    assert function["MemorySize"] >= 1024 and function["Timeout"] == 120
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "InboundMailFunctionLogGroup"}}
    config = transformed["InboundMailFunctionEventInvokeConfig"]["Properties"]
    assert config["FunctionName"] == {"Ref": "InboundMailFunction"}
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["InboundDeadLetterQueue", "Arn"]
    }
    queue = transformed["InboundDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 86400
    alarm = transformed["InboundDeadLetterAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["InboundDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    outputs = load_template()["Outputs"]
    assert outputs["InboundDeadLetterQueueUrl"]["Value"] == {"Ref": "InboundDeadLetterQueue"}


def test_inbound_mail_function_is_granted_exactly_what_intake_needs(transformed):
    granted = _grants(transformed, "InboundMailFunctionRole")
    assert granted == {
        "InboundBucket/inbound/*": {"s3:GetObject"},  # the raw message SES stored
        "InboundBucket/attachments/*": {"s3:PutObject"},  # the attachments it keeps
        "StoresTable": {"dynamodb:GetItem"},
        "StoresTable/index/receiving-domain": {"dynamodb:Query"},
        # DeleteItem: as the API's intake, withdraws an inquiry whose enqueue failed
        "InquiriesTable": {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        "RepliesTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        "InquiryQueue": {"sqs:SendMessage"},
        "MessageQueue": {"sqs:SendMessage"},
        "InboundDeadLetterQueue": {"sqs:SendMessage"},  # SAM's policy for the OnFailure destination
    }
    assert all(s["Effect"] == "Allow" for s in _statements(transformed, "InboundMailFunctionRole"))


@pytest.mark.parametrize("function", ["ApiFunction", "InquiryWorkerFunction", "MessageWorkerFunction"])
def test_presigning_functions_may_read_attachments_and_nothing_else_in_the_bucket(transformed, function):
    """A pre-signed GET URL works only if the signing role may read the object: attachments; the
    raw mail under inbound/ only for the inquiry worker (the staff notice links the original
    email); never a write, never the whole bucket."""
    expected = {"attachments/*": {"s3:GetObject"}}
    if function == "InquiryWorkerFunction":
        expected["inbound/*"] = {"s3:GetObject"}
    assert _bucket_grants(transformed, f"{function}Role") == expected
    assert "s3:PutObject" not in json.dumps(_statements(transformed, f"{function}Role"))


def test_no_other_function_touches_the_bucket(transformed):
    readers = {
        role: grants
        for role in _of_type(transformed, "AWS::IAM::Role")
        if (grants := _bucket_grants(transformed, role))
    }
    assert set(readers) == {
        "ApiFunctionRole",
        "InquiryWorkerFunctionRole",
        "MessageWorkerFunctionRole",
        "InboundMailFunctionRole",
    }
    for role in _of_type(transformed, "AWS::IAM::Role"):
        assert "InboundBucket.Arn}/*" not in json.dumps(_statements(transformed, role)), role
        assert '"InboundBucket", "Arn"' not in json.dumps(_statements(transformed, role)), role


# ---------------------------------------------------------------- bounces and complaints
def test_sent_mail_names_the_configuration_set_whose_bounces_reach_the_function(transformed):
    template = load_template()
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    assert shared["SES_CONFIGURATION_SET"] == {"Ref": "SesConfigurationSet"}
    assert transformed["SesConfigurationSet"]["Type"] == "AWS::SES::ConfigurationSet"
    [destination] = _of_type(transformed, "AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": "SesConfigurationSet"}
    event = props["EventDestination"]
    assert event["Enabled"] is True
    assert {"bounce", "complaint"} <= set(event["MatchingEventTypes"])
    assert event["SnsDestination"] == {"TopicARN": {"Ref": "SesNotificationTopic"}}
    [subscription] = [
        s["Properties"]
        for s in _of_type(transformed, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": "SesNotificationTopic"}
    ]
    assert subscription["Protocol"] == "lambda"
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["SesNotificationFunction", "Arn"]}
    [invoke] = [
        p["Properties"]
        for p in _of_type(transformed, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Ref": "SesNotificationFunction"}
    ]
    assert invoke["Principal"] == "sns.amazonaws.com"
    assert invoke["SourceArn"] == {"Ref": "SesNotificationTopic"}


def test_ses_may_publish_to_the_encrypted_notification_topic(transformed):
    topic = transformed["SesNotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "SesNotificationKey"}  # not alias/aws/sns
    key = transformed["SesNotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    [ses] = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"].get("Service") == "ses.amazonaws.com"]
    assert ses["Effect"] == "Allow" and set(ses["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert ses["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    policy = transformed["SesNotificationTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "SesNotificationTopic"}]
    [publish] = policy["PolicyDocument"]["Statement"]
    assert publish["Effect"] == "Allow" and publish["Action"] == "sns:Publish"
    assert publish["Principal"] == {"Service": "ses.amazonaws.com"}
    assert publish["Resource"] == {"Ref": "SesNotificationTopic"}
    assert publish["Condition"] == {"StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_notification_function_only_writes_the_suppression_list(transformed):
    assert _grants(transformed, "SesNotificationFunctionRole") == {
        "MarketingTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    }
    function = transformed["SesNotificationFunction"]["Properties"]
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "SesNotificationFunctionLogGroup"}}


@pytest.mark.parametrize(
    "function", ["InquiryWorkerFunction", "MarketingWorkerFunction", "MessageWorkerFunction"]
)
def test_senders_may_send_through_the_configuration_set(transformed, function):
    [send] = [s for s in _statements(transformed, f"{function}Role") if "ses:SendRawEmail" in s["Action"]]
    assert send["Action"] == ["ses:SendRawEmail"]
    assert {"Fn::Sub": RULES.split("receipt-rule-set")[0] + "configuration-set/${SesConfigurationSet}"} in (
        send["Resource"]
    )


def test_outputs_name_the_receiving_resources_and_how_to_activate_the_rule_set():
    outputs = load_template()["Outputs"]
    assert outputs["InboundBucketName"]["Value"] == {"Ref": "InboundBucket"}
    assert outputs["InboundRuleSetName"]["Value"] == {"Ref": "InboundRuleSet"}
    assert "set-active-receipt-rule-set" in outputs["InboundRuleSetName"]["Description"]
    assert outputs["SesConfigurationSetName"]["Value"] == {"Ref": "SesConfigurationSet"}
    assert outputs["ReceivingDomain"]["Value"] == {"Ref": "ReceivingDomain"}
