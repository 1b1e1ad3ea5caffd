"""The SAM template: lints clean, transforms, and declares what the inquiry capability needs with
least privilege."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from omotenashi_local.template import TEMPLATE_PATH, load_template

ROOT = Path(__file__).resolve().parents[2]


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def _statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        s for p in resources[role]["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def _targets(statement: dict[str, Any]) -> list[str]:
    """A statement's resources by name: "LoyaltyTable" (its ARN), "LoyaltyTable/index/due" (an
    index), "EventsTable.StreamArn" (another attribute), "*" as it is."""
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    names = []
    for resource in resources:
        if isinstance(resource, dict) and "Fn::GetAtt" in resource:
            logical, attribute = resource["Fn::GetAtt"]
            names.append(logical if attribute == "Arn" else f"{logical}.{attribute}")
        elif isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
            found = re.fullmatch(r"\$\{(\w+)\.Arn\}(/.*)?", resource["Fn::Sub"])
            names.append(found[1] + (found[2] or "") if found else resource["Fn::Sub"])
        else:
            names.append(resource if isinstance(resource, str) else json.dumps(resource))
    return names


def _grants(resources: dict[str, Any], role: str) -> dict[str, set[str]]:
    """What a role's Allow statements grant, by resource name (see _targets)."""
    granted: dict[str, set[str]] = {}
    for statement in _statements(resources, role):
        if statement["Effect"] == "Allow":
            for target in _targets(statement):
                granted.setdefault(target, set()).update(_actions(statement))
    return granted


def test_cfn_lint_passes():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_functions_use_python312_layer_and_tracing(transformed):
    functions = _of_type(transformed, "AWS::Lambda::Function")
    assert set(functions) == {
        "ApiFunction",
        "EventWorkerFunction",
        "InboundMailFunction",
        "InquiryWorkerFunction",
        "LoyaltyWorkerFunction",
        "MarketingWorkerFunction",
        "MessageWorkerFunction",
        "SesNotificationFunction",
        "SlaSweepFunction",
    }
    for function in functions.values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Handler"] == "app.handler"
        assert props["Layers"], "the shared layer must be attached"
        assert props["TracingConfig"]["Mode"] == "Active"
    layer = next(iter(_of_type(transformed, "AWS::Lambda::LayerVersion").values()))
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]


def test_each_function_gets_exactly_the_settings_it_declares():
    """The template gives each function the variables its code declares (settings.FUNCTION_SETTINGS,
    checked at its cold start), and no others: least knowledge, as with its IAM policy."""
    from omotenashi.settings import FUNCTION_SETTINGS

    template = load_template()
    shared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    # Shared by every function: Powertools' own, and the configuration set every sent email names
    # (read by the mailer, not a function's declared setting). Nothing a function declares.
    assert {n for n in shared if not n.startswith("POWERTOOLS_")} == {"SES_CONFIGURATION_SET"}
    assert not shared & {name for names in FUNCTION_SETTINGS.values() for name in names}
    seen = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        folder = Path(resource["Properties"]["CodeUri"]).name
        own = set(resource["Properties"].get("Environment", {}).get("Variables", {}))
        assert own == set(FUNCTION_SETTINGS[folder]), folder
        seen.add(folder)
    assert seen == set(FUNCTION_SETTINGS)


def test_a_function_missing_a_setting_fails_at_cold_start(monkeypatch):
    import pytest

    from omotenashi.settings import SettingsError, require_settings

    monkeypatch.delenv("MESSAGE_QUEUE_URL", raising=False)
    monkeypatch.setenv("INQUIRIES_TABLE", "t")
    with pytest.raises(SettingsError, match="MESSAGE_QUEUE_URL"):
        require_settings("sla_sweep")


def test_layer_build_is_runtime_only():
    raw = load_template()["Resources"]["SharedLayer"]
    assert raw["Metadata"]["BuildMethod"] == "makefile"  # recipe: see test_layer_build.py
    requirements = (ROOT / "layers" / "shared" / "requirements.txt").read_text()
    assert "moto" not in requirements and "pytest" not in requirements


def test_api_routes_v1_to_the_api_function(transformed):
    permission = _of_type(transformed, "AWS::Lambda::Permission")
    assert any(p["Properties"]["FunctionName"] == {"Ref": "ApiFunction"} for p in permission.values())
    body = transformed["Api"]["Properties"]["Body"]
    assert "/v1/{proxy+}" in body["paths"]
    assert "x-amazon-apigateway-any-method" in body["paths"]["/v1/{proxy+}"]


