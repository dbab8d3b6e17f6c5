"""The local outbox: the emails the functions sent through the in-process emulator's SES, as JSON
for tests and as a page a person can read, at ``/_local/outbox``.

Nothing leaves the machine: moto keeps every message SES "sent" in memory, and this module
reads them there, so it works only when the emulator runs in this process.

- ``GET /_local/outbox`` lists them, newest first: JSON (``Accept: application/json`` or
  ``?format=json``), or HTML when a browser asks; ``?to=address`` keeps one recipient's.
- ``GET /_local/outbox/<n>`` is one email (its number in the list, or its message id).
- ``DELETE /_local/outbox`` or ``POST /_local/outbox/clear`` empties it.

The page escapes everything that comes from a message; an email's HTML is shown in an iframe
sandboxed without scripts, whose links still open (in a new tab) when a person clicks them.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import threading
from collections.abc import Callable, Iterable, MutableSequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote

from newsroom_tools.apigateway import HttpRequest, HttpResponse, gateway_error

OUTBOX_PATH = "/_local/outbox"
LISTED = 100  # emails the outbox lists unless asked for more (`?limit=`), newest first
MAX_LISTED = 10_000
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"

# No scripts in the email's frame; a click on a link may open a tab (which escapes the sandbox,
# so a moderation page opened from an email works) or navigate this page.
EMAIL_FRAME_SANDBOX = (
    "allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
)
# Inherited by the srcdoc frames too: belt and braces on top of the sandbox.
PAGE_SECURITY_POLICY = "script-src 'none'; object-src 'none'; form-action 'self'"

MessageStore = Callable[[], MutableSequence[Any]]


@dataclass(frozen=True)
class OutboxEmail:
    """One email as SES received it: envelope, headers, and its text and HTML parts."""

    id: str
    number: int  # its place in the outbox, 1 for the oldest since the last clear
    sent_at: datetime
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    envelope: tuple[str, ...]  # every destination SES was given (To, Cc and Bcc)
    subject: str
    text: str | None
    html: str | None
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[str, ...] = ()
    # What SES's delivery events said of it (the ledger's `delivery`, else its `state`), when
    # the outbox page asks the table (`ledger_delivery`).
    delivery: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of a header, whatever its case, or None."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def is_for(self, address: str) -> bool:
        """Whether `address` is among the recipients (To, Cc or the envelope), any case."""
        wanted = address.strip().lower()
        return any(
            parseaddr(recipient)[1].lower() == wanted
            for recipient in (*self.to, *self.cc, *self.envelope)
        )

    def as_json(self) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in self.headers:
            headers.setdefault(name, value)
        return {
            "id": self.id,
            "number": self.number,
            "sentAt": self.sent_at.astimezone(UTC).isoformat(timespec="seconds"),
            "from": self.sender,
            "to": list(self.to),
            "cc": list(self.cc),
            "envelope": list(self.envelope),
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "headers": headers,
            "attachments": list(self.attachments),
            "delivery": self.delivery,
        }


def parse_raw(
    raw: str | bytes,
    *,
    message_id: str,
    seen_at: datetime,
    destinations: Iterable[str] = (),
    number: int = 0,
) -> OutboxEmail:
    """An `OutboxEmail` from a raw MIME message (SES `Content.Raw`).

    `seen_at` stands in for the send time when the message has no usable Date header.
    """
    parse: Callable[..., Any] = (
        email.message_from_bytes if isinstance(raw, bytes) else email.message_from_string
    )
    message: EmailMessage = parse(raw, policy=email.policy.default)
    date = message["Date"]
    sent_at = getattr(date, "datetime", None) or seen_at
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    return OutboxEmail(
        id=message_id,
        number=number,
        sent_at=sent_at,
        sender=str(message["From"] or ""),
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        envelope=_unique(destinations),
        subject=str(message["Subject"] or "").strip(),
        text=_part(message, "plain"),
        html=_part(message, "html"),
        # Unfolded, a value folded right after the colon keeps a leading space mail readers drop.
        headers=tuple((name, str(value).strip()) for name, value in message.items()),
        attachments=tuple(
            part.get_filename() or part.get_content_type() for part in message.iter_attachments()
        ),
    )


def from_simple(sent: Any, *, seen_at: datetime, number: int = 0) -> OutboxEmail:
    """An `OutboxEmail` from moto's record of a `Simple` send (subject and one body)."""
    destinations = getattr(sent, "destinations", {}) or {}
    to = tuple(destinations.get("ToAddresses", []))
    cc = tuple(destinations.get("CcAddresses", []))
    bcc = tuple(destinations.get("BccAddresses", []))
    body = str(getattr(sent, "body", "") or "")
    looks_like_html = re.search(r"<(html|body|p|div|a|br|table)\b", body, re.IGNORECASE)
    return OutboxEmail(
        id=str(sent.id),
        number=number,
        sent_at=seen_at,
        sender=str(getattr(sent, "source", "")),
        to=to,
        cc=cc,
        envelope=_unique((*to, *cc, *bcc)),
        subject=str(getattr(sent, "subject", "")),
        text=None if looks_like_html else body,
        html=body if looks_like_html else None,
    )


