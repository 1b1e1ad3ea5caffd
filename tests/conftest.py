from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Tests never reach real AWS: fake credentials, no endpoint override, in-process moto.
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "AWS_REGION": "ap-northeast-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
)


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    from omotenashi.dal import aws as aws_clients
    from omotenashi.logic.core.directory import directory
    from omotenashi.settings import reset_settings

    saved = dict(os.environ)
    with mock_aws():
        aws_clients.reset()
        directory.clear()
        yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()
    aws_clients.reset()
    directory.clear()


@pytest.fixture
def stack(aws: None) -> Iterator[object]:
    from omotenashi import clock
    from omotenashi_local.stack import LocalStack

    clock.set_source(None)
    # Issue 11's settings, until infra/template.yaml gives the functions INBOUND_BUCKET and
    # RECEIVING_DOMAIN (then the template's values win: the stack sets its functions' environment).
    os.environ.setdefault("INBOUND_BUCKET", "omotenashi-inbound-test")
    os.environ.setdefault("RECEIVING_DOMAIN", "mail.omotenashi.test")
    local = LocalStack()
    for poller in local.pollers:
        poller.retry_delay = lambda receives: 0  # retry failed messages at once in tests
    yield local
    clock.set_source(None)
