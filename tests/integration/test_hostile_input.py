"""Hostile input through the real handlers: known XSS payloads in every text field, broken and
oversized requests, and a walk of every public endpoint looking for what must never leave.

Comments go to content tables of this module's own (`own_content_table`): the payload batch
posts a few hundred, ten to a table, because moto's transactions slow down with every item (and
stream record) a table holds; the other tests share one.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import time
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from functions.articles.app import lambda_handler as articles_handler
from functions.comments.app import lambda_handler as comments_handler
from newsroom.config import comments_settings, notifications_settings
from newsroom.models.comments import JOINERS, has_visible_text
from newsroom.rendered import read_html
from newsroom.rendering import render_comment
from newsroom_tools.apigateway import HttpRequest
from newsroom_tools.outbox import OUTBOX_PATH, Outbox, OutboxEmail, render_page
from tests.apigw import Answer, invoke, random_ip, rest_event
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    COMMENTS,
    admin_action,
    admin_queue,
    fresh_ip,
    get_comment,
    own_content_table,
    post_comment,
    queued,
    stored_comments,
    stored_item,
    walk_listing,
)
from tests.integration.notifications_stream import (
    batch,
    comment_item,
    confirm_reply_notices,
    handle,
    stream_record,
)
from tests.markup import (
    COMMENT,
    EMAIL,
    FRAMED_EMAIL,
    attribute_values,
    email_skeletons,
    problems,
    skeleton,
    text_of,
    xss_payloads,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

MODULE = uuid.uuid4().hex[:8]
# A moderation key: a post whose email holds it is held, so a moderator is asked about it.
HOLD = f"hold{MODULE}"
MODERATOR = f"moderator-{MODULE}@example.com"
INVISIBLE = {"Cc", "Cf", "Cs"}
ALL_DONE: dict[str, list[Any]] = {"batchItemFailures": []}
outbox = Outbox.in_process()


@contextmanager
def listed_at_once() -> Iterator[pytest.MonkeyPatch]:
    """Settings under which comments are listed at once (no previous approval, no link limit)
    unless the author's email holds the moderation key `HOLD`; `MODERATOR` is asked about
    held ones."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUIRE_PREVIOUS_APPROVAL", "false")
        patch.setenv("COMMENT_MAX_LINKS", "0")
        patch.setenv("MODERATION_KEYS", json.dumps([HOLD]))
        patch.setenv("MODERATOR_EMAILS", json.dumps([MODERATOR]))
        comments_settings.cache_clear()
        notifications_settings.cache_clear()
        yield patch
    # Read again with the session's environment.
    comments_settings.cache_clear()
    notifications_settings.cache_clear()


@pytest.fixture(scope="module")
def table(content_table: str, dynamodb: DynamoDBClient) -> Iterator[str]:
    """The module's own content table, under `listed_at_once`, for the tests that post a few
    comments each, every one on an article of its own. It has no stream: moto would copy the
    stream in every transaction, and these tests send no email."""
    with listed_at_once() as patch, own_content_table(dynamodb, patch, stream=False) as name:
        yield name


def as_stored(text: str, *, keep: str = "") -> str:
    """What the form keeps of a text (docs/api.md): newlines unified, control and format
    characters removed but the joiners ZWJ and ZWNJ, then trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    keep += JOINERS
    kept = (ch for ch in text if ch in keep or unicodedata.category(ch) not in INVISIBLE)
    return "".join(kept).strip()


def error_of(answer: Answer) -> dict[str, Any]:
    """The error of an answer, checked to have the API's one shape."""
    assert set(answer.body) == {"error"}, answer.body
    error: dict[str, Any] = answer.body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str)
    assert error["message"]
    for detail in error["details"]:
        assert set(detail) == {"location", "field", "message"}, detail
    return error


def handle_all(records: list[dict[str, Any]]) -> None:
    """Hand the records to the notifications function in batches of ten, as Lambda would."""
    for start in range(0, len(records), 10):
        assert handle(batch(*records[start : start + 10])) == ALL_DONE


# -- the payload corpus through every text field -------------------------------------------------


# Payloads per content table: moto copies a table (and its stream) in every transaction, so
# posts slow down as a table grows; small tables keep each post cheap.
SHARD = 10
# Every so many payloads, the text post is held (its author's email holds `HOLD`) and approved.
HELD_EVERY = 5
PARENT = object()  # in a form: the id of the article's first comment


