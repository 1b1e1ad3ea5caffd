"""Email as a channel: a received email becomes a new inquiry, a customer's follow-up or a staff
reply, chosen by the address it came to (issue 11).

SES receiving stores the raw email in S3 (`inbound/<SES message id>`) and invokes the inbound
function with the receipt; the local stack's `POST /_local/inbound` does the same. Per recipient:

- `support@<store domain>` (the store's support addresses): a new inquiry through the same intake as
  the API (auto-reply, SLA, classifier, loop protection), channel `email`. A reply that lost our
  Reply-To but names one of our messages in In-Reply-To/References, from the inquiry's customer,
  is that inquiry's follow-up instead.
- `reply+c<inquiry><tag>@<store domain>` (the Reply-To of what the customer gets): a follow-up.
- `reply+s<inquiry><tag>@<store domain>` (the Reply-To of what one staff member gets): a staff
  reply, only from that member's address, which must be one of the store's staff addresses.

Automated mail (bounces, out-of-office replies, lists, RFC 3834) opens and changes nothing; nor does
mail SES found to carry a virus or to be spam, or a forged, altered or other store's token. Each of
these is a log line and a metric, never a bounce (a bounce would tell a forger what worked, and
answer spam). Quoted history and signatures are cut from replies; the raw email stays in S3.

Idempotent per SES message id: every write is keyed by it (the inquiry's or entry's id derives
from it, attachments' keys too), so SES delivering an email twice, or Lambda retrying a failed
invocation, opens one inquiry and sends one auto-reply. Errors of AWS calls propagate (the
invocation is retried); anything about the email itself is answered here, so a bad email never
becomes a retry loop.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from omotenashi import clock
from omotenashi.dal import inbound_mail as mail_store
from omotenashi.dal import inquiries as inquiry_data
from omotenashi.dal import stores as store_data
from omotenashi.dal.errors import DataAccessError
from omotenashi.domain import Attachment, EmailOrigin, Inquiry, Store
from omotenashi.logic.core import directory, jobs
from omotenashi.logic.core.errors import IdempotencyConflict, NotFound, ServiceUnavailable
from omotenashi.logic.core.idempotency import Answer
from omotenashi.logic.inquiries import email_settings, reply_addresses
from omotenashi.logic.inquiries.follow_ups import follow_up
from omotenashi.logic.inquiries.intake import accept_inquiry
from omotenashi.logic.inquiries.replies import add_reply
from omotenashi.messaging import inbound, quotes
from omotenashi.observability import logger, metrics
from omotenashi.schemas.inquiries import InquiryIn
from omotenashi.schemas.jobs import StaffReplyRefusedJob
from omotenashi.settings import get_settings

SPOOFED_HEADER = "x-omotenashi-spoofed"  # read by loop_protection
MAX_TEXT_CHARS = 10_000  # what the API takes for a message
# Files staff attach go on to the customer: SES's raw message limit is 10 MB, base64 adds a third.
MAX_REPLY_FILES = 7 * 1024 * 1024
# Sentences only the staff emails carry (templates/_partials/staff_alert): a staff reply holding one
# is quoting a notice or alert without quote marks, and must not reach the customer.
_STAFF_ONLY_MARKERS = (
    "スタッフ向けに自動送信しています",
    "Sent automatically by Omotenashi to the staff of",
    "このメールに返信すると、その本文がお客様への回答として",
    "Reply to this email to answer the customer",
)
MAX_RECIPIENTS = 50  # SES accepts up to 50 per receipt
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_FILENAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")
_NOTES = {
    "ja": {
        "no_subject": "(件名なし)",
        "attachments_only": "(本文なし・添付ファイルあり)",
        "truncated": "(本文が長いため {chars} 文字までを表示しています。全文は元のメールに保存されています)",
        "too_large": "(このメールは {mb} MB と大きすぎるため本文を読み取れませんでした。"
        "元のメールは保存されています)",
        "more_attachments": "(ほかに {count} 件の添付ファイルが元のメールにあります)",
        "unreadable": "(このメールは形式が壊れていて本文を読み取れませんでした。"
        "元のメールは保存されています)",
        "no_text": "(本文なし)",
    },
    "en": {
        "no_subject": "(no subject)",
        "attachments_only": "(no text; attachments only)",
        "truncated": "(the text is shown up to {chars} characters; the whole email is kept)",
        "too_large": "(this email, {mb} MB, was too large to read here; the original is kept)",
        "more_attachments": "({count} more attachments are in the original email)",
        "unreadable": "(this email is malformed and its text could not be read; the original is kept)",
        "no_text": "(no text)",
    },
}


@dataclass(frozen=True)
class Outcome:
    recipient: str
    outcome: str  # inquiry_opened | follow_up | staff_reply | ignored | rejected
    reason: str | None = None
    store_id: str | None = None
    inquiry_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Receipt:
    """What SES's receipt says about one email (the Lambda action's event)."""

    message_id: str
    recipients: tuple[str, ...]
    virus: str | None = None  # PASS | FAIL | GRAY | PROCESSING_FAILED, or None (local)
    spam: str | None = None
    dmarc: str | None = None
    spf: str | None = None
    dkim: str | None = None
    envelope_from: str | None = None  # SMTP MAIL FROM (SES's mail.source), what SPF checked

    def vouches_for(self, sender: str) -> bool:
        """The From domain vouches for `sender`: DMARC passed, or (no DMARC verdict against it) SPF
        passed for an envelope sender in the same domain. SPF and DKIM alone prove nothing about
        From: any domain can pass them. With no verdicts at all (the local stack) there is nothing
        to check. A staff reply needs this; the From line alone is easy to forge."""
        if (self.dmarc, self.spf, self.dkim) == (None, None, None):
            return True
        if self.dmarc == "PASS":
            return True
        envelope = (self.envelope_from or "").strip().lower().rpartition("@")[2]
        domain = sender.strip().lower().rpartition("@")[2]
        aligned = bool(envelope) and (envelope == domain or envelope.endswith("." + domain))
        return self.dmarc != "FAIL" and self.spf == "PASS" and aligned


def handle_ses_event(event: dict[str, Any]) -> dict[str, Any]:
    """The inbound function's one logic call: every record of an SES receiving event."""
    results: list[dict[str, Any]] = []
    for record in event.get("Records") or ():
        receipt = _receipt(record)
        if receipt is None:
            _count("rejected")
            logger.warning("inbound event is not an SES receipt")
            continue
        logger.append_keys(ses_message_id=receipt.message_id)
        results.extend(o.as_dict() for o in receive(receipt))
    return {"results": results}


