"""Local stack under loyalty load: 2,000 order events, 500 redemptions and 100 redemption
cancellations from 10 concurrent clients over HTTP, over 200 customers, with the clock moved past
the return windows; then every customer's balance (GET /v1/customers/{id}/loyalty) against sums
the benchmark computes itself from what it sent, and against the customer's own ledger (GET
.../loyalty/ledger).

Phase 1 (seed, 400 events): each customer's first order (15,000-25,000 yen, some with shipping)
placed and delivered; then 15 days on the local clock: the return window (14 days after delivery)
ends, the sweep and the loyalty worker confirm the points (available from then on).

Phase 2 (1,600 events, 8 per customer, four groups of 50 by customer number mod 4; orders of
1,000-5,000 yen, shipping 0, 300 or 800):

- g0: o1 placed, delivered; o2 placed, delivered, two partial refunds; o3 placed, cancelled
- g1: o1 placed, delivered; o2 placed, delivered, wholly refunded (a partial refund, then the rest
      of the total, shipping included); o3 placed only (never delivered: its points stay pending);
      a partial refund of the seed order (already confirmed: taken back from available)
- g2: o1 placed, delivered, one partial refund; o2 placed, cancelled; o3 placed, delivered; a
      partial refund of the seed order
- g3: o1 placed, delivered, three partial refunds adding up to exactly total - shipping; o2 placed,
      delivered, then cancelled (before its confirmation)

and per customer two redemptions: one naming o2 (a refund gives back floor(redeemed x refunded
share), a cancellation all of it) and one naming no order, plus for every other customer a third
naming o1 that the same client cancels (DELETE) once it is made. The redemptions are small enough
that the available balance covers them whatever the order of arrival (a refusal, 409
insufficient_points, is counted and kept out of the expectation). The events and the redemption
tasks are shuffled together (fixed seed): the events of one order arrive in any order. A request
that fails (not 2xx, not 409) is sent again with the same body (every one is idempotent). Then the
clock moves 15 days on again: every delivered order still holding points is confirmed.

The expectation, per customer, by the programme's rules at the silver tier (1%; every customer's
spend stays below gold's 50,000 yen), computed here from the events sent:
earned = floor((total - shipping) x 1%); taken back = earned x min(1, refunded / (total - shipping))
rounded down (all of it at a full refund or a cancellation); the rest is available once confirmed
(delivered, not cancelled, not wholly refunded), else pending; each redemption takes its points,
its cancellation gives them all back, and an order gives back floor(points of its active
redemptions x its taken-back share).

Printed: order events and requests per second (sent, and applied: until a zero-second clock
advance, which drains the event stream, returns), the time of each clock advance, redemption
outcomes, the customers checked and every mismatch (balance against expectation, balance against
the ledger's sums; both must be 0).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from math import floor
from pathlib import Path
from typing import Any

from local_stack_load import stop

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "200"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "10"))
SECRET = "bench-secret"
RATE = Fraction(1, 100)  # silver: 1 point per 100 yen
GOLD = 50_000
DAY = 86400
ATTEMPTS = 5
LINE = {"sku": "TEA-01", "name": "玉露 100g", "quantity": 1}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Client:
    """Signed requests over one kept-alive connection per thread (a new TCP connection per request
    costs the stack's server a thread each, and floods the listen queue at this rate)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.address = urllib.parse.urlsplit(base).netloc
        self.local_state = threading.local()

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        connection = getattr(self.local_state, "connection", None)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            connection = http.client.HTTPConnection(self.address, timeout=900)
            self.local_state.connection = connection
        return connection

    def _exchange(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        for attempt in range(2):  # the server closes idle connections: once more on a fresh one
            connection = self._connection(fresh=attempt > 0)
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        from omotenashi.logic.core.signing import sign_header

        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Omotenashi-Store": "demo",
            "X-Omotenashi-Signature": sign_header(SECRET, int(time.time()), method, path, data),
        }
        try:
            status, raw = self._exchange(method, path, data if body is not None else None, headers)
        except OSError as error:  # a reset or a timeout: the caller sends it again
            self._connection(fresh=True)
            return 0, repr(error)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def local(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        status, raw = self._exchange(method, path, data, {"Content-Type": "application/json"})
        assert status == 200, (path, status, raw)
        return json.loads(raw)


# --- the workload and the rules, as the benchmark understands them ------------------------------


@dataclass
class Order:
    order_id: str
    customer: str
    total: int
    shipping: int
    placed_at: datetime
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunds: list[tuple[str, int, datetime]] = field(default_factory=list)

    @property
    def base(self) -> int:
        return self.total - self.shipping

    @property
    def earned(self) -> int:
        return floor(self.base * RATE)

    def taken_back(self) -> Fraction:
        if self.cancelled_at is not None:
            return Fraction(1)
        return min(Fraction(1), Fraction(sum(amount for _, amount, _ in self.refunds), self.base))

    def reversed(self) -> int:
        ratio = self.taken_back()
        return self.earned if ratio >= 1 else floor(self.earned * ratio)

    def confirmed(self) -> bool:
        """Delivered, neither cancelled nor wholly refunded: its return window ends (the benchmark
        moves the clock past every window)."""
        return self.delivered_at is not None and self.taken_back() < 1

    def events(self) -> list[dict[str, Any]]:
        customer = {"id": self.customer, "email": f"{self.customer}@example.jp", "locale": "ja"}
        common = {"order_id": self.order_id, "customer": customer}
        placed = {
            **common,
            "type": "placed",
            "items": [{**LINE, "unit_price": str(self.base)}],
            "currency": "JPY",
            "total": str(self.total),
            "shipping": str(self.shipping),
            "occurred_at": iso(self.placed_at),
        }
        events = [placed]
        if self.delivered_at is not None:
            events.append({**common, "type": "delivered", "occurred_at": iso(self.delivered_at)})
        if self.cancelled_at is not None:
            events.append({**common, "type": "cancelled", "occurred_at": iso(self.cancelled_at)})
        for refund_id, amount, at in self.refunds:
            events.append(
                {
                    **common,
                    "type": "refunded",
                    "refund_id": refund_id,
                    "refund_amount": str(amount),
                    "currency": "JPY",
                    "occurred_at": iso(at),
                }
            )
        return events


@dataclass
class Redemption:
    redemption_id: str
    customer: str
    points: int
    order_id: str | None
    cancel: bool
    status: int = 0  # the POST's final answer
    cancel_status: int = 0  # the DELETE's final answer
    answers: list[Any] = field(default_factory=list)


@dataclass
class Customer:
    customer_id: str
    orders: dict[str, Order] = field(default_factory=dict)
    redemptions: list[Redemption] = field(default_factory=list)

    def expected(self) -> tuple[int, int]:
        """(available, pending) by the rules, from what was sent and what the API accepted."""
        available = pending = 0
        for order in self.orders.values():
            remaining = order.earned - order.reversed()
            if order.confirmed():
                available += remaining
            else:
                pending += remaining
        active_by_order: Counter[str] = Counter()
        for redemption in self.redemptions:
            if redemption.status != 201:
                continue  # refused: nothing taken
            available -= redemption.points
            if redemption.cancel_status == 200:
                available += redemption.points  # all of it back, once
            elif redemption.order_id is not None:
                active_by_order[redemption.order_id] += redemption.points
        for order_id, points in active_by_order.items():
            ratio = self.orders[order_id].taken_back()
            available += points if ratio >= 1 else floor(points * ratio)
        return available, pending

    def spend(self) -> int:
        """Confirmed spend (yen) in the tier window: never reaches gold here."""
        return sum(
            order.base - min(order.base, sum(a for _, a, _ in order.refunds))
            for order in self.orders.values()
            if order.confirmed()
        )


def seed_orders(rng: random.Random, customers: list[Customer], t: datetime) -> list[dict[str, Any]]:
    events = []
    for customer in customers:
        shipping = rng.choice((0, 0, 500, 800))
        total = rng.randint(15_000, 25_000) + shipping
        order = Order(
            f"{customer.customer_id}-s", customer.customer_id, total, shipping, t - timedelta(days=6)
        )
        order.delivered_at = t - timedelta(days=4, minutes=rng.randint(0, 600))
        customer.orders[order.order_id] = order
        events += order.events()
    return events


def new_order(rng: random.Random, customer: Customer, suffix: str, t: datetime) -> Order:
    c = customer.customer_id
    shipping = rng.choice((0, 300, 800))
    total = rng.randint(1_000, 5_000) + shipping
    placed = t - timedelta(days=5, minutes=rng.randint(0, 900))
    made = Order(f"{c}-{suffix}", c, total, shipping, placed)
    customer.orders[made.order_id] = made
    return made


def main_load(rng: random.Random, customers: list[Customer], t: datetime) -> tuple[list[Any], int]:
    """Phase 2: (the shuffled tasks: an order event, or a redemption task; the order events)."""
    tasks: list[Any] = []
    for number, customer in enumerate(customers):
        c = customer.customer_id
        group = number % 4

        def deliver(o: Order) -> None:
            o.delivered_at = o.placed_at + timedelta(days=2)

        def refund(o: Order, refund_id: str, amount: int, hours: int) -> None:
            assert amount > 0
            o.refunds.append((refund_id, amount, o.placed_at + timedelta(days=3, hours=hours)))

        def part(o: Order) -> int:
            return max(1, round(o.base * rng.uniform(0.1, 0.4)))

        o1, o2 = new_order(rng, customer, "o1", t), new_order(rng, customer, "o2", t)
        o3 = new_order(rng, customer, "o3", t) if group != 3 else None
        seed = customer.orders[f"{c}-s"]
        new_events = []
        if group == 0:
            deliver(o1)
            deliver(o2)
            refund(o2, "r1", part(o2), 1)
            refund(o2, "r2", part(o2), 2)
            assert o3 is not None
            o3.cancelled_at = o3.placed_at + timedelta(hours=3)
        elif group == 1:
            deliver(o1)
            deliver(o2)
            first = part(o2)
            refund(o2, "r1", first, 1)
            refund(o2, "r2", o2.total - first, 2)  # the rest of the total, shipping included
            seed.refunds.append(("r1", round(seed.base * rng.uniform(0.05, 0.3)), t - timedelta(days=1)))
        elif group == 2:
            deliver(o1)
            refund(o1, "r1", part(o1), 1)
            o2.cancelled_at = o2.placed_at + timedelta(hours=2)
            assert o3 is not None
            deliver(o3)
            seed.refunds.append(("r1", round(seed.base * rng.uniform(0.05, 0.3)), t - timedelta(days=1)))
        else:
            deliver(o1)
            a = o1.base // 3
            b = rng.randint(1, o1.base - a - 1)
            refund(o1, "r1", a, 1)
            refund(o1, "r2", b, 2)
            refund(o1, "r3", o1.base - a - b, 3)  # the three add up to exactly total - shipping
            deliver(o2)
            o2.cancelled_at = o2.placed_at + timedelta(days=2, hours=5)  # after delivery
        for o in (o1, o2, o3):
            new_events += o.events() if o is not None else []
        if group in (1, 2):
            new_events += [e for e in seed.events() if e["type"] == "refunded"]
        assert len(new_events) == 8, (group, len(new_events))
        tasks += [("event", e) for e in new_events]
        # Redemptions: small enough that the seed's points cover them in any order of arrival.
        made = [
            Redemption(f"{c}-x1", c, rng.randint(5, 30), o2.order_id, cancel=False),
            Redemption(f"{c}-x2", c, rng.randint(5, 30), None, cancel=False),
        ]
        if number % 2 == 0:
            made.append(Redemption(f"{c}-x3", c, rng.randint(5, 30), o1.order_id, cancel=True))
        budget = seed.earned - seed.reversed()
        assert sum(r.points for r in made) <= budget, (c, budget)
        assert sum(o.base for o in customer.orders.values()) < GOLD
        customer.redemptions += made
        tasks += [("redeem", r) for r in made]
    rng.shuffle(tasks)
    return tasks, sum(1 for kind, _ in tasks if kind == "event")


# --- running it --------------------------------------------------------------------------------


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, key: str, problem: str | None = None) -> None:
        with self.lock:
            self.statuses[key] += 1
            if problem is not None:
                self.problems.append(problem)


def send(
    client: Client, tally: Tally, method: str, path: str, body: Any, ok: tuple[int, ...]
) -> tuple[int, Any]:
    """Send until an answer in `ok` or a 409 (every request here is idempotent)."""
    status, answer = 0, None
    for attempt in range(ATTEMPTS):
        status, answer = client.request(method, path, body)
        if status in ok or status == 409:
            return status, answer
        with tally.lock:
            tally.retries += 1
            if attempt == ATTEMPTS - 1:
                tally.problems.append(f"{method} {path}: {status} {str(answer)[:200]}")
        time.sleep(0.2 * (attempt + 1))
    return status, answer


def run_tasks(client: Client, tasks: list[Any], tally: Tally) -> float:
    def one(task: Any) -> None:
        kind, item = task
        if kind == "event":
            status, _ = send(client, tally, "POST", "/v1/events/orders", item, (202,))
            tally.note(f"order event {status}")
            return
        redemption: Redemption = item
        path = f"/v1/customers/{redemption.customer}/loyalty/redemptions"
        body: dict[str, Any] = {"redemption_id": redemption.redemption_id, "points": redemption.points}
        if redemption.order_id:
            body["order_id"] = redemption.order_id
        status, answer = send(client, tally, "POST", path, body, (201,))
        redemption.status = status
        redemption.answers.append(answer)
        tally.note(f"redemption {status}")
        if status == 201 and redemption.cancel:
            status, answer = send(client, tally, "DELETE", f"{path}/{redemption.redemption_id}", None, (200,))
            redemption.cancel_status = status
            redemption.answers.append(answer)
            tally.note(f"redemption DELETE {status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one, tasks))
    return time.perf_counter() - started


def ledger(client: Client, customer_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        path = f"/v1/customers/{customer_id}/loyalty/ledger?" + urllib.parse.urlencode(
            query, quote_via=urllib.parse.quote
        )
        status, page = client.request("GET", path)
        assert status == 200, (path, status, page)
        entries += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            return entries


@dataclass
class Check:
    checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    ledger_mismatches: list[str] = field(default_factory=list)
    tiers: Counter[str] = field(default_factory=Counter)


def check(client: Client, customers: list[Customer], with_ledger: bool) -> Check:
    result = Check()
    lock = threading.Lock()

    def one(customer: Customer) -> None:
        status, balance = client.request("GET", f"/v1/customers/{customer.customer_id}/loyalty")
        assert status == 200, (status, balance)
        want = customer.expected()
        got = (balance["available"], balance["pending"])
        problems = []
        if got != want:
            problems.append(f"{customer.customer_id}: API (available, pending) {got}, expected {want}")
        ledger_problem = None
        if with_ledger:
            entries = ledger(client, customer.customer_id)
            sums = (
                sum(e["points"] for e in entries if e["bucket"] == "available"),
                sum(e["points"] for e in entries if e["bucket"] == "pending"),
            )
            duplicated = len(entries) - len({e["entry_id"] for e in entries})
            if sums != got or duplicated:
                ledger_problem = (
                    f"{customer.customer_id}: balance {got}, ledger sums {sums}, "
                    f"{duplicated} duplicated entry ids"
                )
        with lock:
            result.checked += 1
            result.tiers[str(balance["tier"])] += 1
            result.mismatches += problems
            if ledger_problem:
                result.ledger_mismatches.append(ledger_problem)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one, customers))
    return result


def explain(client: Client, customers: dict[str, Customer], line: str) -> None:
    """What the benchmark sent and what the ledger says, for one mismatched customer."""
    customer = customers[line.split(":", 1)[0]]
    print(f"  {line}")
    for order in customer.orders.values():
        print(
            f"    order {order.order_id}: base {order.base} earned {order.earned} refunds "
            f"{[a for _, a, _ in order.refunds]} cancelled {order.cancelled_at is not None} "
            f"delivered {order.delivered_at is not None} -> taken back {order.reversed()}, "
            f"{'available' if order.confirmed() else 'pending'} {order.earned - order.reversed()}"
        )
    for r in customer.redemptions:
        print(
            f"    redemption {r.redemption_id}: {r.points} points, order {r.order_id}, POST {r.status}, "
            f"DELETE {r.cancel_status or '-'}"
        )
    for entry in sorted(ledger(client, customer.customer_id), key=lambda e: e["at"]):
        print(
            f"    ledger {entry['at']} {entry['bucket']:9} {entry['points']:+5d} {entry['kind']:17} "
            f"{entry['entry_id']}"
        )


def main() -> None:
    from omotenashi_local.launcher import start_local_stack

    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "stack.log"
        process, base = start_local_stack(
            log, {"OMOTENASHI_DEMO_SECRET": SECRET, "OMOTENASHI_LOG_LEVEL": "ERROR"}
        )
        try:
            run(Client(base))
        except BaseException:
            code = process.poll()
            print(f"(local stack {'exited with ' + str(code) if code is not None else 'running'}; its log:)")
            print("\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]), flush=True)
            raise
        finally:
            stop(process)


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def run(client: Client) -> None:
    rng = random.Random(2026)
    customers = [Customer(f"lc{n:03d}") for n in range(CUSTOMERS)]
    by_id = {c.customer_id: c for c in customers}

    def advance(seconds: float) -> str:
        return str(client.local("POST", "/_local/clock/advance", {"seconds": seconds})["now"])

    # -- phase 1: seed orders, confirmed ------------------------------------------------------------
    t0 = parse(client.local("GET", "/_local/clock")["now"])
    seed_events = seed_orders(rng, customers, t0)
    seed_tally = Tally()
    seed_seconds = run_tasks(client, [("event", e) for e in seed_events], seed_tally)
    (_, seed_drain) = timed(lambda: advance(0))  # drains the event stream: every event applied
    (_, seed_advance) = timed(lambda: advance(15 * DAY))
    seeded = check(client, customers, with_ledger=False)
    print(
        f"== Local stack: loyalty load from {CLIENTS} concurrent clients, {CUSTOMERS} customers ==",
        flush=True,
    )
    print(
        f"phase 1 (seed)             : {len(seed_events)} events sent in {seed_seconds:.1f} s "
        f"({len(seed_events) / seed_seconds:.1f} events/s); applied {seed_seconds + seed_drain:.1f} s after "
        f"the first was sent ({len(seed_events) / (seed_seconds + seed_drain):.1f} events/s)",
        flush=True,
    )
    print(
        f"clock +15 days             : {seed_advance:.1f} s (sweep, {CUSTOMERS} confirmations, emails); "
        f"balances: {len(seeded.mismatches)} of {seeded.checked} customers off the expectation",
        flush=True,
    )

    # -- phase 2: the load ---------------------------------------------------------------------------
    t1 = parse(client.local("GET", "/_local/clock")["now"])
    tasks, events = main_load(rng, customers, t1)
    redemptions = [r for c in customers for r in c.redemptions]
    tally = Tally()
    sending = run_tasks(client, tasks, tally)
    cancels = [r for r in redemptions if r.cancel and r.status == 201]
    requests = len(tasks) + len(cancels)
    (_, drained) = timed(lambda: advance(0))
    print(
        f"phase 2 (load)             : {events} order events + {len(redemptions)} redemptions + "
        f"{len(cancels)} cancellations = {requests} requests in {sending:.1f} s"
    )
    print(
        f"  sent                     : {events / sending:7.1f} order events/s, {requests / sending:7.1f} "
        "requests/s"
    )
    print(
        f"  applied                  : {events / (sending + drained):7.1f} order events/s (the last applied "
        f"{drained:.1f} s after the last was sent)"
    )
    print(
        f"  answers                  : {dict(sorted(tally.statuses.items()))}; {tally.retries} resent",
        flush=True,
    )
    (_, advanced) = timed(lambda: advance(15 * DAY))
    print(f"clock +15 days             : {advanced:.1f} s (sweep, confirmations, emails)", flush=True)
    final, checking = timed(lambda: check(client, customers, with_ledger=True))
    print(
        f"customers checked          : {final.checked} in {checking:.1f} s (tiers {dict(final.tiers)}; "
        f"spend below {GOLD:,} for all: {all(c.spend() < GOLD for c in customers)})"
    )
    print(
        f"order events in all        : {len(seed_events) + events:,} ({len(seed_events)} + {events}), "
        f"{tally.statuses['order event 202'] + seed_tally.statuses['order event 202']:,} accepted"
    )
    print(f"mismatches (API vs rules)  : {len(final.mismatches)}")
    print(f"mismatches (API vs ledger) : {len(final.ledger_mismatches)}")
    for problem in (seed_tally.problems + tally.problems)[:5]:
        print(f"  request problem: {problem}")
    for line in seeded.mismatches[:3]:
        print(f"  after phase 1: {line}")
    for line in final.ledger_mismatches[:5]:
        print(f"  {line}")
    for line in final.mismatches[:5]:
        explain(client, by_id, line)
    if len(final.mismatches) > 5:
        print(f"  ... and {len(final.mismatches) - 5} more")


if __name__ == "__main__":
    main()
