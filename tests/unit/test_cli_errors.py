"""The ops CLI's help and failures: defaults are shown, and every failure is one line on stderr with a
non-zero exit status, never a traceback (bad arguments, missing settings, AWS configuration, data
access errors, unreadable files)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from omotenashi import cli
from omotenashi.dal import aws as aws_clients
from omotenashi.dal.errors import DataAccessError, StorageError
from omotenashi.logic.core import signing
from omotenashi.settings import SettingsError, reset_settings

AWS_VARIABLES = (
    "OMOTENASHI_URL",
    "OMOTENASHI_STORE",
    "OMOTENASHI_AUTHOR",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "STORES_TABLE",
    "OMOTENASHI_SECRET",
)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch) -> Iterator[None]:
    """The CLI writes os.environ (--local, --region, tables): put it back, and never let botocore
    find a real AWS configuration or ask the instance metadata service."""
    saved = dict(os.environ)
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("COLUMNS", "300")  # help text unwrapped (argparse breaks lines at hyphens)
    aws_clients.reset()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()
    aws_clients.reset()


def _fails(capsys, argv: list[str], code: int) -> str:
    assert cli.main(argv) == code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err and "error:" in lines[0]
    return lines[0]


# --- help --------------------------------------------------------------------------------------


def test_request_help_shows_every_default(capsys):
    assert cli.main(["request", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--url URL the API's base URL (default: $OMOTENASHI_URL if set, else http://127.0.0.1:3000)" in (
        text
    )
    assert "--store STORE store id (default: $OMOTENASHI_STORE if set, else demo)" in text
    assert "$OMOTENASHI_SECRET if set, else demo-secret" in text
    assert "path from /v1 on, with any query string" in text


def test_request_help_never_prints_the_secret_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("OMOTENASHI_SECRET", "whsec_do-not-show-me")
    assert cli.main(["request", "--help"]) == 0
    assert "do-not-show-me" not in capsys.readouterr().out


@pytest.mark.parametrize("command", [["stores", "create"], ["stores", "show"], ["sign"]])
def test_other_help_shows_defaults_and_where_the_table_is(capsys, command):
    assert cli.main([*command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "default:" in text
    if command[0] == "stores":
        assert "--local ENDPOINT" in text and "omotenashi-local-StoresTable" in text


# --- the request command's secret -----------------------------------------------------------------


class _Answer:
    status = 201

    def __init__(self) -> None:
        self.sent: object = None

    def read(self) -> bytes:
        return b'{"reply_id": "rep_1"}'

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *_: object) -> None:
        return None


@pytest.mark.parametrize(
    ("env", "flag", "expected"),
    [(None, None, "demo-secret"), ("from-env", None, "from-env"), ("from-env", "from-flag", "from-flag")],
)
def test_request_signs_with_the_flag_else_the_environment_else_the_demo_secret(
    capsys, monkeypatch, env, flag, expected
):
    if env:
        monkeypatch.setenv("OMOTENASHI_SECRET", env)
    sent = []

    def urlopen(request, timeout):
        sent.append(request)
        return _Answer()

    monkeypatch.setattr(cli.urllib.request, "urlopen", urlopen)
    path = "/v1/inquiries/inq_1/replies?x=1"
    argv = ["request", "post", path, "--url", "http://127.0.0.1:3917/", "--data", "{}"]
    assert cli.main([*argv, *(["--secret", flag] if flag else [])]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "201"
    (request,) = sent
    assert request.full_url == "http://127.0.0.1:3917" + path
    assert request.get_method() == "POST"
    assert request.get_header("X-omotenashi-store") == "demo"
    parsed = signing.parse_header(request.get_header("X-omotenashi-signature"))
    assert signing.matches(parsed, [expected], "POST", [path], b"{}")


def test_sign_takes_a_fixed_timestamp(capsys):
    assert cli.main(["sign", "get", "/v1/inquiries/x?a=1", "--secret", "s", "--timestamp", "1700000000"]) == 0
    digest = signing.compute("s", 1700000000, "GET", "/v1/inquiries/x?a=1", b"")
    assert capsys.readouterr().out.strip() == f"t=1700000000,v1={digest}"


# --- bad arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["stores"],
        ["stores", "create"],
        ["stores", "create", "k", "--name", "K", "--sender", "a@k.example", "--sla-hours", "soon"],
        ["stores", "create", "k", "--name", "K", "--sender", "a@k.example", "--locale", "fr"],
        ["stores", "show", "k", "--stack", "s", "--local", "http://127.0.0.1:1"],
        ["request", "POST"],
        ["request", "POST", "/v1/inquiries", "--data", "{}", "--data-file", "body.json"],
        ["sign", "GET", "/v1/x", "--secret", "s", "--timestamp", "yesterday"],
        ["nonsense"],
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv):
    line = _fails(capsys, argv, 2)
    assert line.startswith("omotenashi") and "--help" in line


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["request", "GET", "/v1/x", "--url", "127.0.0.1:3000"], "must start with http"),
        (["request", "GET", "v1/x"], "the path starts with /"),
        (["stores", "show", "k", "--local", "127.0.0.1:5000"], "'AWS (moto)' line"),
    ],
)
def test_malformed_values_are_one_line_and_exit_2(capsys, argv, says):
    assert says in _fails(capsys, argv, 2)


# --- configuration ---------------------------------------------------------------------------------


def test_no_stores_table_says_how_to_name_one(capsys):
    line = _fails(capsys, ["stores", "show", "kyoto"], 2)
    assert "--stack" in line and "--stores-table" in line and "--local" in line


def test_a_missing_setting_is_one_line(capsys, monkeypatch):
    def missing(store_id):
        raise SettingsError("environment variable STORES_TABLE is not set")

    monkeypatch.setattr("omotenashi.dal.stores.get_store", missing)
    line = _fails(capsys, ["stores", "show", "kyoto", "--stores-table", "t"], 2)
    assert "STORES_TABLE is not set" in line


def test_no_region_is_one_line(capsys):
    argv = ["stores", "create", "kyoto", "--name", "K", "--sender", "a@k.example", "--stores-table", "t"]
    line = _fails(capsys, argv, 2)
    assert "no AWS region" in line and "--region" in line


def test_no_credentials_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    line = _fails(capsys, ["stores", "show", "kyoto", "--stores-table", "t"], 2)
    assert "no AWS credentials" in line and "--local ENDPOINT" in line


def test_an_unknown_profile_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    line = _fails(capsys, ["stores", "show", "kyoto", "--stores-table", "t", "--region", "ap-northeast-1"], 2)
    assert "nobody" in line and "AWS_PROFILE" in line


def test_an_unreachable_local_stack_is_one_line(capsys):
    line = _fails(capsys, ["stores", "show", "kyoto", "--local", "http://127.0.0.1:1"], 1)
    assert "could not connect to http://127.0.0.1:1" in line and "make run" in line


def test_an_unreachable_endpoint_while_reading_the_stack_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    line = _fails(
        capsys, ["stores", "show", "kyoto", "--stack", "omotenashi-dev", "--region", "us-east-1"], 1
    )
    assert "cannot read stack omotenashi-dev" in line and "could not connect" in line


# --- data access -------------------------------------------------------------------------------------


def _storage_error(code: str, message: str) -> StorageError:
    """As dal.stores raises it: StorageError from PynamoDB's error, whose context is botocore's."""
    wrapper = RuntimeError("pynamodb's error")
    wrapper.__context__ = ClientError({"Error": {"Code": code, "Message": message}}, "GetItem")
    error = StorageError("reading a store failed")
    error.__cause__ = wrapper
    return error


@pytest.mark.parametrize(
    ("code", "message", "says"),
    [
        ("AccessDeniedException", "not authorized to GetItem", "AccessDeniedException: not authorized"),
        ("ResourceNotFoundException", "Requested resource not found", "table t does not exist in region"),
    ],
)
def test_data_access_errors_are_one_line_naming_the_cause(capsys, monkeypatch, code, message, says):
    def fail(store_id):
        raise _storage_error(code, message)

    monkeypatch.setattr("omotenashi.dal.stores.get_store", fail)
    argv = ["stores", "show", "kyoto", "--stores-table", "t", "--region", "ap-northeast-1"]
    line = _fails(capsys, argv, 1)
    assert line.startswith("error: reading a store failed: ") and says in line


def test_a_data_access_error_without_an_aws_cause_is_one_line(capsys, monkeypatch):
    def fail(store_id, now, retire_previous):
        raise DataAccessError("updating store secrets failed")

    monkeypatch.setattr("omotenashi.logic.core.store_admin.rotate_secret", fail)
    line = _fails(capsys, ["stores", "rotate-secret", "kyoto", "--stores-table", "t"], 1)
    assert line == "error: updating store secrets failed"


def test_an_unexpected_error_is_one_line_and_debug_shows_it(capsys, monkeypatch):
    def fail(store_id):
        raise TypeError("something odd\non two lines")

    monkeypatch.setattr("omotenashi.dal.stores.get_store", fail)
    line = _fails(capsys, ["stores", "show", "kyoto", "--stores-table", "t"], 1)
    assert "unexpected TypeError: something odd on two lines" in line and "--debug" in line
    with pytest.raises(TypeError):
        cli.main(["stores", "show", "kyoto", "--stores-table", "t", "--debug"])


# --- files ----------------------------------------------------------------------------------------------


def test_unreadable_files_are_one_line(capsys, tmp_path):
    missing = str(tmp_path / "missing.json")
    line = _fails(capsys, ["stores", "set-policy", "kyoto", "--file", missing, "--stores-table", "t"], 2)
    assert line == f"error: cannot read {missing}: No such file or directory"
    line = _fails(capsys, ["request", "POST", "/v1/inquiries", "--data-file", missing], 2)
    assert line == f"error: cannot read {missing}: No such file or directory"
    not_json = tmp_path / "policy.json"
    not_json.write_text("{nope", encoding="utf-8")
    line = _fails(
        capsys, ["stores", "set-policy", "kyoto", "--file", str(not_json), "--stores-table", "t"], 2
    )
    assert "is not JSON" in line
