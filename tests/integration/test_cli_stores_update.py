"""`omotenashi stores list` and `stores update` against moto: every store in a table; an update
validated as `create` validates, a refusal naming the option and writing nothing, and a
compare-and-swap write (a concurrent change of the store is not overwritten)."""

from __future__ import annotations

import json

import pytest

from omotenashi import cli
from omotenashi.dal import stores as store_data


@pytest.fixture
def table(aws) -> str:
    from omotenashi_local import provision

    return provision.provision().tables["StoresTable"]


def _create(table: str, store_id: str, name: str, *extra: str) -> None:
    argv = ["stores", "create", store_id, "--name", name, "--sender", f"info@{store_id}.example"]
    assert cli.main([*argv, *extra, "--stores-table", table]) == 0


def test_list_shows_every_store(table, capsys):
    assert cli.main(["stores", "list", "--stores-table", table]) == 0
    assert capsys.readouterr().out == "no stores\n"
    _create(table, "kyoto", "京都茶舗", "--staff", "a@kyoto.example", "--staff", "b@kyoto.example")
    _create(table, "austin", "Austin Tea", "--locale", "en", "--time-zone", "America/Chicago")
    capsys.readouterr()

    assert cli.main(["stores", "list", "--stores-table", table]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["STORE", "NAME", "SENDER", "LOCALE", "TIME", "ZONE", "STAFF"]
    assert lines[1].split() == [
        "austin",
        "Austin",
        "Tea",
        "info@austin.example",
        "en",
        "America/Chicago",
        "0",
    ]
    assert lines[2].split() == ["kyoto", "京都茶舗", "info@kyoto.example", "ja", "Asia/Tokyo", "2"]
    assert lines[1].index("info@") == lines[0].index("SENDER")  # aligned ("京都茶舗" is 8 columns)

    assert cli.main(["stores", "list", "--json", "--stores-table", table]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["store_id"] for s in listed] == ["austin", "kyoto"]
    assert listed[1]["staff_addresses"] == ["a@kyoto.example", "b@kyoto.example"]
    assert "signing_secret" not in json.dumps(listed) and "whsec_" not in json.dumps(listed)


def test_update_changes_only_what_is_given(table, capsys):
    _create(table, "kyoto", "京都茶舗", "--staff", "a@kyoto.example")
    capsys.readouterr()
    before = store_data.get_store("kyoto")
    argv = [
        "stores",
        "update",
        "kyoto",
        "--name",
        "京都茶舗 本店",
        "--staff",
        "b@kyoto.example, c@kyoto.example",
    ]
    assert (
        cli.main([*argv, "--default-locale", "en", "--time-zone", "Asia/Seoul", "--stores-table", table]) == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert (
        shown["name"] == "京都茶舗 本店"
        and shown["default_locale"] == "en"
        and shown["time_zone"] == "Asia/Seoul"
    )
    assert shown["staff_addresses"] == ["b@kyoto.example", "c@kyoto.example"]
    after = store_data.get_store("kyoto")
    assert after is not None and before is not None
    assert after.name == "京都茶舗 本店" and after.staff_addresses == ("b@kyoto.example", "c@kyoto.example")
    assert after.sender == before.sender and after.secrets == before.secrets  # untouched
    assert after.unsubscribe_keys == before.unsubscribe_keys and after.policy == before.policy

    assert cli.main(["stores", "update", "kyoto", "--staff", "", "--stores-table", table]) == 0
    assert json.loads(capsys.readouterr().out)["staff_addresses"] == []


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--name", " ", "--name: name must be 1-100 characters"),
        ("--sender", "not-an-address", "--sender: sender must be an email address"),
        ("--staff", "a@kyoto.example,nope", "--staff: staff addresses must be email addresses"),
        ("--time-zone", "Mars/Base", "--time-zone: unknown time zone 'Mars/Base'"),
    ],
)
def test_a_bad_value_names_its_option_and_writes_nothing(table, capsys, option, value, says):
    _create(table, "kyoto", "京都茶舗")
    capsys.readouterr()
    before = store_data.get_store("kyoto")
    argv = ["stores", "update", "kyoto", "--name", "新しい名前", option, value, "--stores-table", table]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {says}") and captured.err.count("\n") == 1
    assert captured.out == ""
    assert store_data.get_store("kyoto") == before


def test_staff_with_a_staff_name_in_the_email_settings_stays(table, capsys, tmp_path):
    _create(table, "kyoto", "京都茶舗", "--staff", "a@kyoto.example")
    settings = tmp_path / "email.json"
    settings.write_text(json.dumps({"staff_names": {"a@kyoto.example": "佐藤 花子"}}), encoding="utf-8")
    assert cli.main(["stores", "set-email", "kyoto", "--file", str(settings), "--stores-table", table]) == 0
    capsys.readouterr()
    assert cli.main(["stores", "update", "kyoto", "--staff", "b@kyoto.example", "--stores-table", table]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --staff: staff_names: a@kyoto.example") and "set-email" in err
    assert store_data.get_store("kyoto").staff_addresses == ("a@kyoto.example",)  # type: ignore[union-attr]


def test_update_usage_errors(table, capsys):
    assert cli.main(["stores", "update", "kyoto", "--stores-table", table]) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert cli.main(["stores", "update", "ghost", "--name", "x", "--stores-table", table]) == 1
    assert capsys.readouterr().err == "error: no store ghost\n"
    assert cli.main(["stores", "update", "kyoto", "--default-locale", "fr", "--stores-table", table]) == 2


def test_a_concurrent_change_is_not_overwritten(table, capsys, monkeypatch):
    """The write is a compare-and-swap on the store's version: a rotation between the data layer's
    read and its write makes update fail (run it again) rather than save the older secrets back."""
    from omotenashi import clock
    from omotenashi.logic.core import store_admin

    _create(table, "kyoto", "京都茶舗")
    capsys.readouterr()
    real_get = store_data.StoreItem.get
    reads = []

    def get_then_rotate(*args, **kwargs):
        item = real_get(*args, **kwargs)
        reads.append(item)
        if len(reads) == 2:  # the first is validation's; the second the write's own read
            store_admin.rotate_secret("kyoto", clock.now())  # someone else, between read and write
        return item

    monkeypatch.setattr(store_data.StoreItem, "get", get_then_rotate)
    assert cli.main(["stores", "update", "kyoto", "--name", "新", "--stores-table", table]) == 1
    assert capsys.readouterr().err == "error: store kyoto changed while this command ran: run it again\n"
    monkeypatch.undo()
    store = store_data.get_store("kyoto")
    assert store is not None and store.name == "京都茶舗" and len(store.secrets) == 2


def test_templates_preview_as_a_store_sends_it(table, capsys, tmp_path):
    _create(table, "kyoto", "京都茶舗 本店")
    settings = tmp_path / "marketing.json"
    settings.write_text(
        json.dumps({"postal_address": "〒604-0000\n京都市中京区", "contact": "info@kyoto.example"})
    )
    assert (
        cli.main(["stores", "set-marketing", "kyoto", "--file", str(settings), "--stores-table", table]) == 0
    )
    capsys.readouterr()
    argv = [
        "templates",
        "preview",
        "cart_reminder",
        "--locale",
        "ja",
        "--store",
        "kyoto",
        "--stores-table",
        table,
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "京都茶舗 本店" in out and "〒604-0000" in out and "info@kyoto.example" in out
    assert cli.main([*argv[:-3], "ghost", "--stores-table", table]) == 1
    assert capsys.readouterr().err == "error: no store ghost\n"
