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
import urllib.request
from typing import Any, NoReturn

from omotenashi import clock
from omotenashi.domain import LOCALES, Store

DEFAULT_URL = "http://127.0.0.1:3000"
DEMO_STORE = "demo"
DEMO_SECRET = "demo-secret"  # noqa: S105 - the local stack's published demo secret
SECRET_ENV = "OMOTENASHI_SECRET"  # noqa: S105 - a variable name
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


def cmd_request(args: argparse.Namespace) -> int:
    from omotenashi.logic.core.signing import sign_header

    if not args.url.startswith(("http://", "https://")):
        raise CliError(f"--url must start with http:// or https:// (got {args.url!r})")
    if not args.path.startswith("/"):
        raise CliError(f"the path starts with / (e.g. /v1/inquiries), got {args.path!r}")
    body = b""
    if args.data_file:
        with open(args.data_file, "rb") as handle:
            body = handle.read()
    elif args.data is not None:
        body = args.data.encode("utf-8")
    method = args.method.upper()
    secret = args.secret or os.environ.get(SECRET_ENV) or DEMO_SECRET
    timestamp = int(clock.real_epoch())
    headers = {
        "Content-Type": "application/json",
        "X-Omotenashi-Store": args.store,
        "X-Omotenashi-Signature": sign_header(secret, timestamp, method, args.path, body),
    }
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key
    url = args.url.rstrip("/") + args.path
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
    timestamp = int(clock.real_epoch()) if args.timestamp is None else args.timestamp
    print(sign_header(args.secret, timestamp, args.method.upper(), args.path, body))
    return 0


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
    request.add_argument("--url", default=DEFAULT_URL, help="the API's base URL (default: %(default)s)")
    request.add_argument("--store", default=DEMO_STORE, help="store id (default: %(default)s)")
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
        args = build_parser().parse_args(argv)
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
