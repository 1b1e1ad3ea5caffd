"""The ops CLI's terminal text: display widths (全角 is two columns), truncation that never splits a
wide character, tables aligned by display width; the inquiry table and the inquiries commands'
arguments (no request is sent here)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from omotenashi import cli
from omotenashi.cli_text import display_width, fit, one_line, table, truncate


@pytest.mark.parametrize(
    ("text", "width"),
    [("", 0), ("abc", 3), ("山田太郎", 8), ("ｱｲｳ", 3), ("Ａ1", 3), ("é", 1), ("e\u0301", 1), ("配送 ok", 7)],
)
def test_display_width(text, width):
    assert display_width(text) == width


def test_truncate_never_splits_a_wide_character_and_marks_the_cut():
    assert truncate("配送について", 12) == "配送について"
    assert truncate("配送について", 11) == "配送につい…"  # 10 + 1 columns
    assert truncate("配送について", 10) == "配送につ…"  # 8 + 1: a fifth 全角 would overflow
    assert truncate("配送について", 6) == "配送…"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abc", 0) == ""
    for width in range(1, 14):
        assert display_width(truncate("注文したmugはいつ届きますか", width)) <= width


def test_fit_pads_to_exact_display_width():
    assert fit("山田", 6) == "山田  "
    assert fit("山田太郎さま", 7) == "山田太…"
    assert display_width(fit("山田太郎さま", 7)) == 7
    assert display_width(fit("配送", 5)) == 5


def test_one_line_flattens_breaks_and_controls():
    assert one_line("a\nb\tc\r\n  d\x00e") == "a b c d e"


def test_table_aligns_columns_by_display_width():
    text = table(["ID", "NAME", "SUBJECT"], [["1", "山田太郎", "配送"], ["22", "Jane", "Delivery"]])
    lines = text.splitlines()
    assert lines == ["ID  NAME      SUBJECT", "1   山田太郎  配送", "22  Jane      Delivery"]
    starts = {
        display_width(line[: line.index(word)])
        for line, word in zip(lines, ["SUBJECT", "配送", "Del"], strict=True)
    }
    assert starts == {14}


def test_table_cuts_only_the_last_column():
    text = table(["A", "B"], [["山田", "注文した商品はいつ届きますか"]], last_width=10)
    assert text.splitlines()[1] == "山田  注文した…"


def test_the_inquiry_table_fits_the_terminal_and_marks_overdue():
    inquiries = [
        {
            "inquiry_id": "inq_1",
            "status": "open",
            "priority": "high",
            "received_at": "2026-11-22T01:02:03Z",
            "reply_due_at": "2000-01-01T00:00:00Z",
            "customer": {"email": "taro@example.jp", "name": "山田太郎"},
            "subject": "商品が破損していました。交換をお願いします。" * 3,
        },
        {
            "inquiry_id": "inq_2",
            "status": "answered",
            "priority": "normal",
            "received_at": "2026-11-22T03:00:00Z",
            "reply_due_at": "2000-01-01T00:00:00Z",  # answered: never overdue
            "customer": {"email": "jane@example.com", "name": None},
            "subject": "Delivery",
        },
    ]
    text = cli.inquiry_table(inquiries, ZoneInfo("Asia/Tokyo"), 120)
    _, first, second = text.splitlines()
    assert 119 <= display_width(first) <= 120 and display_width(second) <= 120  # a 全角 may not fit
    assert first.endswith("…") and "2026-11-22 10:02" in first and "overdue" in first
    assert "overdue" not in second and "jane@example.com" in second and "2026-11-22 12:00" in second
    narrow = cli.inquiry_table(inquiries, ZoneInfo("Asia/Tokyo"), 40)
    assert display_width(narrow.splitlines()[1].split("  ")[-1]) <= cli.MIN_SUBJECT_WIDTH  # still readable


def test_the_thread_falls_back_to_the_inquirys_own_message():
    text = cli.inquiry_text(
        {
            "inquiry_id": "inq_1",
            "subject": "配送について",
            "status": "open",
            "channel": "web_form",
            "customer": {"email": "taro@example.jp", "name": "山田太郎"},
            "received_at": "2026-11-22T01:02:03Z",
            "reply_due_at": "2999-11-23T01:02:03Z",
            "message": "注文した商品は\nいつ届きますか？",
        },
        ZoneInfo("Asia/Tokyo"),
    )
    assert text.endswith(
        "--- 2026-11-22 10:02  customer  山田太郎 <taro@example.jp> via web_form\n"
        "    注文した商品は\n    いつ届きますか？"
    )
    assert "OVERDUE" not in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["inquiries", "reply", "inq_1", "--author", "a@b.example"],
            "one of --message TEXT, --file PATH, or -",
        ),
        (
            ["inquiries", "reply", "inq_1", "-", "--message", "a", "--author", "a@b.example"],
            "one of --message",
        ),
        (
            ["inquiries", "reply", "inq_1", "--message", "  \n", "--author", "a@b.example"],
            "the reply is empty",
        ),
        (["inquiries", "list", "--limit", "0"], "--limit must be 1 to 100"),
        (["inquiries", "list", "--time-zone", "Mars/Base"], "--time-zone: unknown time zone"),
        (["inquiries", "show", "inq_1", "--url", "localhost:3000"], "must start with http"),
    ],
)
def test_bad_inquiry_arguments_are_one_line_and_exit_2(capsys, argv, says):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_the_secret_is_never_an_option(capsys):
    assert cli.main(["inquiries", "show", "inq_1", "--secret", "s"]) == 2
    assert "unrecognized arguments: --secret" in capsys.readouterr().err


def test_the_url_and_store_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OMOTENASHI_URL", "https://api.shop.example")
    monkeypatch.setenv("OMOTENASHI_STORE", "kyoto")
    args = cli.build_parser().parse_args(["inquiries", "close", "inq_1"])
    assert (args.url, args.store) == ("https://api.shop.example", "kyoto")
    args = cli.build_parser().parse_args(["inquiries", "close", "inq_1", "--url", "http://x", "--store", "s"])
    assert (args.url, args.store) == ("http://x", "s")
