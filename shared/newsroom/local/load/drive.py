"""A bounded load run on loopback: comments posted and pages read at once through the local
system, then a reconciliation that shows nothing was lost, doubled or miscounted.

    python -m newsroom.local.load [--posts N] [--readers N] [--seconds S] [--articles K]
                                  [--writers N] [--flood-interval S] [--keep-articles]
                                  [--api URL [--emulator-port P]]

Without ``--api`` it starts a `LocalSystem` of its own on free ports; with ``--api`` it drives a
running ``make run`` (loopback only) and reads that run's emulator (``--emulator-port``), its
outbox (``URL/_local/outbox?format=json``) and its dead-letter queue.

What one run does, all through the HTTP API except creating its articles:

- K articles of its own (slugs and author addresses unique to the run), written as the importer
  writes them;
- "regulars" (one post in ten): each posts a first comment, held because nobody approved them
  before, and a moderator approves it through the SigV4-signed admin API; once the email flood
  interval has passed, each replies to another regular's comment and is approved at once
  (``REQUIRE_PREVIOUS_APPROVAL`` stays on: "previously approved" is earned, not configured);
- first-time commenters, held: top-level comments and replies to the regulars' comments (who
  asked to hear about replies), every other one ticking "notify me";
- duplicates: the same email and text again, from another address, once the original was
  answered and the email flood interval has passed: answered as a held comment, never stored;
- retries: a POST sent again with the same ``Idempotency-Key`` once its answer came back;
- readers, meanwhile: an article, its comments page by page, the article list page by page;
- then, from the moderation emails in the outbox, half of the held comments approved and one in
  six marked as spam through their signed links;
- at the end its articles are deleted (``--keep-articles`` keeps them), so the site lists what
  it listed before; the comments stay in the table, out of every listing.

Posting stops at the count or at ``--seconds``, whichever comes first; every sender has its own
127.x.y.z address (Linux routes all of 127/8 to loopback), so flood control sees distinct readers.
Regulars wait out the flood interval (``FLOOD_INTERVAL_SECONDS``, 15 s by default) between their
two comments; ``--flood-interval`` shortens it for a system this command starts (with ``--api``
it must say what the running system uses).

Then it checks, and prints, that: no answer was 5xx and every connection was answered; each post
was answered as the rules say; every 201 is stored exactly once (a Query on each article's
partition, never a Scan) with the status it should have; every approved comment is listed exactly
once across the pages; each article's ``comment_count`` equals its approved comments; the emails
sent are exactly one per (comment, kind, recipient) that docs/notifications.md calls for; and
nothing reached the dead-letter queue. Exit status 0 when all hold, 1 otherwise, 2 when the run
cannot start.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import ipaddress
import json
import logging
import os
import random
import re
import socket
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

from newsroom.local import emulator as local_emulator

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from newsroom.local.runner import LocalSystem

DEFAULT_POSTS = 200
DEFAULT_READERS = 4
DEFAULT_SECONDS = 60.0
DEFAULT_ARTICLES = 4
DEFAULT_WRITERS = 8
DEFAULT_FLOOD_INTERVAL = 15  # CommentsSettings.flood_interval_seconds
MIN_POSTS = 12
CONTENT_TABLE = "ContentTable"  # logical ids; a local run names them so
DEAD_LETTER_QUEUE = "NotificationsDeadLetterQueue"
OUTBOX_PATH = "/_local/outbox"
LISTING_PAGE = 7  # small pages, so the walk crosses many cursors
HTTP_TIMEOUT = 30.0
SETTLE_SECONDS = 2.0  # against --api: how long the outbox must stay unchanged once complete

Role = Literal["setup", "first", "regular", "duplicate", "retry"]
Kind = Literal["moderation", "new_comment", "reply", "comment_live"]
EmailKey = tuple[str, str, str]  # (comment id, kind, recipient)

_LINK = re.compile(r"https?://\S+/links/[A-Za-z0-9._%-]+")
_LINK_LABELS = {"approve": "Approve it:", "spam": "Mark it as spam:", "trash": "Trash it:"}


class LoadSetupError(Exception):
    """The run cannot start: a bad option, or a system that is not there."""


# -- HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int  # 0: no answer (the connection failed)
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str | None:
        try:
            data = self.json()
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            code = data["error"].get("code")
            return str(code) if code is not None else None
        return None


class Traffic:
    """Sends requests to the API and keeps count: by purpose and status, and every 5xx or
    unanswered request."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.counts: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def send(
        self,
        purpose: str,
        method: str,
        target: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        source_ip: str | None = None,
    ) -> Reply:
        """One request to `target` (a path of the API, or a full loopback URL)."""
        url = target if "://" in target else self.base_url + target
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1",
            parts.port,
            timeout=HTTP_TIMEOUT,
            source_address=(source_ip, 0) if source_ip else None,
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            reply = Reply(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )
        except (OSError, http.client.HTTPException) as exc:
            reply = Reply(0, {}, b"")
            with self._lock:
                self.failures.append(f"{method} {path}: no answer ({exc!r})")
        finally:
            connection.close()
        with self._lock:
            self.counts[(purpose, reply.status)] += 1
            if reply.status >= 500:
                self.failures.append(f"{method} {path}: {reply.status} {reply.body[:200]!r}")
        return reply

    def total(self, *, exclude: Sequence[str] = ()) -> int:
        with self._lock:
            return sum(n for (purpose, _), n in self.counts.items() if purpose not in exclude)

    def by_purpose(self) -> dict[str, Counter[int]]:
        with self._lock:
            found: dict[str, Counter[int]] = {}
            for (purpose, status), n in self.counts.items():
                found.setdefault(purpose, Counter())[status] += n
            return found