@dataclass(frozen=True)
class Payload:
    """One payload's two posts and what a reader was then shown of each."""

    payload: str
    held: bool  # the name-and-body post was held, then approved
    as_text: Answer  # posted as the name and the body
    as_website: Answer  # posted as the website (author_url), with a plain name and body
    listed_text: dict[str, Any] | None
    listed_website: dict[str, Any] | None


@dataclass
class HostileRun:
    payloads: list[Payload] = field(default_factory=list)
    listed: list[dict[str, Any]] = field(default_factory=list)  # every comment listed
    stored_not_accepted: set[str] = field(default_factory=set)  # stored though refused
    emails: list[OutboxEmail] = field(default_factory=list)


def held_sample(number: int) -> bool:
    return number % HELD_EVERY == 0


def text_form(number: int, payload: str) -> dict[str, Any]:
    """The payload as name and text; a held one is a reply, so that once approved it causes
    every kind of email."""
    text = {"author_name": payload, "body": payload, "notify_replies": True}
    if held_sample(number):
        return text | {
            "author_email": f"text-{number}-{HOLD}-{MODULE}@example.org",
            "parent_id": PARENT,
        }
    return text | {"author_email": f"text-{number}-now-{MODULE}@example.org"}


def website_form(number: int, payload: str) -> dict[str, Any]:
    """The payload as website; held, so that the moderator's email shows it."""
    return {
        "author_name": f"Website {number}",
        "author_email": f"site-{number}-{HOLD}-{MODULE}@example.org",
        "body": f"See my website ({number}).",
        "author_url": payload,
        "notify_replies": True,
    }


@pytest.fixture(scope="module")
def hostile(content_table: str, dynamodb: DynamoDBClient) -> HostileRun:
    """Every payload posted as name and body, and as website, `SHARD` at a time to an article
    and table of their own. Comments listed at once go to tables without a stream (cheaper to
    write); the held ones, and the websites, to tables with one, under a first comment whose
    author asked to hear of replies: they are announced to the moderator, approved, and
    announced again by the notifications function. Each listing is read before its table
    goes."""
    run = HostileRun()
    answers: dict[tuple[int, str], Answer] = {}
    corpus = list(enumerate(xss_payloads()))
    with listed_at_once():
        for start in range(0, len(corpus), SHARD):
            chunk = corpus[start : start + SHARD]
            quiet = {(n, "text"): text_form(n, p) for n, p in chunk if not held_sample(n)}
            announced = {(n, "text"): text_form(n, p) for n, p in chunk if held_sample(n)}
            announced |= {(n, "website"): website_form(n, p) for n, p in chunk}
            answers |= _post_on_own_table(dynamodb, quiet, run, announce=False)
            answers |= _post_on_own_table(dynamodb, announced, run, announce=True)
    listed = {item["id"]: item for item in run.listed}

    def shown(answer: Answer) -> dict[str, Any] | None:
        return listed.get(answer.body["id"]) if answer.status == 201 else None

    for number, payload in corpus:
        as_text, as_website = answers[(number, "text")], answers[(number, "website")]
        run.payloads.append(
            Payload(
                payload, held_sample(number), as_text, as_website, shown(as_text), shown(as_website)
            )
        )
    run.emails = [
        sent for sent in outbox.emails() if any(MODULE in address for address in sent.envelope)
    ]
    return run


def _post_on_own_table(
    dynamodb: DynamoDBClient,
    forms: dict[tuple[int, str], dict[str, Any]],
    run: HostileRun,
    *,
    announce: bool,
) -> dict[tuple[int, str], Answer]:
    """Post the forms on a new article in a new table; with `announce`, hand the held ones to
    the notifications function, approve them, and hand it their approval. What the listing
    shows, and any comment stored from a refused post, go into `run`."""
    with (
        pytest.MonkeyPatch.context() as patch,
        own_content_table(dynamodb, patch, stream=announce) as table,
    ):
        notifications_settings.cache_clear()  # the notifications function's table too
        slug = f"xss-{MODULE}-{uuid.uuid4().hex[:8]}"
        author = {"name": "Ada", "email": f"author-{MODULE}@example.org"}
        seed(table, slug, title='Harbour <b>news</b> & "views"', author=author)
        first = {"author_name": "Parent", "body": "Tell me about replies.", "notify_replies": True}
        parent = post_comment(slug, first | {"author_email": f"parent-{MODULE}@example.org"})
        # The parent's and the texts' authors confirmed reply notices, so that the reply notice
        # and "is live" carry the payloads; the websites' authors did not, so that they get the
        # request to confirm (which shows the article's title).
        if announce:
            confirm_reply_notices(table, f"parent-{MODULE}@example.org")
            for (_, kind), form in forms.items():
                if kind == "text":
                    confirm_reply_notices(table, form["author_email"])
        assert parent.status == 201, parent.body
        answers = {
            key: post_comment(
                slug, {k: parent.body["id"] if v is PARENT else v for k, v in form.items()}
            )
            for key, form in forms.items()
        }
        accepted = {str(a.body["id"]) for a in [parent, *answers.values()] if a.status == 201}
        if announce:
            held = [cid for cid in accepted if _status(table, slug, cid) == "pending"]
            handle_all([stream_record(table, comment_item(table, slug, cid)) for cid in held])
            approvals = []
            for cid in held:
                before = comment_item(table, slug, cid)
                approved = admin_action(slug, cid, "approve")
                assert approved.status == 200, (cid, approved.body)
                approvals.append(stream_record(table, comment_item(table, slug, cid), before))
            handle_all(approvals)
        run.listed += [item for page in walk_listing(slug, limit=100) for item in page]
        run.stored_not_accepted |= {
            str(item["id"]) for item in stored_comments(table, slug)
        } - accepted
    return answers


