"""`omotenashi`: the ops CLI. Manages stores of a deployed stack and sends signed test requests.

  omotenashi stores create demo --name "Demo" --sender shop@demo.example \
      --staff staff@demo.example --stack omotenashi-dev
  omotenashi stores show demo --stack omotenashi-dev
  omotenashi stores rotate-secret demo --stack omotenashi-dev
  omotenashi stores rotate-unsubscribe-key demo --stack omotenashi-dev
  omotenashi stores create kyoto --name "Kyoto" --sender info@kyoto.example \
      --verify-sender --local http://127.0.0.1:PORT    # the local stack's "AWS (moto)" endpoint
  omotenashi request POST /v1/inquiries --url http://127.0.0.1:3000 \
      --store demo --secret demo-secret --data '{...}'

Tables are found from the stack's outputs (--stack), or --stores-table, or STORES_TABLE; --local
points at the local stack (`make run`). Secrets are printed once, when created; `show` never
prints them. Every failure is one line on stderr and a non-zero exit status (2: a usage or
configuration problem, 1: the operation failed); --debug shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NoReturn

from omotenashi import clock
from omotenashi.domain import LOCALES, Store

DEFAULT_URL = "http://127.0.0.1:3000"
DEMO_STORE = "demo"
DEMO_SECRET = "demo-secret"  # noqa: S105 - the local stack's published demo secret
SECRET_ENV = "OMOTENASHI_SECRET"  # noqa: S105 - a variable name
URL_ENV = "OMOTENASHI_URL"
STORE_ENV = "OMOTENASHI_STORE"
AUTHOR_ENV = "OMOTENASHI_AUTHOR"
# What `make run` (layers/local/omotenashi_local) creates on its embedded moto: same region default,
# tables named "omotenashi-local-<logical id>" (a test keeps these in step with provision.py).
LOCAL_REGION = "ap-northeast-1"
LOCAL_STORES_TABLE = "omotenashi-local-StoresTable"
LOCAL_CREDENTIAL = "local"

USAGE_ERROR = 2  # bad arguments or configuration (as argparse)
FAILED = 1  # the operation itself failed (AWS error, unknown store, error answer)


class CliError(Exception):
    """A failure reported as one line on stderr; `code` is the exit status."""

    def __init__(self, message: str, code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _use_local_stack(endpoint: str, region: str | None) -> None:
    """Point every AWS call at the local stack's moto server, with the credentials and region
    the local stack itself uses (never real AWS: a profile or session token is dropped)."""
    if not endpoint.startswith(("http://", "https://")):
        raise CliError(
            f"--local takes the local stack's AWS endpoint, the 'AWS (moto)' line of the make run "
            f"banner, e.g. http://127.0.0.1:54321 (got {endpoint!r})"
        )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIAL,
            "STORES_TABLE": LOCAL_STORES_TABLE,
            "MARKETING_TABLE": LOCAL_STORES_TABLE.replace("StoresTable", "MarketingTable"),
        }
    )
    region = region or os.environ.get("AWS_DEFAULT_REGION") or LOCAL_REGION
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = region


def _configure_tables(args: argparse.Namespace) -> None:
    from omotenashi.dal import aws
    from omotenashi.settings import reset_settings

    if getattr(args, "local", None):
        _use_local_stack(args.local, getattr(args, "region", None))
    elif getattr(args, "region", None):
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = args.region
    aws.reset()
    if getattr(args, "stack", None):
        from omotenashi.dal.stacks import stack_outputs

        outputs = stack_outputs(args.stack)
        if not outputs.get("StoresTableName"):
            raise CliError(f"stack {args.stack} has no StoresTableName output (is it an Omotenashi stack?)")
        os.environ["STORES_TABLE"] = outputs["StoresTableName"]
        if outputs.get("MarketingTableName"):  # discount code pools
            os.environ["MARKETING_TABLE"] = outputs["MarketingTableName"]
    if getattr(args, "stores_table", None):
        os.environ["STORES_TABLE"] = args.stores_table
    if not os.environ.get("STORES_TABLE"):
        raise CliError(
            "no stores table: give --stack NAME or --stores-table NAME (or set STORES_TABLE), "
            "or --local ENDPOINT for the local stack"
        )
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
        "unsubscribe_keys": len(store.unsubscribe_keys),  # how many; never the keys
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
    failure = None
    if args.verify_sender:
        from omotenashi.dal.errors import DataAccessError
        from omotenashi.dal.stacks import verify_sender_domain

        domain = store.sender.rsplit("@", 1)[1]
        try:
            view["ses_verification"] = {
                "domain": domain,
                "txt_record": f"_amazonses.{domain}",
                "value": verify_sender_domain(domain),
            }
        except DataAccessError as error:  # the store exists now: its secret must still be shown
            failure, _ = describe_error(error)
            view["ses_verification"] = {"domain": domain, "error": failure}
    _print(view)
    if failure:
        print(f"error: the store was created, but {failure}", file=sys.stderr)
        return FAILED
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


def cmd_list(args: argparse.Namespace) -> int:
    from omotenashi.cli_text import table
    from omotenashi.dal.stores import list_stores

    _configure_tables(args)
    stores = list_stores()
    if args.json:
        for store in stores:
            print(json.dumps(_public_view(store), ensure_ascii=False))
        return 0
    if not stores:
        print("no stores")
        return 0
    rows = [
        [s.store_id, s.name, s.sender, s.default_locale, s.time_zone, str(len(s.staff_addresses))]
        for s in stores
    ]
    print(table(["STORE", "NAME", "SENDER", "LOCALE", "TIME ZONE", "STAFF"], rows))
    return 0


# `stores update` options -> the store's fields (an error names the option, not the field).
UPDATE_OPTIONS = {
    "name": "--name",
    "sender": "--sender",
    "staff_addresses": "--staff",
    "default_locale": "--default-locale",
    "time_zone": "--time-zone",
}


def cmd_update(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.store_admin import InvalidStoreField, update_store

    changes: dict[str, Any] = {}
    for field_name in UPDATE_OPTIONS:
        value = getattr(args, field_name)
        if value is not None:
            changes[field_name] = value
    if "staff_addresses" in changes:
        changes["staff_addresses"] = tuple(
            a.strip() for a in changes["staff_addresses"].split(",") if a.strip()
        )
    if not changes:
        raise CliError("nothing to change: give --name, --sender, --staff, --default-locale or --time-zone")
    _configure_tables(args)
    try:
        store = update_store(args.store_id, **changes)
    except KeyError as error:
        raise CliError(f"no store {args.store_id}", FAILED) from error
    except InvalidStoreField as error:
        raise CliError(f"{UPDATE_OPTIONS.get(error.field, error.field)}: {error}") from error
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


def cmd_rotate_unsubscribe_key(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.store_admin import rotate_unsubscribe_key

    _configure_tables(args)
    try:
        store = rotate_unsubscribe_key(args.store_id)
    except KeyError:
        print(f"error: no store {args.store_id}", file=sys.stderr)
        return 1
    view = _public_view(store)
    view["note"] = (
        "New unsubscribe key active now for new links. Every older key stays valid: links already "
        "sent never expire."
    )
    _print(view)
    return 0


def _change_store(args: argparse.Namespace, change: Any, argument: Any) -> Any:
    """Run one store change; None after printing a one-line error (its exit code in args)."""
    from omotenashi.logic.core.store_admin import InvalidStore

    _configure_tables(args)
    try:
        return change(args.store_id, argument)
    except KeyError:
        print(f"error: no store {args.store_id}", file=sys.stderr)
        args.exit_code = 1
    except InvalidStore as error:
        print(f"error: {error}", file=sys.stderr)
        args.exit_code = 2
    return None


def _json_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except ValueError as error:
        raise CliError(f"{path} is not JSON: {error}") from error


def cmd_set_policy(args: argparse.Namespace) -> int:
    from omotenashi.dal.stores import policy_document
    from omotenashi.logic.core.store_admin import set_policy

    store = _change_store(args, set_policy, _json_file(args.file))
    if store is None:
        return int(args.exit_code)
    _print({"store_id": store.store_id, "policy": policy_document(store.policy)})
    return 0


# The settings documents a store keeps (stores set-<name>): the store_admin function that validates
# and stores one, the Store attribute it lands on, what it sets, and where it is documented.
SETTINGS_DOCUMENTS = {
    "marketing": (
        "set_marketing",
        "postal address, contact, quiet hours, cap, cart reminders",
        "docs/marketing.md",
    ),
    "loyalty": (
        "set_loyalty",
        "points rates, tiers, return window, expiry, birthday bonus",
        "docs/loyalty.md",
    ),
    "reviews": (
        "set_reviews",
        "review request timing, review link, review and survey rewards",
        "docs/reviews.md",
    ),
    "email": (
        "set_email",
        "receiving domain, support addresses, new-inquiry notice, staff names",
        "docs/email.md",
    ),
}


def cmd_set_document(args: argparse.Namespace) -> int:
    from omotenashi.logic.core import store_admin

    change = getattr(store_admin, SETTINGS_DOCUMENTS[args.document][0])
    store = _change_store(args, change, _json_file(args.file))
    if store is None:
        return int(args.exit_code)
    _print({"store_id": store.store_id, args.document: getattr(store, args.document)})
    return 0


def cmd_add_discount_codes(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.store_admin import add_discount_codes

    try:
        with open(args.file, encoding="utf-8") as handle:
            codes = [line.strip() for line in handle if line.strip()]
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error.strerror}") from error
    count = _change_store(args, lambda store_id, lines: add_discount_codes(store_id, args.pool, lines), codes)
    if count is None:
        return int(args.exit_code)
    _print({"store_id": args.store_id, "pool": args.pool, "codes_added": count})
    return 0


def _send(
    url: str,
    store: str,
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    idempotency_key: str | None = None,
) -> tuple[int, str]:
    """Sign (docs/signing.md) and send one request; the status and the body of the answer, error
    answers included. CliError (exit 2) when the URL or path is malformed or nothing answers."""
    from omotenashi.logic.core.signing import sign_header

    if not url.startswith(("http://", "https://")):
        raise CliError(f"--url must start with http:// or https:// (got {url!r})")
    if not path.startswith("/"):
        raise CliError(f"the path starts with / (e.g. /v1/inquiries), got {path!r}")
    method = method.upper()
    timestamp = int(clock.real_epoch())
    headers = {
        "Content-Type": "application/json",
        "X-Omotenashi-Store": store,
        "X-Omotenashi-Signature": sign_header(secret, timestamp, method, path, body),
    }
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own, checked above
        url.rstrip("/") + path, data=body if method != "GET" else None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise CliError(f"could not reach {url}: {reason}") from error


def cmd_request(args: argparse.Namespace) -> int:
    body = b""
    if args.data_file:
        with open(args.data_file, "rb") as handle:
            body = handle.read()
    elif args.data is not None:
        body = args.data.encode("utf-8")
    secret = args.secret or os.environ.get(SECRET_ENV) or DEMO_SECRET
    status, text = _send(args.url, args.store, secret, args.method, args.path, body, args.idempotency_key)
    print(status)
    print(text)
    return 0 if status < 400 else 1


# --- inquiries: the API's inquiry routes, signed as the storefront signs them ------------------


def _api_error(status: int, text: str, store: str) -> CliError:
    """The contract's error body ({"error": {"type", "message", "fields": [{"field", "message"}]}})
    as one line; 401 is a configuration problem (exit 2: store or secret), any other refusal a
    failed operation (exit 1)."""
    try:
        detail = json.loads(text).get("error") or {}
    except (ValueError, AttributeError):
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    kind = detail.get("type") or "error"
    message = detail.get("message") or (text.strip()[:200] or "no body")
    fields = [f for f in detail.get("fields") or () if isinstance(f, dict)]
    line = f"{status} {kind}: {message}"
    if fields:
        line += " (" + "; ".join(f"{f.get('field')}: {f.get('message')}" for f in fields) + ")"
    if status == 401:
        line += (
            f" (signed for store {store} with ${SECRET_ENV}"
            + ("" if os.environ.get(SECRET_ENV) else f", unset: the demo secret {DEMO_SECRET}")
            + "; check --store and the secret)"
        )
        return CliError(line, USAGE_ERROR)
    return CliError(line, FAILED)


def _api(
    args: argparse.Namespace,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Any:
    """One signed call of the API; its JSON answer, or CliError for an error answer. The secret is
    only ever read from the environment (a command line shows in `ps` and shell history)."""
    secret = os.environ.get(SECRET_ENV) or DEMO_SECRET
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    status, text = _send(args.url, args.store, secret, method, path, data, idempotency_key)
    if status >= 400:
        raise _api_error(status, text, args.store)
    try:
        return json.loads(text)
    except ValueError as error:
        raise CliError(f"{method} {path} answered {status} with a body that is not JSON", FAILED) from error


def _inquiry_path(inquiry_id: str, tail: str = "") -> str:
    return "/v1/inquiries/" + urllib.parse.quote(inquiry_id, safe="") + tail


def _zone(args: argparse.Namespace) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not args.time_zone:
        return None  # the computer's own
    try:
        return ZoneInfo(args.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CliError(f"--time-zone: unknown time zone {args.time_zone!r}") from error


def _when(value: Any, zone: Any) -> str:
    """An ISO time of the API as `2026-11-22 10:02` in `zone` (None: the computer's); as it is if
    it does not parse."""
    if not isinstance(value, str) or not value:
        return "-"
    try:
        moment = clock.parse_iso(value)
    except ValueError:
        return value
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def _overdue(inquiry: dict[str, Any]) -> bool:
    """The answer's own `overdue` when it has one; else an open inquiry past its reply_due_at (by
    real time: the local stack's advanced clock is not known here)."""
    if isinstance(inquiry.get("overdue"), bool):
        return bool(inquiry["overdue"])
    if inquiry.get("status") != "open" or not isinstance(inquiry.get("reply_due_at"), str):
        return False
    try:
        return clock.parse_iso(inquiry["reply_due_at"]) < clock.real_now()
    except ValueError:
        return False


def _customer(customer: Any) -> str:
    if not isinstance(customer, dict):
        return "-"
    return str(customer.get("name") or customer.get("email") or "-")


INQUIRY_COLUMNS = ("ID", "STATUS", "PRIORITY", "RECEIVED", "DUE", "OVERDUE", "CUSTOMER", "SUBJECT")
MIN_SUBJECT_WIDTH = 20


def inquiry_rows(inquiries: list[dict[str, Any]], zone: Any) -> list[list[str]]:
    from omotenashi.cli_text import truncate

    return [
        [
            str(i.get("inquiry_id", "?")),
            str(i.get("status", "?")),
            str(i.get("priority", "-")),
            _when(i.get("received_at"), zone),
            _when(i.get("reply_due_at"), zone),
            "overdue" if _overdue(i) else "",
            truncate(_customer(i.get("customer")), 24),
            str(i.get("subject", "")),
        ]
        for i in inquiries
    ]


def inquiry_table(inquiries: list[dict[str, Any]], zone: Any, columns: int) -> str:
    """The list as a table that fits `columns` (the subject is cut to what is left)."""
    from omotenashi.cli_text import display_width, one_line, table

    rows = inquiry_rows(inquiries, zone)
    used = sum(
        max([display_width(h), *(display_width(one_line(r[i])) for r in rows)]) + 2
        for i, h in enumerate(INQUIRY_COLUMNS[:-1])
    )
    return table(INQUIRY_COLUMNS, rows, last_width=max(MIN_SUBJECT_WIDTH, columns - used))


def cmd_inquiries_list(args: argparse.Namespace) -> int:
    import shutil

    if args.limit is not None and not 1 <= args.limit <= 100:
        raise CliError(f"--limit must be 1 to 100 (got {args.limit})")
    zone = _zone(args)
    cursor = args.cursor
    found: list[dict[str, Any]] = []
    while True:
        query = {
            "status": args.status,
            "overdue": "true" if args.overdue else None,
            "limit": args.limit,
            "cursor": cursor,
        }
        filled = {k: str(v) for k, v in query.items() if v is not None}
        path = "/v1/inquiries" + ("?" + urllib.parse.urlencode(filled) if filled else "")
        page = _api(args, "GET", path)
        if not isinstance(page, dict) or not isinstance(page.get("inquiries"), list):
            raise CliError(f"GET {path} answered without an inquiries list", FAILED)
        for inquiry in page["inquiries"]:
            if args.json:
                print(json.dumps(inquiry, ensure_ascii=False))
            else:
                found.append(inquiry)
        cursor = page.get("next_cursor")
        if not cursor or not args.all:
            break
    if not args.json:
        if found:
            print(inquiry_table(found, zone, shutil.get_terminal_size().columns))
        else:
            print("no inquiries")
    if cursor and not args.all:
        print(f"more: add --all, or --cursor {cursor}", file=sys.stderr)
    return 0


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return "?"
    return (
        f"{size} B"
        if size < 1024
        else f"{size / 1024:.0f} KB"
        if size < 1024 * 1024
        else f"{size / 1048576:.1f} MB"
    )


def inquiry_text(inquiry: dict[str, Any], zone: Any) -> str:
    """An inquiry for people: its fields, then its thread oldest first (`messages`; before the API
    had it, the inquiry's own first message)."""
    found = inquiry.get("customer")
    customer: dict[str, Any] = found if isinstance(found, dict) else {}
    who = customer.get("email") or "-"
    if customer.get("name"):
        who = f"{customer['name']} <{who}>"
    priority = str(inquiry.get("priority", "-"))
    if inquiry.get("priority_reason"):
        priority += f" ({inquiry['priority_reason']})"
    due = _when(inquiry.get("reply_due_at"), zone) + ("  OVERDUE" if _overdue(inquiry) else "")
    fields = [
        ("inquiry", inquiry.get("inquiry_id")),
        ("subject", inquiry.get("subject")),
        ("status", inquiry.get("status")),
        ("priority", priority),
        ("channel", inquiry.get("channel")),
        ("customer", who),
        ("locale", inquiry.get("locale")),
        ("order", inquiry.get("order_id")),
        ("received", _when(inquiry.get("received_at"), zone)),
        ("reply due", due),
        (
            "first reply",
            _when(inquiry.get("first_response_at"), zone) if inquiry.get("first_response_at") else None,
        ),
        ("closed", _when(inquiry.get("closed_at"), zone) if inquiry.get("closed_at") else None),
    ]
    lines = [f"{name + ':':<13}{value}" for name, value in fields if value not in (None, "")]
    messages = inquiry.get("messages")
    if not isinstance(messages, list):
        messages = [
            {
                "type": "customer",
                "author": who,
                "at": inquiry.get("received_at"),
                "message": inquiry.get("message", ""),
                "channel": inquiry.get("channel"),
            }
        ]
    for entry in messages:
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type", "?"))
        author = entry.get("author") or (who if kind == "customer" else "")
        channel = f" via {entry['channel']}" if entry.get("channel") else ""
        lines += ["", f"--- {_when(entry.get('at'), zone)}  {kind}  {author}{channel}".rstrip()]
        lines += ["    " + line if line else "" for line in str(entry.get("message", "")).splitlines()]
        for attachment in entry.get("attachments") or ():
            if isinstance(attachment, dict):
                lines.append(
                    f"    [attachment] {attachment.get('name', '?')} "
                    f"({attachment.get('content_type', '?')}, {_size(attachment.get('size'))})"
                    + (f" {attachment['url']}" if attachment.get("url") else "")
                )
    return "\n".join(lines)


def cmd_inquiries_show(args: argparse.Namespace) -> int:
    zone = _zone(args)
    inquiry = _api(args, "GET", _inquiry_path(args.inquiry_id))
    if args.json:
        print(json.dumps(inquiry, ensure_ascii=False))
    else:
        print(inquiry_text(inquiry, zone))
    return 0


def _reply_text(args: argparse.Namespace) -> str:
    given = [x for x in (args.message is not None, args.file is not None, args.stdin is not None) if x]
    if len(given) != 1:
        raise CliError("give the reply as one of --message TEXT, --file PATH, or - (standard input)")
    if args.message is not None:
        text = args.message
    elif args.file not in (None, "-"):
        with open(args.file, encoding="utf-8") as handle:
            text = handle.read()
    else:
        text = sys.stdin.read()
    text = text.strip("\n").rstrip()
    if not text.strip():
        raise CliError("the reply is empty")
    return text


def cmd_inquiries_reply(args: argparse.Namespace) -> int:
    import secrets as secrets_module

    author = args.author or os.environ.get(AUTHOR_ENV)
    if not author:
        raise CliError(f"--author is needed (your staff address), or set ${AUTHOR_ENV}")
    message = _reply_text(args)
    key = args.idempotency_key or "cli-" + secrets_module.token_hex(16)
    print(
        f"Idempotency-Key: {key} (to retry without sending twice, add --idempotency-key {key})",
        file=sys.stderr,
    )
    created = _api(
        args, "POST", _inquiry_path(args.inquiry_id, "/replies"), {"author": author, "message": message}, key
    )
    if args.json:
        print(json.dumps(created, ensure_ascii=False))
    else:
        print(f"replied to {args.inquiry_id}: {created.get('reply_id')} (the email to the customer follows)")
    return 0


def cmd_inquiries_close(args: argparse.Namespace) -> int:
    closed = _api(args, "POST", _inquiry_path(args.inquiry_id, "/close"))
    if args.json:
        print(json.dumps(closed, ensure_ascii=False))
    else:
        print(f"closed {closed.get('inquiry_id', args.inquiry_id)} (status {closed.get('status')})")
    return 0


def cmd_templates_preview(args: argparse.Namespace) -> int:
    from omotenashi.messaging import samples

    kinds = samples.kinds()
    if args.kind not in kinds:
        raise CliError(f"unknown kind {args.kind!r}; the kinds are: {', '.join(kinds)}")
    if args.kind not in samples.SAMPLES:
        raise CliError(f"{args.kind} has no sample data yet (messaging/samples.py)", FAILED)
    store, footer = samples.SAMPLE_STORE, samples.SAMPLE_FOOTER
    if args.store:
        from dataclasses import replace

        from omotenashi.dal.stores import get_store

        _configure_tables(args)
        found = get_store(args.store)
        if found is None:
            raise CliError(f"no store {args.store}", FAILED)
        store = found
        marketing = dict(found.marketing or {})
        if marketing.get("postal_address") and marketing.get("contact"):
            footer = replace(footer, postal_address=marketing["postal_address"], contact=marketing["contact"])
    rendered = samples.preview(args.kind, args.locale, store, footer)
    if args.html:
        with open(args.html, "w", encoding="utf-8") as handle:
            handle.write(rendered.html)
        print(f"Subject: {rendered.subject}")
        print(f"wrote the HTML part to {args.html}")
        return 0
    print(f"Subject: {rendered.subject}")
    print()
    print(rendered.text.rstrip("\n"))
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.signing import sign_header

    body = (args.data or "").encode("utf-8")
    timestamp = int(clock.real_epoch()) if args.timestamp is None else args.timestamp
    print(sign_header(args.secret, timestamp, args.method.upper(), args.path, body))
    return 0


def _template_kinds() -> list[str]:
    try:
        from omotenashi.messaging.samples import kinds

        return kinds()
    except (OSError, ValueError, RuntimeError):  # no templates folder (or settings): said when run
        return ["(templates folder not found)"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with where to look) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="omotenashi", description=__doc__.split("\n\n")[0])
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="on failure, show the traceback")
    commands = parser.add_subparsers(dest="command", required=True)

    def table_options(sub: argparse.ArgumentParser) -> None:
        where = sub.add_argument_group(
            "where the stores table is",
            "AWS calls use your AWS configuration (AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_DEFAULT_REGION, "
            "AWS_ENDPOINT_URL ...), except with --local",
        )
        source = where.add_mutually_exclusive_group()
        source.add_argument("--stack", help="CloudFormation stack name (e.g. omotenashi-dev)")
        source.add_argument(
            "--local",
            metavar="ENDPOINT",
            help="the local stack (make run): its 'AWS (moto)' endpoint from the banner, e.g. "
            f"http://127.0.0.1:54321; implies dummy credentials, region $AWS_DEFAULT_REGION or "
            f"{LOCAL_REGION}, and the table {LOCAL_STORES_TABLE}",
        )
        where.add_argument(
            "--stores-table", help="stores table name (instead of --stack; default: $STORES_TABLE)"
        )
        where.add_argument("--region", help="AWS region (default: your AWS configuration)")

    def api_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--url",
            default=os.environ.get(URL_ENV) or DEFAULT_URL,
            help=f"the API's base URL (default: ${URL_ENV} if set, else {DEFAULT_URL})",
        )
        sub.add_argument(
            "--store",
            default=os.environ.get(STORE_ENV) or DEMO_STORE,
            help=f"store id (default: ${STORE_ENV} if set, else {DEMO_STORE})",
        )

    stores = commands.add_parser("stores", help="manage stores").add_subparsers(dest="action", required=True)
    create = stores.add_parser(
        "create", parents=[common], help="create a store and print its signing secret once"
    )
    create.add_argument("store_id")
    create.add_argument("--name", required=True)
    create.add_argument("--sender", required=True, help="From address (its domain must be verified in SES)")
    create.add_argument("--staff", action="append", help="staff address (repeat for several)")
    create.add_argument("--locale", default="ja", choices=list(LOCALES), help="default: %(default)s")
    create.add_argument("--time-zone", default="Asia/Tokyo", help="default: %(default)s")
    create.add_argument(
        "--sla-hours", type=float, default=24, help="hours for normal inquiries (default: %(default)s)"
    )
    create.add_argument(
        "--verify-sender",
        action="store_true",
        help="start SES verification of the sender domain (the local stack verifies it at once; "
        "without it, its emails are not sent)",
    )
    table_options(create)
    create.set_defaults(func=cmd_create)

    show = stores.add_parser("show", parents=[common], help="show a store (never its secrets)")
    show.add_argument("store_id")
    table_options(show)
    show.set_defaults(func=cmd_show)

    listing_stores = stores.add_parser(
        "list", parents=[common], help="every store: id, name, sender, locale, time zone, staff count"
    )
    listing_stores.add_argument("--json", action="store_true", help="each store's show view, one per line")
    table_options(listing_stores)
    listing_stores.set_defaults(func=cmd_list)

    update = stores.add_parser(
        "update",
        parents=[common],
        help="change a store's name, sender, staff, default locale or time zone",
        description="Validated as stores create validates; a refused value is named and nothing is "
        "written. A new sender's domain must be verified in SES, as for create.",
    )
    update.add_argument("store_id")
    update.add_argument("--name")
    update.add_argument("--sender", help="From address (its domain must be verified in SES)")
    update.add_argument(
        "--staff",
        dest="staff_addresses",
        metavar="ADDRESSES",
        help="every staff address, comma-separated (a@x.example,b@x.example); replaces the list",
    )
    update.add_argument("--default-locale", choices=list(LOCALES))
    update.add_argument("--time-zone", help="an IANA zone such as Asia/Tokyo")
    table_options(update)
    update.set_defaults(func=cmd_update)

    rotate = stores.add_parser(
        "rotate-secret", parents=[common], help="add a new signing secret; the previous stays valid"
    )
    rotate.add_argument("store_id")
    rotate.add_argument("--retire-previous", action="store_true", help="make the new secret the only one")
    table_options(rotate)
    rotate.set_defaults(func=cmd_rotate)

    rotate_unsubscribe = stores.add_parser(
        "rotate-unsubscribe-key",
        parents=[common],
        help="add a new key for the unsubscribe links of marketing emails; older links stay valid",
    )
    rotate_unsubscribe.add_argument("store_id")
    table_options(rotate_unsubscribe)
    rotate_unsubscribe.set_defaults(func=cmd_rotate_unsubscribe_key)

    policy = stores.add_parser(
        "set-policy",
        parents=[common],
        help="set the SLA policy (hours per priority, reminders, escalation, calendar)",
    )
    policy.add_argument("store_id")
    policy.add_argument("--file", required=True, help="policy JSON (see docs/sla.md)")
    table_options(policy)
    policy.set_defaults(func=cmd_set_policy)

    for document, (_, what, docs) in SETTINGS_DOCUMENTS.items():
        setter = stores.add_parser(
            f"set-{document}", parents=[common], help=f"set the {document} settings ({what})"
        )
        setter.add_argument("store_id")
        setter.add_argument("--file", required=True, help=f"{document} JSON (see {docs})")
        table_options(setter)
        setter.set_defaults(func=cmd_set_document, document=document)

    codes = stores.add_parser(
        "add-discount-codes",
        parents=[common],
        help="load one-time discount codes into a pool (a cart-reminder step's discount_pool)",
    )
    codes.add_argument("store_id")
    codes.add_argument("--pool", required=True, help="the pool's name, as in marketing.json")
    codes.add_argument("--file", required=True, help="one code per line")
    table_options(codes)
    codes.set_defaults(func=cmd_add_discount_codes)

    request = commands.add_parser(
        "request",
        parents=[common],
        help="send a signed request to the API",
        description="Signs a request (docs/signing.md), sends it, prints the status and the body. "
        "Exit status: 0 for a 2xx/3xx answer, 1 for an error answer, 2 if it could not be sent.",
    )
    request.add_argument("method", help="GET, POST, PUT or DELETE")
    request.add_argument("path", help="path from /v1 on, with any query string (e.g. /v1/inquiries)")
    api_options(request)
    request.add_argument(
        "--secret",
        help=f"the store's signing secret (default: ${SECRET_ENV} if set, else {DEMO_SECRET}, the local "
        "stack's demo secret)",
    )
    body = request.add_mutually_exclusive_group()
    body.add_argument("--data", help="the body, sent as given (default: none)")
    body.add_argument("--data-file", metavar="FILE", help="read the body from FILE")
    request.add_argument("--idempotency-key", help="sent as Idempotency-Key (default: none)")
    request.set_defaults(func=cmd_request)

    inquiries = commands.add_parser(
        "inquiries",
        help="list, read, answer and close inquiries through the API (signed requests)",
        description="Staff work on inquiries without a mail setup: signed requests to the API "
        f"(--url), for one store (--store), with the store's signing secret from ${SECRET_ENV} "
        f"(never an option: command lines show in ps and shell history; unset, the local stack's "
        f"{DEMO_SECRET}). Exit status: 0 done, 1 the API refused (the error and its fields are "
        "printed), 2 bad arguments, the API unreachable or the signature refused (401).",
    ).add_subparsers(dest="action", required=True)

    def inquiry_command(name: str, help_text: str, func: Any, *, with_id: bool = True) -> Any:
        sub = inquiries.add_parser(name, parents=[common], help=help_text, description=help_text)
        if with_id:
            sub.add_argument("inquiry_id", help="inq_...")
        api_options(sub)
        sub.add_argument("--json", action="store_true", help="print the API's JSON instead")
        sub.set_defaults(func=func)
        return sub

    listing = inquiry_command(
        "list",
        "list inquiries, newest first: a table (Japanese is aligned), or JSON lines with --json",
        cmd_inquiries_list,
        with_id=False,
    )
    listing.add_argument("--status", choices=["open", "answered", "closed"], help="only these")
    listing.add_argument("--overdue", action="store_true", help="only open ones past their reply deadline")
    listing.add_argument("--limit", type=int, help="inquiries per page, 1-100 (default: the API's)")
    listing.add_argument("--cursor", help="continue from this page (the next_cursor of an earlier one)")
    listing.add_argument("--all", action="store_true", help="follow next_cursor to the last page")
    listing.add_argument(
        "--time-zone", help="show times in this zone, e.g. Asia/Tokyo (default: the computer's)"
    )

    show_inquiry = inquiry_command(
        "show",
        "an inquiry's fields and its thread (customer and staff messages, oldest first)",
        cmd_inquiries_show,
    )
    show_inquiry.add_argument("--time-zone", help="show times in this zone (default: the computer's)")

    reply = inquiry_command(
        "reply",
        "answer as staff: the API emails the reply to the customer (the first reply stops the SLA clock)",
        cmd_inquiries_reply,
    )
    reply.add_argument(
        "stdin", nargs="?", choices=["-"], metavar="-", help="read the reply from standard input"
    )
    reply.add_argument("--message", help="the reply's text")
    reply.add_argument("--file", metavar="PATH", help="read the reply from PATH (UTF-8; - is standard input)")
    reply.add_argument("--author", help=f"your staff address (default: ${AUTHOR_ENV})")
    reply.add_argument(
        "--idempotency-key",
        help="sent as Idempotency-Key (default: a new one, printed on stderr: give it again to retry "
        "without replying twice)",
    )

    inquiry_command("close", "close an inquiry: no further SLA alerts", cmd_inquiries_close)

    templates = commands.add_parser("templates", help="message templates (templates/)").add_subparsers(
        dest="action", required=True
    )
    preview = templates.add_parser(
        "preview",
        parents=[common],
        help="render an email with sample data: subject and text here, or the HTML part to a file",
        description="Renders templates/<KIND>/<locale>/ with sample data through the one email "
        "skeleton (marketing kinds carry the legal footer). No AWS needed: without --store a sample "
        f"store is used. Kinds: {', '.join(_template_kinds())}.",
    )
    preview.add_argument("kind", metavar="KIND", help="an email kind (listed above)")
    preview.add_argument("--locale", required=True, choices=list(LOCALES))
    preview.add_argument("--html", metavar="FILE", help="write the HTML part to FILE instead")
    preview.add_argument(
        "--store",
        help="as this store sends it: its name, sender, template overrides and marketing footer "
        "(reads the stores table: give --stack, --stores-table or --local)",
    )
    table_options(preview)
    preview.set_defaults(func=cmd_templates_preview)

    sign = commands.add_parser(
        "sign", parents=[common], help="print an X-Omotenashi-Signature value (docs/signing.md)"
    )
    sign.add_argument("method")
    sign.add_argument("path", help="path from /v1 on, with any query string, exactly as sent")
    sign.add_argument("--secret", required=True)
    sign.add_argument("--data", help="the raw body (default: empty, as for GET)")
    sign.add_argument("--timestamp", type=int, help="t, in unix seconds (default: now)")
    sign.set_defaults(func=cmd_sign)
    return parser


