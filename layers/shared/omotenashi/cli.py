"""`omotenashi`: the ops CLI. Manages stores of a deployed stack and sends signed test requests.

  omotenashi stores create demo --name "Demo" --sender shop@demo.example \
      --staff staff@demo.example --stack omotenashi-dev
  omotenashi stores show demo --stack omotenashi-dev
  omotenashi stores rotate-secret demo --stack omotenashi-dev
  omotenashi request POST /v1/inquiries --url http://127.0.0.1:3000 \
      --store demo --secret demo-secret --data '{...}'

Tables are found from the stack's outputs (--stack), or --stores-table, or STORES_TABLE.
Secrets are printed once, when created; `show` never prints them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from omotenashi import clock
from omotenashi.domain import Store


def _configure_tables(args: argparse.Namespace) -> None:
    from omotenashi.dal import aws
    from omotenashi.settings import reset_settings

    if getattr(args, "region", None):
        os.environ["AWS_DEFAULT_REGION"] = args.region
    if getattr(args, "stack", None):
        from omotenashi.dal.stacks import stack_outputs

        outputs = stack_outputs(args.stack)
        os.environ["STORES_TABLE"] = outputs["StoresTableName"]
    if getattr(args, "stores_table", None):
        os.environ["STORES_TABLE"] = args.stores_table
    if not os.environ.get("STORES_TABLE"):
        raise SystemExit("error: give --stack NAME or --stores-table NAME (or set STORES_TABLE)")
    reset_settings()
    aws.reset()


def _public_view(store: Store) -> dict[str, Any]:
    from omotenashi.dal.stores import policy_document

    return {
        "store_id": store.store_id,
        "name": store.name,
        "sender": store.sender,
        "staff_addresses": list(store.staff_addresses),
        "default_locale": store.default_locale,
        "time_zone": store.time_zone,
        "sla_hours": store.sla_hours,
        "policy": policy_document(store.policy),
        "secrets": [
            {"secret_id": s.secret_id, "created_at": clock.isoformat(s.created_at)} for s in store.secrets
        ],
    }


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_create(args: argparse.Namespace) -> int:
    from omotenashi.dal.stores import StoreExists
    from omotenashi.logic.core.store_admin import InvalidStore, create_store

    _configure_tables(args)
    try:
        store = create_store(
            store_id=args.store_id,
            name=args.name,
            sender=args.sender,
            staff_addresses=tuple(args.staff or ()),
            default_locale=args.locale,
            time_zone=args.time_zone,
            sla_hours=args.sla_hours,
            now=clock.now(),
        )
    except InvalidStore as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StoreExists:
        print(f"error: store {args.store_id} already exists", file=sys.stderr)
        return 2
    view = _public_view(store)
    view["signing_secret"] = store.secrets[0].value
    view["note"] = "Store the signing secret now: it is not shown again."
    if args.verify_sender:
        from omotenashi.dal.stacks import verify_sender_domain

        domain = store.sender.rsplit("@", 1)[1]
        view["ses_verification"] = {
            "domain": domain,
            "txt_record": f"_amazonses.{domain}",
            "value": verify_sender_domain(domain),
        }
    _print(view)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from omotenashi.dal.stores import get_store

    _configure_tables(args)
    store = get_store(args.store_id)
    if store is None:
        print(f"error: no store {args.store_id}", file=sys.stderr)
        return 1
    _print(_public_view(store))
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.store_admin import rotate_secret

    _configure_tables(args)
    try:
        store, secret = rotate_secret(args.store_id, clock.now(), retire_previous=args.retire_previous)
    except KeyError:
        print(f"error: no store {args.store_id}", file=sys.stderr)
        return 1
    view = _public_view(store)
    view["signing_secret"] = secret.value
    view["note"] = "New secret active now. " + (
        "Older secrets were retired."
        if args.retire_previous
        else "The previous secret stays valid until the next rotation."
    )
    _print(view)
    return 0


def cmd_set_policy(args: argparse.Namespace) -> int:
    from omotenashi.dal.stores import policy_document
    from omotenashi.logic.core.store_admin import InvalidStore, set_policy

    _configure_tables(args)
    with open(args.file, encoding="utf-8") as handle:
        try:
            config = json.load(handle)
        except ValueError as error:
            print(f"error: {args.file} is not JSON: {error}", file=sys.stderr)
            return 2
    try:
        store = set_policy(args.store_id, config)
    except KeyError:
        print(f"error: no store {args.store_id}", file=sys.stderr)
        return 1
    except InvalidStore as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _print({"store_id": store.store_id, "policy": policy_document(store.policy)})
    return 0


def cmd_request(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.signing import sign_header

    body = b""
    if args.data_file:
        with open(args.data_file, "rb") as handle:
            body = handle.read()
    elif args.data is not None:
        body = args.data.encode("utf-8")
    method = args.method.upper()
    timestamp = int(clock.real_epoch())
    headers = {
        "Content-Type": "application/json",
        "X-Omotenashi-Store": args.store,
        "X-Omotenashi-Signature": sign_header(args.secret, timestamp, method, args.path, body),
    }
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key
    url = args.url.rstrip("/") + args.path
    if not url.startswith(("http://", "https://")):
        print(f"error: --url must start with http:// or https:// (got {args.url!r})", file=sys.stderr)
        return 2
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own, checked above
        url, data=body if method != "GET" else None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, text = response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        print(f"error: could not reach {args.url}: {reason}", file=sys.stderr)
        return 2
    print(status)
    print(text)
    return 0 if status < 400 else 1


def cmd_sign(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.signing import sign_header

    body = (args.data or "").encode("utf-8")
    print(sign_header(args.secret, int(clock.real_epoch()), args.method, args.path, body))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omotenashi", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def table_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--stack", help="CloudFormation stack name (e.g. omotenashi-dev)")
        sub.add_argument("--stores-table", help="stores table name (instead of --stack)")
        sub.add_argument("--region", help="AWS region (default: your AWS configuration)")

    stores = commands.add_parser("stores", help="manage stores").add_subparsers(dest="action", required=True)
    create = stores.add_parser("create", help="create a store and print its signing secret once")
    create.add_argument("store_id")
    create.add_argument("--name", required=True)
    create.add_argument("--sender", required=True, help="From address (its domain must be verified in SES)")
    create.add_argument("--staff", action="append", help="staff address (repeat for several)")
    create.add_argument("--locale", default="ja", choices=["ja", "en"])
    create.add_argument("--time-zone", default="Asia/Tokyo")
    create.add_argument("--sla-hours", type=float, default=24, help="hours for normal inquiries")
    create.add_argument(
        "--verify-sender", action="store_true", help="start SES verification of the sender domain"
    )
    table_options(create)
    create.set_defaults(func=cmd_create)

    show = stores.add_parser("show", help="show a store (never its secrets)")
    show.add_argument("store_id")
    table_options(show)
    show.set_defaults(func=cmd_show)

    rotate = stores.add_parser("rotate-secret", help="add a new signing secret; the previous stays valid")
    rotate.add_argument("store_id")
    rotate.add_argument("--retire-previous", action="store_true", help="make the new secret the only one")
    table_options(rotate)
    rotate.set_defaults(func=cmd_rotate)

    policy = stores.add_parser(
        "set-policy", help="set the SLA policy (hours per priority, reminders, escalation, calendar)"
    )
    policy.add_argument("store_id")
    policy.add_argument("--file", required=True, help="policy JSON (see docs/sla.md)")
    table_options(policy)
    policy.set_defaults(func=cmd_set_policy)

    request = commands.add_parser("request", help="send a signed request to the API")
    request.add_argument("method")
    request.add_argument("path", help="path from /v1 on, with any query string")
    request.add_argument("--url", default="http://127.0.0.1:3000")
    request.add_argument("--store", default="demo")
    request.add_argument("--secret", default=os.environ.get("OMOTENASHI_SECRET", "demo-secret"))
    request.add_argument("--data")
    request.add_argument("--data-file")
    request.add_argument("--idempotency-key")
    request.set_defaults(func=cmd_request)

    sign = commands.add_parser("sign", help="print an X-Omotenashi-Signature value")
    sign.add_argument("method")
    sign.add_argument("path")
    sign.add_argument("--secret", required=True)
    sign.add_argument("--data")
    sign.set_defaults(func=cmd_sign)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