WORKERS = [
    ("InquiryWorkerFunction", "InquiryQueue"),
    ("MessageWorkerFunction", "MessageQueue"),
    ("LoyaltyWorkerFunction", "LoyaltyQueue"),
]


@pytest.mark.parametrize(("function", "queue"), WORKERS)
def test_workers_consume_queues_with_partial_batch_failures(transformed, function, queue):
    mapping = transformed[f"{function}{queue}"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["FunctionName"] == {"Ref": function}


@pytest.mark.parametrize(("function", "queue"), WORKERS)
def test_queues_have_dlq_and_visibility_fits_worker_and_claim_lease(transformed, function, queue):
    from omotenashi.logic.core.delivery import LEASE

    props = transformed[queue]["Properties"]
    dlq = queue.replace("Queue", "DeadLetterQueue")
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq, "Arn"]}
    assert 3 <= props["RedrivePolicy"]["maxReceiveCount"] <= 10
    timeout = transformed[function]["Properties"]["Timeout"]
    assert props["VisibilityTimeout"] >= 6 * timeout  # AWS guidance for SQS event sources
    assert timeout < LEASE.total_seconds() < props["VisibilityTimeout"]
    alarm = transformed[queue.replace("Queue", "DeadLetterAlarm")]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq, "QueueName"]}
    assert alarm["AlarmActions"]


def test_sla_sweep_is_scheduled_and_cannot_scan(transformed):
    schedules = _of_type(transformed, "AWS::Scheduler::Schedule")
    [schedule] = schedules.values()
    assert schedule["Properties"]["ScheduleExpression"] == {"Ref": "SlaSweepSchedule"}
    assert schedule["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": ["SlaSweepFunction", "Arn"]}
    statements = _statements(transformed, "SlaSweepFunctionRole")
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in s["Action"]}
    assert allowed == {"dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage"}
    queries = [s["Resource"] for s in statements if "dynamodb:Query" in s["Action"]]
    # Only the sparse due-timer indexes: a run reads what is due, never the tables.
    assert sorted(q["Fn::Sub"] for q in queries) == [
        "${CartsTable.Arn}/index/due-reminders",
        "${InquiriesTable.Arn}/index/due-alerts",
        "${LoyaltyTable.Arn}/index/due",
        "${ReviewsTable.Arn}/index/due-reminders",
    ]
    assert any(s["Effect"] == "Deny" and s["Action"] == ["dynamodb:Scan"] for s in statements)