_BOTOCORE_BASES = {"BotoCoreError", "ClientError"}


def _kinds(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def _aws_cause(error: BaseException) -> BaseException | None:
    """The botocore error behind a data-access error (PynamoDB chains it as a context, not a cause).

    Recognised by class name: only the data-access layer may import botocore (test_architecture)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if type(current).__module__.startswith("botocore") and _kinds(current) & _BOTOCORE_BASES:
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _explain_aws(cause: BaseException) -> tuple[str, int]:
    kinds = _kinds(cause)
    local_hint = "for the local stack, pass --local ENDPOINT"
    if "NoRegionError" in kinds:
        return f"no AWS region is configured: pass --region or set AWS_DEFAULT_REGION ({local_hint})", 2
    if kinds & {"NoCredentialsError", "PartialCredentialsError"}:
        return (
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            f"({local_hint})",
            2,
        )
    if "ProfileNotFound" in kinds:
        return f"{cause} (check AWS_PROFILE)", 2
    if kinds & {"EndpointConnectionError", "ConnectTimeoutError"}:
        endpoint = getattr(cause, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        hint = ""
        if os.environ.get("AWS_ENDPOINT_URL"):
            hint = (
                " (is the local stack still running? its AWS endpoint changes at every start: "
                "see the 'AWS (moto)' line of the make run banner)"
            )
        return f"could not connect to {endpoint}{hint}", 1
    response = getattr(cause, "response", None)
    if "ClientError" in kinds and isinstance(response, dict):
        detail = response.get("Error", {})
        code = str(detail.get("Code", "ClientError"))
        message = str(detail.get("Message", cause))
        if code == "ResourceNotFoundException":
            table = os.environ.get("STORES_TABLE", "?")
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "?"
            return (
                f"table {table} does not exist in region {region} (check --stack, --stores-table and "
                f"--region; {local_hint})",
                1,
            )
        return f"{code}: {message}", 1
    return str(cause), 1


def describe_error(error: BaseException) -> tuple[str, int]:
    """One line (without the "error: " prefix) and an exit status for any failure of a command."""
    from omotenashi.dal.errors import DataAccessError
    from omotenashi.dal.stores import StoreChanged
    from omotenashi.settings import SettingsError

    if isinstance(error, CliError):
        return str(error), error.code
    if isinstance(error, SettingsError):
        return f"{error} (give --stack, --stores-table or --local, or set it)", USAGE_ERROR
    if isinstance(error, StoreChanged):
        return f"store {error} changed while this command ran: run it again", FAILED
    cause = _aws_cause(error)
    if cause is not None:
        why, code = _explain_aws(cause)
        what = str(error) if isinstance(error, DataAccessError) else ""
        what = what.replace(str(cause), "").rstrip(" :")  # the data-access message may quote it
        return (f"{what}: {why}" if what else why), code
    if isinstance(error, DataAccessError):
        return str(error), FAILED
    if isinstance(error, OSError) and error.filename is not None:
        return f"cannot read {error.filename}: {error.strerror}", USAGE_ERROR
    return f"unexpected {type(error).__name__}: {error} (--debug shows the traceback)", FAILED


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra == ["-"] and getattr(args, "func", None) is cmd_inquiries_reply and args.stdin is None:
            args.stdin = "-"  # `reply ID --author A -`: argparse takes positionals only before options
        elif extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as done:  # --help (0) or a usage error argparse has already printed (2)
        return done.code if isinstance(done.code, int) else USAGE_ERROR
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if getattr(args, "debug", False):
            raise
        message, code = describe_error(error)
        print("error: " + " ".join(message.split()), file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
