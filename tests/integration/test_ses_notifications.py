"""SES bounce and complaint notifications against moto: through the local stack's SNS-shaped
invocation of the SES-notifications function, and through POST /_local/ses/notifications on the
local HTTP front. A permanent bounce or a complaint suppresses the address once (the first reason
and time stay), and the marketing gate then refuses it; every email carries the store's SES tag and
header the notifications are matched by."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.client
import pytest

from omotenashi import clock
from omotenashi_local import provision
from omotenashi_local.template import load_template
from tests import ses_samples as samples
from tests.integration.test_cart_reminders import advance_to, cart, consent, reminders
from tests.support import call, inquiry_body

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 10:00 JST
FOLDER = "ses_notifications"
# Until infra/template.yaml declares it, the tests add the function as the template will: its code
# folder, and an SNS subscription to the topic SES publishes to.
STAND_IN = {
    "Type": "AWS::Serverless::Function",
    "Properties": {
        "CodeUri": f"../functions/{FOLDER}/",
        "Handler": "app.handler",
        "Environment": {"Variables": {"MARKETING_TABLE": {"Ref": "MarketingTable"}}},
        "Events": {"SesNotifications": {"Type": "SNS", "Properties": {"Topic": "ses-notifications"}}},
    },
}


# Settings the functions declare (omotenashi/settings.py) that the template may not give yet (the
# email channel's settings came before its template); stand-ins that no test here reads.
PLACEHOLDERS = {"INBOUND_BUCKET": "omotenashi-local-inbound", "RECEIVING_DOMAIN": "mail.demo.example"}


@pytest.fixture(autouse=True)
def _template_has_the_function(monkeypatch):
    """A no-op once infra/template.yaml has the function and every setting."""
    template = load_template()
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    declared = any(
        str(r["Properties"].get("CodeUri", "")).rstrip("/").endswith(f"functions/{FOLDER}") for r in functions
    )
    if not declared:
        template["Resources"]["SesNotificationFunction"] = STAND_IN
        monkeypatch.setattr(provision, "load_template", lambda: template)
    given = {name for r in functions for name in r["Properties"].get("Environment", {}).get("Variables", {})}
    for name, value in PLACEHOLDERS.items():
        if name not in given:
            monkeypatch.setenv(name, value)


@pytest.fixture
def clocked(stack):
    clock.set_source(lambda: T0)
    yield stack
    clock.set_source(None)


def suppression(stack, email: str, store: str = "demo") -> dict[str, Any] | None:
    table = stack.resources.tables["MarketingTable"]
    item = boto3.client("dynamodb").get_item(
        TableName=table,
        Key={"store_id": {"S": store}, "key": {"S": f"suppressed#{email}"}},
        ConsistentRead=True,
    )
    found = item.get("Item")
    return {name: value["S"] for name, value in found.items()} if found else None


def suppressions(stack) -> list[str]:
    table = stack.resources.tables["MarketingTable"]
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(
        f"{i['store_id']['S']}/{i['key']['S']}" for i in items if i["key"]["S"].startswith("suppressed#")
    )


def notify(stack, payload: Any) -> dict[str, Any]:
    [result] = stack.ses_notification(payload)["notifications"]
    return result


@pytest.mark.parametrize("form", ["notificationType", "eventType"])
def test_a_permanent_bounce_is_suppressed_once_and_keeps_its_first_reason_and_time(clocked, form):
    stack = clocked
    first = notify(stack, samples.bounce(["Taro@Example.jp", "hanako@example.jp"], form=form))
    assert first["outcome"] == "suppressed" and first["store_id"] == "demo"
    assert first["suppressed"] == ["taro@example.jp", "hanako@example.jp"]
    stored = suppression(stack, "taro@example.jp")
    assert stored is not None and stored["reason"] == "bounce" and stored["at"].startswith("2026-11-22T01:00")

    clock.set_source(lambda: T0 + timedelta(days=2))
    again = notify(stack, samples.bounce(["taro@example.jp"], form=form))  # SNS delivered it twice
    later = notify(stack, samples.complaint(["taro@example.jp"], form=form))  # then a complaint
    assert again["suppressed"] == [] and again["already_suppressed"] == ["taro@example.jp"]
    assert later["suppressed"] == [] and later["already_suppressed"] == ["taro@example.jp"]
    assert suppression(stack, "taro@example.jp") == stored
    assert suppressions(stack) == ["demo/suppressed#hanako@example.jp", "demo/suppressed#taro@example.jp"]


@pytest.mark.parametrize(
    "payload",
    [
        samples.bounce(bounce_type="Transient", subtype="MailboxFull"),
        samples.bounce(bounce_type="Undetermined", subtype="Undetermined", form="eventType"),
        samples.complaint(feedback_type="not-spam"),
        samples.delivery(form="eventType"),
        samples.bounce(store=None),
        samples.SUBSCRIPTION_SUCCEEDED,
    ],
    ids=["transient", "undetermined", "not-spam", "delivery", "no-store", "subscription"],
)
def test_what_does_not_suppress(stack, payload):
    assert notify(stack, payload)["outcome"] != "suppressed"
    assert suppressions(stack) == []


def test_the_suppression_is_per_store(stack):
    assert notify(stack, samples.complaint(store="other-shop", form="eventType"))["store_id"] == "other-shop"
    assert suppressions(stack) == ["other-shop/suppressed#taro@example.jp"]


def test_a_bounced_address_gets_no_cart_reminder_and_another_still_does(clocked):
    stack = clocked
    hanako = {"id": "c-456", "email": "hanako@example.jp", "name": "花子", "locale": "ja"}
    consent(stack)
    consent(stack, customer_id="c-456", email="hanako@example.jp")
    notify(stack, samples.bounce(["taro@example.jp"], form="eventType"))
    cart(stack)
    cart(stack, cart_id="cart-88", customer=hanako)
    advance_to(stack, T0 + timedelta(hours=30))
    assert {tuple(mail["to"]) for mail in reminders(stack)} == {("hanako@example.jp",)}
    decisions = call(stack, "GET", "/v1/customers/c-123/marketing/decisions").json["decisions"]
    assert decisions and {d["reason"] for d in decisions} == {"suppressed"}


def test_an_email_the_stack_sends_carries_the_store_tag_and_header_and_its_bounce_comes_home(
    stack, monkeypatch
):
    sent: list[dict[str, Any]] = []
    base: Any = botocore.client.BaseClient
    real = base._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendRawEmail":
            sent.append(params)
        return real(self, operation, params)

    monkeypatch.setattr(base, "_make_api_call", recording)
    monkeypatch.setenv("SES_CONFIGURATION_SET", "omotenashi-email")  # moto accepts any name
    assert call(stack, "POST", "/v1/inquiries", inquiry_body()).status == 202
    stack.drain()
    [params] = [p for p in sent if "taro@example.jp" in p["Destinations"]]  # not staff's notice
    assert params["Tags"] == [{"Name": "omotenashi-store", "Value": "demo"}]
    assert params["ConfigurationSetName"] == "omotenashi-email"
    [mail] = [m for m in stack.outbox() if m["kind"] == "inquiry_auto_reply"]
    assert mail["headers"]["X-Omotenashi-Store"] == "demo"

    # The identity notification of its bounce: no tags, the original headers as SES saw them.
    bounce = samples.bounce(mail["to"], tags=False, store=None)
    bounce["mail"]["headers"] = [{"name": k, "value": v} for k, v in mail["headers"].items()]
    assert notify(stack, bounce)["suppressed"] == ["taro@example.jp"]


def test_without_a_configuration_set_the_email_is_sent_without_one(stack, monkeypatch):
    sent: list[dict[str, Any]] = []
    base: Any = botocore.client.BaseClient
    real = base._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendRawEmail":
            sent.append(params)
        return real(self, operation, params)

    monkeypatch.setattr(base, "_make_api_call", recording)
    monkeypatch.delenv("SES_CONFIGURATION_SET", raising=False)
    assert call(stack, "POST", "/v1/inquiries", inquiry_body()).status == 202
    stack.drain()
    [params] = [p for p in sent if "taro@example.jp" in p["Destinations"]]  # not staff's notice
    assert "ConfigurationSetName" not in params and params["Tags"][0]["Value"] == "demo"


def test_a_bad_notification_is_counted_not_raised(stack):
    result = notify(stack, {"notificationType": "Bounce", "mail": {}})
    assert result == {"outcome": "invalid", "field": "bounce", "message": "must be a JSON object"}


# --- the local HTTP front ---------------------------------------------------------------------


@pytest.fixture
def server(stack) -> Iterator[tuple[str, int]]:
    from omotenashi_local.server import make_server

    httpd = make_server(stack, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[0], httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def post(server: tuple[str, int], body: bytes) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection(*server, timeout=30)
    try:
        connection.request(
            "POST", "/_local/ses/notifications", body=body, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_the_local_endpoint_suppresses_a_bounce(stack, server):
    status, body = post(server, json.dumps(samples.bounce(form="eventType")).encode())
    assert status == 200, body
    assert body["outcome"] == "suppressed" and body["suppressed"] == ["taro@example.jp"]
    status, body = post(server, json.dumps(samples.complaint()).encode())
    assert status == 200 and body["already_suppressed"] == ["taro@example.jp"]
    status, body = post(server, json.dumps(samples.delivery()).encode())
    assert status == 200 and body["outcome"] == "delivery"
    assert suppressions(stack) == ["demo/suppressed#taro@example.jp"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"notificationType": "Bounce", "mail": {}}, "bounce"),
        ({"eventType": "Bounced"}, "eventType"),
        ({"bounce": {}}, "notificationType"),
        ([samples.bounce()], "notification"),
        (
            samples.without(samples.complaint(), "complaint", "complainedRecipients"),
            "complaint.complainedRecipients",
        ),
    ],
)
def test_the_local_endpoint_names_the_field_a_notification_lacks(stack, server, payload, field):
    status, body = post(server, json.dumps(payload).encode())
    assert status == 422
    assert body["error"]["type"] == "validation_error"
    assert [f["field"] for f in body["error"]["fields"]] == [field]
    assert suppressions(stack) == []


@pytest.mark.parametrize("body", [b"", b"{not json", b"\xff\xfe"])
def test_the_local_endpoint_refuses_what_is_not_json(server, body):
    status, answer = post(server, body)
    assert status == 400 and answer["error"]["type"] == "invalid_json"


def test_a_storage_failure_answers_503_and_the_retry_suppresses(stack, server):
    from tests.support import aws_fault

    payload = json.dumps(samples.bounce()).encode()
    with aws_fault("dynamodb", "PutItem") as failures:
        status, body = post(server, payload)
    assert failures == [1]
    assert status == 503 and body["error"]["type"] == "service_unavailable"
    assert suppressions(stack) == []
    assert post(server, payload)[0] == 200  # as SNS's retry would
    assert suppressions(stack) == ["demo/suppressed#taro@example.jp"]


def test_logs_carry_ids_never_addresses(stack, caplog):
    import io
    import logging

    from omotenashi.observability import logger

    structured = io.StringIO()
    handler = logging.StreamHandler(structured)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("omotenashi").addHandler(handler)
    caplog.set_level(logging.DEBUG, logger="omotenashi")
    try:
        notify(stack, samples.bounce(["taro.private@example.jp"], form="eventType"))
        notify(stack, samples.complaint(["taro.private@example.jp"], store=None))
        notify(stack, samples.without(samples.bounce(["taro.private@example.jp"]), "mail"))
    finally:
        logging.getLogger("omotenashi").removeHandler(handler)
    logged = structured.getvalue() + caplog.text
    assert samples.MESSAGE_ID in logged and "no store" in logged
    assert "taro.private" not in logged