def _status(table: str, slug: str, comment_id: str) -> str:
    return str(comment_item(table, slug, comment_id)["status"]["S"])


def test_payloads_as_name_and_body_are_listed_without_executable_markup(
    hostile: HostileRun,
) -> None:
    # Given every payload posted as a comment's name and text (and approved, if held)
    # When a reader lists the articles' comments
    # Then each payload's comment is there, its name the same plain string as posted (less
    # the invisible characters the form removes), and its HTML holds nothing that could run
    for item in hostile.payloads:
        assert item.as_text.status == 201, (item.payload, item.as_text.body)
        assert item.listed_text is not None, item.payload
        assert item.listed_text["author_name"] == as_stored(item.payload), item.payload
        assert problems(item.listed_text["body_html"], COMMENT) == [], (
            item.payload,
            item.listed_text["body_html"],
        )
    # And so does every other comment listed with them
    for shown in hostile.listed:
        assert problems(shown["body_html"], COMMENT) == [], shown


def test_payloads_as_website_are_refused_or_listed_as_a_plain_http_address(
    hostile: HostileRun,
) -> None:
    # Given every payload posted as a comment's website
    # When a reader lists the comments
    # Then each was refused as an invalid website (in the one error shape, naming the field),
    # or is listed with an http(s) address that holds nothing a page could take for markup
    for item in hostile.payloads:
        answer = item.as_website
        if answer.status == 422:
            assert error_of(answer)["code"] == "invalid_request"
            assert answer.error_fields == {"author_url"}, (item.payload, answer.body)
            continue
        assert answer.status == 201, (item.payload, answer.body)
        assert item.listed_website is not None, item.payload
        website = item.listed_website["author_url"]
        assert website.startswith(("http://", "https://")), (item.payload, website)
        assert not set(website) & set('<>"` \t\r\n\x00'), (item.payload, website)
    # And a refused post stored nothing: each article holds exactly the accepted comments
    assert hostile.stored_not_accepted == set()


def test_emails_about_the_payloads_show_them_only_as_text(hostile: HostileRun) -> None:
    # Given the emails the notifications function sent about every payload comment
    emails = hostile.emails
    kind_of = {tuple(shape): kind for kind, shape in email_skeletons().items()}

    # Then each HTML part is one of the templates, element for element and attribute for
    # attribute (nothing a reader wrote became markup), and each subject is one line
    shown: dict[str, list[str]] = {kind: [] for kind in kind_of.values()}
    for sent in emails:
        assert sent.html is not None
        kind = kind_of.get(tuple(skeleton(sent.html)))
        assert kind is not None, (sent.subject, sent.html)
        assert problems(sent.html, EMAIL) == [], sent.html
        assert not set(sent.subject) & set("\r\n")
        shown[kind].append(text_of(sent.html))
    # And what readers wrote is in them as text: a held comment's name and text in the
    # moderator's email, the article author's and the reply notice, its text in the "it is
    # live" email; every website kept in the moderator's email (and the requests to confirm an
    # address, sent to the websites' authors, were among the emails checked above)
    assert shown["confirm_replies"], "no request to confirm an address was checked"
    for item in hostile.payloads:
        name, body = as_stored(item.payload), as_stored(item.payload, keep="\n\t")
        if item.held:
            for kind in ("moderation", "new_comment", "reply"):
                assert any(name in text and body in text for text in shown[kind]), (kind, item)
            assert any(body in text for text in shown["comment_live"]), item
        if item.listed_website is not None:
            website = f"Website: {item.listed_website['author_url']}"
            assert any(website in text for text in shown["moderation"]), item