class Addresses:
    """Distinct 127.x.y.z source addresses, so each sender is another reader to flood control."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def new(self) -> str:
        with self._lock:
            while True:
                rng = self._rng
                address = (
                    f"127.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                )
                if address not in self._used:
                    self._used.add(address)
                    return address


def check_loopback_sources() -> None:
    """Raise `LoadSetupError` when this machine cannot send from 127.x.y.z addresses."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.31.41.59", 0))
        except OSError as exc:
            raise LoadSetupError(
                "cannot send from 127.x.y.z addresses here (Linux routes all of 127/8 to "
                f"loopback; this system does not): {exc}"
            ) from exc


def signed_headers(method: str, url: str) -> dict[str, str]:
    """SigV4 headers for an admin (AWS_IAM) request, with the emulator's credentials."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=b"")
    credentials = Credentials(
        local_emulator.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        local_emulator.FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    SigV4Auth(credentials, "execute-api", local_emulator.REGION).add_auth(request)
    return dict(request.headers.items())


# -- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commenter:
    name: str
    email: str


@dataclass(frozen=True)
class Post:
    """One comment the run means to post (a duplicate shares its original's marker)."""

    number: int
    role: Role
    slug: str
    commenter: Commenter
    marker: str
    notify: bool = False
    parent_marker: str | None = None
    regular: int | None = None  # which regular posts it (setup and regular posts)

    @property
    def body(self) -> str:
        return f"Load comment {self.marker}: a *reader's* view, under load."

    def form(self, parent_id: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {
            "author_name": self.commenter.name,
            "author_email": self.commenter.email,
            "body": self.body,
            "notify_replies": self.notify,
        }
        if parent_id is not None:
            values["parent_id"] = parent_id
        return values


@dataclass(frozen=True)
class Plan:
    run: str
    slugs: tuple[str, ...]
    authors: Mapping[str, str]  # slug -> the article author's email
    setup: tuple[Post, ...]
    main: tuple[Post, ...]  # in the order they are sent

    @property
    def marker_tag(self) -> str:
        return f"ld{self.run}n"

    def requests(self) -> int:
        """POST requests the plan makes (a retried post is two)."""
        return len(self.setup) + sum(2 if p.role == "retry" else 1 for p in self.main)


def make_plan(run: str, *, posts: int, articles: int) -> Plan:
    """What a run posts, from the counts alone (see the module docstring for the mix)."""
    if posts < MIN_POSTS:
        raise LoadSetupError(f"--posts must be at least {MIN_POSTS}")
    if articles < 1:
        raise LoadSetupError("--articles must be at least 1")
    slugs = tuple(f"load-{run}-{k}" for k in range(articles))
    authors = {slug: f"load-{run}-author-{k}@example.org" for k, slug in enumerate(slugs)}
    regulars = max(2, posts // 10)
    duplicates = max(1, posts // 20)
    retries = max(1, posts // 20)
    first = posts - 2 * regulars - duplicates - 2 * retries
    numbers = iter(range(1, 10 * posts))

    def marker(number: int) -> str:
        return f"ld{run}n{number:05d}"

    def person(label: str) -> Commenter:
        return Commenter(f"Reader {label}", f"load-{run}-{label}@example.org")

    setup = []
    for j in range(regulars):
        n = next(numbers)
        setup.append(
            Post(n, "setup", slugs[j % articles], person(f"r{j}"), marker(n), True, regular=j)
        )
    main: list[Post] = []
    originals = 0
    for i in range(first):
        n = next(numbers)
        if i % 3 == 2:
            parent = setup[i % regulars]
            post = Post(
                n, "first", parent.slug, person(f"f{i}"), marker(n), i % 2 == 0, parent.marker
            )
        else:
            post = Post(n, "first", slugs[i % articles], person(f"f{i}"), marker(n), i % 2 == 0)
        main.append(post)
        if post.parent_marker is None and originals < duplicates:
            originals += 1
            # The same person and text again, from another address, once flood control allows.
            main.append(Post(next(numbers), "duplicate", post.slug, post.commenter, post.marker))
        if i < retries:
            n = next(numbers)
            main.append(Post(n, "retry", slugs[(i + 1) % articles], person(f"k{i}"), marker(n)))
    for j in range(regulars):
        parent = setup[(j + 1) % regulars]
        n = next(numbers)
        main.append(
            Post(
                n,
                "regular",
                parent.slug,
                setup[j].commenter,
                marker(n),
                j % 2 == 0,
                parent.marker,
                regular=j,
            )
        )
    return Plan(run, slugs, authors, tuple(setup), tuple(main))


# -- what happened -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    post: Post
    replies: tuple[Reply, ...]  # one, or two for a retried post

    @property
    def accepted(self) -> dict[str, Any] | None:
        first = self.replies[0]
        body = first.json() if first.status == 201 else None
        return body if isinstance(body, dict) else None


@dataclass(frozen=True)
class CommentFacts:
    """What the notification rules need to know about one accepted comment."""

    id: str
    slug: str
    author_email: str
    notify_replies: bool
    parent_id: str | None
    arrived_as: str  # "approved" or "pending", as the 201 said
    final: str  # the status it has at the end (after the run's moderation)


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def expected_emails(
    comments: Mapping[str, CommentFacts],
    *,
    authors: Mapping[str, str],
    moderators: Sequence[str],
    confirmed: Collection[str] = (),
) -> Counter[EmailKey]:
    """One email per (comment, kind, recipient) that docs/notifications.md calls for.

    Written from the table in "Who gets what", not from `newsroom.notifications.plan`, so the
    two can disagree. It assumes what the run guarantees: a parent is approved before any reply
    to it is posted and never changes after, and each comment changes status at most once.
    Reply notices and "is live" go only to `confirmed` addresses; the run confirms none (the
    requests to confirm name no comment, so the reconciliation does not count them).
    """
    confirmed = {address.strip().casefold() for address in confirmed}
    due: Counter[EmailKey] = Counter()
    for comment in comments.values():
        if comment.arrived_as == "pending":
            for moderator in dict.fromkeys(m.lower() for m in moderators):
                due[(comment.id, "moderation", moderator)] += 1
        if comment.final != "approved":
            continue
        author = authors[comment.slug]
        if not _same_person(author, comment.author_email):
            due[(comment.id, "new_comment", author.lower())] += 1
        parent = comments.get(comment.parent_id or "")
        if (
            parent is not None
            and parent.notify_replies
            and parent.final == "approved"
            and not _same_person(parent.author_email, comment.author_email)
            and parent.author_email.strip().casefold() in confirmed
        ):
            due[(comment.id, "reply", parent.author_email.lower())] += 1
        if (
            comment.arrived_as == "pending"
            and comment.notify_replies
            and comment.author_email.strip().casefold() in confirmed
        ):
            due[(comment.id, "comment_live", comment.author_email.lower())] += 1
    return due


def email_kind(subject: str) -> Kind | None:
    if subject.startswith("Please moderate"):
        return "moderation"
    if subject.startswith("New comment on"):
        return "new_comment"
    if subject.startswith("New reply to your comment"):
        return "reply"
    if subject.startswith("Your comment on") and subject.endswith("is live"):
        return "comment_live"
    return None


def sent_emails(
    outbox: Sequence[Mapping[str, Any]], *, marker_tag: str, ids: Mapping[str, str]
) -> tuple[Counter[EmailKey], list[str]]:
    """The run's emails in the outbox as (comment, kind, recipient) keys, and a line for each
    run email that names no known comment or kind. `ids` maps a comment's marker to its id."""
    markers = re.compile(re.escape(marker_tag) + r"\d{5}")
    found: Counter[EmailKey] = Counter()
    unknown: list[str] = []
    for item in outbox:
        text = str(item.get("text") or "")
        if marker_tag not in text:
            continue
        subject = str(item.get("subject") or "")
        about = set(markers.findall(text))
        kind = email_kind(subject)
        comment_id = ids.get(next(iter(about))) if len(about) == 1 else None
        if kind is None or comment_id is None:
            unknown.append(f"#{item.get('number')} {subject!r} about {sorted(about)}")
            continue
        for recipient in item.get("to") or []:
            found[(comment_id, kind, str(recipient).lower())] += 1
    return found, unknown


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class LoadReport:
    """What a run did (`did`, `figures`) and what it checked (`checks`)."""

    run: str
    target: str
    did: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def render(self) -> str:
        lines = [f"newsroom load run {self.run} against {self.target}", "did:"]
        lines += [f"  {line}" for line in self.did]
        lines.append("checked:")
        for check in self.checks:
            lines.append(f"  [{'ok' if check.ok else 'FAILED'}] {check.name}: {check.detail}")
        failed = sum(1 for check in self.checks if not check.ok)
        lines.append(
            "result: every check holds" if self.ok else f"result: {failed} check(s) FAILED"
        )
        return "\n".join(lines)


def _sample(items: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(str(item) for item in list(items)[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


# -- the system under load -----------------------------------------------------------------------


def emulator_session() -> Any:
    """A boto3 session with the emulator's credentials (none are configured here, perhaps)."""
    import boto3

    credentials = local_emulator.FAKE_CREDENTIALS
    return boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name=local_emulator.REGION,
    )


@dataclass
class Target:
    """Where the run's requests go and where it looks afterwards."""

    api_url: str
    endpoint_url: str
    content_table: str
    dead_letter_queue: str  # URL
    moderators: tuple[str, ...]
    flood_interval: int
    system: LocalSystem | None = None

    @property
    def given_up(self) -> int:
        """Stream records the local pollers gave up on (own system only)."""
        if self.system is None:
            return 0
        return sum(poller.given_up for poller in self.system.stream_pollers)

    def db(self) -> DynamoDBClient:
        client: DynamoDBClient = emulator_session().client(
            "dynamodb", endpoint_url=self.endpoint_url
        )
        return client

    def sqs(self) -> SQSClient:
        client: SQSClient = emulator_session().client("sqs", endpoint_url=self.endpoint_url)
        return client


@contextlib.contextmanager
def own_system(flood_interval: int | None) -> Iterator[Target]:
    """A `LocalSystem` on free ports (no demo articles), with FLOOD_INTERVAL_SECONDS if given."""
    from newsroom.local.runner import LocalSystem, free_port

    settings = {} if flood_interval is None else {"FLOOD_INTERVAL_SECONDS": str(flood_interval)}
    with (
        local_emulator.environment(settings),
        LocalSystem(port=0, emulator_port=free_port(), seed=False) as system,
    ):
        yield Target(
            api_url=system.api_url,
            endpoint_url=system.emulator_url,
            content_table=system.table_names[CONTENT_TABLE],
            dead_letter_queue=system.table_names[DEAD_LETTER_QUEUE],
            moderators=tuple(json.loads(os.environ.get("MODERATOR_EMAILS") or "[]")),
            flood_interval=int(os.environ.get("FLOOD_INTERVAL_SECONDS") or DEFAULT_FLOOD_INTERVAL),
            system=system,
        )


def running_system(api: str, emulator_port: int, flood_interval: int | None) -> Target:
    """A running `make run` at `api` (`validate` checked it is on loopback), and its emulator."""
    from botocore.exceptions import BotoCoreError, ClientError

    from newsroom.local.template import load_template, parameter_defaults

    endpoint = f"http://{local_emulator.DEFAULT_HOST}:{emulator_port}"
    try:
        sqs = emulator_session().client("sqs", endpoint_url=endpoint)
        queue = sqs.get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    except (BotoCoreError, ClientError) as exc:
        raise LoadSetupError(f"no local run's emulator at {endpoint}: {exc}") from exc
    moderators = json.loads(parameter_defaults(load_template())["ModeratorEmails"])
    return Target(
        api_url=api.rstrip("/"),
        endpoint_url=endpoint,
        content_table=CONTENT_TABLE,
        dead_letter_queue=queue,
        moderators=tuple(moderators),
        flood_interval=DEFAULT_FLOOD_INTERVAL if flood_interval is None else flood_interval,
    )


def create_articles(target: Target, plan: Plan) -> None:
    """The run's articles, open for comments, written as the importer writes them."""
    from newsroom.data.articles import save_article
    from newsroom.models.articles import StoredArticle

    db = target.db()
    published = datetime.now(UTC) - timedelta(hours=1)
    for k, slug in enumerate(plan.slugs):
        article = StoredArticle.model_validate(
            {
                "slug": slug,
                "title": f"Load run {plan.run}, article {k}",
                "summary": "An article the load run comments on.",
                "body_html": "<p>Body.</p>",
                "body_markdown": "Body.",
                "author": {"name": f"Author {k}", "email": plan.authors[slug]},
                "published_at": published,
                "updated_at": published,
                "tags": [],
            }
        )
        save_article(article, table=target.content_table, previous=None, db=db)


def take_down_articles(target: Target, plan: Plan) -> None:
    """Delete the run's articles (their comments stay, out of every listing)."""
    from newsroom.data.articles import ARTICLE_SK, article_pk

    db = target.db()
    for slug in plan.slugs:
        db.delete_item(
            TableName=target.content_table,
            Key={"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}},
        )


def dead_letters(target: Target) -> int:
    """Messages in the dead-letter queue, visible or not."""
    attributes = target.sqs().get_queue_attributes(
        QueueUrl=target.dead_letter_queue,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def stored_comments(target: Target, slugs: Sequence[str]) -> list[dict[str, Any]]:
    """Every comment item of the articles, whatever its status: one Query per partition."""
    from newsroom.data.comments import all_comment_items

    db = target.db()
    return [item for slug in slugs for item in all_comment_items(db, target.content_table, slug)]


# -- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadOptions:
    posts: int = DEFAULT_POSTS
    readers: int = DEFAULT_READERS
    seconds: float = DEFAULT_SECONDS
    articles: int = DEFAULT_ARTICLES
    writers: int = DEFAULT_WRITERS
    api: str | None = None
    emulator_port: int = local_emulator.DEFAULT_PORT
    flood_interval: int | None = None  # None: the system's own (15 s unless set)
    keep_articles: bool = False  # leave the run's articles (and so its comments) on the site
    drain_seconds: float = 60.0  # how long the stream may take to deliver, each time
    seed: int | None = None


class LoadRun:
    """One run against one target; `execute` does it all and returns the report."""

    def __init__(self, target: Target, options: LoadOptions) -> None:
        self.target = target
        self.options = options
        rng = random.Random(options.seed)  # noqa: S311 - addresses and ids, not secrets
        self.run = f"{rng.getrandbits(32):08x}"
        self.plan = make_plan(self.run, posts=options.posts, articles=options.articles)
        self.traffic = Traffic(target.api_url)
        self.addresses = Addresses(rng)
        self.report = LoadReport(self.run, target.api_url)
        self.answers: list[Answered] = []
        self.skipped: list[Post] = []
        self.ids: dict[str, str] = {}  # marker -> id of the accepted comment
        self.moderated: dict[str, str] = {}  # comment id -> status the run gave it
        self.read_statuses: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._stop_reading = threading.Event()
        self._deadline = 0.0
        self._setup_at: dict[int, float] = {}  # regular -> when their first comment was in
        self._answered_at: dict[str, float] = {}  # marker -> when its post was accepted
        self.follows: list[tuple[str, str, str]] = []  # (comment id, action, link) followed

    # posting

    def _post(self, post: Post, *, key: str | None = None) -> Reply:
        parent_id = self.ids.get(post.parent_marker) if post.parent_marker else None
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.traffic.send(
            "post",
            "POST",
            f"/articles/{post.slug}/comments",
            body=json.dumps(post.form(parent_id)).encode(),
            headers=headers,
            source_ip=self.addresses.new(),
        )

    def _send(self, post: Post) -> None:
        if post.role == "duplicate":
            ready = self._wait_for_answer(post.marker)
        elif post.regular is not None and post.role == "regular":
            ready = self._setup_at.get(post.regular)
        if post.role == "duplicate" or (post.regular is not None and post.role == "regular"):
            # The email flood guard: a second comment of one email waits out the interval.
            if ready is None:
                self._skip(post)
                return
            ready_at = ready + self.target.flood_interval + 0.5
            if ready_at >= self._deadline:
                self._skip(post)
                return
            # Pacing a client, as the person would wait before commenting again.
            time.sleep(max(0.0, ready_at - time.monotonic()))
        if time.monotonic() >= self._deadline:
            self._skip(post)
            return
        if post.parent_marker is not None and post.parent_marker not in self.ids:
            self._skip(post)  # its parent was never accepted: the setup check says why
            return
        if post.role == "retry":
            key = uuid.uuid4().hex
            replies: tuple[Reply, ...] = (self._post(post, key=key),)
            replies += (self._post(post, key=key),)
        else:
            replies = (self._post(post),)
        answered = Answered(post, replies)
        accepted = answered.accepted
        with self._lock:
            self.answers.append(answered)
            if accepted is not None and post.role != "duplicate":
                self.ids.setdefault(post.marker, str(accepted["id"]))
                self._answered_at.setdefault(post.marker, time.monotonic())
            if post.role == "setup" and accepted is not None and post.regular is not None:
                self._setup_at[post.regular] = time.monotonic()

    def _wait_for_answer(self, marker: str) -> float | None:
        """When the post with `marker` was accepted, waiting for it until the run's deadline;
        None if it never was."""
        while time.monotonic() < self._deadline:
            with self._lock:
                if marker in self._answered_at:
                    return self._answered_at[marker]
                if any(
                    a.post.marker == marker and a.post.role != "duplicate" for a in self.answers
                ):
                    return None  # answered, but not accepted
            time.sleep(0.05)
        return None

    def _skip(self, post: Post) -> None:
        with self._lock:
            self.skipped.append(post)

    def _approve_as_admin(self, comment_id: str, slug: str) -> bool:
        url = f"{self.target.api_url}/admin/comments/{slug}/{comment_id}/approve"
        reply = self.traffic.send("admin", "POST", url, headers=signed_headers("POST", url))
        ok = reply.status == 200 and (reply.json() or {}).get("status") == "approved"
        if ok:
            with self._lock:
                self.moderated[comment_id] = "approved"
        return ok

    # reading

    def _read(self, reader: int) -> None:
        rounds = 0
        while not self._stop_reading.is_set() and time.monotonic() < self._deadline:
            slug = self.plan.slugs[(reader + rounds) % len(self.plan.slugs)]
            source = self.addresses.new()
            self._expect_ok(self.traffic.send("read", "GET", f"/articles/{slug}"))
            self._walk(f"/articles/{slug}/comments", LISTING_PAGE, source, "read")
            if rounds % 3 == 0:
                self._walk("/articles", 2, source, "read", pages=2)
            rounds += 1

    def _expect_ok(self, reply: Reply) -> Reply:
        with self._lock:
            self.read_statuses[reply.status] += 1
        return reply

    def _walk(
        self, path: str, limit: int, source: str, purpose: str, *, pages: int = 1000
    ) -> list[list[dict[str, Any]]]:
        """Pages of a listing, following `next_cursor` (at most `pages`)."""
        found: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        for _ in range(pages):
            query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
            reply = self._expect_ok(
                self.traffic.send(purpose, "GET", f"{path}?{urlencode(query)}", source_ip=source)
            )
            if reply.status != 200:
                break
            body = reply.json()
            found.append(list(body["items"]))
            cursor = body.get("next_cursor")
            if cursor is None:
                break
        return found

    # the outbox and the stream

    def outbox(self) -> list[dict[str, Any]]:
        # The outbox is at the server's root, outside the API's stage.
        url = urljoin(self.target.api_url, OUTBOX_PATH)
        reply = self.traffic.send("outbox", "GET", f"{url}?format=json")
        if reply.status != 200:
            raise LoadSetupError(f"the outbox at {url} answered {reply.status}")
        emails: list[dict[str, Any]] = reply.json()
        return emails

    def drain(self, expected: Callable[[], Counter[EmailKey]]) -> bool:
        """Wait until the stream has delivered everything written so far; False at the deadline.

        Own system: the pollers say when they are idle. A running system: the outbox must hold
        every email `expected` names, then stay unchanged for a moment (later extras would show).
        """
        if self.target.system is not None:
            try:
                self.target.system.wait_for_streams(self.options.drain_seconds)
            except TimeoutError:
                return False
            return True
        deadline = time.monotonic() + self.options.drain_seconds
        settled_since: float | None = None
        last: Counter[EmailKey] | None = None
        while time.monotonic() < deadline:
            current, _ = sent_emails(self.outbox(), marker_tag=self.plan.marker_tag, ids=self.ids)
            complete = not (expected() - current)
            if complete and current == last:
                settled_since = settled_since or time.monotonic()
                if time.monotonic() - settled_since >= SETTLE_SECONDS:
                    return True
            else:
                settled_since = None
            last = current
            time.sleep(0.25)  # polling the outbox of another process
        return False

    def moderation_links(
        self, comment_id: str, outbox: Sequence[Mapping[str, Any]]
    ) -> dict[str, str]:
        """approve / spam / trash -> URL on this API, from the first moderator's email about
        the comment; empty when there is none."""
        marker = next((m for m, cid in self.ids.items() if cid == comment_id), None)
        first = self.target.moderators[0].lower() if self.target.moderators else ""
        for item in outbox:
            text = str(item.get("text") or "")
            recipients = [str(r).lower() for r in item.get("to") or []]
            if marker is None or marker not in text or first not in recipients:
                continue
            if email_kind(str(item.get("subject") or "")) != "moderation":
                continue
            links: dict[str, str] = {}
            for action, label in _LINK_LABELS.items():
                line = next((line for line in text.splitlines() if line.startswith(label)), "")
                match = _LINK.search(line)
                if match:
                    # The link's path (stage included) on the API's host, which is on loopback.
                    links[action] = urljoin(self.target.api_url, urlsplit(match.group(0)).path)
            return links
        return {}

    def _follow(self, comment_id: str, action: str, url: str) -> None:
        reply = self.traffic.send(
            "link", "POST", url, headers={"Accept": "application/json"}, body=b""
        )
        body = reply.json() if reply.status == 200 else None
        if isinstance(body, dict) and body.get("done") is True:
            with self._lock:
                self.moderated[comment_id] = "approved" if action == "approve" else action
        else:
            with self._lock:
                self.report.did.append(
                    f"link {action} for {comment_id} answered {reply.status} {reply.body[:120]!r}"
                )

    # the whole run

    def execute(self) -> LoadReport:
        """Load, moderate, reconcile; then take the run's articles down (unless kept), so the
        site's article list is as it was."""
        create_articles(self.target, self.plan)
        try:
            return self._execute()
        finally:
            self._stop_reading.set()
            if not self.options.keep_articles:
                take_down_articles(self.target, self.plan)

    def _execute(self) -> LoadReport:
        started = time.monotonic()
        self._deadline = started + self.options.seconds
        dead_before = dead_letters(self.target)
        given_up_before = self.target.given_up
        readers = ThreadPoolExecutor(max(1, self.options.readers), "load-reader")
        reading = [readers.submit(self._read, n) for n in range(self.options.readers)]
        with ThreadPoolExecutor(self.options.writers, "load-writer") as writers:
            list(writers.map(self._send, self.plan.setup))
            firsts = [
                (str(accepted["id"]), a.post.slug)
                for a in self.answers
                if a.post.role == "setup" and (accepted := a.accepted) is not None
            ]
            approvals = list(writers.map(lambda first: self._approve_as_admin(*first), firsts))
            list(writers.map(self._send, self.plan.main))
        posted_in = time.monotonic() - started

        drained = self.drain(lambda: self._expected(final=False))
        outbox = self.outbox()
        held = sorted(
            (
                a
                for a in self.answers
                if a.post.role not in ("setup", "duplicate") and self._arrived(a) == "pending"
            ),
            key=lambda a: a.post.number,
        )
        missing_links: list[str] = []
        follows = self.follows
        for i, answered in enumerate(held):
            action = {0: "approve", 1: "approve", 2: "spam", 3: "approve"}.get(i % 6)
            comment_id = str((answered.accepted or {})["id"])
            if action is None:
                continue
            links = self.moderation_links(comment_id, outbox)
            if action not in links:
                missing_links.append(comment_id)
                continue
            follows.append((comment_id, action, links[action]))
        with ThreadPoolExecutor(self.options.writers, "load-moderator") as moderators:
            list(moderators.map(lambda f: self._follow(*f), follows))
        self._stop_reading.set()
        for future in reading:
            future.result()
        readers.shutdown()
        drained = self.drain(lambda: self._expected(final=True)) and drained
        elapsed = time.monotonic() - started

        self._describe(posted_in, elapsed, approvals, follows)
        self._reconcile(
            drained=drained,
            setup_approved=sum(approvals),
            missing_links=missing_links,
            dead=dead_letters(self.target) - dead_before,
            given_up=self.target.given_up - given_up_before,
        )
        return self.report

    # reconciliation

    def _arrived(self, answered: Answered) -> str | None:
        accepted = answered.accepted
        return None if accepted is None else str(accepted["status"])

    def _facts(self, *, final: bool) -> dict[str, CommentFacts]:
        """Every accepted comment as the notification rules see it; `final` applies the run's
        moderation so far (else only the admin approvals of the regulars' first comments)."""
        facts: dict[str, CommentFacts] = {}
        with self._lock:
            answers = list(self.answers)
            moderated = dict(self.moderated)
        for answered in answers:
            accepted = answered.accepted
            if (
                accepted is None
                or str(accepted["id"]) in facts
                or answered.post.role == "duplicate"
            ):
                continue  # a duplicate is answered as a held comment, and never stored
            post = answered.post
            comment_id = str(accepted["id"])
            arrived = str(accepted["status"])
            if final or post.role == "setup":
                status = moderated.get(comment_id, arrived)
            else:
                status = arrived
            facts[comment_id] = CommentFacts(
                id=comment_id,
                slug=post.slug,
                author_email=post.commenter.email,
                notify_replies=post.notify,
                parent_id=self.ids.get(post.parent_marker) if post.parent_marker else None,
                arrived_as=arrived,
                final=status,
            )
        return facts

    def _expected(self, *, final: bool) -> Counter[EmailKey]:
        return expected_emails(
            self._facts(final=final), authors=self.plan.authors, moderators=self.target.moderators
        )

    def _describe(
        self,
        posted_in: float,
        elapsed: float,
        approvals: list[bool],
        follows: list[tuple[str, str, str]],
    ) -> None:
        roles = Counter(a.post.role for a in self.answers)
        accepted = {
            str(a.accepted["id"]): a
            for a in self.answers
            if a.accepted and a.post.role != "duplicate"
        }
        statuses = Counter(self._arrived(a) for a in accepted.values())
        answers = Counter(
            f"{reply.status}" + (f" {reply.error_code}" if reply.error_code else "")
            for a in self.answers
            for reply in a.replies
        )
        by_purpose = self.traffic.by_purpose()
        reads = sum(by_purpose.get("read", Counter()).values())
        api_requests = self.traffic.total(exclude=("outbox",))
        moderated = Counter(self.moderated.values())
        did = self.report.did
        did[:0] = [
            f"articles: {len(self.plan.slugs)} of the run's own ("
            + ("kept" if self.options.keep_articles else "deleted at the end")
            + f"); flood interval {self.target.flood_interval} s; "
            f"{self.options.writers} writers, {self.options.readers} readers",
            f"commenters: {len(self.plan.setup)} regulars (first comment approved through the "
            f"signed admin API: {sum(approvals)}), "
            f"{sum(1 for p in self.plan.main if p.role in ('first', 'retry'))} first-timers",
            f"POST /articles/{{slug}}/comments: {sum(len(a.replies) for a in self.answers)} sent "
            f"of {self.plan.requests()} planned in {posted_in:.1f} s ("
            + ", ".join(f"{role} {n}" for role, n in sorted(roles.items()))
            + f"); {len(self.skipped)} skipped (deadline or missing parent)",
            "answers: " + ", ".join(f"{k}: {n}" for k, n in sorted(answers.items())),
            f"comments accepted: {len(accepted)} (arrived approved {statuses['approved']}, "
            f"held {statuses['pending']})",
            f"reads meanwhile: {reads} (statuses "
            + ", ".join(f"{k}: {n}" for k, n in sorted(self.read_statuses.items()))
            + ")",
            f"moderation through email links: {len(follows)} followed; after the run "
            + ", ".join(f"{status} {n}" for status, n in sorted(moderated.items())),
            f"requests: {api_requests} to the API in {elapsed:.1f} s "
            f"({api_requests / elapsed if elapsed else 0:.0f}/s), "
            f"{self.traffic.total() - api_requests} to the outbox",
        ]
        self.report.figures.update(
            comments_loaded=len(accepted),
            posts_sent=sum(len(a.replies) for a in self.answers),
            posts_skipped=len(self.skipped),
            requests=api_requests,
            reads=reads,
        )

    def _reconcile(
        self,
        *,
        drained: bool,
        setup_approved: int,
        missing_links: list[str],
        dead: int,
        given_up: int,
    ) -> None:
        report = self.report
        report.check(
            "the stream drained",
            drained,
            "every record delivered"
            if drained
            else f"still busy after {self.options.drain_seconds} s",
        )
        report.check(
            "no 5xx, every request answered",
            not self.traffic.failures,
            f"{self.traffic.total()} requests"
            + (f"; {_sample(self.traffic.failures)}" if self.traffic.failures else ""),
        )
        bad_reads = {s: n for s, n in self.read_statuses.items() if s != 200}
        report.check(
            "every read answered 200",
            not bad_reads,
            f"{sum(self.read_statuses.values())} reads"
            + (f"; others: {bad_reads}" if bad_reads else ""),
        )
        self._check_answers(setup_approved, missing_links)
        facts = self._facts(final=True)
        stored = stored_comments(self.target, self.plan.slugs)
        self._check_stored(facts, stored)
        self._check_listing_and_counts(facts)
        outbox = self.outbox()
        sent, unknown = sent_emails(outbox, marker_tag=self.plan.marker_tag, ids=self.ids)
        expected = self._expected(final=True)
        missing = expected - sent
        extra = sent - expected
        report.check(
            "one email per (comment, kind, recipient), as docs/notifications.md says",
            not missing and not extra and not unknown,
            f"{sum(expected.values())} expected, {sum(sent.values())} sent"
            + (f"; missing {_sample(sorted(missing))}" if missing else "")
            + (f"; extra {_sample(sorted(extra.elements()))}" if extra else "")
            + (f"; unrecognised {_sample(unknown)}" if unknown else ""),
        )
        report.figures["emails"] = sum(sent.values())
        report.figures["lost"] = sum(missing.values())
        report.figures["dead_letters"] = dead
        report.check(
            "nothing in the dead-letter queue",
            dead == 0 and given_up == 0,
            f"{dead} new message(s) in {DEAD_LETTER_QUEUE}"
            + (f", {given_up} record(s) given up by the local pollers" if given_up else ""),
        )

    def _check_answers(self, setup_approved: int, missing_links: list[str]) -> None:
        wrong: list[str] = []
        for answered in self.answers:
            post = answered.post
            replies = answered.replies
            first = replies[0]
            arrived = self._arrived(answered)
            if post.role in ("setup", "first", "duplicate") and arrived != "pending":
                wrong.append(f"{post.role} {post.marker}: {first.status} {first.body[:120]!r}")
            elif post.role == "regular" and arrived != "approved":
                wrong.append(f"regular {post.marker}: {first.status} {first.body[:120]!r}")
            elif post.role == "retry":
                same = len(replies) == 2 and replies[1].status == 201
                same = same and replies[1].json() == replies[0].json()
                if arrived != "pending" or not same:
                    wrong.append(
                        f"retry {post.marker}: "
                        + " then ".join(f"{r.status} {r.body[:80]!r}" for r in replies)
                    )
        if setup_approved != len(self.plan.setup):
            wrong.append(f"{setup_approved} of {len(self.plan.setup)} first comments approved")
        if missing_links:
            wrong.append(f"no moderation email with links for {_sample(missing_links)}")
        self.report.check(
            "each post answered as the rules say (held, approved at once, a duplicate as held, "
            "the first answer again for a retried Idempotency-Key)",
            not wrong,
            f"{len(self.answers)} posts" + (f"; {_sample(wrong)}" if wrong else ""),
        )

    def _check_stored(
        self, facts: Mapping[str, CommentFacts], stored: list[dict[str, Any]]
    ) -> None:
        ids = Counter(str(item["id"]) for item in stored)
        markers = Counter(
            found
            for item in stored
            for found in re.findall(
                re.escape(self.plan.marker_tag) + r"\d{5}", str(item.get("body_markdown"))
            )
        )
        stored_at = {str(item["id"]): str(item["slug"]) for item in stored}
        problems: list[str] = []
        for comment_id, fact in facts.items():
            if ids[comment_id] != 1:
                problems.append(f"{comment_id} stored {ids[comment_id]} times")
            elif stored_at[comment_id] != fact.slug:
                problems.append(f"{comment_id} stored on {stored_at[comment_id]}")
        problems += [f"{cid} stored but never answered 201" for cid in ids if cid not in facts]
        problems += [f"text {m} stored {n} times" for m, n in markers.items() if n != 1]
        self.report.check(
            "every 201 stored exactly once (a Query per article), no duplicate, nothing else",
            not problems,
            f"{len(facts)} accepted, {len(stored)} stored"
            + (f"; {_sample(problems)}" if problems else ""),
        )
        statuses = {str(item["id"]): str(item["status"]) for item in stored}
        wrong = [
            f"{cid} is {statuses.get(cid)}, should be {fact.final}"
            for cid, fact in facts.items()
            if statuses.get(cid) != fact.final
        ]
        self.report.check(
            "each stored comment has the status its answer and its moderation give it",
            not wrong,
            ", ".join(f"{status} {n}" for status, n in sorted(Counter(statuses.values()).items()))
            + (f"; {_sample(wrong)}" if wrong else ""),
        )

    def _check_listing_and_counts(self, facts: Mapping[str, CommentFacts]) -> None:
        listing_problems: list[str] = []
        count_problems: list[str] = []
        pages = 0
        for slug in self.plan.slugs:
            approved = {cid for cid, f in facts.items() if f.slug == slug and f.final == "approved"}
            walked = self._walk(
                f"/articles/{slug}/comments", LISTING_PAGE, self.addresses.new(), "reconcile"
            )
            pages += len(walked)
            listed = Counter(str(item["id"]) for page in walked for item in page)
            twice = [cid for cid, n in listed.items() if n > 1]
            if twice:
                listing_problems.append(f"{slug}: listed more than once {_sample(twice)}")
            if set(listed) != approved:
                listing_problems.append(
                    f"{slug}: missing {_sample(sorted(approved - set(listed)))}, "
                    f"not approved {_sample(sorted(set(listed) - approved))}"
                )
            reply = self._expect_ok(self.traffic.send("reconcile", "GET", f"/articles/{slug}"))
            count = (reply.json() or {}).get("comment_count") if reply.status == 200 else None
            if count != len(approved):
                count_problems.append(f"{slug}: comment_count {count}, approved {len(approved)}")
        approved_total = sum(1 for f in facts.values() if f.final == "approved")
        self.report.check(
            "every approved comment listed exactly once across the pages, nothing else listed",
            not listing_problems,
            f"{approved_total} approved, {pages} pages of {LISTING_PAGE}"
            + (f"; {_sample(listing_problems)}" if listing_problems else ""),
        )
        self.report.check(
            "each article's comment_count equals its approved comments",
            not count_problems,
            f"{len(self.plan.slugs)} articles"
            + (f"; {_sample(count_problems)}" if count_problems else ""),
        )


def validate(options: LoadOptions) -> None:
    """Raise `LoadSetupError` for options out of range, a non-loopback `api`, or a machine
    that cannot send from 127.x.y.z."""
    if options.posts < MIN_POSTS:
        raise LoadSetupError(f"--posts must be at least {MIN_POSTS}")
    if options.articles < 1 or options.writers < 1 or options.readers < 0:
        raise LoadSetupError("--articles and --writers must be at least 1, --readers at least 0")
    if options.seconds <= 0:
        raise LoadSetupError("--seconds must be positive")
    if options.api is not None:
        host = urlsplit(options.api).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise LoadSetupError(f"--api must be a loopback URL, not {options.api!r}")
    check_loopback_sources()


def run_load(options: LoadOptions) -> LoadReport:
    """Run the load against a system of its own, or the running one at `options.api`.

    Raises
    ------
    LoadSetupError
        When an option is out of range, or the running system is not there.
    """
    validate(options)
    if options.api is not None:
        target = running_system(options.api, options.emulator_port, options.flood_interval)
        report = LoadRun(target, options).execute()
        report.target = f"{target.api_url} (a running local system)"
        return report
    with own_system(options.flood_interval) as target:
        report = LoadRun(target, options).execute()
        report.target = f"{target.api_url} (a local system of its own, on free ports)"
        return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m newsroom.local.load",
        description="Post and read concurrently through the local system for a fixed count "
        "and time, then check that nothing was lost, doubled or miscounted.",
    )
    parser.add_argument(
        "--posts", type=int, default=DEFAULT_POSTS, help="POST requests (%(default)s)"
    )
    parser.add_argument(
        "--readers", type=int, default=DEFAULT_READERS, help="reader threads (%(default)s)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help="most time spent posting (%(default)s)",
    )
    parser.add_argument(
        "--articles", type=int, default=DEFAULT_ARTICLES, help="articles (%(default)s)"
    )
    parser.add_argument(
        "--writers", type=int, default=DEFAULT_WRITERS, help="posting threads (%(default)s)"
    )
    parser.add_argument(
        "--flood-interval",
        type=int,
        default=None,
        metavar="S",
        help="FLOOD_INTERVAL_SECONDS for a system this command starts; with --api, the running "
        f"system's (default: {DEFAULT_FLOOD_INTERVAL})",
    )
    parser.add_argument(
        "--api", default=None, metavar="URL", help="a running `make run` (loopback) to load instead"
    )
    parser.add_argument(
        "--keep-articles",
        action="store_true",
        help="leave the run's articles on the site afterwards (default: delete them)",
    )
    local_emulator.add_port_argument(parser)
    parser.add_argument("--seed", type=int, default=None, help="seed for ids and addresses")
    parser.add_argument(
        "--log",
        default=None,
        metavar="PATH",
        help="where the functions' own output goes (default: a temporary file)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the command line: print the report; 0 when every check holds, 1 when one
    fails, 2 when the run cannot start."""
    args = _parser().parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    # Read-only requests publish no business metric; Powertools warns about each one.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    options = LoadOptions(
        posts=args.posts,
        readers=args.readers,
        seconds=args.seconds,
        articles=args.articles,
        writers=args.writers,
        api=args.api,
        emulator_port=int(args.emulator_port),
        flood_interval=args.flood_interval,
        keep_articles=args.keep_articles,
        seed=args.seed,
    )
    try:
        validate(options)
    except LoadSetupError as exc:
        print(f"newsroom load: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    with contextlib.ExitStack() as stack:
        if options.api is None:
            # The functions run here: Powertools' logs and metrics go to stdout, where the
            # report would drown in them.
            if args.log is None:
                handle, log_path = tempfile.mkstemp(prefix="newsroom-load-", suffix=".log")
                log = stack.enter_context(open(handle, "w", encoding="utf-8"))
            else:
                log_path = args.log
                log = stack.enter_context(open(log_path, "w", encoding="utf-8"))
            stack.enter_context(contextlib.redirect_stdout(log))
            print(f"the functions' output goes to {log_path}", file=sys.stderr, flush=True)
        try:
            report = run_load(options)
        except LoadSetupError as exc:
            print(f"newsroom load: {exc}", file=sys.stderr)
            return 2
    print(report.render(), file=out, flush=True)
    return 0 if report.ok else 1
