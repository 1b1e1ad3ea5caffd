"""GET /v1/inquiries: a store's inquiries newest first from the store-received and store-status
indexes (never a Scan), by status and overdue, page by page with an opaque cursor that only the
store's own list accepts; every bad parameter is a 422 naming it."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest

from omotenashi import clock
from omotenashi.dal import inquiries as inquiry_data
from tests.integration.helpers import item_count, queue_depth
from tests.support import aws_calls, call, create_other_store, inquiry_body

STAFF = {"author": "sato@shop.example", "message": "確認いたします。"}


def _create(stack, n: int, **options: Any) -> str:
    body = inquiry_body(customer={"email": f"c{n}@example.jp", "name": f"客{n}", "locale": "ja"})
    created = call(stack, "POST", "/v1/inquiries", body, headers={"Idempotency-Key": f"k-{n}"}, **options)
    assert created.status == 202, created.text
    return created.json["inquiry_id"]


def _create_many(stack, count: int, **options: Any) -> list[str]:
    """`count` inquiries, one second apart; oldest first."""
    ids = []
    for n in range(count):
        ids.append(_create(stack, n, **options))
        clock.advance(1)
    return ids


def _list(stack, query: str = "", **options: Any):
    reply = call(stack, "GET", "/v1/inquiries" + (f"?{query}" if query else ""), **options)
    return reply


def _ids(reply) -> list[str]:
    assert reply.status == 200, reply.text
    return [i["inquiry_id"] for i in reply.json["inquiries"]]


def _all_pages(stack, query: str, **options: Any) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):
        page = query + (f"&cursor={cursor}" if cursor else "")
        reply = _list(stack, page, **options)
        pages.append(_ids(reply))
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("next_cursor never ended")


@pytest.fixture
def other_store(stack) -> dict[str, str]:
    return create_other_store()


def test_newest_first_each_as_get_answers_without_messages(stack):
    ids = _create_many(stack, 3)
    stack.drain()
    reply = _list(stack)
    assert _ids(reply) == ids[::-1]
    assert reply.json["next_cursor"] is None
    for listed in reply.json["inquiries"]:
        single = call(stack, "GET", f"/v1/inquiries/{listed['inquiry_id']}").json
        assert "messages" not in listed
        assert listed == {k: v for k, v in single.items() if k != "messages"}


def test_same_instant_ties_are_ordered_by_id_newest_first(stack):
    moment = clock.now()
    clock.set_source(lambda: moment)  # the same received_at for all four
    try:
        ids = [_create(stack, n) for n in range(4)]
        assert _ids(_list(stack)) == sorted(ids, reverse=True)
    finally:
        clock.set_source(None)


def test_45_inquiries_page_20_20_5_without_repeats_or_gaps(stack):
    ids = _create_many(stack, 45)
    pages = _all_pages(stack, "limit=20")
    assert [len(p) for p in pages] == [20, 20, 5]
    assert [i for p in pages for i in p] == ids[::-1]


def test_an_exact_multiple_of_the_limit_ends_without_an_empty_page(stack):
    ids = _create_many(stack, 4)
    pages = _all_pages(stack, "limit=2")
    assert pages == [ids[:1:-1], ids[1::-1]]


def test_default_limit_is_20(stack):
    _create_many(stack, 21)
    reply = _list(stack)
    assert len(_ids(reply)) == 20 and reply.json["next_cursor"]


def test_status_filter_and_an_answered_inquiry_moves_between_lists_and_back(stack):
    first, second, third = _create_many(stack, 3)
    assert call(stack, "POST", f"/v1/inquiries/{second}/replies", STAFF).status == 201
    assert call(stack, "POST", f"/v1/inquiries/{third}/close").status == 200
    assert _ids(_list(stack, "status=open")) == [first]
    assert _ids(_list(stack, "status=answered")) == [second]
    assert _ids(_list(stack, "status=closed")) == [third]

    follow = call(stack, "POST", f"/v1/inquiries/{second}/messages", {"message": "まだ届きません"})
    assert follow.status == 201, follow.text
    assert _ids(_list(stack, "status=open")) == [second, first]
    assert _ids(_list(stack, "status=answered")) == []
    assert _ids(_list(stack)) == [third, second, first]
    # Each status list pages like the whole list.
    assert _all_pages(stack, "status=open&limit=1") == [[second], [first]]


def test_overdue_lists_open_inquiries_past_their_deadline(stack):
    early = _create(stack, 1)
    clock.advance(3 * 3600)
    late = _create(stack, 2)
    clock.advance(1)
    answered = _create(stack, 3)
    assert call(stack, "POST", f"/v1/inquiries/{answered}/replies", STAFF).status == 201
    assert _ids(_list(stack, "overdue=true")) == []
    assert _ids(_list(stack, "overdue=false")) == [answered, late, early]

    clock.advance(22 * 3600)  # the demo store promises 24 h: early is 1 h overdue, late is not
    assert _ids(_list(stack, "overdue=true")) == [early]
    assert _ids(_list(stack, "status=open&overdue=true")) == [early]
    assert _ids(_list(stack, "overdue=false")) == [answered, late]
    assert _ids(_list(stack, "status=open&overdue=false")) == [late]
    assert _ids(_list(stack, "status=answered&overdue=false")) == [answered]

    clock.advance(4 * 3600)
    assert _ids(_list(stack, "overdue=true")) == [late, early]
    assert _all_pages(stack, "overdue=true&limit=1") == [[late], [early]]


def test_overdue_reads_a_bounded_number_of_pages_and_continues_by_cursor(stack, monkeypatch):
    """Many open inquiries that are not overdue stand before the overdue ones: one request reads at
    most LIST_PAGES_PER_REQUEST pages, answers what it found with a cursor, and the next continues."""
    monkeypatch.setattr(inquiry_data, "FILTERED_PAGE_SIZE", 2)
    monkeypatch.setattr(inquiry_data, "LIST_PAGES_PER_REQUEST", 3)
    overdue = _create_many(stack, 2)
    clock.advance(20 * 3600)
    _create_many(stack, 9)  # not overdue yet when the first two are
    clock.advance(4 * 3600)
    with aws_calls() as calls:
        first = _list(stack, "overdue=true&limit=5")
    assert calls.count("dynamodb", "Query") == 3
    assert _ids(first) == [] and first.json["next_cursor"]
    pages = _all_pages(stack, "overdue=true&limit=5")
    assert [i for p in pages for i in p] == overdue[::-1]


def test_another_stores_inquiries_never_appear_and_its_cursor_is_refused(stack, other_store):
    mine = _create_many(stack, 3)
    theirs = [_create(stack, 10 + n, **other_store) for n in range(3)]
    assert set(_ids(_list(stack, "limit=100"))) == set(mine)
    assert set(_ids(_list(stack, "limit=100", **other_store))) == set(theirs)
    assert _ids(_list(stack, "status=open", **other_store)) == sorted(theirs, reverse=True)

    cursor = _list(stack, "limit=1").json["next_cursor"]
    refused = _list(stack, f"limit=1&cursor={cursor}", **other_store)
    assert refused.status == 422, refused.text
    assert [f["field"] for f in refused.json["error"]["fields"]] == ["cursor"]
    # A cursor of one status list is not one of another's.
    open_cursor = _list(stack, "status=open&limit=1").json["next_cursor"]
    assert _list(stack, f"status=closed&cursor={open_cursor}").status == 422
    assert _list(stack, f"cursor={open_cursor}").status == 422


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=pending", "status"),
        ("status=", "status"),
        ("overdue=maybe", "overdue"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("status=answered&overdue=true", "overdue"),
        ("status=closed&overdue=true", "overdue"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=", "cursor"),
        ("cursor=" + "A" * 2001, "cursor"),
        ("cursor=" + _b64(["2026", "inq_x"]), "cursor"),
        ("cursor=" + _b64({"store_id": "demo"}), "cursor"),
        (
            "cursor="
            + _b64({"store_id": "demo", "inquiry_id": "inq_a", "received_key": "2026-01-01T00:00:00Z#inq_a"}),
            "cursor",
        ),
        (
            "cursor="
            + _b64(
                {
                    "store_id": "demo",
                    "inquiry_id": "inq_a",
                    "received_key": "2026-01-01T00:00:00.000000Z#inq_b",
                }
            ),
            "cursor",
        ),
        ("cursor=" + quote(base64.b64encode(b"\xff\xfe").decode()), "cursor"),
    ],
)
def test_every_bad_parameter_is_422_naming_it_and_writes_nothing(stack, query, field):
    _create(stack, 1)
    stack.drain()
    before = item_count(stack, "InquiriesTable"), item_count(stack, "RepliesTable"), len(stack.outbox())
    reply = _list(stack, query)
    assert reply.status == 422, reply.text
    assert reply.json["error"]["type"] == "validation_error"
    assert any(field in f["field"] for f in reply.json["error"]["fields"]), reply.text
    assert (
        item_count(stack, "InquiriesTable"),
        item_count(stack, "RepliesTable"),
        len(stack.outbox()),
    ) == before
    assert queue_depth(stack) == 0


def test_a_well_formed_position_of_the_store_itself_is_accepted(stack):
    ids = _create_many(stack, 3)
    inquiry = inquiry_data.get("demo", ids[1])
    assert inquiry is not None
    position = {
        "store_id": "demo",
        "inquiry_id": ids[1],
        "received_key": inquiry_data.received_key(inquiry.received_at, ids[1]),
    }
    cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
    assert _ids(_list(stack, f"cursor={cursor}")) == [ids[0]]


def test_listing_queries_the_indexes_and_never_scans(stack, monkeypatch):
    import botocore.client

    _create_many(stack, 5)
    queries: list[dict[str, Any]] = []
    with aws_calls() as calls:
        recording = botocore.client.BaseClient._make_api_call

        def spy(self, operation, params):
            if operation == "Query":
                queries.append(params)
            return recording(self, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
        for query in ("", "limit=2", "status=open", "overdue=true", "overdue=false", "status=closed"):
            assert _list(stack, query).status == 200
        monkeypatch.undo()
    dynamodb = [operation for service, operation in calls.calls if service == "dynamodb"]
    assert "Scan" not in dynamodb and set(dynamodb) <= {"Query", "GetItem"}
    assert {q["IndexName"] for q in queries} == {"store-received", "store-status"}


def test_inquiries_without_index_keys_are_backfilled(stack):
    """Inquiries stored before the indexes existed have no keys and are not listed until
    backfill_index_keys gives them theirs (idempotent)."""
    import boto3

    ids = _create_many(stack, 3)
    table = stack.resources.tables["InquiriesTable"]
    client = boto3.client("dynamodb")
    for inquiry_id in ids[:2]:
        client.update_item(
            TableName=table,
            Key={"store_id": {"S": "demo"}, "inquiry_id": {"S": inquiry_id}},
            UpdateExpression="REMOVE received_key, status_key",
        )
    assert _ids(_list(stack)) == [ids[2]]
    assert inquiry_data.backfill_index_keys("demo") == 2
    assert inquiry_data.backfill_index_keys("demo") == 0
    assert _ids(_list(stack)) == ids[::-1]
    assert _ids(_list(stack, "status=open")) == ids[::-1]
