"""PynamoDB glue: failures turned into data-access errors, and the hook that makes PynamoDB build its
botocore clients from the process's shared session (`dal.aws.session`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.connection import base
from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from omotenashi.dal import aws
from omotenashi.dal.errors import StorageError

CONDITION_FAILED = "ConditionalCheckFailedException"


def condition_failed(error: PynamoDBException) -> bool:
    return error.cause_response_code == CONDITION_FAILED


def update_if(item: Model, actions: Sequence[Action], condition: Any, what: str) -> bool:
    """One conditional UpdateItem: True when applied, False when the condition did not hold; any
    other failure is a StorageError naming `what`."""
    try:
        item.update(actions=list(actions), condition=condition)
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError(f"{what} failed") from error
    return True


def share_session() -> None:
    """Point PynamoDB at the shared botocore session (idempotent; creates nothing).

    PynamoDB has no public way to pass a session: each model's Connection builds its own botocore
    session with `pynamodb.connection.base.get_session` (the name `Connection.session` looks up),
    and with it its own loader, endpoint table and service models: ~60 ms per model on a cold
    start. This is the one private hook; tests/integration/test_aws_clients.py fails if PynamoDB
    stops going through it. Our models set no Meta credentials, so Connection.session never calls
    set_credentials on the shared session.
    """
    base.get_session = aws.session  # type: ignore[assignment]
