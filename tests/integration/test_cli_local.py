"""`omotenashi stores ... --local ENDPOINT` against a moto server provisioned as `make run` does: a new
user manages stores of the local stack with one option and no AWS configuration of their own."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator

import pytest

from omotenashi import cli
from omotenashi.dal import aws as aws_clients
from omotenashi.settings import reset_settings
from omotenashi_local import provision


@pytest.fixture
def moto_endpoint(tmp_path, monkeypatch) -> Iterator[str]:
    """A moto server with the template's tables, like the one `python -m omotenashi_local` starts,
    and an environment without any AWS configuration (as on a new user's machine)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    _reset(endpoint)  # the server shares moto's in-process state with earlier tests
    try:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_DEFAULT_REGION=cli.LOCAL_REGION)
        provision.provision(cli.LOCAL_REGION)
        for name in os.environ.keys() - {"PATH", "HOME", "TMPDIR"}:
            if name.startswith("AWS_") or name == "STORES_TABLE":
                del os.environ[name]
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        aws_clients.reset()
        reset_settings()
        yield endpoint
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        aws_clients.reset()
        _reset(endpoint)
        server.stop()


def _reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()


def test_local_names_are_those_the_local_stack_creates():
    assert f"{provision.PREFIX}-StoresTable" == cli.LOCAL_STORES_TABLE
    assert "StoresTable" in provision.load_template()["Resources"]


def test_create_show_and_rotate_on_the_local_stack(moto_endpoint, capsys):
    local = ["--local", moto_endpoint]
    argv = ["stores", "create", "kyoto", "--name", "京都茶舗", "--sender", "info@kyoto.example"]
    assert cli.main([*argv, "--staff", "staff@kyoto.example", "--verify-sender", *local]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["signing_secret"].startswith("whsec_")
    assert created["ses_verification"]["domain"] == "kyoto.example"

    assert cli.main(["stores", "show", "kyoto", *local]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "京都茶舗" and created["signing_secret"] not in json.dumps(shown)

    assert cli.main(["stores", "rotate-secret", "kyoto", *local]) == 0
    assert len(json.loads(capsys.readouterr().out)["secrets"]) == 2

    assert cli.main(["stores", "show", "ghost", *local]) == 1
    assert capsys.readouterr().err == "error: no store ghost\n"


def test_a_wrong_region_names_the_table_and_region(moto_endpoint, capsys):
    assert cli.main(["stores", "show", "kyoto", "--local", moto_endpoint, "--region", "us-east-1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"table {cli.LOCAL_STORES_TABLE} does not exist in region us-east-1" in err


def test_a_failed_sender_verification_still_shows_the_new_secret(stack, capsys, monkeypatch):
    from omotenashi.dal.errors import DataAccessError

    def refuse(domain):
        raise DataAccessError("SES domain verification request failed")

    monkeypatch.setattr("omotenashi.dal.stacks.verify_sender_domain", refuse)
    table = stack.resources.tables["StoresTable"]
    argv = ["stores", "create", "nara", "--name", "N", "--sender", "a@nara.example", "--verify-sender"]
    assert cli.main([*argv, "--stores-table", table]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signing_secret"].startswith("whsec_")
    assert captured.err == ("error: the store was created, but SES domain verification request failed\n")
