"""dal.aws: one botocore session, created on first use, shared by the boto3 clients and PynamoDB.

A cold start pays for each botocore session it builds (its loader parses endpoints.json and every
service model again): ~60 ms each. PynamoDB builds one per model connection unless pointed at ours
through its private `get_session` hook (dal/_pynamo.py); these tests fail if that hook stops working.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import botocore.session
import pytest
from pynamodb.connection import base

from omotenashi.dal import aws as sdk
from omotenashi.dal import tables
from omotenashi.logic.core.directory import directory
from tests.support import call, inquiry_body


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every botocore session created while the test runs."""
    created: list[object] = []
    original = botocore.session.Session.__init__

    def counting(self: botocore.session.Session, *args: object, **kwargs: object) -> None:
        created.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(botocore.session.Session, "__init__", counting)
    yield created


def _pynamo_session(model: type) -> object:
    return model._get_connection().connection.session


def test_pynamodb_goes_through_the_hook():
    # The private hook: PynamoDB's Connection.session calls the module's get_session. If a PynamoDB
    # upgrade moves or renames it, fix dal/_pynamo.share_session (and this test).
    assert base.get_session is sdk.session
    assert "get_session()" in _source(base.Connection.session.fget)


def test_no_model_brings_its_own_credentials():
    # PynamoDB calls set_credentials on the session of a model with Meta credentials: on the shared
    # session that would change every client's credentials.
    for model, _ in tables._MODELS:
        assert model.Meta.aws_access_key_id is None and model.Meta.aws_secret_access_key is None, model


def _source(function: object) -> str:
    import inspect

    return inspect.getsource(function)  # type: ignore[arg-type]


def test_first_request_builds_one_session_for_pynamodb_and_boto3(stack, sessions):
    sdk.reset()
    directory.clear()
    reply = call(stack, "POST", "/v1/inquiries", inquiry_body())  # GetItem, PutItem, SendMessage
    assert reply.status == 202, reply.text
    assert sessions == [sdk.session()]
    assert _pynamo_session(tables.StoreItem) is sdk.session()
    assert _pynamo_session(tables.InquiryItem) is sdk.session()
    # A second request builds nothing.
    assert call(stack, "POST", "/v1/inquiries", inquiry_body(subject="2")).status == 202
    assert len(sessions) == 1


@pytest.mark.usefixtures("aws")
def test_every_model_shares_the_session_across_threads():
    tables.bind()
    seen: list[object] = []

    def connect() -> None:
        seen.extend(_pynamo_session(model) for model, _ in tables._MODELS)

    worker = threading.Thread(target=connect)
    worker.start()
    worker.join()
    connect()
    assert seen and all(s is sdk.session() for s in seen)


def test_nothing_is_created_at_import():
    code = (
        "import sys\n"
        "import omotenashi.dal.tables, omotenashi.dal.queue, omotenashi.dal.stores\n"
        "from omotenashi.dal import aws\n"
        "assert aws._session is None and not aws._clients, 'created at import'\n"
        "assert 'boto3' not in sys.modules, 'boto3 imported at import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.usefixtures("aws")
def test_clients_are_created_once_even_from_many_threads():
    made: list[object] = []
    barrier = threading.Barrier(8)

    def get() -> None:
        barrier.wait()
        made.append(sdk.client("sqs"))

    workers = [threading.Thread(target=get) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(made) == 8 and all(c is made[0] for c in made)
    assert sdk.client("sqs") is made[0]


@pytest.mark.usefixtures("aws")
def test_reset_forgets_session_clients_and_connections():
    tables.bind()
    before = (sdk.session(), sdk.client("sqs"), tables.StoreItem._get_connection())
    sdk.reset()
    tables.bind()
    after = (sdk.session(), sdk.client("sqs"), tables.StoreItem._get_connection())
    assert all(old is not new for old, new in zip(before, after, strict=True))
    assert after[2].connection.session is after[0]


@pytest.mark.usefixtures("aws")
def test_endpoint_and_credentials_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    sdk.reset()
    tables.bind()
    pynamo_client = tables.InquiryItem._get_connection().connection.client
    assert sdk.client("sqs").meta.endpoint_url == "http://127.0.0.1:4566"
    assert pynamo_client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert sdk.client("sqs").meta.region_name == pynamo_client.meta.region_name == "ap-northeast-1"
    assert sdk.session().get_credentials().access_key == "from-env"
    sdk.reset()