def _receipt(record: Any) -> Receipt | None:
    try:
        ses = record["ses"]
        receipt = ses["receipt"]
        message_id = str(ses["mail"]["messageId"])
        recipients = tuple(str(r) for r in receipt.get("recipients") or ())
    except (KeyError, TypeError):
        return None
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,200}", message_id):
        return None

    def verdict(name: str) -> str | None:
        value = receipt.get(name)
        return str(value.get("status")).upper() if isinstance(value, dict) and value.get("status") else None

    return Receipt(
        message_id,
        recipients[:MAX_RECIPIENTS],
        virus=verdict("virusVerdict"),
        spam=verdict("spamVerdict"),
        dmarc=verdict("dmarcVerdict"),
        spf=verdict("spfVerdict"),
        dkim=verdict("dkimVerdict"),
        envelope_from=str(ses["mail"].get("source") or "") or None,
    )


def receive(receipt: Receipt) -> list[Outcome]:
    source_key = mail_store.RAW_PREFIX + receipt.message_id
    if receipt.virus == "FAIL" or receipt.spam == "FAIL":
        reason = "virus" if receipt.virus == "FAIL" else "spam"
        return [_done(Outcome(r, "rejected", reason)) for r in receipt.recipients]
    try:
        raw = mail_store.read_raw(source_key)
    except mail_store.RawMailMissing:
        return [_done(Outcome(r, "rejected", "raw_email_missing")) for r in receipt.recipients]
    email, note = _read(raw)
    if email is None:
        return [_done(Outcome(r, "rejected", note or "unreadable")) for r in receipt.recipients]
    mail = _Mail(receipt, source_key, email, note, raw_size=len(raw))
    return mail.route()


