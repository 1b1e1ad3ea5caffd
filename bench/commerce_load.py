"""Local stack under commerce load: 1,000 cart events and 500 orders from 10 concurrent clients
over HTTP, then two hours on the local clock; the abandoned-cart reminders must be exactly the ones
the rules give, none lost, none duplicated.

The mix (250 customers, five groups of 50 by customer number mod 5; each customer has two carts,
each cart two updates, the older 10 minutes before the newer; T is 09:00 in Asia/Tokyo):

- g0: consent, no order                                  -> 1 reminder (two carts; the 16 h cap
                                                            lets one of them through)
- g1: consent, orders placed after the carts' updates     -> 0 (every other order also names a cart)
- g2: consent, orders placed before the carts' updates    -> 1 (an earlier order ends nothing)
- g3: no consent                                           -> 0
- g4: consent given, then withdrawn; orders before carts  -> 0

Expected: 100 reminders (step 1 of the sequence, due an hour after the newer update), one per
customer of g0 and g2, one per cart at most. The clock is first moved to 09:00 JST, so the carts
and the reminders an hour later fall outside quiet hours (21:00-08:00) whatever the time of day
the benchmark runs; the 500 orders go to g1, g2 and g4 in turn. Cart and order events are
shuffled together (a fixed seed), so updates and orders arrive in every order.

Printed: accepted events and events per second (accepted, and applied by the event worker), the
accepted-to-applied latency of a sample of cart events (every 20th; a watcher polls GET
/v1/carts/{id} until the cart shows that update or a newer one, so the figure includes up to one
polling round), the final state of every cart and order (lost events), and the reminders in
/_local/outbox (kind cart_reminder) per customer and per cart against the expectation.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _common import percentile
from local_stack_load import stop

CUSTOMERS = 250
CART_EVENTS = 1000  # CUSTOMERS x 2 carts x 2 updates
ORDERS = int(os.environ.get("BENCH_ORDERS", "500"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "10"))
SAMPLE_EVERY = 20
SECRET = "bench-secret"
APPLY_TIMEOUT = 300.0
SETTLE = 5.0
LINE = {"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}
CART_LINK = re.compile(r"https://shop\.example/cart/([A-Za-z0-9_-]+)")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        from omotenashi.logic.core.signing import sign_header

        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Omotenashi-Store": "demo",
            "X-Omotenashi-Signature": sign_header(SECRET, int(time.time()), method, path, data),
        }
        request = urllib.request.Request(
            f"{self.base}{path}", data=data if body is not None else None, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None

    def local(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())


def group(customer: int) -> int:
    return customer % 5


def workload(t: datetime) -> tuple[list[tuple[str, str, dict]], list[tuple[str, str, dict]], dict[str, Any]]:
    """(consent requests, events, expectations)."""
    consents: list[tuple[str, str, dict]] = []
    events: list[tuple[str, str, dict]] = []
    newest: dict[str, str] = {}  # cart -> the newest update's time
    for c in range(CUSTOMERS):
        customer = {"id": f"c{c:03d}", "email": f"c{c:03d}@example.jp", "locale": "ja"}
        consent = {"email": customer["email"], "source": "checkout_checkbox", "wording": "お知らせを受け取る"}
        path = f"/v1/customers/{customer['id']}/consent"
        if group(c) in (0, 1, 2, 4):
            given = {**consent, "marketing_email": True, "consented_at": iso(t - timedelta(hours=3))}
            consents.append(("PUT", path, given))
        if group(c) == 4:
            withdrawn = {**consent, "marketing_email": False, "consented_at": iso(t - timedelta(hours=2))}
            consents.append(("PUT", path, withdrawn))
        for k in range(2):
            cart_id = f"cart-{c:03d}-{k}"
            for update in range(2):  # the older one has one line, the newer two
                at = t - timedelta(minutes=30 - 10 * update, seconds=c % 60, milliseconds=k)
                body = {
                    "cart_id": cart_id,
                    "customer": customer,
                    "items": [LINE, {**LINE, "sku": "TEA-02", "name": "煎茶 100g"}][: update + 1],
                    "currency": "JPY",
                    "subtotal": str(3240 * (update + 1)),
                    "cart_url": f"https://shop.example/cart/{cart_id}",
                    "updated_at": iso(at),
                }
                events.append(("POST", "/v1/events/carts", body))
                newest[cart_id] = iso(at)
    orderers = [c for c in range(CUSTOMERS) if group(c) in (1, 2, 4)]
    ordered_carts: set[str] = set()
    for j in range(ORDERS):
        c = orderers[j % len(orderers)]
        after = group(c) == 1
        body = {
            "order_id": f"o-{j:04d}",
            "type": "placed",
            "customer": {"id": f"c{c:03d}", "email": f"c{c:03d}@example.jp"},
            "items": [LINE],
            "currency": "JPY",
            "total": "3240",
            # after: 5 minutes after the newer updates; before: 20 minutes before the older ones
            "occurred_at": iso(t - timedelta(minutes=5 if after else 50, seconds=j % 60)),
        }
        if after and j % 2 == 0:
            body["cart_id"] = f"cart-{c:03d}-{(j // len(orderers)) % 2}"
        events.append(("POST", "/v1/events/orders", body))
        if after:
            ordered_carts |= {f"cart-{c:03d}-0", f"cart-{c:03d}-1"}
    random.Random(8).shuffle(events)
    expected = {f"c{c:03d}" for c in range(CUSTOMERS) if group(c) in (0, 2)}
    return consents, events, {"newest": newest, "ordered": ordered_carts, "customers": expected}


def main() -> None:
    from omotenashi_local.launcher import start_local_stack

    with tempfile.TemporaryDirectory() as scratch:
        process, base = start_local_stack(
            Path(scratch) / "stack.log", {"OMOTENASHI_DEMO_SECRET": SECRET, "OMOTENASHI_LOG_LEVEL": "ERROR"}
        )
        try:
            run(Client(base))
        finally:
            stop(process)


def run(client: Client) -> None:
    # Business time to the next 09:00 in Asia/Tokyo (00:00 UTC): no quiet hours for two hours on.
    now = parse(client.local("GET", "/_local/clock")["now"])
    nine = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    t = parse(client.local("POST", "/_local/clock/advance", {"seconds": (nine - now).total_seconds()})["now"])
    consents, events, expected = workload(t)

    errors: list[str] = []
    lock = threading.Lock()

    def send(request: tuple[str, str, dict]) -> tuple[int, float]:
        status, _ = client.request(*request)
        done = time.perf_counter()
        if status not in (200, 202):
            with lock:
                errors.append(f"{request[1]}: {status}")
        return status, done

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        started = time.perf_counter()
        consent_statuses = [s for s, _ in pool.map(send, consents)]
        consent_seconds = time.perf_counter() - started

    # The sampled cart events: accepted when the 202 came back; applied when GET shows the update.
    samples = [i for i, e in enumerate(events) if e[1] == "/v1/events/carts"][::SAMPLE_EVERY]
    accepted_at: dict[int, float] = {}
    applied_at: dict[int, float] = {}
    posting_done = threading.Event()

    def watch() -> None:
        while True:
            with lock:
                pending = [i for i in accepted_at if i not in applied_at]
            for i in pending:
                body = events[i][2]
                status, cart = client.request("GET", f"/v1/carts/{body['cart_id']}")
                if status == 200 and parse(cart["updated_at"]) >= parse(body["updated_at"]):
                    with lock:
                        applied_at[i] = time.perf_counter()
            with lock:
                finished = posting_done.is_set() and len(applied_at) == len(accepted_at)
            if finished or time.perf_counter() - started > APPLY_TIMEOUT:
                return
            time.sleep(0.01)

    def post(i: int) -> int:
        status, done = send(events[i])
        if status == 202 and i in sample_set:
            with lock:
                accepted_at[i] = done
        return status

    sample_set = set(samples)
    watcher = threading.Thread(target=watch)
    started = time.perf_counter()
    watcher.start()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(pool.map(post, range(len(events))))
    posting_seconds = time.perf_counter() - started
    posting_done.set()
    watcher.join()

    # Every cart at its newer update (ordered or not, as the mix says), every order stored.
    pending_carts = dict(expected["newest"])
    pending_orders = {e[2]["order_id"] for e in events if e[1] == "/v1/events/orders"}
    wrong_state: list[str] = []
    while pending_carts or pending_orders:
        for cart_id, at in list(pending_carts.items()):
            status, cart = client.request("GET", f"/v1/carts/{cart_id}")
            if status == 200 and parse(cart["updated_at"]) >= parse(at):
                del pending_carts[cart_id]
                want = "ordered" if cart_id in expected["ordered"] else "active"
                if cart["status"] != want or len(cart["items"]) != 2:
                    wrong_state.append(f"{cart_id}: {cart['status']} {len(cart['items'])} items")
        for order_id in list(pending_orders):
            if client.request("GET", f"/v1/orders/{order_id}")[0] == 200:
                pending_orders.discard(order_id)
        if time.perf_counter() - started > APPLY_TIMEOUT:
            break
    applied_seconds = time.perf_counter() - started

    # Two hours on: the sweep finds step 1 of every active cart; the marketing worker decides.
    advanced = time.perf_counter()
    client.local("POST", "/_local/clock/advance", {"seconds": 2 * 3600})
    first_read = len(client.local("GET", "/_local/outbox")["messages"])
    advance_seconds = time.perf_counter() - advanced
    # The advance drains every queue, but a background poller may still hold a message it took
    # just before: read the outbox until it has not changed for SETTLE seconds.
    outbox = client.local("GET", "/_local/outbox")["messages"]
    settled = time.perf_counter()
    while time.perf_counter() - settled < SETTLE and time.perf_counter() - advanced < APPLY_TIMEOUT:
        time.sleep(0.5)
        latest = client.local("GET", "/_local/outbox")["messages"]
        if len(latest) != len(outbox):
            outbox, settled = latest, time.perf_counter()
    late = len(outbox) - first_read
    reminders = [m for m in outbox if m["kind"] == "cart_reminder"]
    per_customer = Counter(address.split("@")[0] for m in reminders for address in m["to"])
    per_cart = Counter(match.group(1) for m in reminders if (match := CART_LINK.search(m["text"])))

    accepted = statuses.count(202)
    carts_accepted = sum(1 for s, e in zip(statuses, events, strict=True) if s == 202 and "carts" in e[1])
    latencies = [applied_at[i] - accepted_at[i] for i in applied_at]
    want = expected["customers"]
    print(
        f"== Local stack: {CART_EVENTS} cart events and {ORDERS} orders from {CLIENTS} concurrent clients =="
    )
    print(
        f"consent (PUT, before)      : {consent_statuses.count(200)} of {len(consents)} stored "
        f"in {consent_seconds:.1f} s"
    )
    print(
        f"accepted (202)             : {accepted} of {len(events)} ({carts_accepted} cart, "
        f"{accepted - carts_accepted} order)   request errors: {len(errors)}"
    )
    print(
        f"intake throughput          : {accepted / posting_seconds:7.1f} events/s ({posting_seconds:.1f} s)"
    )
    print(
        f"applied throughput         : {accepted / applied_seconds:7.1f} events/s (all {accepted} applied "
        f"{applied_seconds:.1f} s after the first was sent)"
    )
    print(
        f"accepted -> applied        : p50 {percentile(latencies, 50) * 1000:7.1f} ms   "
        f"p95 {percentile(latencies, 95) * 1000:7.1f} ms   max {max(latencies, default=0) * 1000:7.1f} ms "
        f"({len(latencies)} sampled cart events of {len(samples)}; GET /v1/carts polling)"
    )
    print(
        f"lost events                : {len(pending_carts)} carts without their newest update, "
        f"{len(pending_orders)} orders missing, {len(wrong_state)} carts in the wrong state"
    )
    print(
        f"clock +2 h (sweep, send)   : {advance_seconds:.1f} s   ({late} emails landed after the advance "
        "returned)"
    )
    print(
        f"cart reminders             : expected {len(want)}, sent {len(reminders)} "
        f"(to {len(per_customer)} customers, {len(per_cart)} carts)"
    )
    print(f"lost reminders             : {len(want - set(per_customer))}")
    print(
        f"duplicated reminders       : {sum(1 for n in per_customer.values() if n > 1)} customers, "
        f"{sum(1 for n in per_cart.values() if n > 1)} carts"
    )
    print(f"unexpected reminders       : {len(set(per_customer) - want)} customers")
    print(f"outbox by kind             : {dict(Counter(m['kind'] for m in outbox))}")
    if errors or wrong_state:
        print("first problems:", (errors + wrong_state)[:5])
    for customer in sorted(want - set(per_customer))[:3]:  # what the lost ones' carts say
        for k in range(2):
            print(
                f"  lost {customer}: cart {k}:",
                client.request("GET", f"/v1/carts/cart-{customer[1:]}-{k}")[1],
            )


if __name__ == "__main__":
    main()