def test_outbox_page_frames_the_emails_escaped_and_without_scripts(hostile: HostileRun) -> None:
    # Given the emails about every payload comment
    emails = hostile.emails

    # When the local outbox shows them as a page
    page = render_page(emails)

    # Then the page's own structure is the same as for emails that say nothing hostile: no
    # element or attribute came from an email
    neutral = [
        replace(
            sent,
            subject="s",
            text=None if sent.text is None else "t",
            html=None if sent.html is None else "<p>h</p>",
            headers=tuple((name, "v") for name, _ in sent.headers),
        )
        for sent in emails
    ]
    assert skeleton(page) == skeleton(render_page(neutral))
    # And each email's HTML is only in an iframe's srcdoc, sandboxed without scripts, and is
    # the email unchanged but for the page's <base target="_blank">
    frames = attribute_values(page, "iframe", "srcdoc")
    assert len(frames) == sum(sent.html is not None for sent in emails)
    for sandbox in attribute_values(page, "iframe", "sandbox"):
        assert sandbox is not None
        assert "allow-scripts" not in sandbox.split()
        assert "allow-same-origin" not in sandbox.split()
    framed_emails = [sent.html for sent in emails if sent.html is not None]
    for framed, original in zip(frames, framed_emails, strict=True):
        assert framed is not None
        assert problems(framed, FRAMED_EMAIL) == [], framed
        assert [part for part in skeleton(framed) if part[0] != "base"] == skeleton(original)
        assert text_of(framed) == text_of(original)
    # And the page as the local run serves it forbids scripts, in its frames too
    served = outbox.route(
        HttpRequest(
            "GET", f"{OUTBOX_PATH}?to={quote(MODERATOR)}", headers=(("Accept", "text/html"),)
        )
    )
    assert served.status == 200
    assert "script-src 'none'" in (served.header("Content-Security-Policy") or "")
    assert served.header("X-Content-Type-Options") == "nosniff"


# -- broken, oversized and ill-typed requests ----------------------------------------------------


@pytest.fixture
def slug(table: str, unique: str) -> str:
    """A published article open for comments, this test's own, in the module's table."""
    slug = f"h-{unique}"
    seed(table, slug)
    return slug


def valid_form(unique: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "author_name": "Ann",
        "author_email": f"ann-{unique}-{uuid.uuid4().hex[:6]}@example.org",
        "body": f"A remark ({unique}).",
    }
    return values | overrides


def post_bytes(slug: str, body: bytes) -> Answer:
    """POST raw bytes as API Gateway passes a binary body: base64, `isBase64Encoded` true."""
    event = rest_event(
        "POST",
        COMMENTS,
        path_params={"slug": slug},
        headers={"Content-Type": "application/json"},
        body=base64.b64encode(body).decode(),
        source_ip=fresh_ip(),
    )
    event["isBase64Encoded"] = True
    return invoke(comments_handler, event)


def assert_refused(answer: Answer, status: int, code: str) -> dict[str, Any]:
    assert (answer.status, answer.body["error"]["code"]) == (status, code), answer.body
    assert answer.headers["cache-control"] == "no-store"
    return error_of(answer)


def padded_to(size: int, unique: str) -> str:
    """A valid form, as JSON, of exactly `size` bytes (its body made long enough)."""
    bare = json.dumps(valid_form(unique, body=""))
    return json.dumps(valid_form(unique, body="x" * (size - len(bare.encode()))))


def test_body_of_exactly_64_kb_is_accepted(table: str, slug: str, unique: str) -> None:
    # Given a form of 65,536 bytes, the most the API takes
    raw = padded_to(65_536, unique)
    assert len(raw.encode()) == 65_536

    # When it is posted
    answer = post_comment(slug, raw_body=raw)

    # Then it is accepted
    assert answer.status == 201, answer.body
    assert len(stored_comments(table, slug)) == 1


@pytest.mark.parametrize("size", [65_537, 10 * 1024 * 1024])
def test_body_over_64_kb_is_refused_with_413_and_nothing_stored(
    table: str, slug: str, unique: str, size: int
) -> None:
    # Given a form one byte over the limit, or of 10 MB
    raw = padded_to(size, unique)

    # When it is posted
    answer = post_comment(slug, raw_body=raw)

    # Then it is refused as too large, and nothing is stored
    assert_refused(answer, 413, "payload_too_large")
    assert stored_comments(table, slug) == []