def _read(raw: bytes) -> tuple[inbound.InboundEmail | None, str | None]:
    """The parsed email, or for one too large to read, its headers with an empty body (the
    inquiry still opens and says so: the sender is still waiting for an answer)."""
    note = "too_large"
    try:
        return inbound.parse(raw), None
    except inbound.InboundRejected as rejected:
        if rejected.reason != "too_large":
            return None, rejected.reason
    except Exception:  # malformed mail (nesting thousands deep) must end here, not in a retry loop
        logger.exception("an inbound email could not be parsed; reading its headers only")
        note = "unreadable"
    try:
        head = re.split(rb"\r?\n\r?\n", raw[: 256 * 1024], maxsplit=1)[0]
        return inbound.parse(head + b"\r\n\r\n"), note
    except inbound.InboundRejected as rejected:
        return None, rejected.reason
    except Exception:  # as above
        logger.exception("the headers of an inbound email could not be parsed")
        return None, "unparsable"


@dataclass
class _Target:
    store: Store
    local_part: str


class _Mail:
    """One received email being routed to each store it was addressed to."""

    def __init__(
        self, receipt: Receipt, source_key: str, email: inbound.InboundEmail, note: str | None, raw_size: int
    ) -> None:
        self.receipt = receipt
        self.source_key = source_key
        self.email = email
        self.note = note  # "too_large": only the headers could be read
        self.raw_size = raw_size
        self._attachments: dict[str, tuple[Attachment, ...]] = {}

    def route(self) -> list[Outcome]:
        recipients = self.receipt.recipients or (*self.email.to, *self.email.cc)
        outcomes: list[Outcome] = []
        by_store: dict[str, list[tuple[str, _Target]]] = {}
        for recipient in dict.fromkeys(r.strip().lower() for r in recipients):
            target = _target(recipient)
            if target is None:
                outcomes.append(_done(Outcome(recipient, "ignored", "unknown_recipient")))
                continue
            by_store.setdefault(target.store.store_id, []).append((recipient, target))
        for pairs in by_store.values():
            try:
                outcomes.extend(self._for_store(pairs))
            except (DataAccessError, ServiceUnavailable):
                raise  # AWS failed: the invocation is retried, and every effect is idempotent
            except Exception:  # anything about the email itself ends here, not in a retry loop
                logger.exception("routing an inbound email failed")
                outcomes.extend(
                    _done(Outcome(r, "rejected", "internal_error", t.store.store_id)) for r, t in pairs
                )
        return outcomes

    def _for_store(self, pairs: list[tuple[str, _Target]]) -> list[Outcome]:
        """A reply address wins over the support address in the same email (a customer who
        answers and copies support means one message, not a new inquiry)."""
        store = pairs[0][1].store
        replies = [(r, t) for r, t in pairs if t.local_part.startswith(reply_addresses.PREFIX)]
        settings = email_settings.settings_of(store)
        support = [(r, t) for r, t in pairs if t.local_part in settings.support_addresses]
        others = [(r, t) for r, t in pairs if (r, t) not in replies and (r, t) not in support]
        outcomes = [_done(Outcome(r, "ignored", "unknown_recipient", store.store_id)) for r, _ in others]
        routed = False
        for recipient, target in replies:  # the first address that takes it; the others are copies
            if routed:
                outcomes.append(
                    _done(Outcome(recipient, "ignored", "same_email_routed_once", store.store_id))
                )
                continue
            outcome = _done(self._reply(recipient, target.local_part, store))
            outcomes.append(outcome)
            # A staff address refused (bottom-posted, unauthenticated...) still is staff's mail:
            # its copy to support must not open an inquiry with staff as the customer.
            staff = target.local_part.startswith(reply_addresses.PREFIX + "s")
            routed = staff or outcome.outcome in ("follow_up", "staff_reply", "ignored")
        for recipient, _ in support:
            if routed:  # a reply that went, or automated mail: the support copy is not news
                outcomes.append(
                    _done(Outcome(recipient, "ignored", "same_email_routed_once", store.store_id))
                )
                continue
            # No reply address took it (say an old address after a key rotation): a new inquiry,
            # since the customer also wrote to support.
            outcomes.append(_done(self._new_inquiry(recipient, store)))
            routed = True
        return outcomes

    # -- checks shared by every route -------------------------------------------------------------
    def _refusal(self, store: Store) -> str | None:
        if self.email.automated:
            return f"automated:{self.email.automated}"
        sender = self.email.sender.lower()
        if sender == store.sender.lower():
            return "own_sender_address"
        local, _, domain = sender.rpartition("@")
        if domain == _store_domain(store) and (
            local.startswith(reply_addresses.PREFIX)
            or local in email_settings.settings_of(store).support_addresses
        ):
            return "own_receiving_address"  # one of our own addresses writing to us: a loop
        return None

    # -- a new inquiry ----------------------------------------------------------------------------
    def _new_inquiry(self, recipient: str, store: Store) -> Outcome:
        refused = self._refusal(store)
        if refused:
            return Outcome(recipient, "ignored", refused, store.store_id)
        threaded = self._threaded_inquiry(store)
        if threaded is not None:
            return self._follow_up(recipient, store, threaded)
        locale = _locale(self.email)
        text = self._text(self.email.text, locale, strip_quotes=False)
        attachments = self._store_attachments(store)
        if not text.strip():
            text = _NOTES[locale]["attachments_only" if attachments else "no_text"]
        fields: dict[str, Any] = {
            "customer": {
                "email": self.email.sender,
                "name": _single_line(self.email.sender_name, 200),
                "locale": locale,
            },
            "channel": "email",
            "subject": _single_line(self.email.subject, 200) or _NOTES[locale]["no_subject"],
            "message": text,
            "headers": {
                **{name: value[:2000] for name, value in self.email.headers.items()},
                # The sender's domain says this From is forged: the inquiry opens (staff see it),
                # but no auto-reply goes to an address that did not write (backscatter).
                **({SPOOFED_HEADER: "dmarc-fail"} if self.receipt.dmarc == "FAIL" else {}),
            },
        }
        try:
            request = InquiryIn.model_validate(fields)
        except ValidationError as error:
            fields_named = ",".join(sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()}))
            logger.warning("an inbound email is not a valid inquiry", extra={"fields": fields_named})
            return Outcome(recipient, "rejected", "invalid_inquiry", store.store_id)
        origin = EmailOrigin(self.source_key, self.email.message_id, attachments)
        try:
            answer = accept_inquiry(store, request, self._fingerprint(), self._key("inquiry"), email=origin)
        except IdempotencyConflict:
            return Outcome(recipient, "ignored", "already_handled", store.store_id)
        inquiry_id = str(answer.body["inquiry_id"])
        if self.email.message_id:
            mail_store.remember_thread(store.store_id, self.email.message_id, inquiry_id, clock.now())
        return Outcome(
            recipient,
            "inquiry_opened",
            "replayed" if answer.replayed else None,
            store.store_id,
            inquiry_id,
        )

    def _threaded_inquiry(self, store: Store) -> Inquiry | None:
        """Fallback threading: a reply that names one of our messages, from the inquiry's own
        customer (References are easy to forge; the sender is what ties it to the inquiry)."""
        references = tuple(dict.fromkeys((*self.email.references, *self.email.in_reply_to)))
        if not references:
            return None
        inquiry_id = mail_store.find_thread(store.store_id, references)
        if inquiry_id is None:
            return None
        inquiry = inquiry_data.get(store.store_id, inquiry_id, consistent=True)
        if inquiry is None or inquiry.customer.email.lower() != self.email.sender.lower():
            return None
        return inquiry

    # -- replies to reply+ addresses ----------------------------------------------------------------
    def _reply(self, recipient: str, local_part: str, store: Store) -> Outcome:
        refused = self._refusal(store)
        if refused:
            return Outcome(recipient, "ignored", refused, store.store_id)
        target = reply_addresses.read(
            local_part, store.unsubscribe_keys, store_id=store.store_id, sender=self.email.sender
        )
        if target is None:
            # The store's keys may have changed since this process cached it (a first key made by
            # a worker, a rotation): read it again, as the API does after a signature mismatch.
            fresh = directory.directory.refresh_if_stale(store.store_id)
            if fresh is not None and fresh.unsubscribe_keys != store.unsubscribe_keys:
                store = fresh
                target = reply_addresses.read(
                    local_part, store.unsubscribe_keys, store_id=store.store_id, sender=self.email.sender
                )
        if target is None:
            return Outcome(recipient, "rejected", "invalid_reply_address", store.store_id)
        inquiry = inquiry_data.get(store.store_id, target.inquiry_id, consistent=True)
        if inquiry is None:
            return Outcome(recipient, "rejected", "unknown_inquiry", store.store_id, target.inquiry_id)
        if target.kind == "customer":
            return self._follow_up(recipient, store, inquiry)
        return self._staff_reply(recipient, store, inquiry)

    def _follow_up(self, recipient: str, store: Store, inquiry: Inquiry) -> Outcome:
        locale = inquiry.locale if inquiry.locale in _NOTES else "en"
        text = self._text(self.email.text, locale, strip_quotes=True)
        attachments = self._store_attachments(store)
        if not text.strip():
            if not attachments:
                return Outcome(recipient, "ignored", "empty_reply", store.store_id, inquiry.inquiry_id)
            text = _NOTES[locale]["attachments_only"]
        origin = EmailOrigin(self.source_key, self.email.message_id, attachments)
        return _applied(
            Outcome(recipient, "follow_up", None, store.store_id, inquiry.inquiry_id),
            lambda: follow_up(
                store, inquiry.inquiry_id, text, self._fingerprint(), self._key("follow-up"), email=origin
            ),
        )

    def _staff_reply(self, recipient: str, store: Store, inquiry: Inquiry) -> Outcome:
        sender = self.email.sender.lower()
        ids = (store.store_id, inquiry.inquiry_id)
        # Staff, and the escalation addresses that get SLA escalations (each with its own address).
        allowed = {a.lower() for a in (*store.staff_addresses, *store.policy.escalation_addresses)}
        if sender not in allowed:
            return Outcome(recipient, "rejected", "not_staff", *ids)
        if self.email.sender_count != 1:
            return Outcome(recipient, "rejected", "ambiguous_sender", *ids)
        if not self.receipt.vouches_for(sender):
            return Outcome(recipient, "rejected", "unauthenticated_sender", *ids)
        if self.note is not None:
            return self._refused(recipient, store, inquiry, f"{self.note}_reply")
        # Only what stands above the quote: a reply with nothing there (only the quoted notice, or
        # an answer written below it) must not send the notice's internal details to the customer.
        text = quotes.new_text(self.email.text, strict=True)
        if not text.strip():
            return self._refused(recipient, store, inquiry, "empty_reply")
        if any(marker in text for marker in _STAFF_ONLY_MARKERS):
            return self._refused(recipient, store, inquiry, "quotes_a_staff_email")
        if len(text) > MAX_TEXT_CHARS:
            return self._refused(recipient, store, inquiry, "reply_too_long")
        if self.email.truncated_attachments or sum(a.size for a in self.email.attachments) > MAX_REPLY_FILES:
            return self._refused(recipient, store, inquiry, "attachments_too_large")
        attachments = self._store_attachments(store)
        author = email_settings.settings_of(store).staff_name(sender) or sender
        return _applied(
            Outcome(recipient, "staff_reply", None, *ids),
            lambda: add_reply(
                store,
                inquiry.inquiry_id,
                author,
                text,
                self._fingerprint(),
                self._key("reply"),
                author_email=sender,
                source_key=self.source_key,
                attachments=attachments,
            ),
        )

    def _refused(self, recipient: str, store: Store, inquiry: Inquiry, reason: str) -> Outcome:
        """A verified member's reply that cannot go (sender, token and authentication checked
        before this): refused, and the member is told why by email, once per email, so nobody
        believes the customer was answered. Forgeries are never answered."""
        jobs.enqueue(
            StaffReplyRefusedJob(
                store_id=store.store_id,
                inquiry_id=inquiry.inquiry_id,
                staff=self.email.sender.lower(),
                reason=reason,  # type: ignore[arg-type]
                email_ref=self.receipt.message_id,
            )
        )
        return Outcome(recipient, "rejected", reason, store.store_id, inquiry.inquiry_id)

    # -- pieces -------------------------------------------------------------------------------------
    def _message_id(self) -> str | None:
        message_id = (self.email.message_id or "").strip()  # case matters in a Message-ID
        return message_id if message_id and len(message_id) <= 900 else None

    def _key(self, route: str) -> str:
        """The idempotency key of this email's effect: one per email and route. An email is its
        sender's Message-ID when it has one (a mail server that retries after a lost SMTP answer
        sends the same email again under a new SES message id), else the SES message id."""
        message_id = self._message_id()
        if message_id:
            return f"email:{self.email.sender.lower()}:{message_id}:{route}"
        return f"ses:{self.receipt.message_id}:{route}"

    def _fingerprint(self) -> dict[str, Any]:
        """What makes two deliveries the same request (a replay, not a conflict)."""
        message_id = self._message_id()
        if message_id:
            return {"message_id": message_id, "sender": self.email.sender.lower()}
        return {"source": self.source_key}

    def _text(self, body: str, locale: str, *, strip_quotes: bool) -> str:
        notes = _NOTES[locale]
        text = quotes.new_text(body) if strip_quotes else body.strip()
        extra: list[str] = []
        if self.note == "too_large":
            extra.append(notes["too_large"].format(mb=round(self.raw_size / (1024 * 1024), 1)))
        elif self.note == "unreadable":
            extra.append(notes["unreadable"])
        if self.email.truncated_attachments:
            extra.append(notes["more_attachments"].format(count=self.email.truncated_attachments))
        suffix = ("\n\n" + "\n".join(extra)) if extra else ""
        limit = MAX_TEXT_CHARS - len(suffix)
        if len(text) > limit:
            marker = "\n\n" + notes["truncated"].format(chars=limit - 200)
            text = text[: limit - 200].rstrip() + marker
        return _printable(text + suffix).strip()

    def _store_attachments(self, store: Store) -> tuple[Attachment, ...]:
        """Each file under a key made of the SES message id and its position: storing again on a
        retry writes the same objects."""
        found = self._attachments.get(store.store_id)
        if found is not None:
            return found
        stored: list[Attachment] = []
        for index, part in enumerate(self.email.attachments):
            name = _filename(part.filename, index, part.content_type)
            key = f"{mail_store.ATTACHMENT_PREFIX}{store.store_id}/{self.receipt.message_id}/{index}/{name}"
            mail_store.put_attachment(key, part.content, part.content_type, name)
            stored.append(Attachment(name=name, content_type=part.content_type, size=part.size, key=key))
        self._attachments[store.store_id] = tuple(stored)
        return self._attachments[store.store_id]


