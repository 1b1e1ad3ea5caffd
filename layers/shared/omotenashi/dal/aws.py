"""The process's AWS SDK state: one botocore session and the clients made from it, all created
lazily (cold start: nothing is built at import).

Every client comes from the same botocore session: the ones here, and PynamoDB's (one per model
connection, see `_pynamo.share_session`). A botocore session resolves the region, the credentials
and the endpoint table once and keeps one loader, whose cache holds the service models
(endpoints.json alone takes ~40 ms to parse), so a cold start's first request loads each of them
once instead of once per session.

The clients are what `boto3.client` returns (boto3 only wraps botocore's `create_client` and adds
S3 and resource helpers we do not use), made by the session itself: the first request does not
import boto3 (~15 ms). Endpoints and credentials come from the standard AWS environment, as before
(AWS_ENDPOINT_URL points the clients at moto locally); `reset()` forgets the session and every
client.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.session import Session

_RETRIES: Any = {"mode": "standard", "max_attempts": 3}

# Guards creating the session and every client made from it: the local stack serves requests from
# several threads, and a botocore session is not thread safe (clients, once made, are).
_LOCK = threading.RLock()
_session: Session | None = None
_clients: dict[str, Any] = {}


def session() -> Session:
    """The shared botocore session (created on first use)."""
    global _session
    current = _session
    if current is not None:
        return current
    with _LOCK:
        if _session is None:
            _session = _new_session()
        return _session


def client(service: str) -> Any:
    """The client for `service` (created on first use, then kept)."""
    found = _clients.get(service)
    if found is not None:
        return found
    with _LOCK:
        if service not in _clients:
            _clients[service] = session().create_client(service, config=_config(service))
        return _clients[service]


def _config(service: str) -> Any:
    from botocore.config import Config

    if service != "s3":
        return Config(retries=_RETRIES)
    # Pre-signed links (dal/attachment_links): SigV4, which every region and KMS-encrypted objects
    # require (botocore still presigns S3 with SigV2 by default), at the bucket's regional
    # virtual-host name; path style under an endpoint override (the local stack's moto server).
    custom = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return Config(
        retries=_RETRIES, signature_version="s3v4", s3={"addressing_style": "path" if custom else "virtual"}
    )


def reset() -> None:
    """Drop the session, cached clients and PynamoDB connections (tests and the local stack change
    endpoints and credentials)."""
    global _session
    with _LOCK:
        _clients.clear()
        _session = None
    from omotenashi.dal import tables

    tables.unbind()


def _new_session() -> Session:
    import botocore.session

    class SharedSession(botocore.session.Session):
        def create_client(self, *args: Any, **kwargs: Any) -> Any:
            with _LOCK:  # PynamoDB creates its clients from any thread, outside client() above
                return super().create_client(*args, **kwargs)

    return SharedSession()