def nested(depth: int, *, innermost: str = "1") -> str:
    return "[" * depth + innermost + "]" * depth


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(nested(10_000), id="10000-arrays"),
        pytest.param('{"a":' * 10_000 + "1" + "}" * 10_000, id="10000-objects"),
        pytest.param('{"author_name":' + nested(10_000) + "}", id="10000-in-a-field"),
        pytest.param('{"author_name":' + nested(990) + "}", id="990-in-a-field"),
        pytest.param('{"author_name":' + nested(500) + "}", id="500-in-a-field"),
    ],
)
def test_deeply_nested_json_is_refused_quickly_as_a_client_error(
    table: str, slug: str, raw: str
) -> None:
    # Given a body nested thousands of levels deep (and well within the size limit)
    assert len(raw.encode()) <= 65_536

    # When it is posted
    started = time.monotonic()
    answer = post_comment(slug, raw_body=raw)
    took = time.monotonic() - started

    # Then it is refused as malformed or invalid, at once, and nothing is stored
    assert answer.status in (400, 422), answer.body
    error_of(answer)
    assert took < 2.0
    assert stored_comments(table, slug) == []


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"author_name": "\xff\xfe", "body": "x"}', id="invalid-bytes"),
        pytest.param(b'{"author_name": "\xc0\xaf", "body": "x"}', id="overlong-slash"),
        pytest.param(b'{"author_name": "\xed\xa0\x80", "body": "x"}', id="encoded-surrogate"),
        pytest.param(b'{"author_name": "Ann", "body": "cut \xe2\x82"}', id="truncated"),
        pytest.param(b"\xfe\xff\x00{\x00}", id="utf-16"),
    ],
)
def test_body_that_is_not_utf8_is_refused_with_400_and_nothing_stored(
    table: str, slug: str, raw: bytes
) -> None:
    # Given a body that is not UTF-8
    # When it is posted as a binary body
    answer = post_bytes(slug, raw)

    # Then it is refused as malformed, saying so, and nothing is stored
    error = assert_refused(answer, 400, "malformed_request")
    assert "UTF-8" in error["message"]
    assert stored_comments(table, slug) == []


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a stored item, keys included, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from strings_in(inner)
    elif isinstance(value, list | tuple | set):
        for inner in value:
            yield from strings_in(inner)


@pytest.mark.parametrize(
    "field",
    ["author_name", "author_email", "author_url", "body", "parent_id", "phone"],
)
def test_null_bytes_in_a_field_are_removed_or_refused_never_stored(
    table: str, slug: str, unique: str, field: str
) -> None:
    # Given a form with NUL characters in one field (as JSON escapes)
    values = valid_form(unique, author_url="https://ann.example/")
    value = {"parent_id": "c0123456789abcdef0123", "phone": "555-0100"}.get(field) or values[field]
    values[field] = "\x00" + value[:3] + "\x00" + value[3:] + "\x00"

    # When it is posted
    answer = post_comment(slug, values)

    # Then it is refused as invalid, or accepted without a single NUL stored
    stored = stored_comments(table, slug)
    if answer.status == 201:
        assert [s for s in strings_in(stored) if "\x00" in s] == []
        assert len(stored) == 1
    else:
        assert_refused(answer, 422, "invalid_request")
        assert answer.error_fields == {field}
        assert stored == []


def test_raw_null_byte_in_the_json_is_refused_as_malformed(
    table: str, slug: str, unique: str
) -> None:
    # Given JSON with a NUL byte inside a string, not escaped (JSON forbids it)
    raw = json.dumps(valid_form(unique)).replace("A remark", "A\x00remark")

    # When it is posted
    answer = post_bytes(slug, raw.encode())

    # Then it is refused as malformed, and nothing is stored
    assert_refused(answer, 400, "malformed_request")
    assert stored_comments(table, slug) == []


@pytest.mark.parametrize(
    "limit", ["1e309", "99999999999999999999999", "-99999999999999999999999", "NaN", "Infinity"]
)
@pytest.mark.parametrize("listing", ["comments", "articles"])
def test_huge_or_odd_limit_is_refused_with_422_naming_it(
    slug: str, limit: str, listing: str
) -> None:
    # Given a limit no integer type of the API holds
    # When a listing is asked for with it
    if listing == "comments":
        event = rest_event("GET", COMMENTS, path_params={"slug": slug}, query={"limit": limit})
        answer = invoke(comments_handler, event)
    else:
        answer = invoke(articles_handler, rest_event("GET", "/articles", query={"limit": limit}))

    # Then it is refused, naming the limit
    assert_refused(answer, 422, "invalid_request")
    assert answer.error_fields == {"limit"}