def _applied(done: Outcome, apply: Callable[[], Answer]) -> Outcome:
    """`done` once `apply` (a follow-up or a reply, idempotent) went through; a replay says so."""
    try:
        answer = apply()
    except IdempotencyConflict:
        return replace(done, outcome="ignored", reason="already_handled")
    except NotFound:
        return replace(done, outcome="rejected", reason="unknown_inquiry")
    return replace(done, reason="replayed") if answer.replayed else done


def _target(address: str) -> _Target | None:
    """The store an address of ours belongs to, and its local part; None for anything else."""
    local, _, domain = address.strip().lower().rpartition("@")
    if not local or not domain:
        return None
    stack_domain = get_settings().receiving_domain
    store_id = email_settings.store_id_from_default_domain(domain, stack_domain)
    store: Store | None = None
    if store_id is not None:
        store = directory.directory.get(store_id)
    if store is None:
        owner = _domain_owner(domain)
        store = directory.directory.get(owner) if owner else None
        if store is not None and email_settings.settings_of(store).receiving_domain != domain:
            store = None  # the index lags a change of domain
    return _Target(store, local) if store is not None else None


_DOMAIN_OWNERS: dict[str, tuple[str | None, float]] = {}  # domain -> (store id, when looked up)
_MAX_CACHED_DOMAINS = 1000