def _key(sent: Any) -> str:
    """What identifies moto's record of a send: its message id."""
    return str(getattr(sent, "id", id(sent)))


def _names(sent: Any, address: str) -> bool:
    """Whether moto's record of a send has `address` (lower case) anywhere in its message or
    envelope: true of every email `OutboxEmail.is_for` that address (an address in a header is
    never encoded or folded), and cheap to ask before parsing."""
    destinations = getattr(sent, "destinations", ()) or ()
    if isinstance(destinations, dict):  # a Simple send's ToAddresses, CcAddresses, ...
        destinations = [a for addresses in destinations.values() for a in addresses]
    return address in str(getattr(sent, "raw_data", "")).lower() or any(
        address in str(recipient).lower() for recipient in destinations
    )


def _addresses(message: EmailMessage, name: str) -> tuple[str, ...]:
    found: list[str] = []
    for header in message.get_all(name) or []:
        parsed = getattr(header, "addresses", None)  # policy.default's address headers
        if parsed is not None:
            found.extend(str(address) for address in parsed if address.addr_spec)
        else:
            found.extend(address for _, address in getaddresses([str(header)]) if address)
    return tuple(found)


def _unique(addresses: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    unique = []
    for address in addresses:
        key = parseaddr(address)[1].lower() or address
        if key not in seen:
            seen.add(key)
            unique.append(address)
    return tuple(unique)


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return content if isinstance(content, str) else None


class Outbox:
    """The emails in the emulator's SES, parsed once each, served at ``/_local/outbox``.

    `store` returns the live list of what SES sent (moto's `sent_messages`); None means the
    emulator is not in this process and every request answers 501 with `reason`.
    """

    def __init__(
        self,
        store: MessageStore | None,
        *,
        reason: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        delivery_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._store = store
        self._delivery_of = delivery_of
        self.reason = reason
        self._clock = clock
        self._parsed: dict[str, OutboxEmail] = {}
        self._lock = threading.Lock()

    @classmethod
    def in_process(
        cls,
        account_id: str = ACCOUNT_ID,
        region: str = REGION,
        *,
        delivery_of: Callable[[str], str | None] | None = None,
    ) -> Outbox:
        """The outbox of the moto emulator running in this process; the page shows each
        email's delivery status by `delivery_of` (its message id), if given."""

        def store() -> MutableSequence[Any]:
            from moto.ses.models import ses_backends  # development dependency

            messages: MutableSequence[Any] = ses_backends[account_id][region].sent_messages
            return messages

        return cls(store, delivery_of=delivery_of)

    @classmethod
    def unavailable(cls, reason: str) -> Outbox:
        return cls(None, reason=reason)

    @property
    def available(self) -> bool:
        return self._store is not None

    def sent(self) -> list[Any]:
        """What SES sent, as the emulator keeps it (oldest first)."""
        return [] if self._store is None else list(self._store())

    def emails(self, to: str | None = None, *, limit: int | None = None) -> list[OutboxEmail]:
        """Every email SES sent, newest first; only those for `to`, if given; the newest
        `limit`, if given.

        Only the emails kept are parsed (some 7 ms each), and with `to` only those that name
        the address somewhere: the emulator's outbox is its process's, so a test suite's holds
        thousands.
        """
        if self._store is None:
            return []
        sent = list(self._store())
        wanted = None if to is None else to.strip().lower()
        emails: list[OutboxEmail] = []
        with self._lock:
            for number in range(len(sent), 0, -1):
                if limit is not None and len(emails) >= limit:
                    break
                item = sent[number - 1]
                if wanted is not None and not _names(item, wanted):
                    continue
                parsed = self._email(item, number)
                if to is None or parsed.is_for(to):
                    emails.append(parsed)
        return emails

    def get(self, key: str) -> OutboxEmail | None:
        """One email by its number in the outbox or its message id (the only one parsed)."""
        if self._store is None:
            return None
        for number, item in enumerate(list(self._store()), start=1):
            if key in (str(number), _key(item)):
                with self._lock:
                    return self._email(item, number)
        return None

    def clear(self) -> None:
        """Forget every email sent so far."""
        if self._store is not None:
            self._store().clear()
        with self._lock:
            self._parsed.clear()

    def _email(self, sent: Any, number: int) -> OutboxEmail:
        key = _key(sent)
        parsed = self._parsed.get(key)
        if parsed is None:
            seen_at = self._clock()
            if hasattr(sent, "raw_data"):
                parsed = parse_raw(
                    sent.raw_data,
                    message_id=key,
                    seen_at=seen_at,
                    destinations=getattr(sent, "destinations", ()),
                )
            else:
                parsed = from_simple(sent, seen_at=seen_at)
            self._parsed[key] = parsed
        return parsed if parsed.number == number else replace(parsed, number=number)

    def _with_delivery(self, emails: list[OutboxEmail]) -> list[OutboxEmail]:
        """The emails with their delivery status, looked up now (it changes as events come)."""
        if self._delivery_of is None:
            return emails
        return [replace(item, delivery=self._delivery_of(item.id)) for item in emails]

    # HTTP

    def paths(self) -> tuple[str, str]:
        """The local-route paths to register: the outbox itself and everything below it."""
        return OUTBOX_PATH, OUTBOX_PATH + "/"

    def route(self, request: HttpRequest) -> HttpResponse:
        """Answer one request to ``/_local/outbox`` or below (a server `LocalRoute`)."""
        if self._store is None:
            return gateway_error(HTTPStatus.NOT_IMPLEMENTED, "outbox_unavailable", self.reason)
        method = "GET" if request.method == "HEAD" else request.method
        query = dict(parse_qsl(request.query))
        html_wanted = _wants_html(request, query)
        rest = request.path[len(OUTBOX_PATH) :].strip("/")
        if rest == "":
            if method == "GET":
                limit = _limit(query.get("limit"))
                if limit is None:
                    return gateway_error(
                        HTTPStatus.BAD_REQUEST,
                        "invalid_limit",
                        f"limit must be a whole number from 1 to {MAX_LISTED}.",
                    )
                to = query.get("to")
                # One more than shown, to tell whether there are more.
                emails = self.emails(to=to, limit=limit + 1)
                more = len(emails) > limit
                emails = self._with_delivery(emails[:limit])
                if html_wanted:
                    return _html_response(render_page(emails, to=to, more=more))
                # A client of the JSON learns of older emails as of a page's next one.
                wider = (("Link", f'<{_wider(to, limit)}>; rel="next"'),) if more else ()
                return HttpResponse.json(
                    HTTPStatus.OK, [item.as_json() for item in emails], _NO_STORE + wider
                )
            if method == "DELETE":
                self.clear()
                return HttpResponse(HTTPStatus.NO_CONTENT, _NO_STORE)
            return _not_allowed("GET, HEAD, DELETE")
        if rest == "clear":
            if method != "POST":
                return _not_allowed("POST")
            self.clear()
            if html_wanted:  # the page's Clear button: back to the (empty) page
                return HttpResponse(HTTPStatus.SEE_OTHER, (("Location", OUTBOX_PATH),))
            return HttpResponse(HTTPStatus.NO_CONTENT, _NO_STORE)
        if method != "GET":
            return _not_allowed("GET, HEAD")
        found = self.get(rest)
        if found is None:
            return gateway_error(HTTPStatus.NOT_FOUND, "not_found", f"No email {rest} here.")
        (found,) = self._with_delivery([found])
        if html_wanted:
            return _html_response(render_page([found], single=True))
        return HttpResponse.json(HTTPStatus.OK, found.as_json(), _NO_STORE)


_NO_STORE = (("Cache-Control", "no-store"),)


def _limit(given: str | None) -> int | None:
    """The listing's `?limit=` (LISTED when absent), or None when it is not one."""
    if given is None:
        return LISTED
    if not re.fullmatch(r"[0-9]{1,6}", given) or not 1 <= int(given) <= MAX_LISTED:
        return None
    return int(given)


def _wider(to: str | None, shown: int) -> str:
    """The listing of twice as many emails as `shown` (for `to`, if given)."""
    return f"{OUTBOX_PATH}?limit={min(2 * shown, MAX_LISTED)}" + (f"&to={quote(to)}" if to else "")


def _wants_html(request: HttpRequest, query: dict[str, str]) -> bool:
    wanted = query.get("format")
    if wanted in ("json", "html"):
        return wanted == "html"
    return "text/html" in (request.header("Accept") or "")


def _not_allowed(allow: str) -> HttpResponse:
    return gateway_error(
        HTTPStatus.METHOD_NOT_ALLOWED,
        "method_not_allowed",
        f"The outbox answers {allow} here.",
        headers=(("Allow", allow),),
    )


def _html_response(page: str) -> HttpResponse:
    return HttpResponse(
        HTTPStatus.OK,
        (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", PAGE_SECURITY_POLICY),
            ("X-Content-Type-Options", "nosniff"),
            *_NO_STORE,
        ),
        page.encode("utf-8"),
    )


# The page. Every value from a message goes through `_e`; the email's HTML only ever goes into
# an escaped srcdoc attribute.

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }
header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
article { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: 0 1rem 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: #555; } dd { margin: 0; word-break: break-all; }
iframe { width: 100%; height: 28rem; border: 1px solid #ddd; background: #fff; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .5rem; }
table { border-collapse: collapse; font-size: 13px; }
td { border-top: 1px solid #eee; padding: .2rem .5rem; vertical-align: top; word-break: break-all; }
.empty { color: #555; }
"""


def render_page(
    emails: list[OutboxEmail], *, to: str | None = None, single: bool = False, more: bool = False
) -> str:
    """The outbox (or one email) as a page, saying so when older emails are not shown
    (`more`); safe whatever the emails contain."""
    if single:
        heading = f"Email #{emails[0].number}" if emails else "Email"
        intro = f'<a href="{OUTBOX_PATH}">Back to the outbox</a>'
    else:
        heading = "Outbox"
        scope = f" to {_e(to)}" if to else ""
        count = f"{len(emails)} email{'s' if len(emails) != 1 else ''}"
        if more:
            count = f"The newest {count}"
        older = f' (<a href="{_e(_wider(to, len(emails)))}">show more</a>)' if more else ""
        intro = (
            f"{count}{scope} sent through the local SES, newest first{older}. "
            f'<a href="{OUTBOX_PATH}?format=json'
            f'{"&amp;to=" + _e(quote(to)) if to else ""}">JSON</a>'
            f'<form method="post" action="{OUTBOX_PATH}/clear">'
            '<button type="submit">Clear</button></form>'
        )
    articles = "\n".join(_render_email(item) for item in emails) or (
        '<p class="empty">Nothing sent yet.</p>'
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{heading} - newsroom local</title><style>{_STYLE}</style></head>\n"
        f"<body><header><h1>{heading}</h1><p>{intro}</p></header>\n{articles}\n</body></html>\n"
    )


def _render_email(item: OutboxEmail) -> str:
    fields = [
        ("From", item.sender),
        ("To", ", ".join(item.to)),
        ("Cc", ", ".join(item.cc)),
        ("Envelope", ", ".join(item.envelope)),
        ("Sent", item.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Message id", item.id),
        ("Delivery", item.delivery or ""),
    ]
    if item.attachments:
        fields.append(("Attachments", ", ".join(item.attachments)))
    summary = "".join(f"<dt>{name}</dt><dd>{_e(value)}</dd>" for name, value in fields if value)
    headers = "".join(
        f"<tr><td>{_e(name)}</td><td>{_e(value)}</td></tr>" for name, value in item.headers
    )
    parts = []
    if item.html is not None:
        parts.append(
            f'<iframe title="HTML part of email {item.number}" sandbox="{EMAIL_FRAME_SANDBOX}" '
            f'referrerpolicy="no-referrer" srcdoc="{_e(_links_open_new_tabs(item.html))}">'
            "</iframe>"
        )
    if item.text is not None:
        open_text = "" if item.html is not None else " open"
        parts.append(
            f"<details{open_text}><summary>Text part</summary><pre>{_e(item.text)}</pre></details>"
        )
    if headers:
        parts.append(f"<details><summary>All headers</summary><table>{headers}</table></details>")
    return (
        f'<article id="email-{item.number}">'
        f'<h2><a href="{OUTBOX_PATH}/{item.number}?format=html">#{item.number}</a> '
        f"{_e(item.subject) or '(no subject)'}</h2>"
        f"<dl>{summary}</dl>{''.join(parts)}</article>"
    )


_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>", re.IGNORECASE)


def _links_open_new_tabs(document: str) -> str:
    # A small frame is no place to read the page a link leads to.
    base = '<base target="_blank">'
    found = _HEAD.search(document) or _DOCTYPE.search(document)
    if found is None:
        return base + document
    return document[: found.end()] + base + document[found.end() :]


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def ledger_delivery(db: Any, table: str) -> Callable[[str], str | None]:
    """An email's delivery status by its SES message id: its ledger entry's ``delivery`` (what
    SES's events said), else its ``state``, through the entry's ``SESMSG#`` pointer."""
    from newsroom.data.delivery import message_key

    def delivery_of(message_id: str) -> str | None:
        pointer = db.get_item(TableName=table, Key=message_key(message_id)).get("Item")
        if not pointer:
            return None
        key = {"pk": pointer["ledger_key"], "sk": {"S": "SENT"}}
        entry = db.get_item(TableName=table, Key=key).get("Item") or {}
        found = entry.get("delivery") or entry.get("state") or {}
        return str(found["S"]) if "S" in found else None

    return delivery_of