STRING_FIELDS = ["author_name", "author_email", "author_url", "body", "parent_id", "phone"]


@pytest.mark.parametrize("field", [*STRING_FIELDS, "notify_replies"])
@pytest.mark.parametrize(
    "number",
    ["1e309", "-1e309", "99999999999999999999999", "1.5e-400", "NaN", "Infinity"],
)
def test_huge_number_in_a_field_is_refused_with_422_naming_it_and_nothing_stored(
    table: str, slug: str, unique: str, field: str, number: str
) -> None:
    # Given a form whose field holds a number JSON allows but no string or boolean is
    # (Python's JSON reader takes NaN and Infinity too)
    raw = json.dumps(valid_form(unique) | {field: "PLACEHOLDER"}).replace('"PLACEHOLDER"', number)

    # When it is posted
    answer = post_comment(slug, raw_body=raw)

    # Then it is refused as invalid, naming the field, and nothing is stored
    assert_refused(answer, 422, "invalid_request")
    assert answer.error_fields == {field}
    assert stored_comments(table, slug) == []


def test_integer_too_long_to_read_is_refused_with_400(table: str, slug: str, unique: str) -> None:
    # Given a form with a 5,000-digit integer in it
    raw = json.dumps(valid_form(unique) | {"body": "PLACEHOLDER"}).replace(
        '"PLACEHOLDER"', "9" * 5_000
    )

    # When it is posted
    answer = post_comment(slug, raw_body=raw)

    # Then it is refused as malformed, and nothing is stored
    assert_refused(answer, 400, "malformed_request")
    assert stored_comments(table, slug) == []


WRONG_TYPES: dict[str, Any] = {
    "number": 7,
    "list": ["x"],
    "object": {"x": "y"},
    "null": None,
    "bool": True,
}
# The wrong types that are right for a field: these fields may be null, or are booleans.
RIGHT_TYPES = {
    ("author_url", "null"),
    ("parent_id", "null"),
    ("phone", "null"),
    ("notify_replies", "bool"),
}


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        (field, kind)
        for field in [*STRING_FIELDS, "notify_replies"]
        for kind in WRONG_TYPES
        if (field, kind) not in RIGHT_TYPES
    ],
)
def test_field_of_the_wrong_type_is_refused_with_422_naming_it(
    table: str, slug: str, unique: str, field: str, kind: str
) -> None:
    # Given a form with one field of the wrong JSON type
    values = valid_form(unique) | {field: WRONG_TYPES[kind]}

    # When it is posted
    answer = post_comment(slug, values)

    # Then it is refused, naming that field alone, and nothing is stored
    assert_refused(answer, 422, "invalid_request")
    assert answer.error_fields == {field}
    assert stored_comments(table, slug) == []


@pytest.mark.parametrize("raw", ["[]", '"a comment"', "7", "null", "true", ""])
def test_body_that_is_not_a_json_object_is_refused_with_400(
    table: str, slug: str, raw: str
) -> None:
    # Given a body that is JSON but not an object (or nothing at all)
    # When it is posted
    answer = post_comment(slug, raw_body=raw)

    # Then it is refused as malformed, and nothing is stored
    assert_refused(answer, 400, "malformed_request")
    assert stored_comments(table, slug) == []


@pytest.mark.parametrize("field", ["author_name", "author_email", "body", "notify_replies"])
def test_duplicate_json_key_is_refused_with_400_naming_it(
    table: str, slug: str, unique: str, field: str
) -> None:
    # Given a form that names one field twice, with two values
    values = valid_form(unique, notify_replies=False)
    first = json.dumps(values)
    raw = first[:-1] + f", {json.dumps(field)}: {json.dumps(values[field])}}}"

    # When it is posted
    answer = post_comment(slug, raw_body=raw)

    # Then it is refused as malformed, naming the key, and nothing is stored
    error = assert_refused(answer, 400, "malformed_request")
    assert field in error["message"]
    assert stored_comments(table, slug) == []


# -- round trips ---------------------------------------------------------------------------------

# Text a person can see: no control, format or surrogate characters (the form removes those),
# something that draws (not only spaces, fillers or marks), and a text that renders to some.
visible = st.characters(exclude_categories=("Cc", "Cf", "Cs"))
names = st.text(visible, min_size=1, max_size=60).filter(has_visible_text)
bodies = (
    st.text(
        st.characters(exclude_categories=("Cc", "Cf", "Cs"), include_characters="\n\t"),
        min_size=1,
        max_size=400,
    )
    .filter(has_visible_text)
    .filter(lambda body: has_visible_text(read_html(render_comment(body)).text))
)