def _domain_owner(domain: str) -> str | None:
    """The store whose own receiving domain this is, cached like stores are (a warm function
    answers most mail without the index Query; an unknown domain, spam's, is cached too)."""
    now = time.monotonic()
    found = _DOMAIN_OWNERS.get(domain)
    # A domain with no store yet is asked again soon: a store that just set it gets its mail.
    if found is not None and now - found[1] < (get_settings().store_cache_seconds if found[0] else 5):
        return found[0]
    owners = store_data.stores_receiving_at(domain)
    owner = owners[0] if len(owners) == 1 else None
    if len(_DOMAIN_OWNERS) >= _MAX_CACHED_DOMAINS:
        _DOMAIN_OWNERS.clear()
    _DOMAIN_OWNERS[domain] = (owner, now)
    return owner


def forget_domains() -> None:
    """Drop the cached domain owners (the local stack and tests start from new stores)."""
    _DOMAIN_OWNERS.clear()


def _store_domain(store: Store) -> str | None:
    return email_settings.receiving_domain(store, get_settings().receiving_domain)


def _locale(email: inbound.InboundEmail) -> str:
    return "ja" if _JAPANESE.search(email.subject) or _JAPANESE.search(email.text[:2000]) else "en"


def _single_line(value: str | None, limit: int) -> str | None:
    if not value:
        return None
    line = " ".join(_printable(value).split())
    return line[:limit] or None