def test_due_reminders_index_is_sparse_and_the_marketing_worker_is_least_privilege(transformed):
    indexes = transformed["CartsTable"]["Properties"]["GlobalSecondaryIndexes"]
    [index] = [i for i in indexes if i["IndexName"] == "due-reminders"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["reminder_shard", "next_reminder_at"]
    assert set(index["Projection"]["NonKeyAttributes"]) == {"reminder_step", "reminder_plan", "updated_at"}
    statements = _statements(transformed, "MarketingWorkerFunctionRole")
    consent = [s for s in statements if "ConsentTable" in json.dumps(s["Resource"])]
    assert [s["Action"] for s in consent] == [["dynamodb:Query"]]  # reads consent, never writes it
    text = json.dumps(statements)
    assert "dynamodb:Scan" not in text and "EventsTable" not in text
    orders = [s for s in statements if "OrdersTable" in json.dumps(s["Resource"])]
    assert [s["Action"] for s in orders] == [["dynamodb:Query"]]  # a review request reads the history
    queue = transformed["MarketingQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["MarketingDeadLetterQueue", "Arn"]
    }


def test_due_alerts_index_is_sparse_and_projects_what_the_sweep_reads(transformed):
    indexes = transformed["InquiriesTable"]["Properties"]["GlobalSecondaryIndexes"]
    [index] = [i for i in indexes if i["IndexName"] == "due-alerts"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["alert_shard", "next_alert_at"]
    assert set(index["Projection"]["NonKeyAttributes"]) == {"alert_index", "alert_plan", "sla_round"}


def test_open_by_customer_index_is_sparse_keys_only_and_queried_at_most(transformed):
    """The marketing gate's "is this customer waiting for an answer?": keyed on open_customer, an
    attribute only open inquiries carry, projecting keys only (existence is the answer). Whoever is
    granted it gets Query on that index and nothing more; no function can Scan the table."""
    props = transformed["InquiriesTable"]["Properties"]
    [index] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == "open-by-customer"]
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("open_customer", "HASH"),
        ("inquiry_id", "RANGE"),
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {"AttributeName": "open_customer", "AttributeType": "S"} in props["AttributeDefinitions"]
    assert "open_customer" not in [k["AttributeName"] for k in props["KeySchema"]]
    from omotenashi.dal.tables import InquiryItem

    assert InquiryItem.open_by_customer.Meta.index_name == "open-by-customer"
    assert InquiryItem.open_customer.null  # sparse: absent on answered and closed inquiries

    for role in _of_type(transformed, "AWS::IAM::Role"):
        for statement in _statements(transformed, role):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow":
                assert not any(fnmatch.fnmatch("dynamodb:Scan", a) for a in actions), (role, statement)
            if "open-by-customer" in json.dumps(statement["Resource"]):
                assert statement["Effect"] == "Allow" and actions == ["dynamodb:Query"], (role, statement)
                assert statement["Resource"] == {"Fn::Sub": "${InquiriesTable.Arn}/index/open-by-customer"}


def test_list_indexes_match_the_models_and_only_the_api_queries_them(transformed):
    """GET /v1/inquiries reads the store-received and store-status indexes (projecting every
    attribute: the list shows whole inquiries); their keys are the models', and the API may Query
    them and nothing else."""
    from omotenashi.dal.tables import InquiryItem

    props = transformed["InquiriesTable"]["Properties"]
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    for model_index in (InquiryItem.store_received, InquiryItem.store_status):
        declared = indexes[model_index.Meta.index_name]
        schema = model_index._get_schema()
        assert sorted((k["KeyType"], k["AttributeName"]) for k in declared["KeySchema"]) == sorted(
            (k["KeyType"], k["AttributeName"]) for k in schema["key_schema"]
        )
        assert declared["Projection"] == {"ProjectionType": "ALL"}
        for key in declared["KeySchema"]:
            assert {"AttributeName": key["AttributeName"], "AttributeType": "S"} in props[
                "AttributeDefinitions"
            ]
    for name in ("store-received", "store-status"):
        for role in _of_type(transformed, "AWS::IAM::Role"):
            for statement in _statements(transformed, role):
                if f"InquiriesTable/index/{name}" in _targets(statement):
                    assert role == "ApiFunctionRole" and _actions(statement) == ["dynamodb:Query"]
        assert "dynamodb:Query" in _grants(transformed, "ApiFunctionRole")[f"InquiriesTable/index/{name}"]
    assert "dynamodb:Query" in _grants(transformed, "ApiFunctionRole")["RepliesTable"]  # the thread


def test_tables_on_demand_with_pitr_and_ttl(transformed):
    tables = _of_type(transformed, "AWS::DynamoDB::Table")
    assert set(tables) == {
        "StoresTable",
        "InquiriesTable",
        "RateLimitsTable",
        "RepliesTable",
        "DeliveriesTable",
        "EventsTable",
        "CartsTable",
        "OrdersTable",
        "MarketingTable",
        "ConsentTable",
        "LoyaltyTable",
        "ReviewsTable",
    }
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
    assert tables["RateLimitsTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert tables["StoresTable"]["DeletionPolicy"] == "Retain"
    assert tables["InquiriesTable"]["DeletionPolicy"] == "Retain"
    for name in ("EventsTable", "CartsTable", "OrdersTable"):  # customers' commerce history
        assert tables[name]["DeletionPolicy"] == "Retain", name
    assert tables["LoyaltyTable"]["DeletionPolicy"] == "Retain"  # the points ledger: customers' money


def test_events_reach_the_worker_through_the_stream_with_partial_failures_and_a_dead_letter(
    transformed,
):
    """One write per event: the events table's stream (new images) invokes the event worker,
    inserts only, one batch at a time per shard, failed records retried from the failure, a batch
    that keeps failing sent to a dead-letter queue that raises an alarm."""
    events = _of_type(transformed, "AWS::DynamoDB::Table")["EventsTable"]["Properties"]
    assert events["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert events["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    mappings = [
        m["Properties"]
        for m in _of_type(transformed, "AWS::Lambda::EventSourceMapping").values()
        if "EventsTable" in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["FunctionName"] == {"Ref": "EventWorkerFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ParallelizationFactor"] == 1 and mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 20  # never the default: retry forever
    assert json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"]) == {"eventName": ["INSERT"]}
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]}
    alarms = _of_type(transformed, "AWS::CloudWatch::Alarm")
    watched = json.dumps([a["Properties"].get("Dimensions") for a in alarms.values()])
    assert "EventDeadLetterQueue" in watched and "EventWorkerFunction" in watched


def test_commerce_permissions_are_least_privilege(transformed):
    def statements(function: str) -> dict[str, dict]:
        roles = _of_type(transformed, "AWS::IAM::Role")
        role = roles[f"{function}Role"]
        found = {}
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                found[statement.get("Sid", "")] = statement
        return found

    api = statements("ApiFunction")
    assert sorted(api["StoreCommerceEvents"]["Action"]) == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert api["ReadCarts"]["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]  # Query: the cart report
    assert api["ReadCarts"]["Resource"] == {"Fn::GetAtt": ["CartsTable", "Arn"]}  # never the index
    assert api["ReadOrders"]["Action"] == ["dynamodb:Query"]
    worker = statements("EventWorkerFunction")
    assert "dynamodb:Scan" not in json.dumps(worker)
    assert "EventsTable" not in json.dumps(worker)  # the stream record carries the event
    # Carts and orders are never deleted: the worker's one DeleteItem (and ConditionCheckItem) is on
    # the loyalty ledger's table, for its TransactWriteItems, which clear a customer's timers (and
    # check the balance); ledger entries themselves are put only if absent, never deleted.
    for action in ("dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"):
        granted = [s["Resource"] for s in worker.values() if action in s["Action"]]
        assert granted == [{"Fn::GetAtt": ["LoyaltyTable", "Arn"]}], action
    commerce = [s for s in worker.values() if {"CartsTable", "OrdersTable"} & set(_targets(s))]
    assert commerce and all("dynamodb:DeleteItem" not in s["Action"] for s in commerce)


def test_consent_table_keeps_the_proof_and_the_api_may_only_add_and_read(transformed):
    """Consent is legal proof (特定電子メール法): retained with the stack gone, recoverable, and the
    API can add history entries and read them, never delete or replace one."""
    table = transformed["ConsentTable"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["store_id", "entry_key"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    roles = [name for name in _of_type(transformed, "AWS::IAM::Role") if name != "ApiFunctionRole"]
    on_consent = [
        statement
        for role in ["ApiFunctionRole", *roles]
        for statement in _statements(transformed, role)
        if "ConsentTable" in json.dumps(statement["Resource"])
    ]
    # The API alone writes it, in one statement; the marketing worker only reads it.
    [statement] = [s for s in on_consent if s in _statements(transformed, "ApiFunctionRole")]
    others = [s for s in on_consent if s is not statement and s != statement]
    assert all(s["Action"] == ["dynamodb:Query"] for s in others)
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["dynamodb:Query", "dynamodb:UpdateItem"]
    assert statement["Resource"] == {"Fn::GetAtt": ["ConsentTable", "Arn"]}


LOYALTY_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}


def _on_loyalty(resources: dict[str, Any], role: str) -> dict[str, set[str]]:
    """What a role may do to LoyaltyTable and its indexes (a "*" resource counts as both)."""
    return {
        target: actions
        for target, actions in _grants(resources, role).items()
        if target == "*" or target == "LoyaltyTable" or target.startswith("LoyaltyTable/")
    }


def test_loyalty_table_keeps_the_books_and_its_due_index_is_sparse(transformed):
    """The points ledger is customers' money: retained with the stack gone or replaced, recoverable,
    encrypted, on demand. The sweep finds due timers on the `due` index, which only items with
    something due carry (keys and due_kind projected: the sweep reads only what is due); the API
    pages a customer's entries newest first through the `ledger-by-time` local index."""
    table = transformed["LoyaltyTable"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == [
        ("account", "HASH"),
        ("key", "RANGE"),
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}

    [due] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == "due"]
    assert [(k["AttributeName"], k["KeyType"]) for k in due["KeySchema"]] == [
        ("due_shard", "HASH"),
        ("due_at", "RANGE"),
    ]
    assert due["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["due_kind"]}
    assert types["due_shard"] == types["due_at"] == "S"  # due_at: an ISO instant, compared as text

    [by_time] = [i for i in props["LocalSecondaryIndexes"] if i["IndexName"] == "ledger-by-time"]
    assert [(k["AttributeName"], k["KeyType"]) for k in by_time["KeySchema"]] == [
        ("account", "HASH"),
        ("ledger_at", "RANGE"),
    ]
    assert by_time["Projection"] == {"ProjectionType": "ALL"}  # a page is read from the index alone
    assert types["ledger_at"] == "S"

    # The code's models name the same indexes and projections, and only timers and orders awaiting
    # confirmation can carry the due keys (sparse); only entries carry ledger_at.
    from omotenashi.dal import loyalty_tables as tables

    assert tables.LoyaltyTimerItem.due.Meta.index_name == "due"
    assert tables.LoyaltyTimerItem.due.Meta.projection.non_key_attributes == ["due_kind"]
    assert tables.LedgerEntryItem.by_time.Meta.index_name == "ledger-by-time"
    loyalty_models = [
        tables.LoyaltyBalanceItem,
        tables.LoyaltyOrderItem,
        tables.LedgerEntryItem,
        tables.LoyaltyRedemptionItem,
        tables.LoyaltyRequestItem,
        tables.LoyaltyTimerItem,
    ]
    for model in loyalty_models:
        attributes = model.get_attributes()
        due_keyed = model in (tables.LoyaltyTimerItem, tables.LoyaltyOrderItem)
        assert ("due_shard" in attributes) is due_keyed, model
        if due_keyed:
            assert attributes["due_shard"].null and attributes["due_at"].null, model
        assert ("ledger_at" in attributes) is (model is tables.LedgerEntryItem), model
        # TTL deletes only items whose expires_at is a Number: only Idempotency-Key records; an
        # entry's expires_at (when its points expire) is text, so the ledger itself never expires.
        if "expires_at" in attributes:
            assert (attributes["expires_at"].attr_type == "N") is (model is tables.LoyaltyRequestItem), model
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_loyalty_table_permissions_are_least_privilege(transformed):
    """Nobody scans the ledger or holds a wildcard on it. It is written by the functions whose
    changes are ledger transactions (API: redemptions and adjustments; event worker: orders;
    loyalty worker: timers), by the marketing worker for its birthday-email timer only, and by the
    sweep only to lease a due timer. The sweep alone reads the due index; the API alone pages
    the ledger, through ledger-by-time; the message worker only reads balances."""
    roles = _of_type(transformed, "AWS::IAM::Role")
    on_loyalty = {role: _on_loyalty(transformed, role) for role in roles}
    for role, granted in on_loyalty.items():
        for target, actions in granted.items():
            assert not any(fnmatch.fnmatch("dynamodb:Scan", a) for a in actions), (role, target)
            assert not any("*" in a for a in actions), (role, target)
            assert target != "*", role  # the general test forbids it too; here it would hide grants

    writers = {
        role: set().union(*granted.values()) & LOYALTY_WRITES
        for role, granted in on_loyalty.items()
        if set().union(*granted.values()) & LOYALTY_WRITES
    }
    assert set(writers) == {
        "ApiFunctionRole",
        "EventWorkerFunctionRole",
        "LoyaltyWorkerFunctionRole",
        "MarketingWorkerFunctionRole",
        "SlaSweepFunctionRole",
    }
    assert writers["MarketingWorkerFunctionRole"] == {"dynamodb:PutItem", "dynamodb:DeleteItem"}
    assert writers["SlaSweepFunctionRole"] == {"dynamodb:UpdateItem"}
    assert all(
        "dynamodb:BatchWriteItem" not in w and not any("PartiQL" in a for a in w) for w in writers.values()
    )

    # The sweep: Query the due index, lease (UpdateItem) the timer, enqueue it; nothing else.
    sweep = _grants(transformed, "SlaSweepFunctionRole")
    assert on_loyalty["SlaSweepFunctionRole"] == {
        "LoyaltyTable/index/due": {"dynamodb:Query"},
        "LoyaltyTable": {"dynamodb:UpdateItem"},
    }
    assert sweep["LoyaltyQueue"] == {"sqs:SendMessage"}
    enqueuers = [role for role in roles if "LoyaltyQueue" in _grants(transformed, role)]
    assert enqueuers == ["SlaSweepFunctionRole"]
    due_readers = [role for role, granted in on_loyalty.items() if "LoyaltyTable/index/due" in granted]
    assert due_readers == ["SlaSweepFunctionRole"]

    # The message worker reads the balance a loyalty email reports, nothing more.
    assert on_loyalty["MessageWorkerFunctionRole"] == {"LoyaltyTable": {"dynamodb:GetItem"}}
    # The marketing worker: the balance (GetItem) and its birthday-email timer (Put/Delete).
    assert on_loyalty["MarketingWorkerFunctionRole"] == {
        "LoyaltyTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
    }

    # The API queries the ledger-by-time index only: never the due index, never the table.
    api = on_loyalty["ApiFunctionRole"]
    assert {t: a for t, a in api.items() if t != "LoyaltyTable"} == {
        "LoyaltyTable/index/ledger-by-time": {"dynamodb:Query"}
    }
    assert "dynamodb:Query" not in api["LoyaltyTable"]
    page_readers = [r for r, granted in on_loyalty.items() if "LoyaltyTable/index/ledger-by-time" in granted]
    assert page_readers == ["ApiFunctionRole"]
    # Nobody else has any loyalty grant.
    assert {role for role, granted in on_loyalty.items() if granted} == set(writers) | {
        "MessageWorkerFunctionRole"
    }


def test_loyalty_worker_never_scans_and_its_queue_dead_letters_with_an_alarm(transformed):
    from omotenashi.logic.loyalty.schedule import LEASE

    statements = _statements(transformed, "LoyaltyWorkerFunctionRole")
    assert any(
        s["Effect"] == "Deny" and _actions(s) == ["dynamodb:Scan"] and s["Resource"] == "*"
        for s in statements
    )
    mapping = transformed["LoyaltyWorkerFunctionLoyaltyQueue"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["LoyaltyQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = transformed["LoyaltyQueue"]["Properties"]
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["LoyaltyDeadLetterQueue", "Arn"]}
    dead_letters = transformed["LoyaltyDeadLetterQueue"]["Properties"]
    assert dead_letters["MessageRetentionPeriod"] >= queue["MessageRetentionPeriod"]
    assert queue["SqsManagedSseEnabled"] is True and dead_letters["SqsManagedSseEnabled"] is True
    alarm = transformed["LoyaltyDeadLetterAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["LoyaltyDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # The sweep's lease on a timer outlasts its job's every receive before the dead-letter queue:
    # the sweep does not enqueue a timer again while its job is still being retried.
    assert redrive["maxReceiveCount"] * queue["VisibilityTimeout"] < LEASE.total_seconds()


@pytest.mark.parametrize("function", ["ApiFunction", "EventWorkerFunction", "LoyaltyWorkerFunction"])
def test_ledger_transactions_have_the_per_item_actions_they_need(transformed, function):
    """TransactWriteItems is authorized per item: PutItem for the entries (put only if absent),
    UpdateItem for the balance's ADD and the order record, ConditionCheckItem for a balance that is
    checked without being changed; TransactGetItems needs GetItem. The workers' transactions also
    clear timers (DeleteItem)."""
    granted = _on_loyalty(transformed, f"{function}Role")["LoyaltyTable"]
    needed = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
    needed.add("dynamodb:DeleteItem")  # a transaction may clear a timer it no longer needs
    assert needed <= granted, needed - granted


def test_the_api_may_clear_the_timers_its_ledger_transactions_delete(transformed):
    """A positive adjustment in a store whose points never expire ("expiry": null) clears the
    expiry timer in its transaction (accounts.adjust -> _expiry_timer -> TimerWrite("expiry",
    None) -> a Delete item of TransactWriteItems); so may a redemption naming a refunded order
    (_settle_order_after_redemption -> reconcile_order -> tier_timer). Without DeleteItem the
    whole transaction is denied."""
    from datetime import UTC, datetime

    from omotenashi.logic.loyalty import accounts
    from omotenashi.logic.loyalty.settings import LoyaltySettings

    never_expire = LoyaltySettings(expiry_months=None, expiry_warning_days=None)
    assert accounts._expiry_timer(datetime.now(UTC), never_expire, "Asia/Tokyo").due_at is None
    assert "dynamodb:DeleteItem" in _on_loyalty(transformed, "ApiFunctionRole")["LoyaltyTable"]


def test_least_privilege(transformed):
    roles = _of_type(transformed, "AWS::IAM::Role")
    for name, role in roles.items():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert "FullAccess" not in json.dumps(arn), (name, arn)
        for statement in _statements(transformed, name):
            if statement["Effect"] == "Deny":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                assert "*" not in action, (name, action)
                assert action not in ("dynamodb:Scan", "dynamodb:BatchWriteItem"), (name, action)
            assert statement["Resource"] != "*", (name, statement)

    api = {a for s in _statements(transformed, "ApiFunctionRole") for a in s["Action"]}
    assert api == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",  # the loyalty ledger's transactions only (tests below)
        # an order's events, the cart report, the consent history and the ledger page only
        "dynamodb:Query",
        "sqs:SendMessage",
        "s3:GetObject",  # attachments only (test_inbound_mail.py): pre-signed URLs
    }
    worker = {a for s in _statements(transformed, "InquiryWorkerFunctionRole") for a in s["Action"]}
    # DeleteItem only releases a delivery claim after a failed send (DeliveriesTable)
    assert worker == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "ses:SendRawEmail",
        "s3:GetObject",  # attachments only (test_inbound_mail.py): pre-signed URLs
    }
    assert "ses:SendRawEmail" not in api
    messages = {a for s in _statements(transformed, "MessageWorkerFunctionRole") for a in s["Action"]}
    assert "dynamodb:Scan" not in messages and "ses:SendRawEmail" in messages


def test_log_groups_have_retention(transformed):
    groups = _of_type(transformed, "AWS::Logs::LogGroup")
    assert set(groups) == {f"{f}LogGroup" for f in _of_type(transformed, "AWS::Lambda::Function")}
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_functions_log_to_their_group_which_exists_before_them(transformed):
    """The group is named by the stack, not the function, and the function refers to it: the
    function (and the schedule invoking it) cannot exist before the group, so Lambda never
    creates the group itself (without retention, and in the way of the stack's own)."""
    groups = _of_type(transformed, "AWS::Logs::LogGroup")
    for name, function in _of_type(transformed, "AWS::Lambda::Function").items():
        assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}LogGroup"}
        group_name = json.dumps(groups[f"{name}LogGroup"]["Properties"]["LogGroupName"])
        assert "${AWS::StackName}" in group_name
        assert not any(f in group_name for f in _of_type(transformed, "AWS::Lambda::Function"))


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(transformed):
    """CloudWatch alarms cannot publish to a topic under the AWS managed key alias/aws/sns."""
    topic = transformed["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = transformed["AlarmTopicKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    [cloudwatch] = [s for s in statements if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"]
    assert cloudwatch["Effect"] == "Allow"
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def _alarm_on(resources: dict[str, Any], metric: str, function: str) -> dict[str, Any]:
    [alarm] = [
        a["Properties"]
        for a in _of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
        and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    return alarm


def test_a_failing_or_stalled_sla_sweep_raises_an_alarm(transformed):
    """The sweep alone sends staff SLA alerts and its schedule neither retries nor dead-letters."""
    errors = _alarm_on(transformed, "Errors", "SlaSweepFunction")
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and errors["Threshold"] == 1
    assert errors["Period"] * errors["EvaluationPeriods"] <= 15 * 60
    stalled = _alarm_on(transformed, "Invocations", "SlaSweepFunction")
    assert stalled["ComparisonOperator"] == "LessThanThreshold" and stalled["Threshold"] == 1
    assert stalled["TreatMissingData"] == "breaching"  # no invocation publishes no data point
    [schedule] = _of_type(transformed, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["Target"].get("DeadLetterConfig") is None  # hence the alarms


@pytest.mark.parametrize(
    "function",
    [
        "InquiryWorkerFunction",
        "MessageWorkerFunction",
        "LoyaltyWorkerFunction",
        "InboundMailFunction",
        "SesNotificationFunction",
    ],
)
def test_worker_errors_raise_an_alarm(transformed, function):
    alarm = _alarm_on(transformed, "Errors", function)
    assert alarm["Statistic"] == "Sum" and alarm["TreatMissingData"] == "notBreaching"


def test_outputs_and_environment():
    template = load_template()
    outputs = template["Outputs"]
    assert outputs["InquiryDeadLetterQueueUrl"]["Value"] == {"Ref": "InquiryDeadLetterQueue"}
    assert outputs["MessageDeadLetterQueueUrl"]["Value"] == {"Ref": "MessageDeadLetterQueue"}
    assert outputs["LoyaltyDeadLetterQueueUrl"]["Value"] == {"Ref": "LoyaltyDeadLetterQueue"}
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    # every variable the template sets is read somewhere in the deployed code
    code = "\n".join(p.read_text() for p in (ROOT / "layers" / "shared").rglob("*.py"))
    for name in template["Globals"]["Function"]["Environment"]["Variables"]:
        assert name in code or name.startswith("POWERTOOLS_"), name


def test_no_secrets_in_template():
    text = TEMPLATE_PATH.read_text()
    for needle in ("demo-secret", "whsec_", "aws_secret_access_key", "AKIA"):
        assert needle not in text


def test_samconfig_has_dev_and_prod():
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env in ("dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"omotenashi-{env}"
        assert f"Stage={env}" in str(deploy["parameter_overrides"])
        assert config[env]["build"]["parameters"]["template_file"] == "infra/template.yaml"
        # deploy must take the built template, or the layer ships without dependencies
        assert "template_file" not in deploy
        assert "template_file" not in config[env].get("global", {}).get("parameters", {})


def test_layer_ships_the_message_templates():
    """The layer recipe copies the omotenashi package with this link followed, so templates/ reaches
    the layer (build_layer.check() verifies it on every `make build`)."""
    link = ROOT / "layers" / "shared" / "omotenashi" / "templates"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / "templates").resolve()
    from omotenashi.messaging.templates import templates_dir

    assert templates_dir().resolve() == (ROOT / "templates").resolve()


def test_review_requests_use_the_same_due_reminders_index_as_carts(transformed):
    """One scheduling mechanism (dal/due_reminders): ReviewsTable's sparse index has the carts'
    key schema, projects what the sweep reads, and the table is kept like the others."""
    props = transformed["ReviewsTable"]["Properties"]
    [index] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == "due-reminders"]
    [carts] = [
        i
        for i in transformed["CartsTable"]["Properties"]["GlobalSecondaryIndexes"]
        if i["IndexName"] == "due-reminders"
    ]
    assert index["KeySchema"] == carts["KeySchema"]
    assert set(index["Projection"]["NonKeyAttributes"]) == {
        "reminder_step",
        "reminder_plan",
        "planned_basis",
        "order_id",
    }
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert transformed["ReviewsTable"]["DeletionPolicy"] == "Retain"
    from omotenashi.dal.review_tables import ReviewDueIndex

    assert ReviewDueIndex.Meta.index_name == index["IndexName"]


def _actions_on(transformed, role: str, resource: str) -> set[str]:
    return {
        action
        for s in _statements(transformed, role)
        if s["Effect"] == "Allow" and resource in json.dumps(s["Resource"])
        for action in s["Action"]
    }


def test_reviews_table_permissions_are_least_privilege(transformed):
    table = '"ReviewsTable", "Arn"'
    # The API only reads (GET /v1/orders/{id} shows reviews, requests and the reward).
    assert _actions_on(transformed, "ApiFunctionRole", table) == {"dynamodb:GetItem", "dynamodb:Query"}
    # The event worker stores reviews and decides rewards; it never deletes.
    assert _actions_on(transformed, "EventWorkerFunctionRole", table) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    }
    # The marketing worker reads a sequence and records what it sent or deferred.
    assert _actions_on(transformed, "MarketingWorkerFunctionRole", table) == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    }
    # The message worker reads the reward its email reports.
    assert _actions_on(transformed, "MessageWorkerFunctionRole", table) == {"dynamodb:GetItem"}
    # The sweep queries only the sparse index and moves the pending step.
    assert _actions_on(transformed, "SlaSweepFunctionRole", "ReviewsTable.Arn}/index/due-reminders") == {
        "dynamodb:Query"
    }
    assert _actions_on(transformed, "SlaSweepFunctionRole", '"ReviewsTable", "Arn"') == {
        "dynamodb:UpdateItem"
    }
    for role in ("LoyaltyWorkerFunctionRole", "InquiryWorkerFunctionRole"):
        assert _actions_on(transformed, role, "ReviewsTable") == set()


def test_workers_that_take_pool_codes_may_make_every_call_take_code_makes(transformed):
    """dal/marketing.take_code: Query for a free code, a conditional UpdateItem takes it, PutItem
    records which reference took it, GetItem finds it again on a retry. moto does not enforce IAM,
    so this is where a missing action shows (the event worker takes review reward coupons, the
    marketing worker cart reminder codes)."""
    import inspect

    from omotenashi.dal import marketing as marketing_data

    source = inspect.getsource(marketing_data.take_code)
    assert ".update(" in source and ".save(" in source and ".query(" in source and ".get(" in source
    needed = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem"}
    for role in ("EventWorkerFunctionRole", "MarketingWorkerFunctionRole"):
        assert needed <= _actions_on(transformed, role, '"MarketingTable", "Arn"'), role


def test_an_empty_discount_pool_raises_an_alarm(transformed):
    """Review rewards and cart reminders take codes from pools; an empty pool gives nothing until a
    person loads codes, so it alarms on the metric the code emits (logic/marketing/coupons.py)."""
    from pathlib import Path

    alarm = transformed["DiscountPoolEmptyAlarm"]["Properties"]
    assert alarm["Namespace"] == "Omotenashi"
    assert alarm["MetricName"] == "DiscountPoolEmpty"
    assert alarm["AlarmActions"]
    source = Path("layers/shared/omotenashi/logic/marketing/coupons.py").read_text()
    assert 'name="DiscountPoolEmpty"' in source