@pytest.fixture(scope="module")
def round_trip_slug(table: str) -> str:
    slug = f"rt-{MODULE}"
    seed(table, slug)
    return slug


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, body=bodies)
@example(name="Ann", body="\U00011daa")  # unassigned in Python 3.11's Unicode: still text
def test_visible_text_posted_is_stored_and_listed_back_unchanged(
    table: str, round_trip_slug: str, name: str, body: str
) -> None:
    # Given any name and text without control or format characters
    values = {
        "author_name": name,
        "author_email": f"rt-{uuid.uuid4().hex[:12]}@example.org",
        "body": body,
    }

    # When it is posted (listed at once), then read back
    answer = post_comment(round_trip_slug, values)
    assert answer.status == 201, answer.body
    comment_id = str(answer.body["id"])
    stored = stored_item(table, round_trip_slug, comment_id)
    public = get_comment(round_trip_slug, comment_id)
    moderated = queued("approved", comment_id)

    # Then the store holds the same text, only trimmed, and the public answer and the
    # moderator's listing show it rendered the same way
    assert (stored["author_name"], stored["body_markdown"]) == (name.strip(), body.strip())
    assert public.status == 200, public.body
    assert public.body["author_name"] == name.strip()
    assert moderated["author_name"] == name.strip()
    assert moderated["body_html"] == public.body["body_html"] == stored["body_html"]


# -- nothing personal leaves ---------------------------------------------------------------------


@dataclass(frozen=True)
class Commenter:
    name: str
    email: str
    ip: str

    def form(self, **fields: Any) -> dict[str, Any]:
        return {"author_name": self.name, "author_email": self.email} | fields


def never_served(commenters: list[Commenter]) -> dict[str, str]:
    """Each text that must never appear in an answer (lower case) → what it gives away: the
    email as typed and lowercased, the IP as sent and written out in full, and the MD5, SHA-1
    and SHA-256 hex of each (a Gravatar hash is the MD5 of the lowercased email)."""
    found: dict[str, str] = {}
    for person in commenters:
        forms = {
            "email": person.email,
            "lowercased email": person.email.strip().lower(),
            "IP": person.ip,
            "expanded IP": ipaddress.ip_address(person.ip).exploded,
        }
        for label, value in forms.items():
            found[value.lower()] = f"{label} of {person.name}"
            for algorithm in ("md5", "sha1", "sha256"):
                digest = hashlib.new(algorithm, value.encode()).hexdigest()
                found[digest] = f"{algorithm} of the {label} of {person.name}"
    return found


def served_text(answer: Answer) -> str:
    """Everything an answer gives away, lower case: body and headers, and each cursor's key
    decoded (opaque to clients, but signed, not encrypted: base64 before the signature)."""
    parts = [
        json.dumps(answer.body, ensure_ascii=False)
        if not isinstance(answer.body, str)
        else answer.body,
        json.dumps(answer.headers, ensure_ascii=False),
    ]
    cursor = answer.body.get("next_cursor") if isinstance(answer.body, dict) else None
    if cursor:
        payload = cursor.partition(".")[0]
        parts.append(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode())
    return "\n".join(parts).lower()


def walk_pages(handler: Any, resource: str, path_params: dict[str, str]) -> list[Answer]:
    """Every page of a listing, one item a page, following the cursors."""
    answers: list[Answer] = []
    query = {"limit": "1"}
    while True:
        event = rest_event("GET", resource, path_params=path_params or None, query=query)
        answer = invoke(handler, event)
        assert answer.status == 200, answer.body
        answers.append(answer)
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return answers
        query = {"limit": "1", "cursor": cursor}


def approve_link_token(comment_marker: str) -> str:
    """The approve token of the moderation email about the comment whose text has the marker."""
    (sent,) = [sent for sent in outbox.emails(to=MODERATOR) if comment_marker in (sent.text or "")]
    line = next(line for line in (sent.text or "").splitlines() if line.startswith("Approve it:"))
    return unquote(urlsplit(line.split()[-1]).path.rsplit("/", 1)[1])


@pytest.fixture
def streamed_table(table: str, dynamodb: DynamoDBClient) -> Iterator[str]:
    """A content table of this test's own, with a stream, for both functions."""
    with pytest.MonkeyPatch.context() as patch, own_content_table(dynamodb, patch) as name:
        notifications_settings.cache_clear()
        yield name
    notifications_settings.cache_clear()