def _printable(text: str) -> str:
    """Control characters other than line breaks and tabs go (the API refuses them)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def _filename(name: str | None, index: int, content_type: str) -> str:
    base = re.split(r"[/\\]", name or "")[-1]  # some mailers send a whole path (C:\\Users\\...)
    cleaned = _FILENAME_UNSAFE.sub("_", unicodedata.normalize("NFC", base)).strip(" .")
    if not cleaned:
        extension = content_type.rpartition("/")[2].split(";")[0].strip()
        cleaned = f"attachment-{index + 1}" + (
            f".{extension}" if re.fullmatch(r"[a-z0-9]{1,10}", extension) else ""
        )
    if len(cleaned) > 120:
        stem, dot, extension = cleaned.rpartition(".")
        cleaned = (stem[:100] + dot + extension[:15]) if dot and len(extension) <= 15 else cleaned[:120]
    return cleaned


def _count(outcome: str) -> None:
    metrics.add_metric(name=f"InboundMail_{outcome}", unit="Count", value=1)


def _done(outcome: Outcome) -> Outcome:
    """Every routed recipient is one log line (ids and reasons only: no addresses, no text) and
    one metric."""
    _count(outcome.outcome)
    level = logger.warning if outcome.outcome == "rejected" else logger.info
    level(
        "inbound mail routed",
        extra={
            "outcome": outcome.outcome,
            "reason": outcome.reason,
            "store_id": outcome.store_id,
            "inquiry_id": outcome.inquiry_id,
        },
    )
    return outcome