def test_no_email_or_ip_or_plain_hash_of_them_leaves_through_any_public_endpoint(
    streamed_table: str, unique: str
) -> None:
    # Given an article with an approved comment, a reply to it, a held comment and spam, from
    # known emails (one in mixed case) and addresses (IPv4 and IPv6)
    table = streamed_table
    slug = f"leak-{unique}"
    seed(table, slug)
    ann = Commenter("Ann", f"Ann.Leak-{unique}@Example.org", random_ip())
    bob = Commenter("Bob", f"bob-{unique}@example.org", fresh_ip())
    held = Commenter("Hal", f"hal-{HOLD}-{unique}@example.org", random_ip())
    spammer = Commenter("Sam", f"sam-{unique}@example.net", fresh_ip())
    answers: list[Answer] = []

    def post(who: Commenter, **fields: Any) -> Answer:
        answer = post_comment(slug, who.form(**fields), ip=who.ip)
        answers.append(answer)
        return answer

    first = post(ann, body=f"First! ({unique})", notify_replies=True)
    reply = post(bob, body="A reply.", parent_id=first.body["id"])
    pending = post(held, body=f"Held ({unique}).")
    spam = post(spammer, body="Cheap pills.", phone="555-0100")
    assert [a.status for a in (first, reply, pending, spam)] == [201] * 4
    # ... and the error answers each of them can get
    post(ann, body=f"First! ({unique})")  # the same again, at once
    post(bob, body="Another.", author_url="javascript:alert(1)")
    post(held, body="Replying to myself.", parent_id=pending.body["id"])
    post(spammer, author_email=f"{spammer.ip}@@example.net", body="Bad address.")
    answers.append(post_comment(slug, raw_body=json.dumps(ann.form(body="cut"))[:-9], ip=ann.ip))
    assert {a.status for a in answers[4:]} <= {400, 409, 422, 429}
    # ... and the moderation email about the held one, whose link anyone holding it can open
    assert handle(batch(stream_record(table, comment_item(table, slug, pending.body["id"])))) == (
        ALL_DONE
    )
    token = approve_link_token(f"Held ({unique}).")

    # When someone walks every public endpoint
    ids = [str(a.body["id"]) for a in (first, reply, pending, spam)]
    article = invoke(
        articles_handler, rest_event("GET", "/articles/{slug}", path_params={"slug": slug})
    )
    answers += walk_pages(articles_handler, "/articles", {})
    answers.append(article)
    answers.append(
        invoke(
            articles_handler,
            rest_event(
                "GET",
                "/articles/{slug}",
                path_params={"slug": slug},
                headers={"If-None-Match": article.headers["etag"]},
            ),
        )
    )
    comment_pages = walk_pages(comments_handler, COMMENTS, {"slug": slug})
    answers += comment_pages
    answers += [get_comment(slug, comment_id) for comment_id in ids]
    answers.append(get_comment(slug, "c" + "0" * 20))
    answers.append(get_comment(f"no-{unique}", ids[0]))
    feeds = [
        invoke(articles_handler, rest_event("GET", "/feed")),
        invoke(comments_handler, rest_event("GET", "/comments/feed")),
        invoke(
            comments_handler,
            rest_event("GET", "/articles/{slug}/comments/feed", path_params={"slug": slug}),
        ),
    ]
    assert [feed.status for feed in feeds] == [200] * 3
    answers += feeds
    for accept in ("application/json", "text/html"):
        event = rest_event(
            "GET", "/links/{token}", path_params={"token": token}, headers={"Accept": accept}
        )
        answers.append(invoke(comments_handler, event))

    # Then the walk saw the public comments (in the lists and the comment feeds) and the link
    # page, and the search finds an email
    # where one is served (the moderators' signed queue, which is not public) ...
    listed = [item["id"] for page in comment_pages for item in page.body["items"]]
    assert listed == ids[:2]
    assert all(ids[0] in feed.body and ids[1] in feed.body for feed in feeds[1:])
    assert answers[-2].status == 200, answers[-2].body
    assert held.email.lower() in served_text(admin_queue("pending", limit="100"))
    # ... and no answer holds an email, an IP, or a plain hash of either
    secrets = never_served([ann, bob, held, spammer])
    leaks = [
        (answer.status, what)
        for answer in answers
        for needle, what in secrets.items()
        if needle in served_text(answer)
    ]
    assert leaks == []
